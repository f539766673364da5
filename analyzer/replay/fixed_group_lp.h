// The linear program behind the fixed site x window bound (hindsight.h), solved with GLPK: the
// only place that knows the solver.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tierscope::analyzer {

// One group as a column: what it gains fast, and the share of each row's budget (a time bin's
// capacity x length) it takes there.
struct FixedGroup {
  double value = 0;
  std::vector<std::pair<uint32_t, double>> load;  // (row, share), each row at most once
};

// Maximum of sum(value_g * x_g) over 0 <= x_g <= 1 with sum(load_g,r * x_g) <= 1 in every row r <
// rows. False, with *error saying why, when the solver did not reach an optimum.
bool MaxFixedGroupValue(const std::vector<FixedGroup>& groups, uint32_t rows, double* value,
                        std::string* error);

}  // namespace tierscope::analyzer
