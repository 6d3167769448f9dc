// sealfs-loader: the operator's tool for a sealfs cluster's membership
// (docs/operations.md, "Changing the membership") and for sealfs's BPF
// programs (docs/operations.md, "sealfs-loader bpf").
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "apply.h"
#include "bpf_admin.h"
#include "bpf_counters.h"
#include "bpf_inventory.h"
#include "cluster_secret.h"
#include "logging.h"
#include "migration_control.h"
#include "status.h"

using namespace sealfs;

int main(int argc, char** argv) {
  CLI::App app{
      "sealfs-loader: publishes membership changes to a sealfs cluster, shows its state and "
      "manages its BPF programs"};
  app.require_subcommand(1);
  int timeout_ms = 3000;
  app.add_option("--timeout-ms", timeout_ms, "how long to wait for each server")
      ->check(CLI::Range(100, 600000));

  ApplyOptions apply;
  CLI::App* apply_cmd = app.add_subcommand(
      "apply",
      "check a cluster file against the running cluster, give it the next membership "
      "version and publish it to every server; servers it adds get their chunks, servers "
      "it drops hand everything over (then they may be stopped)");
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

  CLI::App* bpf_cmd = app.add_subcommand(
      "bpf", "attach, detach, list and count sealfs's BPF programs (XDP fast path, client cache)");
  bpf_cmd->require_subcommand(1);
  // The server an attach or detach goes to.
  auto add_server = [](CLI::App* cmd, BpfAdminOptions& o) {
    cmd->add_option("cluster_file", o.cluster_file, "the cluster file (TOML)")->required();
    cmd->add_option("--server", o.server, "the server's id in the cluster file")->required();
  };
  auto add_pin_root = [](CLI::App* cmd, std::string& root) {
    cmd->add_option("--pin-root", root, "where sealfs pins its maps")
        ->type_name("DIR")
        ->capture_default_str();
  };
  BpfAdminOptions attach{.attach = true};
  CLI::App* attach_cmd = bpf_cmd->add_subcommand(
      "attach",
      "ask a server to attach its XDP fast path program to one of its network interfaces "
      "(signed with the cluster secret; the server needs a udp_port)");
  add_server(attach_cmd, attach);
  attach_cmd->add_option("--interface", attach.interface, "the server's network interface")
      ->required();
  attach_cmd->add_option("--mode", attach.mode, "native (in the driver) or generic (any interface)")
      ->check(CLI::IsMember({"native", "generic"}))
      ->capture_default_str();
  BpfAdminOptions detach{.attach = false};
  CLI::App* detach_cmd = bpf_cmd->add_subcommand(
      "detach",
      "ask a server to detach its XDP fast path program and remove its pins (signed with the "
      "cluster secret); it then answers every datagram in user space");
  add_server(detach_cmd, detach);
  BpfListOptions list;
  CLI::App* list_cmd = bpf_cmd->add_subcommand(
      "list",
      "list sealfs's BPF programs loaded on this host (with the interfaces of this network "
      "namespace the XDP ones are attached to) and the maps pinned under the pin root, with "
      "the bpftool command that dumps each (needs root)");
  add_pin_root(list_cmd, list.pin_root);
  BpfCountersOptions counters;
  CLI::App* counters_cmd = bpf_cmd->add_subcommand(
      "counters",
      "print the counters of every sealfs BPF program whose maps are pinned under the pin root "
      "(servers' XDP fast paths, clients' --bpf caches), summed over the CPUs (needs root)");
  add_pin_root(counters_cmd, counters.pin_root);

  MigrationControlOptions control;
  CLI::App* migration_cmd = app.add_subcommand(
      "migration",
      "govern the background chunk migration on every server (signed with the cluster "
      "secret); chunks clients read or write are moved at once regardless");
  migration_cmd->require_subcommand(1);
  CLI::App* pause_cmd = migration_cmd->add_subcommand(
      "pause", "stop moving chunks in the background (kept across restarts until resume)");
  CLI::App* resume_cmd =
      migration_cmd->add_subcommand("resume", "move chunks in the background again");
  double rate_mib = 0;
  CLI::App* rate_cmd = migration_cmd->add_subcommand(
      "rate", "limit how fast each server pulls chunks in the background");
  rate_cmd->add_option("mib_per_s", rate_mib, "MiB/s per server; 0: no limit")
      ->required()
      ->check(CLI::NonNegativeNumber);
  for (CLI::App* cmd : {pause_cmd, resume_cmd, rate_cmd})
    cmd->add_option("cluster_file", control.cluster_file, "the cluster file (TOML)")->required();

  CLI11_PARSE(app, argc, argv);
  if (Status s = SetupLogging("sealfs-loader", "warn"); !s.ok()) return 2;
  const auto timeout = std::chrono::milliseconds(timeout_ms);
  if (*migration_cmd) {
    control.timeout = timeout;
    if (*pause_cmd) control.paused = true;
    if (*resume_cmd) control.paused = false;
    if (*rate_cmd) control.rate_mib = rate_mib;
    return RunMigrationControl(control, std::cout, std::cerr);
  }
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
  if (*attach_cmd || *detach_cmd) {
    BpfAdminOptions& o = *attach_cmd ? attach : detach;
    o.timeout = timeout;
    return RunBpfAdmin(o, std::cout, std::cerr);
  }
  if (*list_cmd) return RunBpfList(list, std::cout, std::cerr);
  if (*counters_cmd) return RunBpfCounters(counters, std::cout, std::cerr);
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
