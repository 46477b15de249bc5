#include "config/config.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace sysmetrics {
namespace {

namespace fs = std::filesystem;

// A temporary directory with a sysmetrics.toml and an optional conf.d.
class TempConfig {
 public:
  TempConfig() {
    char tmpl[] = "/tmp/sysmetrics-config-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
  }
  ~TempConfig() { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  std::string main() const { return (dir_ / "sysmetrics.toml").string(); }

 private:
  fs::path dir_;
};

Result<Config> Load(const std::string& path,
                    std::vector<std::pair<std::string, bool>> flags = {}) {
  CommandLine cl;
  cl.config = path;
  cl.collectors = std::move(flags);
  return LoadConfig(cl);
}

PluginInfo DiskPlugin() {
  PluginInfo p;
  p.name = "disk";
  OptionSpec pattern;
  pattern.key = "exclude_pattern";
  pattern.default_value.type = OptionType::kString;
  pattern.default_value.s = "^(loop|ram|dm-)";
  OptionSpec ratio;
  ratio.key = "ratio";
  ratio.default_value.type = OptionType::kDouble;
  ratio.default_value.d = 0.5;
  p.schema = {pattern, ratio};
  return p;
}

TEST_CASE("defaults apply when the default file does not exist") {
  CommandLine cl;
  auto c = LoadConfig(cl, "/nonexistent/sysmetrics.toml");
  REQUIRE(c.ok());
  CHECK(c.value().listen == "0.0.0.0:9101");
  CHECK(c.value().metrics_path == "/metrics");
  CHECK(c.value().procfs == "/proc");
  CHECK(c.value().files.empty());
  CHECK(IsEnabled(c.value(), "cpu"));
  CHECK_FALSE(IsEnabled(c.value(), "thirdparty"));
}

TEST_CASE("the shipped config shows the code's defaults") {
  // sysmetrics.toml shows every option at its default, commented out.
  // Uncommented, it must load to what no file at all loads to. Left
  // commented: the example tables ([web.tls] needs files) and plugins.dir,
  // whose packaged path stands for "relative to the binary".
  std::ifstream in(SYSMETRICS_SHIPPED_CONFIG);
  REQUIRE(in);
  std::string text;
  std::string line;
  bool example = false;
  int uncommented = 0;
  while (std::getline(in, line)) {
    if (line.starts_with("[") || line.starts_with("#[")) {
      example = line.starts_with("#[");
      if (!example) text += line + "\n";
      continue;
    }
    const bool setting = line.size() > 1 && line[0] == '#' &&
                         std::isalpha(static_cast<unsigned char>(line[1])) &&
                         line.find(" = ") != std::string::npos;
    if (example && line.starts_with("#min_version = ")) {
      CHECK(line == "#min_version = \"" + Config().web.tls_min_version + "\"");
    }
    if (!setting || example || line.starts_with("#dir = ")) continue;
    text += line.substr(1) + "\n";
    ++uncommented;
  }
  CHECK(uncommented >= 20);
  TempConfig t;
  t.Write("sysmetrics.toml", text);
  auto c = Load(t.main());
  REQUIRE_MESSAGE(c.ok(), c.error());
  const Config& got = c.value();
  const Config want;
  CHECK(got.listen == want.listen);
  CHECK(got.metrics_path == want.metrics_path);
  CHECK(got.procfs == want.procfs);
  CHECK(got.sysfs == want.sysfs);
  CHECK(got.rootfs == want.rootfs);
  CHECK(got.udev_data == want.udev_data);
  CHECK(got.check_plugin_permissions == want.check_plugin_permissions);
  CHECK(got.max_requests == want.max_requests);
  CHECK(got.max_connections == want.max_connections);
  CHECK(got.metric_names == want.metric_names);
  CHECK(got.timeout_margin_seconds == want.timeout_margin_seconds);
  CHECK(got.default_timeout_seconds == want.default_timeout_seconds);
  CHECK(got.collector_timeout_seconds == want.collector_timeout_seconds);
  CHECK(got.sample_limit == want.sample_limit);
  CHECK(got.inline_nonblocking == want.inline_nonblocking);
  CHECK(got.log_format == want.log_format);
  CHECK(got.log_level == want.log_level);
  CHECK(got.web.health_without_auth == want.web.health_without_auth);
  CHECK(got.web.tls_min_version == want.web.tls_min_version);
  for (const char* name :
       {"cpu", "memory", "disk", "network", "netclass", "filesystem", "loadavg",
        "pressure", "stat", "vmstat", "textfile"}) {
    INFO(name);
    CHECK(got.collectors.contains(name));
    CHECK(IsEnabled(got, name) == IsEnabled(want, name));
  }
}

TEST_CASE("a missing file named by --config is an error") {
  auto c = Load("/nonexistent/x.toml");
  REQUIRE_FALSE(c.ok());
  CHECK(c.error() ==
        "/nonexistent/x.toml: configuration file not found (named by "
        "--config)");
}

TEST_CASE("sections, conf.d drop-ins in name order, then flags") {
  TempConfig t;
  t.Write("sysmetrics.toml",
          "[server]\nlisten = \"127.0.0.1:9\"\n[paths]\nprocfs = \"/p\"\n"
          "[collectors.cpu]\nenabled = false\n"
          "[collectors.disk]\nexclude_pattern = \"^sd\"\n");
  t.Write("conf.d/20-b.toml", "[collectors.disk]\nexclude_pattern = \"^b\"\n");
  t.Write("conf.d/10-a.toml",
          "[collectors.disk]\nexclude_pattern = \"^a\"\n"
          "[collectors.extra]\nenabled = true\n");
  t.Write("conf.d/notes.txt", "ignored");
  auto c = Load(t.main(), {{"cpu", true}});
  REQUIRE(c.ok());
  const Config& cfg = c.value();
  CHECK(cfg.listen == "127.0.0.1:9");
  CHECK(cfg.procfs == "/p");
  REQUIRE(cfg.files.size() == 3);
  CHECK(cfg.files[1].ends_with("10-a.toml"));
  CHECK(IsEnabled(cfg, "cpu"));  // the flag wins over the file
  CHECK(IsEnabled(cfg, "extra"));
  const auto& disk = cfg.collectors.at("disk");
  REQUIRE(disk.options.size() == 1);
  CHECK(disk.options[0].value.s == "^b");  // 20-b.toml read last
  CHECK(disk.options[0].origin.ToString().ends_with("20-b.toml:2"));
}

TEST_CASE("metric_names from the file, and the flag over the file") {
  TempConfig t;
  t.Write("sysmetrics.toml", "[server]\nmetric_names = \"node\"\n");
  auto c = Load(t.main());
  REQUIRE(c.ok());
  CHECK(c.value().metric_names == MetricNames::kNode);
  CommandLine cl;
  cl.config = t.main();
  cl.metric_names = "sysmetrics";
  c = LoadConfig(cl);
  REQUIRE(c.ok());
  CHECK(c.value().metric_names == MetricNames::kSysmetrics);
  cl.metric_names = "prometheus";
  c = LoadConfig(cl);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error() ==
        "--metric-names: \"prometheus\" is not sysmetrics or node "
        "(node_exporter's names)");
}

TEST_CASE("errors name file, line and what is expected") {
  TempConfig t;
  auto error = [&](const std::string& text) {
    t.Write("sysmetrics.toml", text);
    auto c = Load(t.main());
    REQUIRE_FALSE(c.ok());
    return c.error();
  };
  CHECK(error("[sever]\nlisten = \"x\"\n") ==
        t.main() +
            ":1: unknown section [sever]; valid sections: server, scrape, "
            "paths, plugins, log, web, collectors");
  CHECK(error("[server]\nlisten = 9101\n") ==
        t.main() + ":2: server.listen must be a string, not an integer");
  CHECK(error("[server]\n\nlistn = \"x\"\n") ==
        t.main() +
            ":3: unknown key 'listn' in [server]; valid keys: listen, "
            "metrics_path, max_requests, max_connections, metric_names");
  CHECK(error("[server]\nmetric_names = \"nodes\"\n") ==
        t.main() +
            ":2: server.metric_names: \"nodes\" is not sysmetrics or node "
            "(node_exporter's names)");
  CHECK(error("[collectors.cpu]\nenabled = \"yes\"\n") ==
        t.main() +
            ":2: collectors.cpu.enabled must be true or false, not a string");
  CHECK(error("[log]\nlevel = \"loud\"\n") ==
        t.main() +
            ":2: log.level: \"loud\" is not a log level (debug, info, warn, "
            "error, off)");
  CHECK(error("[server]\nlisten = \n").find(":2: TOML syntax error") !=
        std::string::npos);
  CHECK(error("[server]\nmetrics_path = \"metrics\"\n")
            .starts_with("server.metrics_path must start with '/'"));
}

TEST_CASE("deadlines, limits and max_requests, global and per collector") {
  TempConfig t;
  t.Write("sysmetrics.toml",
          "[server]\nmax_requests = 5\n"
          "[scrape]\ntimeout_margin_seconds = 0.25\n"
          "default_timeout_seconds = 3\ncollector_timeout_seconds = 1.5\n"
          "sample_limit = 1000\n"
          "[collectors.disk]\ntimeout_seconds = 0.5\nsample_limit = 10\n");
  auto c = Load(t.main());
  REQUIRE(c.ok());
  CHECK(c.value().max_requests == 5);
  CHECK(c.value().timeout_margin_seconds == 0.25);
  CHECK(c.value().default_timeout_seconds == 3.0);
  CHECK(c.value().collector_timeout_seconds == 1.5);
  CHECK(c.value().sample_limit == 1000);
  CHECK(*c.value().collectors.at("disk").timeout_seconds == 0.5);
  CHECK(*c.value().collectors.at("disk").sample_limit == 10);
  // Host keys are not plugin options.
  CHECK(c.value().collectors.at("disk").options.empty());

  t.Write("sysmetrics.toml", "[collectors.disk]\ntimeout_seconds = -1\n");
  CHECK(Load(t.main()).error() ==
        t.main() +
            ":2: collectors.disk.timeout_seconds must be between 0 and 3600 "
            "seconds");
  t.Write("sysmetrics.toml",
          "[server]\nmax_requests = 50\n\nmax_connections = 50\n");
  CHECK(Load(t.main()).error() ==
        t.main() +
            ":4: server.max_connections (50) must be larger than "
            "server.max_requests (50) and at most 1000000");
  t.Write("sysmetrics.toml", "[server]\nmax_requests = 0\n");
  CHECK(Load(t.main()).error() ==
        t.main() + ":2: server.max_requests must be at least 1");
  CommandLine cl;
  cl.max_requests = "x";
  CHECK(LoadConfig(cl, "/nonexistent").error() ==
        "--max-requests must be a whole number of at least 1, not 'x'");
}

TEST_CASE("isolation settings per collector: host keys, checked") {
  TempConfig t;
  t.Write("sysmetrics.toml",
          "[collectors.disk]\nisolate = true\nmemory_limit_mib = 64\n"
          "[collectors.cpu]\nisolate = false\n");
  auto c = Load(t.main());
  REQUIRE(c.ok());
  CHECK(*c.value().collectors.at("disk").isolate);
  CHECK(*c.value().collectors.at("disk").memory_limit_mib == 64);
  CHECK_FALSE(*c.value().collectors.at("cpu").isolate);
  CHECK_FALSE(c.value().collectors.at("cpu").memory_limit_mib.has_value());
  CHECK(c.value().collectors.at("disk").options.empty());

  t.Write("sysmetrics.toml", "[collectors.disk]\nisolate = \"yes\"\n");
  CHECK(Load(t.main()).error() ==
        t.main() +
            ":2: collectors.disk.isolate must be true or false, not a string");
  t.Write("sysmetrics.toml", "[collectors.disk]\nmemory_limit_mib = 0\n");
  CHECK(Load(t.main()).error() ==
        t.main() + ":2: collectors.disk.memory_limit_mib must be at least 1");
  t.Write("sysmetrics.toml", "[collectors.disk]\nmemory_limit_mib = 1048577\n");
  CHECK(Load(t.main()).error() ==
        t.main() +
            ":2: collectors.disk.memory_limit_mib must be at most 1048576 "
            "(1 TiB)");
}

TEST_CASE("what toml11 cannot survive is refused first, by line") {
  // Both found by fuzz_config: an out-of-bounds read in toml11's error path
  // for a literal string holding invalid UTF-8, and a stack overflow on deep
  // nesting.
  TempConfig t;
  t.Write("sysmetrics.toml", "[server]\nlisten = 'a\xff'\n");
  CHECK(Load(t.main()).error() ==
        t.main() + ":2: not valid UTF-8 (a TOML file must be UTF-8)");
  t.Write("sysmetrics.toml", "# ok\na = " + std::string(100, '[') + "\n");
  CHECK(Load(t.main()).error() ==
        t.main() + ":2: arrays and inline tables nested more than 32 deep");
  t.Write("sysmetrics.toml", "a = " + std::string(10000, '{') + "\n");
  CHECK(Load(t.main()).error().find(":1: arrays and inline tables") !=
        std::string::npos);
  // Brackets inside strings and comments do not count.
  t.Write("sysmetrics.toml",
          "# [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n"
          "[collectors.disk]\nexclude_pattern = \"[[[[[[[[[[[[[[[[[[[[[[[[[["
          "[[[[[[[[[[[[[[[[\\\"\"\n");
  CHECK(Load(t.main()).ok());
}

TEST_CASE("[web]: TLS files, users and the open health check") {
  TempConfig t;
  const std::string hash =
      "$2y$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234";
  t.Write("sysmetrics.toml",
          "[web]\nhealth_without_auth = true\n"
          "[web.tls]\ncert_file = \"/c.pem\"\nkey_file = \"/k.pem\"\n"
          "client_ca_file = \"/ca.pem\"\nmin_version = \"TLS13\"\n"
          "[web.basic_auth_users]\nprometheus = \"" +
              hash + "\"\n");
  auto c = Load(t.main());
  REQUIRE(c.ok());
  const WebConfig& w = c.value().web;
  CHECK(w.tls());
  CHECK(w.tls_cert_file == "/c.pem");
  CHECK(w.tls_key_file == "/k.pem");
  CHECK(w.tls_client_ca_file == "/ca.pem");
  CHECK(w.tls_min_version == "TLS13");
  CHECK(w.health_without_auth);
  CHECK(w.basic_auth_users.at("prometheus") == hash);

  t.Write("sysmetrics.toml", "[web.tls]\nkey_file = \"/k.pem\"\n");
  CHECK(Load(t.main()).error() ==
        t.main() + ":1: [web.tls] needs both cert_file and key_file");
  t.Write("sysmetrics.toml",
          "[web.basic_auth_users]\n\"a:b\" = \"" + hash + "\"\n");
  CHECK(Load(t.main()).error() ==
        t.main() +
            ":2: web.basic_auth_users: a user name must be non-empty and "
            "hold no ':'");
  // The rejected value is never quoted: it may be a password.
  t.Write("sysmetrics.toml", "[web.basic_auth_users]\nu = \"hunter2\"\n");
  const std::string error = Load(t.main()).error();
  CHECK(error.find("hunter2") == std::string::npos);
  CHECK(error.find(":2: web.basic_auth_users.u must be a bcrypt hash") !=
        std::string::npos);
}

TEST_CASE("a syntax error in [web] names the line but never quotes it") {
  TempConfig t;
  const std::string hash =
      "$2y$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234";
  // Trailing junk after a hash, an unterminated password, a dotted key at
  // the top level: each a syntax error on a line holding a secret.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[server]\nlisten = \"127.0.0.1:9\"\n[web.basic_auth_users]\n"
       "prom = \"" +
           hash + "\" junk\n",
       ":4: TOML syntax error"},
      {"[ web ]\n[web.basic_auth_users]\nprom = \"hunter2\n",
       ":3: TOML syntax error"},
      {"web.basic_auth_users.prom = \"hunter2\" x\n", ":1: TOML syntax error"},
  };
  for (const auto& c : cases) {
    const std::string& text = c.first;
    const std::string& where = c.second;
    CAPTURE(text);
    t.Write("sysmetrics.toml", text);
    const std::string error = Load(t.main()).error();
    CHECK(error.find(where) != std::string::npos);
    CHECK(error.find("not shown") != std::string::npos);
    CHECK(error.find("hunter2") == std::string::npos);
    CHECK(error.find("ABCDEFGH") == std::string::npos);
  }
  // Elsewhere the excerpt stays: it helps, and holds nothing secret.
  t.Write("sysmetrics.toml", "[server]\nlisten = \"x\" junk\n");
  const std::string error = Load(t.main()).error();
  CHECK(error.find(":2: TOML syntax error") != std::string::npos);
  CHECK(error.find("junk") != std::string::npos);
}

