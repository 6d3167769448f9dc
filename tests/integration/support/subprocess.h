// Child processes for the integration tests: fork/exec with output to a file or a pipe,
// waiting with a deadline, signalling by pid. Every child is registered with the Janitor
// so it is killed even if the test process dies first.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sealfs::it {

// Exit status in shell convention: the exit code, or 128 + the signal that ended the child.
using ExitStatus = int;

class Subprocess {
 public:
  // Starts argv (argv[0] is an absolute path) with stdout and stderr appended to log_path.
  Subprocess(const std::vector<std::string>& argv, const std::filesystem::path& log_path);
  // Starts argv with stdout and stderr redirected to output_fd (the caller keeps its copy).
  Subprocess(const std::vector<std::string>& argv, int output_fd);
  // Kills (SIGKILL) and reaps the child if it is still running.
  ~Subprocess();

  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  // True while the child has not exited; reaps it once it has.
  bool Running();
  // Waits until the child exits; nullopt if it is still running after timeout.
  std::optional<ExitStatus> Wait(std::chrono::milliseconds timeout);
  void Signal(int sig);
  // SIGKILL, then reap; returns the exit status.
  ExitStatus Kill();
  // The exit status once the child has been reaped.
  std::optional<ExitStatus> exit_status() const { return status_; }

 private:
  void Spawn(const std::vector<std::string>& argv, int output_fd);
  bool TryReap();

  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
};

struct CommandResult {
  ExitStatus status = -1;
  std::string output;  // stdout and stderr interleaved
  bool timed_out = false;
};

// Runs argv to completion (killing it after timeout) and captures its output.
CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

}  // namespace sealfs::it
