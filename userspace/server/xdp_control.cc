#include "xdp_control.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace sealfs {
namespace {

std::string CountersLine(const XdpProgram& program) {
  Result<XdpProgram::Counters> c = program.ReadCounters();
  if (!c.ok()) return "counters unreadable: " + c.status().message();
  return fmt::format("{} frames seen, {} answered, {} missed, {} passed up otherwise",
                     (*c)[SEALFS_XDP_RECEIVED], (*c)[SEALFS_XDP_HIT], (*c)[SEALFS_XDP_MISS],
                     (*c)[SEALFS_XDP_RECEIVED] - (*c)[SEALFS_XDP_HIT] - (*c)[SEALFS_XDP_MISS]);
}

}  // namespace

XdpControl::XdpControl(XdpAnswers* answers, uint16_t udp_port, std::string pin_dir)
    : answers_(answers), udp_port_(udp_port), pin_dir_(std::move(pin_dir)) {}

XdpControl::~XdpControl() { Stop(); }

Result<std::string> XdpControl::Attach(const std::string& interface, XdpProgram::Mode mode) {
  if (!answers_)
    return Status::Error(EINVAL,
                         "this server has no udp_port in its cluster file: there is no UDP fast "
                         "path for an XDP program to answer");
  std::lock_guard lock(mu_);
  if (program_ && program_->interface() == interface) {
    return fmt::format("the XDP program is already attached to {} in {} mode; nothing changed",
                       interface, XdpProgram::ModeName(program_->mode()));
  }
  if (program_) {
    return Status::Error(EBUSY, fmt::format("the XDP program is attached to {}; detach it first",
                                            program_->interface()));
  }
  XdpProgram::Options opts{
      .interface = interface, .mode = mode, .udp_port = udp_port_, .pin_dir = pin_dir_};
  Result<std::unique_ptr<XdpProgram>> attached = XdpProgram::Attach(opts);
  if (!attached.ok()) return attached.status();
  // The new map is empty, which is always right: answers go in only after
  // this, and from now on every commit deletes from it.
  answers_->SetMap((*attached)->answers_fd());
  program_ = std::move(*attached);
  std::string what = fmt::format(
      "XDP fast path: program attached to {} in {} mode, maps pinned "
      "under {}",
      interface, XdpProgram::ModeName(mode), pin_dir_);
  spdlog::info("{}", what);
  return what;
}

Result<std::string> XdpControl::Detach() {
  std::lock_guard lock(mu_);
  return DetachLocked();
}

Result<std::string> XdpControl::DetachLocked() {
  if (!program_) return std::string("no XDP program is attached; nothing changed");
  // First off the interface, while every commit still deletes from its map:
  // until the program is gone, what it answers stays current. Then the map is
  // no longer used, and only then closed and unpinned.
  if (Status s = program_->Detach(); !s.ok()) return s;  // still attached, still kept right
  if (answers_) answers_->SetMap(-1);
  std::string what = fmt::format(
      "XDP fast path: program detached from {}, pins under {} "
      "removed; {}",
      program_->interface(), pin_dir_, CountersLine(*program_));
  program_.reset();
  spdlog::info("{}", what);
  return what;
}

void XdpControl::Stop() {
  std::lock_guard lock(mu_);
  if (!program_) return;
  if (Result<std::string> r = DetachLocked(); !r.ok()) {
    // Left attached, it answers from a map nobody keeps right any more:
    // harmless while the server is down; its next start removes it.
    spdlog::warn("XDP fast path: {}", r.status().message());
    if (answers_) answers_->SetMap(-1);
    program_.reset();
  }
}

}  // namespace sealfs
