#include "replay/fixed_group_lp.h"

#include <glpk.h>

namespace tierscope::analyzer {

bool MaxFixedGroupValue(const std::vector<FixedGroup>& groups, uint32_t rows, double* value,
                        std::string* error) {
  *value = 0;
  if (groups.empty()) return true;
  if (rows == 0) {  // nothing constrains: every group is fast
    for (const FixedGroup& g : groups) *value += g.value;
    return true;
  }
  // GLPK counts from 1; element 0 of the triplet arrays is unused.
  std::vector<int> row{0}, column{0};
  std::vector<double> share{0};
  for (size_t j = 0; j < groups.size(); ++j) {
    for (const auto& [r, s] : groups[j].load) {
      if (r >= rows) continue;
      row.push_back(int(r) + 1);
      column.push_back(int(j) + 1);
      share.push_back(s);
    }
  }
  glp_term_out(GLP_OFF);
  glp_prob* lp = glp_create_prob();
  glp_set_obj_dir(lp, GLP_MAX);
  glp_add_rows(lp, int(rows));
  for (uint32_t r = 1; r <= rows; ++r) glp_set_row_bnds(lp, int(r), GLP_UP, 0.0, 1.0);
  glp_add_cols(lp, int(groups.size()));
  for (size_t j = 0; j < groups.size(); ++j) {
    glp_set_col_bnds(lp, int(j) + 1, GLP_DB, 0.0, 1.0);
    glp_set_obj_coef(lp, int(j) + 1, groups[j].value);
  }
  glp_load_matrix(lp, int(row.size()) - 1, row.data(), column.data(), share.data());
  glp_scale_prob(lp, GLP_SF_AUTO);
  glp_smcp options;
  glp_init_smcp(&options);
  options.msg_lev = GLP_MSG_OFF;
  options.presolve = GLP_ON;
  const int rc = glp_simplex(lp, &options);
  const int status = glp_get_status(lp);
  const bool solved = rc == 0 && status == GLP_OPT;
  if (solved) {
    *value = glp_get_obj_val(lp);
  } else {
    *error = "the LP solver (GLPK simplex) stopped with code " + std::to_string(rc) + ", status " +
             std::to_string(status);
  }
  glp_delete_prob(lp);
  // GLPK keeps a per-thread environment; free it, as this thread may never solve again.
  glp_free_env();
  return solved;
}

}  // namespace tierscope::analyzer
