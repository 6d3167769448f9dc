// XdpProgram: the UDP fast path's XDP program (bpf/sealfs_xdp.bpf.c) loaded
// for this server, its maps pinned, attached to one network interface
// (docs/operations.md, "The XDP fast path").
//
// Pins: <pin_dir>/answers (the LRU hash the server fills, XdpAnswers) and
// <pin_dir>/counters (per-CPU array, enum sealfs_xdp_counter). An interface
// that already has an XDP program is left alone and Attach fails.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "ino.h"
#include "sealfs_xdp.h"
#include "status.h"

struct sealfs_xdp;

namespace sealfs {

class XdpProgram {
 public:
  enum class Mode { kNative, kGeneric };
  struct Options {
    std::string interface;
    Mode mode = Mode::kNative;
    uint16_t udp_port = 0;
    std::string pin_dir;  // normally PinDir(id)
    uint32_t max_answers = SEALFS_XDP_DEFAULT_SIZE;
  };
  using Counters = std::array<uint64_t, SEALFS_XDP_COUNTERS>;

  // Where servers pin their maps unless told otherwise (--xdp-pin-dir).
  static constexpr char kDefaultPinRoot[] = "/sys/fs/bpf/sealfs";
  // Where server `id` pins its maps by default: <root>/server-<id>.
  static std::string PinDir(ServerId id, const std::string& root = kDefaultPinRoot);

  // A run that was killed leaves its program attached, answering from its
  // map, which the next run would no longer keep right: this detaches every
  // program that uses the answers map pinned in pin_dir, from every interface
  // (of this network namespace), and removes the pins. Call it at start,
  // before the first change is committed, with or without --xdp.
  static void RemoveEarlierRun(const std::string& pin_dir);

  // Loads, pins and attaches. On failure nothing stays loaded, pinned or
  // attached, and the status says what failed.
  static Result<std::unique_ptr<XdpProgram>> Attach(const Options& opts);
  // Detaches (if the program is still the interface's and Detach() did not),
  // unpins the maps and removes the pin directory.
  ~XdpProgram();
  XdpProgram(const XdpProgram&) = delete;
  XdpProgram& operator=(const XdpProgram&) = delete;

  // Detaches the program from its interface (if it is still the one
  // attached there) but keeps it loaded with its maps pinned and open, so
  // that whoever fills the answers map can stop using it before the map goes
  // (XdpControl). Fails only if the program is still attached. Idempotent.
  Status Detach();

  int answers_fd() const;
  Result<Counters> ReadCounters() const;
  const std::string& interface() const { return interface_; }
  Mode mode() const { return mode_; }
  const std::string& pin_dir() const { return pin_dir_; }

  static const char* ModeName(Mode mode);

 private:
  XdpProgram(sealfs_xdp* skel, int ifindex, const Options& opts);

  sealfs_xdp* skel_;
  int ifindex_;
  std::string interface_;
  Mode mode_;
  std::string pin_dir_;
  bool attached_ = true;
};

}  // namespace sealfs
