// One `tierscope` subcommand: it declares its flags on a CLI11 app, then runs after parsing.
// Each room (recorder, analyzer, placer) provides its own in its folder; main.cc lists them.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <stdexcept>
#include <string>

namespace tierscope::cli {

// Bad input at the command line or a path that cannot be used: one line, exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The command ran but failed (e.g. a damaged input file): one line, exit code 1.
class RunError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Subcommand {
 public:
  virtual ~Subcommand() = default;
  virtual const char* name() const = 0;
  virtual const char* summary() const = 0;
  virtual void Configure(CLI::App& app) = 0;
  // Exit status of the command. Throw UsageError or RunError for one-line failures.
  virtual int Run() = 0;
};

// Checks, before any work starts, that `path` can be read / created. Throws UsageError.
void RequireReadable(const std::string& path);
void RequireWritable(const std::string& path);

}  // namespace tierscope::cli
