// Process-wide logging setup shared by every binary.
#pragma once

#include <string>

#include "status.h"

namespace sealfs {

// Sets the spdlog level from a name (trace, debug, info, warn, error) and a
// pattern that carries the program name. Unknown level names are an error.
Status SetupLogging(const std::string& program, const std::string& level);

}  // namespace sealfs
