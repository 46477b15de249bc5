#include "plugin/plugin_loader.hpp"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "common/text.hpp"
#include "plugin/fatal_signal.hpp"

namespace sysmetrics {
namespace {

bool IsValidPluginName(std::string_view name) {
  if (name.empty() || !(name[0] >= 'a' && name[0] <= 'z')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string Version(std::uint32_t major, std::uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

Result<OptionSpec> CopyOption(const sm_option& o, std::size_t index) {
  const std::string where = "option #" + std::to_string(index);
  if (o.struct_size < offsetof(sm_option, default_list) + sizeof(void*)) {
    return Status::Error(where + " has struct_size " +
                         std::to_string(o.struct_size) + ", want at least " +
                         std::to_string(sizeof(sm_option)));
  }
  if (o.key == nullptr || !IsValidPluginName(o.key)) {
    return Status::Error(where + " has an invalid key (want [a-z][a-z0-9_]*)");
  }
  OptionSpec spec;
  spec.key = o.key;
  for (const char* reserved : {"enabled", "timeout_seconds", "sample_limit"}) {
    if (spec.key == reserved) {
      return Status::Error("option key '" + spec.key +
                           "' is reserved by the host");
    }
  }
  spec.help = o.help != nullptr ? o.help : "";
  OptionValue& v = spec.default_value;
  // Read as an integer: a plugin may store any value there, and loading an
  // out-of-range value as the enum type is undefined behaviour.
  int type = 0;
  static_assert(sizeof type == sizeof o.type);
  std::memcpy(&type, &o.type, sizeof type);
  switch (type) {
    case SM_OPT_BOOL:
      v.type = OptionType::kBool;
      v.b = o.default_int != 0;
      break;
    case SM_OPT_INT:
      v.type = OptionType::kInt;
      v.i = o.default_int;
      break;
    case SM_OPT_DOUBLE:
      v.type = OptionType::kDouble;
      v.d = o.default_double;
      break;
    case SM_OPT_STRING:
      v.type = OptionType::kString;
      v.s = o.default_string != nullptr ? o.default_string : "";
      break;
    case SM_OPT_STRING_LIST:
      v.type = OptionType::kStringList;
      for (const char* const* p = o.default_list; p != nullptr && *p != nullptr;
           ++p) {
        v.list.emplace_back(*p);
      }
      break;
    default:
      return Status::Error("option '" + spec.key + "' has unknown type " +
                           std::to_string(type));
  }
  return spec;
}

}  // namespace

#ifndef SYSMETRICS_SHIPPED_PLUGINS
#define SYSMETRICS_SHIPPED_PLUGINS ""
#endif
#ifndef SYSMETRICS_VERSION
#define SYSMETRICS_VERSION "0.0.0"
#endif

bool IsShippedPlugin(std::string_view name, std::string_view version) {
  return version == SYSMETRICS_VERSION && IsShippedPluginName(name);
}

bool IsShippedPluginName(std::string_view name) {
  if (name.empty()) return false;
  std::string_view list = SYSMETRICS_SHIPPED_PLUGINS;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (list.substr(0, comma) == name) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

struct LoadedPlugin::Library {
  boost::dll::shared_library lib;
};

LoadedPlugin::~LoadedPlugin() {
  // Unloading runs the plugin's static destructors.
  const PluginCallScope scope(info_.name.c_str(), "unload", info_.file.c_str());
  library_.reset();
}

namespace {

// Checks a plugin's descriptor against this host: its size and major ABI
// version, a valid name equal to stem (the file name without ".so"), and
// the members every plugin must have.
Status CheckDescriptor(const sm_plugin& d, const std::string& stem) {
  // The first three members are frozen across major versions.
  if (d.struct_size < offsetof(sm_plugin, abi_minor) + sizeof(d.abi_minor)) {
    return Status::Error("descriptor too small (" +
                         std::to_string(d.struct_size) + " bytes)");
  }
  if (d.abi_major != SM_ABI_VERSION_MAJOR) {
    return Status::Error(
        "built for plugin ABI " + Version(d.abi_major, d.abi_minor) +
        ", this host speaks ABI " +
        Version(SM_ABI_VERSION_MAJOR, SM_ABI_VERSION_MINOR) +
        " (major versions must match; rebuild the plugin against this SDK)");
  }
  if (d.struct_size < offsetof(sm_plugin, destroy) + sizeof(d.destroy)) {
    return Status::Error(
        "descriptor has struct_size " + std::to_string(d.struct_size) +
        ", smaller than ABI 1.0's " + std::to_string(sizeof(sm_plugin)));
  }
  if (d.name == nullptr || !IsValidPluginName(d.name)) {
    return Status::Error("descriptor name is missing or not [a-z][a-z0-9_]*");
  }
  if (stem != d.name) {
    return Status::Error("descriptor name '" + std::string(d.name) +
                         "' does not match the file name '" + stem + ".so'");
  }
  if (d.create == nullptr || d.collect == nullptr) {
    return Status::Error("descriptor lacks create or collect");
  }
  if (d.n_options != 0 && d.options == nullptr) {
    return Status::Error("descriptor has n_options but no options");
  }
  return Status::Ok();
}

// Fills *info from a checked descriptor d of the plugin at path, its
// options' schema included. Fails on an option that cannot be read or is
// declared twice.
Status FillInfo(const sm_plugin& d, const std::filesystem::path& path,
                PluginInfo* info) {
  info->name = d.name;
  info->version = d.version != nullptr ? d.version : "";
  info->description = d.description != nullptr ? d.description : "";
  info->file = path.string();
  info->abi_major = d.abi_major;
  info->abi_minor = d.abi_minor;
  // flags arrived in 1.1: a 1.0 descriptor is shorter and has none.
  const std::uint32_t flags = SM_HAS_MEMBER(&d, sm_plugin, flags) ? d.flags : 0;
  info->nonblocking = (flags & SM_PLUGIN_NONBLOCKING) != 0;
  info->shipped = IsShippedPlugin(info->name, info->version);
  for (std::uint32_t i = 0; i < d.n_options; ++i) {
    auto spec = CopyOption(d.options[i], i);
    if (!spec.ok()) return spec.status();
    for (const OptionSpec& other : info->schema) {
      if (other.key == spec.value().key) {
        return Status::Error("option '" + other.key + "' declared twice");
      }
    }
    info->schema.push_back(spec.take());
  }
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<LoadedPlugin>> LoadPlugin(
    const std::filesystem::path& file, std::string_view name) {
  std::error_code ec;
  const std::filesystem::path path = std::filesystem::absolute(file, ec);
  if (ec) return Status::Error("cannot resolve path: " + ec.message());

  // The plugin's code runs from here on: its static constructors in the
  // load, then the entry function.
  const std::string scope_name(name.empty() ? path.stem().string() : name);
  const std::string scope_file = path.string();
  auto lib = std::make_unique<LoadedPlugin::Library>();
  {
    const PluginCallScope scope(scope_name.c_str(), "load", scope_file.c_str());
    lib->lib.load(
        path,
        boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local,
        ec);
  }
  if (ec) {
    // Boost.DLL reports every failed dlopen as "Bad file descriptor"; the
    // reason (missing file, not ELF, undefined symbol, wrong architecture) is
    // in dlerror(), which it leaves set after the failed call. glibc keeps
    // that text per thread, so loading on several threads is fine.
    const char* why = dlerror();  // NOLINT(concurrency-mt-unsafe)
    return Status::Error("cannot load: " +
                         (why != nullptr ? std::string(why) : ec.message()));
  }
  if (!lib->lib.has(SM_ENTRY_SYMBOL)) {
    return Status::Error("no entry symbol '" SM_ENTRY_SYMBOL
                         "' (not a sysmetrics plugin, or built without "
                         "SM_PLUGIN_EXPORT)");
  }
  auto entry = reinterpret_cast<sm_entry_fn>(
      lib->lib.get<void*(std::uint32_t, std::uint32_t)>(SM_ENTRY_SYMBOL));
  const sm_plugin* d = nullptr;
  {
    const PluginCallScope scope(scope_name.c_str(), "entry",
                                scope_file.c_str());
    d = entry(SM_ABI_VERSION_MAJOR, SM_ABI_VERSION_MINOR);
  }
  if (d == nullptr) {
    return Status::Error("entry function returned no descriptor");
  }
  const std::string stem =
      name.empty() ? path.stem().string() : std::string(name);
  if (Status checked = CheckDescriptor(*d, stem); !checked.ok()) {
    return checked;
  }
  auto plugin = std::shared_ptr<LoadedPlugin>(new LoadedPlugin());
  if (Status filled = FillInfo(*d, path, &plugin->info_); !filled.ok()) {
    return filled;
  }
  plugin->descriptor_ = d;
  plugin->library_ = std::move(lib);
  return plugin;
}

Result<std::vector<std::filesystem::path>> ListPluginFiles(
    const std::filesystem::path& dir) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    return Status::Error("cannot read plugin directory " + dir.string() + ": " +
                         ec.message());
  }
  for (const auto& entry : it) {
    if (entry.path().extension() == ".so" && entry.is_regular_file(ec)) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace sysmetrics