TEST_CASE("plugin options are checked against the plugin's schema") {
  TempConfig t;
  t.Write("sysmetrics.toml",
          "[collectors.disk]\nexclude_pattern = \"^sd\"\nratio = 2\n");
  auto c = Load(t.main());
  REQUIRE(c.ok());
  auto options = ResolveOptions(DiskPlugin(), c.value().collectors.at("disk"));
  REQUIRE(options.ok());
  CHECK(options.value().Find("exclude_pattern", OptionType::kString)->s ==
        "^sd");
  CHECK(options.value().Find("ratio", OptionType::kDouble)->d == 2.0);

  t.Write("sysmetrics.toml", "[collectors.disk]\nexclude_patern = \"x\"\n");
  c = Load(t.main());
  REQUIRE(c.ok());
  options = ResolveOptions(DiskPlugin(), c.value().collectors.at("disk"));
  REQUIRE_FALSE(options.ok());
  CHECK(options.error() == t.main() +
                               ":2: unknown key 'exclude_patern' in "
                               "[collectors.disk]; valid keys: enabled, "
                               "timeout_seconds, sample_limit, isolate, "
                               "memory_limit_mib, exclude_pattern, ratio");

  t.Write("sysmetrics.toml", "[collectors.disk]\n\nexclude_pattern = 3\n");
  c = Load(t.main());
  REQUIRE(c.ok());
  options = ResolveOptions(DiskPlugin(), c.value().collectors.at("disk"));
  REQUIRE_FALSE(options.ok());
  CHECK(options.error() == t.main() +
                               ":3: collectors.disk.exclude_pattern must be "
                               "of type string, not an integer");
}

}  // namespace
}  // namespace sysmetrics
