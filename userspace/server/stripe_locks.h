// StripeLocks: serializes read-modify-write sequences on the same inodes
// without one server-wide lock. Each inode maps to one of kStripes mutexes;
// an operation locks the stripes of every inode it changes, in ascending
// stripe order, so two operations can never deadlock.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <vector>

#include "ino.h"

namespace sealfs {

class StripeLocks {
 public:
  static constexpr size_t kStripes = 1024;

  class Guard {
   public:
    Guard(StripeLocks* locks, std::initializer_list<Ino> inos)
        : Guard(locks, std::vector<Ino>(inos)) {}
    Guard(StripeLocks* locks, const std::vector<Ino>& inos) : locks_(locks) {
      for (Ino ino : inos)
        if (ino != 0) stripes_.push_back(Stripe(ino));
      std::sort(stripes_.begin(), stripes_.end());
      stripes_.erase(std::unique(stripes_.begin(), stripes_.end()), stripes_.end());
      for (size_t s : stripes_) locks_->mu_[s].lock();
    }
    ~Guard() {
      for (auto it = stripes_.rbegin(); it != stripes_.rend(); ++it) locks_->mu_[*it].unlock();
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    StripeLocks* locks_;
    std::vector<size_t> stripes_;
  };

 private:
  static size_t Stripe(Ino ino) { return (ino * 0x9E3779B97F4A7C15ull) >> 54; }  // top 10 bits
  std::array<std::mutex, kStripes> mu_;
};

}  // namespace sealfs
