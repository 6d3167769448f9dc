#include "server_process.h"

#include <signal.h>

#include <optional>
#include <stdexcept>

#include "binaries.h"
#include "log_tail.h"
#include "netns.h"
#include "poll_until.h"
#include "tcp.h"

namespace sealfs::it {

ServerProcess::ServerProcess(ServerSpec spec, std::filesystem::path config,
                             std::filesystem::path log, std::string log_level,
                             std::vector<std::string> extra_args, std::string netns)
    : spec_(std::move(spec)),
      config_(std::move(config)),
      log_(std::move(log)),
      log_level_(std::move(log_level)),
      extra_args_(std::move(extra_args)),
      netns_(std::move(netns)) {}

void ServerProcess::Start(std::chrono::milliseconds timeout) {
  if (process_ && process_->Running()) throw std::logic_error("server already running");
  std::vector<std::string> argv = {BinaryPath("sealfs-server").string(),
                                   "--config",
                                   config_.string(),
                                   "--id",
                                   std::to_string(spec_.id),
                                   "--data-dir",
                                   spec_.data_dir.string(),
                                   "--log-level",
                                   log_level_};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  {
    std::optional<InNetns> in_netns;
    if (!netns_.empty()) in_netns.emplace(netns_);
    process_ = std::make_unique<Subprocess>(argv, log_);
  }
  const bool ready = PollUntil(
      [&] {
        return !process_->Running() || static_cast<bool>(ConnectTcp(spec_.address, spec_.port));
      },
      timeout);
  if (!process_->Running()) {
    throw std::runtime_error("sealfs-server " + std::to_string(spec_.id) + " exited with status " +
                             std::to_string(*process_->exit_status()) + " while starting\n" +
                             LogTail(log_, 50));
  }
  if (!ready) {
    throw std::runtime_error("sealfs-server " + std::to_string(spec_.id) + " not accepting on " +
                             spec_.address + ":" + std::to_string(spec_.port) + " after " +
                             std::to_string(timeout.count()) + " ms\n" + LogTail(log_, 50));
  }
}

void ServerProcess::Kill() {
  if (process_) process_->Kill();
}

ExitStatus ServerProcess::Stop(std::chrono::milliseconds timeout) {
  if (!process_) throw std::logic_error("server never started");
  process_->Signal(SIGTERM);
  const auto status = process_->Wait(timeout);
  if (!status) {
    process_->Kill();
    throw std::runtime_error("sealfs-server " + std::to_string(spec_.id) + " did not exit within " +
                             std::to_string(timeout.count()) + " ms of SIGTERM\n" +
                             LogTail(log_, 50));
  }
  return *status;
}

bool ServerProcess::Running() { return process_ && process_->Running(); }

}  // namespace sealfs::it
