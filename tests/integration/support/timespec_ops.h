// Comparison and printing of struct timespec for EXPECT_EQ/EXPECT_LT. They live in the
// global namespace (timespec's own), where GoogleTest's argument-dependent lookup finds them.
#pragma once

#include <time.h>

#include <ostream>
#include <string>

inline bool operator==(const timespec& a, const timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}
inline bool operator<(const timespec& a, const timespec& b) {
  return a.tv_sec != b.tv_sec ? a.tv_sec < b.tv_sec : a.tv_nsec < b.tv_nsec;
}
inline std::ostream& operator<<(std::ostream& os, const timespec& t) {
  return os << t.tv_sec << "." << std::to_string(1000000000 + t.tv_nsec).substr(1);
}
