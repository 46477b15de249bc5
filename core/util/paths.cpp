#include "util/paths.hpp"

#include <filesystem>
#include <system_error>

namespace sysmetrics {

std::string BesideExecutable(std::string_view relative) {
  std::error_code ec;
  const std::filesystem::path exe =
      std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::filesystem::path base =
      ec ? std::filesystem::current_path() : exe.parent_path();
  return (base / relative).lexically_normal().string();
}

}  // namespace sysmetrics
