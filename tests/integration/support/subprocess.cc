#include "subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "janitor.h"
#include "unique_fd.h"

namespace sealfs::it {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPollInterval = std::chrono::milliseconds(5);

ExitStatus DecodeWaitStatus(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return -1;
}

std::runtime_error SystemError(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

Subprocess::Subprocess(const std::vector<std::string>& argv,
                       const std::filesystem::path& log_path) {
  UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!log) throw SystemError("open " + log_path.string());
  Spawn(argv, log.get());
}

Subprocess::Subprocess(const std::vector<std::string>& argv, int output_fd) {
  Spawn(argv, output_fd);
}

Subprocess::~Subprocess() {
  if (pid_ <= 0 || status_) return;
  try {
    Kill();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "Subprocess %d: %s\n", pid_, e.what());
  }
}

void Subprocess::Spawn(const std::vector<std::string>& argv, int output_fd) {
  if (argv.empty()) throw std::invalid_argument("Subprocess: empty argv");
  // Everything the child touches is prepared before fork: after fork only
  // async-signal-safe calls are allowed.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  UniqueFd dev_null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!dev_null) throw SystemError("open /dev/null");
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ < 0) throw SystemError("fork " + argv[0]);
  if (pid_ == 0) {
    // Die with the test process (the Janitor is the second line of defence).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(dev_null.get(), STDIN_FILENO);
    ::dup2(output_fd, STDOUT_FILENO);
    ::dup2(output_fd, STDERR_FILENO);
    ::close_range(3, ~0U, 0);
    ::execv(args[0], args.data());
    const char msg[] = "Subprocess: execv failed\n";
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    ::_exit(127);
  }
  Janitor::Get().TrackPid(pid_);
}

bool Subprocess::TryReap() {
  if (status_) return true;
  // Peek first (WNOWAIT) so the Janitor forgets the pid before it can be reused.
  siginfo_t info{};
  if (::waitid(P_PID, pid_, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) {
    return false;
  }
  Janitor::Get().ForgetPid(pid_);
  int wstatus = 0;
  if (::waitpid(pid_, &wstatus, 0) != pid_) throw SystemError("waitpid");
  status_ = DecodeWaitStatus(wstatus);
  return true;
}

bool Subprocess::Running() { return !TryReap(); }

std::optional<ExitStatus> Subprocess::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!TryReap()) {
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);
  }
  return status_;
}

void Subprocess::Signal(int sig) {
  if (!status_ && ::kill(pid_, sig) != 0 && errno != ESRCH) throw SystemError("kill");
}

ExitStatus Subprocess::Kill() {
  Signal(SIGKILL);
  // A SIGKILLed child can only linger in uninterruptible sleep (e.g. a FUSE request).
  if (!Wait(std::chrono::seconds(30))) throw std::runtime_error("child ignored SIGKILL for 30 s");
  return *status_;
}

CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw SystemError("pipe2");
  UniqueFd read_end(fds[0]);
  CommandResult result;
  {
    UniqueFd write_end(fds[1]);
    Subprocess child(argv, write_end.get());
    write_end.reset();
    const auto deadline = Clock::now() + timeout;
    char buf[4096];
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        result.timed_out = true;
        break;
      }
      pollfd pfd{read_end.get(), POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
      const ssize_t n = ::read(read_end.get(), buf, sizeof buf);
      if (n <= 0) break;  // EOF: the child (and anything it started) closed the pipe
      result.output.append(buf, static_cast<size_t>(n));
    }
    if (result.timed_out) {
      result.status = child.Kill();
    } else {
      // The pipe closed; give the child a moment to exit.
      const auto status = child.Wait(std::chrono::seconds(5));
      result.timed_out = !status;
      result.status = status ? *status : child.Kill();
    }
  }
  return result;
}

}  // namespace sealfs::it
