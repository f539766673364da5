// Every subcommand of `tierscope`, one factory each; main.cc registers them in this order.
#pragma once

#include <memory>

#include "subcommand.h"

namespace tierscope::cli {

std::unique_ptr<Subcommand> MakeDumpCommand();
std::unique_ptr<Subcommand> MakeRunCommand();
std::unique_ptr<Subcommand> MakeTopologyCommand();

}  // namespace tierscope::cli
