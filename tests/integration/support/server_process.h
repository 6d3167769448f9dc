// One sealfs-server child process: start and wait until its port accepts, kill -9,
// stop with SIGTERM, start again on the same data directory. It runs in the network namespace
// it is given (ip netns), or in that of the thread that starts it.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster_file.h"
#include "subprocess.h"

namespace sealfs::it {

class ServerProcess {
 public:
  ServerProcess(ServerSpec spec, std::filesystem::path config, std::filesystem::path log,
                std::string log_level, std::vector<std::string> extra_args = {},
                std::string netns = {});

  // Starts the server and waits until its address and port accept connections from the
  // calling thread's network namespace; throws (with the log's tail) if it exits or is not
  // ready within timeout.
  void Start(std::chrono::milliseconds timeout);
  // SIGKILL and reap.
  void Kill();
  // SIGTERM and wait; throws if it does not exit within timeout. Returns its exit status.
  ExitStatus Stop(std::chrono::milliseconds timeout);
  bool Running();
  // The running process's pid; -1 before the first start.
  pid_t pid() const { return process_ ? process_->pid() : -1; }

  const ServerSpec& spec() const { return spec_; }
  const std::filesystem::path& log() const { return log_; }
  // Takes effect at the next Start().
  void set_extra_args(std::vector<std::string> args) { extra_args_ = std::move(args); }
  const std::string& netns() const { return netns_; }  // empty: the starting thread's

 private:
  ServerSpec spec_;
  std::filesystem::path config_;
  std::filesystem::path log_;
  std::string log_level_;
  std::vector<std::string> extra_args_;
  std::string netns_;  // empty: the starting thread's
  std::unique_ptr<Subprocess> process_;
};

}  // namespace sealfs::it
