// Plugin loading: one shared object in, one validated descriptor out.
//
// LoadPlugin opens a file by absolute path with Boost.DLL (RTLD_NOW so every
// undefined symbol is found at load, RTLD_LOCAL so one plugin's symbols never
// satisfy another's), looks up sysmetrics_plugin_entry, checks the ABI major
// version and the descriptor (sizes, name, functions, option schema) and
// copies what the host keeps. Any failure is a Status whose message names the
// reason; the caller logs it with the file. The library stays loaded as long
// as the LoadedPlugin lives. Loading is not thread-safe with respect to the
// same file; different files may be loaded from different threads.
#pragma once

#include <sysmetrics/plugin.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "plugin/plugin_options.hpp"
#include "util/status.hpp"

namespace sysmetrics {

struct PluginInfo {
  std::string name;
  std::string version;
  std::string description;
  std::string file;  // absolute path it was loaded from
  std::uint32_t abi_major = 0;
  std::uint32_t abi_minor = 0;
  // SM_PLUGIN_NONBLOCKING (ABI 1.1): collect() promises never to block.
  bool nonblocking = false;
  // Shipped with sysmetrics (IsShippedPlugin): trusted to keep its
  // promises, and first to own its metric names.
  bool shipped = false;
  std::vector<OptionSpec> schema;
};

// Whether a plugin of this name and version is one shipped with this build
// of sysmetrics: its name is in the build's list of built-in plugins and its
// version is the exporter's own. A third-party file put in place of a
// built-in (another version) is not.
bool IsShippedPlugin(std::string_view name, std::string_view version);
// Whether name is one of the build's built-in plugins (whatever the file).
bool IsShippedPluginName(std::string_view name);

class LoadedPlugin {
 public:
  ~LoadedPlugin();
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;

  const PluginInfo& info() const { return info_; }
  const sm_plugin& descriptor() const { return *descriptor_; }

 private:
  friend Result<std::shared_ptr<LoadedPlugin>> LoadPlugin(
      const std::filesystem::path& file, std::string_view name);
  struct Library;
  LoadedPlugin() = default;

  PluginInfo info_;
  const sm_plugin* descriptor_ = nullptr;
  std::unique_ptr<Library> library_;
};

// Loads and validates the plugin at file (made absolute first). Its
// descriptor must be named name, or the file's stem when name is empty (a
// caller loading through a resolved symlink passes the name it listed).
Result<std::shared_ptr<LoadedPlugin>> LoadPlugin(
    const std::filesystem::path& file, std::string_view name = {});

// The ".so" files directly inside dir, sorted by name.
Result<std::vector<std::filesystem::path>> ListPluginFiles(
    const std::filesystem::path& dir);

}  // namespace sysmetrics
