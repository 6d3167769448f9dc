#include "logging.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace sealfs {

Status SetupLogging(const std::string& program, const std::string& level) {
  spdlog::level::level_enum lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    return Status::Error(EINVAL, fmt::format("unknown log level '{}'", level));
  spdlog::set_level(lvl);
  spdlog::set_pattern(fmt::format("%Y-%m-%d %H:%M:%S.%e {}[%P] %^%l%$ %v", program));
  return Status::Ok();
}

}  // namespace sealfs
