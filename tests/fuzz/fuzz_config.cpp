// Fuzz target for the configuration loader, LoadConfig
// (core/config/config.hpp), and ResolveOptions on what it loads.
//
// LoadConfig reads files only, so the input is written to a file in a
// directory of this process's own (several fuzzers may run at once). A line
// "#%dropin" splits the input: what follows it goes to conf.d/50-fuzz.toml
// beside the main file, so the merging of drop-ins is fuzzed too (the line
// is a TOML comment, so seeds stay valid TOML).
//
// Beyond "no crash, no sanitizer report, no exception": a failure has a
// message; a success has read exactly the files written and holds values
// within the bounds the loader enforces; and ResolveOptions against a schema
// with one option of each type either fails with a message or yields every
// option with its declared type.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "config/config.hpp"
#include "fuzz_check.hpp"

namespace sysmetrics::fuzz {
namespace {

constexpr std::string_view kDropInMarker = "\n#%dropin\n";

std::filesystem::path& Dir() {
  static std::filesystem::path dir;
  return dir;
}

void RemoveDir() {
  std::error_code ec;
  std::filesystem::remove_all(Dir(), ec);
}

void WriteFile(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  FUZZ_CHECK(out.good(), "cannot write " + path.string());
}

const std::vector<OptionSpec>& Schema() {
  static const std::vector<OptionSpec> schema = [] {
    std::vector<OptionSpec> s(5);
    s[0].key = "flag";
    s[0].default_value.type = OptionType::kBool;
    s[1].key = "count";
    s[1].default_value.type = OptionType::kInt;
    s[2].key = "ratio";
    s[2].default_value.type = OptionType::kDouble;
    s[3].key = "name";
    s[3].default_value.type = OptionType::kString;
    s[4].key = "devices";
    s[4].default_value.type = OptionType::kStringList;
    return s;
  }();
  return schema;
}

bool InRange(double seconds) { return seconds >= 0 && seconds <= 3600; }

void CheckConfig(const Config& c, const std::vector<std::string>& files) {
  FUZZ_CHECK(c.files == files, "files read are not the files written");
  FUZZ_CHECK(c.metrics_path.starts_with('/') && c.metrics_path != "/" &&
                 c.metrics_path != "/health" &&
                 c.metrics_path.find_first_of("?# ") == std::string::npos,
             "accepted metrics_path '" + c.metrics_path + "'");
  FUZZ_CHECK(c.max_requests >= 1 && c.sample_limit >= 1,
             "accepted a limit below 1");
  FUZZ_CHECK(InRange(c.timeout_margin_seconds) &&
                 InRange(c.default_timeout_seconds) &&
                 InRange(c.collector_timeout_seconds),
             "accepted a timeout outside 0..3600 s");
  PluginInfo plugin;
  plugin.schema = Schema();
  for (const auto& [name, collector] : c.collectors) {
    FUZZ_CHECK(
        !collector.timeout_seconds || InRange(*collector.timeout_seconds),
        "collector " + name + " has a timeout outside 0..3600 s");
    FUZZ_CHECK(!collector.sample_limit || *collector.sample_limit >= 1,
               "collector " + name + " has a sample limit below 1");
    (void)IsEnabled(c, name);
    plugin.name = name;
    const Result<PluginOptions> options = ResolveOptions(plugin, collector);
    if (!options.ok()) {
      FUZZ_CHECK(!options.error().empty(),
                 "ResolveOptions failed without a message");
      continue;
    }
    for (const OptionSpec& spec : plugin.schema) {
      FUZZ_CHECK(
          options.value().Find(spec.key, spec.default_value.type) != nullptr,
          "option " + spec.key + " lost its type");
    }
  }
}

}  // namespace
}  // namespace sysmetrics::fuzz

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  namespace fz = sysmetrics::fuzz;
  std::error_code ec;
  std::filesystem::path base = std::filesystem::temp_directory_path(ec);
  if (ec) base = "/tmp";
  fz::Dir() = base / ("sysmetrics-fuzz-config." + std::to_string(getpid()));
  std::filesystem::remove_all(fz::Dir(), ec);
  std::filesystem::create_directories(fz::Dir() / "conf.d");
  std::atexit(fz::RemoveDir);
  // Errors are the expected outcome of most inputs: keep them off stderr.
  sysmetrics::SetLogLevel(sysmetrics::LogLevel::kOff);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  namespace fz = sysmetrics::fuzz;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t split = text.find(fz::kDropInMarker);
  const std::filesystem::path main = fz::Dir() / "sysmetrics.toml";
  const std::filesystem::path dropin = fz::Dir() / "conf.d" / "50-fuzz.toml";
  std::vector<std::string> files = {main.string()};
  fz::WriteFile(main, text.substr(0, split));
  if (split != std::string_view::npos) {
    fz::WriteFile(dropin, text.substr(split + fz::kDropInMarker.size()));
    files.push_back(dropin.string());
  } else {
    std::error_code ec;
    std::filesystem::remove(dropin, ec);
  }

  sysmetrics::CommandLine cl;
  cl.config = main.string();
  const sysmetrics::Result<sysmetrics::Config> config =
      sysmetrics::LoadConfig(cl);
  if (!config.ok()) {
    FUZZ_CHECK(!config.error().empty(), "LoadConfig failed without a message");
    return 0;
  }
  fz::CheckConfig(config.value(), files);
  return 0;
}
