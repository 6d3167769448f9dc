// XdpControl: this server's XDP program over its life: attached at start
// (--xdp) or later by the loader (ADMIN_XDP), detached by the loader or at
// stop, with the answers map handed to and taken from XdpAnswers in the order
// that keeps every answer the program can give current
// (docs/operations.md, "sealfs-loader bpf").
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "status.h"
#include "xdp_answers.h"
#include "xdp_program.h"

namespace sealfs {

class XdpControl {
 public:
  // `answers`: null when the server has no udp_port (then nothing can be
  // attached: EINVAL). `udp_port` and `pin_dir` are what every program is
  // loaded with and pinned in.
  XdpControl(XdpAnswers* answers, uint16_t udp_port, std::string pin_dir);
  // Stop().
  ~XdpControl();
  XdpControl(const XdpControl&) = delete;
  XdpControl& operator=(const XdpControl&) = delete;

  // Attaches the program to `interface`; on success, says what was done.
  // Already attached there: success, nothing changes; attached elsewhere:
  // EBUSY.
  Result<std::string> Attach(const std::string& interface, XdpProgram::Mode mode);
  // Detaches the program and removes its pins; says what was done (also
  // when nothing was attached).
  Result<std::string> Detach();
  // Detaches at the server's stop, logging the program's counters.
  void Stop();

 private:
  Result<std::string> DetachLocked();

  XdpAnswers* const answers_;
  const uint16_t udp_port_;
  const std::string pin_dir_;
  std::mutex mu_;  // every change of program_
  std::unique_ptr<XdpProgram> program_;
};

}  // namespace sealfs
