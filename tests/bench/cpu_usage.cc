#include "cpu_usage.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace sealfs::bench {

std::vector<double> CpuBusySeconds() {
  std::ifstream in("/proc/stat");
  if (!in) throw std::runtime_error("cannot read /proc/stat");
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::vector<double> busy;
  std::string line;
  while (std::getline(in, line)) {
    // "cpuN user nice system idle iowait irq softirq steal ..."; the first
    // line ("cpu ") is the sum of all of them.
    if (line.rfind("cpu", 0) != 0 || line.size() < 4 || line[3] == ' ') continue;
    std::istringstream fields(line);
    std::string name;
    unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0;
    fields >> name >> user >> nice >> system >> idle >> iowait >> irq >> softirq;
    if (!fields) throw std::runtime_error("unexpected /proc/stat line: " + line);
    const size_t cpu = std::stoul(name.substr(3));
    if (busy.size() <= cpu) busy.resize(cpu + 1);
    busy[cpu] = static_cast<double>(user + nice + system + irq + softirq) / tick;
  }
  return busy;
}

namespace {

double ClockSeconds(clockid_t clock) {
  timespec ts{};
  if (::clock_gettime(clock, &ts) != 0)
    throw std::runtime_error(fmt::format("clock_gettime: {}", std::strerror(errno)));
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

double ProcessCpuSeconds(pid_t pid) {
  clockid_t clock;
  if (int err = ::clock_getcpuclockid(pid, &clock); err != 0)
    throw std::runtime_error(fmt::format("CPU clock of pid {}: {}", pid, std::strerror(err)));
  return ClockSeconds(clock);
}

double ThreadCpuSeconds() { return ClockSeconds(CLOCK_THREAD_CPUTIME_ID); }

PinnedToCpu::PinnedToCpu(int cpu) {
  if (::sched_getaffinity(0, sizeof(previous_), &previous_) != 0)
    throw std::runtime_error(fmt::format("sched_getaffinity: {}", std::strerror(errno)));
  cpu_set_t only;
  CPU_ZERO(&only);
  CPU_SET(cpu, &only);
  if (::sched_setaffinity(0, sizeof(only), &only) != 0)
    throw std::runtime_error(fmt::format("pinning to CPU {}: {}", cpu, std::strerror(errno)));
}

PinnedToCpu::~PinnedToCpu() { ::sched_setaffinity(0, sizeof(previous_), &previous_); }

}  // namespace sealfs::bench
