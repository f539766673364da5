#include "numa_maps.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace tierscope::lab {

std::vector<NumaMapping> ParseNumaMaps(const std::string& text) {
  std::vector<NumaMapping> maps;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string start;
    NumaMapping m;
    if (!(words >> start >> m.policy)) continue;
    char* end = nullptr;
    m.start = std::strtoull(start.c_str(), &end, 16);
    if (end == start.c_str() || *end != '\0') continue;
    for (std::string w; words >> w;) {
      if (w.size() > 1 && w[0] == 'N' && std::isdigit(static_cast<unsigned char>(w[1]))) {
        const auto eq = w.find('=');
        if (eq != std::string::npos) m.pages[std::atoi(w.c_str() + 1)] += std::atol(&w[eq + 1]);
      } else if (w.rfind("kernelpagesize_kB=", 0) == 0) {
        m.page_kb = std::atol(w.c_str() + 18);
      } else if (w.rfind("file=", 0) == 0) {
        m.path = w.substr(5);
      } else if (w == "heap" || w == "stack") {
        m.path = w;
      }
    }
    maps.push_back(m);
  }
  return maps;
}

bool ReadNumaMaps(pid_t pid, std::vector<NumaMapping>* maps, std::string* error) {
  const std::string path =
      pid == 0 ? "/proc/self/numa_maps" : "/proc/" + std::to_string(pid) + "/numa_maps";
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read " + path;
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  *maps = ParseNumaMaps(text.str());
  return true;
}

}  // namespace tierscope::lab
