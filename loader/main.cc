// sealfs-loader: the operator's tool for a sealfs cluster's membership
// (docs/operations.md, "Changing the membership").
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "apply.h"
#include "cluster_secret.h"
#include "logging.h"
#include "status.h"

using namespace sealfs;

int main(int argc, char** argv) {
  CLI::App app{
      "sealfs-loader: publishes membership changes to a sealfs cluster and shows its state"};
  app.require_subcommand(1);
  int timeout_ms = 3000;
  app.add_option("--timeout-ms", timeout_ms, "how long to wait for each server")
      ->check(CLI::Range(100, 600000));

  ApplyOptions apply;
  CLI::App* apply_cmd = app.add_subcommand(
      "apply",
      "check a cluster file against the running cluster, give it the next membership "
      "version and publish it to every server");
  apply_cmd->add_option("cluster_file", apply.cluster_file, "the new cluster file (TOML)")
      ->required();
  bool no_wait = false;
  apply_cmd->add_flag("--no-wait", no_wait,
                      "return once every server has the new membership, without waiting for "
                      "the chunks it moves (sealfs-loader status shows their progress)");

  StatusOptions status;
  CLI::App* status_cmd = app.add_subcommand(
      "status", "show every server: membership version, reachability, space, inodes, chunks");
  status_cmd->add_option("cluster_file", status.cluster_file, "the cluster file (TOML)")
      ->required();
  status_cmd->add_flag("--json", status.json, "print JSON for scripts");

  std::string secret_path;
  CLI::App* secret_cmd = app.add_subcommand("secret", "manage the cluster secret");
  secret_cmd->require_subcommand(1);
  CLI::App* secret_new = secret_cmd->add_subcommand(
      "new",
      "write a new random cluster secret to a file (mode 0600); name it as secret_file "
      "in the cluster file and copy it to every server");
  secret_new->add_option("file", secret_path, "where to write it (must not exist)")->required();

  CLI11_PARSE(app, argc, argv);
  if (Status s = SetupLogging("sealfs-loader", "warn"); !s.ok()) return 2;
  const auto timeout = std::chrono::milliseconds(timeout_ms);
  if (*apply_cmd) {
    apply.timeout = timeout;
    apply.wait = !no_wait;
    apply.tty = isatty(STDOUT_FILENO);
    return RunApply(apply, std::cout, std::cerr);
  }
  if (*status_cmd) {
    status.timeout = timeout;
    return RunStatus(status, std::cout, std::cerr);
  }
  if (*secret_new) {
    Result<ClusterSecret> made = ClusterSecret::CreateFile(secret_path);
    if (!made.ok()) {
      fmt::print(stderr, "sealfs-loader secret new: {}\n", made.status().message());
      return 1;
    }
    fmt::print("wrote a new cluster secret to {}\n", secret_path);
    return 0;
  }
  return 0;
}
