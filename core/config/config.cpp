#include "config/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>
#include <toml.hpp>
#include <variant>

#include "common/exposition_rules.hpp"
#include "common/text.hpp"
#include "util/bcrypt_hash.hpp"

namespace sysmetrics {
namespace {

using Value = toml::basic_value<toml::discard_comments, std::map, std::vector>;

Origin OriginOf(const Value& v) {
  const auto loc = v.location();
  return Origin{loc.file_name(), loc.line()};
}

Status ErrorAt(const Value& v, const std::string& what) {
  return Status::Error(OriginOf(v).ToString() + ": " + what);
}

std::string TypeName(const Value& v) {
  switch (v.type()) {
    case toml::value_t::boolean:
      return "a boolean";
    case toml::value_t::integer:
      return "an integer";
    case toml::value_t::floating:
      return "a float";
    case toml::value_t::string:
      return "a string";
    case toml::value_t::array:
      return "an array";
    case toml::value_t::table:
      return "a table";
    default:
      return "a date or time";
  }
}

Status ExpectString(const Value& v, const std::string& key, std::string* out) {
  if (!v.is_string()) {
    return ErrorAt(v, key + " must be a string, not " + TypeName(v));
  }
  *out = v.as_string().str;
  return Status::Ok();
}

// Deepest nesting of arrays and inline tables accepted. toml11 recurses
// once per level: ten thousand levels overflow the stack (found by
// fuzz_config). A real configuration nests two or three.
constexpr int kMaxNesting = 32;

// Checks what toml11 3.7 does not survive before it sees the text: invalid
// UTF-8 (its error path for a literal string reads out of bounds; TOML must
// be UTF-8 anyway) and deep nesting. Returns "line: problem" or "".
std::string PrecheckToml(std::string_view text) {
  std::size_t line = 1;
  auto at = [&line](const std::string& what) {
    return std::to_string(line) + ": " + what;
  };
  // Line by line for UTF-8, so the error names the line.
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (!IsValidUtf8(text.substr(start, end - start))) {
      return at("not valid UTF-8 (a TOML file must be UTF-8)");
    }
    start = end + 1;
    ++line;
  }
  // Bracket depth outside strings and comments.
  line = 1;
  int depth = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      const bool multi = text.substr(i, 3) == std::string(3, c);
      const std::size_t quote = multi ? 3 : 1;
      i += quote;
      while (i < text.size()) {
        if (text[i] == '\n') {
          if (!multi) break;  // an unterminated string: toml11 reports it
          ++line;
        } else if (c == '"' && text[i] == '\\') {
          ++i;  // skip the escaped character
          if (i < text.size() && text[i] == '\n') ++line;
        } else if (text.substr(i, quote) == std::string(quote, c)) {
          i += quote;
          break;
        }
        ++i;
      }
    } else {
      if (c == '[' || c == '{') {
        if (++depth > kMaxNesting) {
          return at("arrays and inline tables nested more than " +
                    std::to_string(kMaxNesting) + " deep");
        }
      } else if ((c == ']' || c == '}') && depth > 0) {
        --depth;
      }
      ++i;
    }
  }
  return {};
}

// Whether line (1-based) of a TOML text is in the [web] section or its
// subtables, or mentions web or a bcrypt hash anywhere: such a line is
// never quoted in an error.
bool InSecretSection(std::string_view text, std::size_t line) {
  bool in_web = false;
  std::size_t n = 1;
  std::size_t start = 0;
  while (start <= text.size() && n <= line) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(start, end - start);
    const std::size_t first = l.find_first_not_of(" \t");
    l.remove_prefix(std::min(first, l.size()));
    if (l.starts_with("[")) {
      std::string_view header = l.substr(l.starts_with("[[") ? 2 : 1);
      header.remove_prefix(
          std::min(header.find_first_not_of(" \t"), header.size()));
      in_web = header.starts_with("web") &&
               (header.size() == 3 || header[3] == '.' || header[3] == ']' ||
                header[3] == ' ' || header[3] == '\t');
    }
    if (n == line) {
      return in_web || l.find("web") != std::string_view::npos ||
             l.find("$2") != std::string_view::npos;
    }
    start = end + 1;
    ++n;
  }
  return in_web;
}

// "Permission denied (EACCES)": the text and the errno name, so an operator
// can search for either.
std::string ErrnoDescription(int err) {
  const char* name = strerrorname_np(err);
  return ErrnoText(err) + " (" +
         (name != nullptr ? name : "errno " + std::to_string(err)) + ")";
}

Status ParseFile(const std::string& path, Value* out) {
  std::string content;
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return Status::Error(path + ": cannot read: " + ErrnoDescription(errno));
    }
    std::stringstream text;
    text << in.rdbuf();
    content = text.str();
    if (const std::string problem = PrecheckToml(content); !problem.empty()) {
      return Status::Error(path + ":" + problem);
    }
    std::istringstream stream(content);
    *out = toml::parse<toml::discard_comments, std::map, std::vector>(stream,
                                                                      path);
    return Status::Ok();
  } catch (const toml::syntax_error& e) {
    // toml11's message is multi-line with an excerpt; keep its first line
    // after our "file:line:" prefix and the excerpt below it.
    std::string what = e.what();
    if (what.starts_with("[error] ")) what.erase(0, 8);
    const std::size_t line = e.location().line();
    if (InSecretSection(content, line)) {
      // The excerpt would quote the line, and a line in [web] may hold a
      // password hash (or a password typed by mistake): keep only toml11's
      // first line, which names the problem, not the text.
      what.erase(std::min(what.find('\n'), what.size()));
      what +=
          " (the line is not shown: it is in [web], where it may hold a "
          "secret)";
    }
    return Status::Error(path + ":" + std::to_string(line) +
                         ": TOML syntax error: " + what);
  } catch (const std::exception& e) {
    return Status::Error(path + ": cannot read: " + e.what());
  }
}

// The *.toml files in the drop-in directory dir, sorted by name; none if
// dir does not exist. A dir that exists but cannot be listed is an error
// naming it and the errno: skipping it would drop the operator's settings
// without a word.
Result<std::vector<std::string>> ListDropIns(const std::filesystem::path& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(dir, ec);
  if (st.type() == std::filesystem::file_type::not_found) return files;
  const auto fail = [&dir](const std::error_code& e) {
    return Status::Error(
        dir.string() +
        ": cannot read the drop-in directory: " + ErrnoDescription(e.value()));
  };
  if (ec) return fail(ec);
  if (!std::filesystem::is_directory(st)) {
    return Status::Error(dir.string() +
                         ": not a directory; drop-ins go in a directory "
                         "conf.d beside the configuration file");
  }
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return fail(ec);
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".toml") files.push_back(it->path());
  }
  if (ec) return fail(ec);
  std::sort(files.begin(), files.end());
  return files;
}

// Whether name is one of keys (a function, not a lambda: clang 14 cannot
// capture a structured binding).
bool Listed(std::initializer_list<const char*> keys, const std::string& name) {
  return std::any_of(keys.begin(), keys.end(),
                     [&name](const char* k) { return name == k; });
}

std::string Keys(std::initializer_list<const char*> keys) {
  std::string out;
  for (const char* k : keys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

// A key of a host section and where its value goes.
struct Key {
  const char* name;
  std::variant<std::string*, double*, std::int64_t*, bool*> target;
};

Status ApplyKey(const Value& v, const std::string& where, const Key& key) {
  if (auto* s = std::get_if<std::string*>(&key.target)) {
    return ExpectString(v, where, *s);
  }
  if (auto* d = std::get_if<double*>(&key.target)) {
    if (!v.is_floating() && !v.is_integer()) {
      return ErrorAt(v, where + " must be a number, not " + TypeName(v));
    }
    const double x =
        v.is_floating() ? v.as_floating() : static_cast<double>(v.as_integer());
    if (!(x >= 0) || x > 3600) {
      return ErrorAt(v, where + " must be between 0 and 3600 seconds");
    }
    **d = x;
    return Status::Ok();
  }
  if (auto* b = std::get_if<bool*>(&key.target)) {
    if (!v.is_boolean()) {
      return ErrorAt(v, where + " must be true or false, not " + TypeName(v));
    }
    **b = v.as_boolean();
    return Status::Ok();
  }
  auto* i = std::get<std::int64_t*>(key.target);
  if (!v.is_integer()) {
    return ErrorAt(v, where + " must be an integer, not " + TypeName(v));
  }
  if (v.as_integer() < 1) return ErrorAt(v, where + " must be at least 1");
  *i = v.as_integer();
  return Status::Ok();
}

// Applies one host section whose keys are all known.
Status ApplySection(const Value& section, const std::string& name,
                    std::initializer_list<Key> keys) {
  if (!section.is_table()) {
    return ErrorAt(section, "[" + name + "] must be a table");
  }
  for (const auto& [key, value] : section.as_table()) {
    const Key* found = nullptr;
    for (const Key& k : keys) {
      if (key == k.name) found = &k;
    }
    if (found == nullptr) {
      std::string valid;
      for (const Key& k : keys) {
        if (!valid.empty()) valid += ", ";
        valid += k.name;
      }
      return ErrorAt(value, "unknown key '" + key + "' in [" + name +
                                "]; valid keys: " + valid);
    }
    if (Status s = ApplyKey(value, name + "." + key, *found); !s.ok()) {
      return s;
    }
  }
  return Status::Ok();
}

// Applies key of [collectors.NAME] when it is one of the host's own
// (sample_limit, isolate, memory_limit_mib, timeout_seconds, enabled) and
// sets *handled; leaves *handled false for a plugin option.
Status ApplyHostCollectorKey(const std::string& name, const std::string& key,
                             const Value& v, CollectorConfig* c,
                             bool* handled) {
  *handled = true;
  const std::string where = "collectors." + name + "." + key;
  if (key == "sample_limit") {
    std::int64_t limit = 0;
    Status s = ApplyKey(v, where, {"sample_limit", &limit});
    if (s.ok()) c->sample_limit = limit;
    return s;
  }
  if (key == "isolate") {
    bool isolate = false;
    Status s = ApplyKey(v, where, {"isolate", &isolate});
    if (s.ok()) c->isolate = isolate;
    return s;
  }
  if (key == "memory_limit_mib") {
    std::int64_t mib = 0;
    if (Status s = ApplyKey(v, where, {"memory_limit_mib", &mib}); !s.ok()) {
      return s;
    }
    if (mib > kMaxHelperMemoryLimitMib) {
      return ErrorAt(v, where + " must be at most " +
                            std::to_string(kMaxHelperMemoryLimitMib) +
                            " (1 TiB)");
    }
    c->memory_limit_mib = mib;
    return Status::Ok();
  }
  if (key == "timeout_seconds") {
    double timeout = 0;
    Status s = ApplyKey(v, where, {"timeout_seconds", &timeout});
    if (s.ok()) c->timeout_seconds = timeout;
    return s;
  }
  if (key == "enabled") {
    if (!v.is_boolean()) {
      return ErrorAt(v, where + " must be true or false, not " + TypeName(v));
    }
    c->enabled = v.as_boolean();
    c->enabled_origin = OriginOf(v);
    return Status::Ok();
  }
  *handled = false;
  return Status::Ok();
}

// A plugin option as the configuration gives it, typed by its TOML value
// (checked against the plugin's schema once the plugin is loaded). A value
// of another kind (a table, an array of non-strings) keeps kind kOther.
RawOption ToRawOption(const std::string& key, const Value& v) {
  RawOption raw;
  raw.key = key;
  raw.origin = OriginOf(v);
  raw.toml_type = TypeName(v);
  if (v.is_boolean()) {
    raw.kind = RawOption::Kind::kBool;
    raw.value.type = OptionType::kBool;
    raw.value.b = v.as_boolean();
  } else if (v.is_integer()) {
    raw.kind = RawOption::Kind::kInt;
    raw.value.type = OptionType::kInt;
    raw.value.i = v.as_integer();
  } else if (v.is_floating()) {
    raw.kind = RawOption::Kind::kDouble;
    raw.value.type = OptionType::kDouble;
    raw.value.d = v.as_floating();
  } else if (v.is_string()) {
    raw.kind = RawOption::Kind::kString;
    raw.value.type = OptionType::kString;
    raw.value.s = v.as_string().str;
  } else if (v.is_array() &&
             std::all_of(v.as_array().begin(), v.as_array().end(),
                         [](const Value& e) { return e.is_string(); })) {
    raw.kind = RawOption::Kind::kStringList;
    raw.value.type = OptionType::kStringList;
    for (const Value& e : v.as_array()) {
      raw.value.list.push_back(e.as_string().str);
    }
  }
  return raw;
}

Status ApplyCollector(const std::string& name, const Value& table,
                      CollectorConfig* c) {
  if (!table.is_table()) {
    return ErrorAt(table, "collectors." + name +
                              " must be a table ([collectors." + name +
                              "] with enabled = true|false and options)");
  }
  c->table_origin = OriginOf(table);
  for (const auto& [key, v] : table.as_table()) {
    bool handled = false;
    if (Status s = ApplyHostCollectorKey(name, key, v, c, &handled);
        !s.ok() || handled) {
      if (!s.ok()) return s;
      continue;
    }
    RawOption raw = ToRawOption(key, v);
    // A later file overrides the same key from an earlier one.
    const std::string& name_of_key = key;  // clang 14 cannot capture bindings
    auto same =
        std::find_if(c->options.begin(), c->options.end(),
                     [&](const RawOption& o) { return o.key == name_of_key; });
    if (same != c->options.end()) {
      *same = std::move(raw);
    } else {
      c->options.push_back(std::move(raw));
    }
  }
  return Status::Ok();
}

Status ApplyWeb(const Value& section, WebConfig* web) {
  if (!section.is_table()) return ErrorAt(section, "[web] must be a table");
  // Checked before dispatch, so a key handled below but missing here is
  // refused (and the documentation test, which reads this list from the
  // error, sees every key the code accepts).
  static constexpr std::initializer_list<const char*> kWebKeys = {
      "health_without_auth", "tls", "basic_auth_users"};
  for (const auto& [key, v] : section.as_table()) {
    if (!Listed(kWebKeys, key)) {
      return ErrorAt(v, "unknown key '" + key +
                            "' in [web]; valid keys: " + Keys(kWebKeys));
    }
    if (key == "health_without_auth") {
      if (Status s = ApplyKey(v, "web." + key, {"", &web->health_without_auth});
          !s.ok()) {
        return s;
      }
    } else if (key == "tls") {
      web->tls_origin = OriginOf(v);
      if (Status s = ApplySection(v, "web.tls",
                                  {{"cert_file", &web->tls_cert_file},
                                   {"key_file", &web->tls_key_file},
                                   {"client_ca_file", &web->tls_client_ca_file},
                                   {"min_version", &web->tls_min_version}});
          !s.ok()) {
        return s;
      }
      const auto& t = v.as_table();
      if (t.count("min_version") != 0 && web->tls_min_version != "TLS12" &&
          web->tls_min_version != "TLS13") {
        return ErrorAt(t.at("min_version"),
                       "web.tls.min_version must be \"TLS12\" or \"TLS13\"");
      }
    } else if (key == "basic_auth_users") {
      if (!v.is_table()) {
        return ErrorAt(v,
                       "web.basic_auth_users must be a table of user = "
                       "\"bcrypt hash\"");
      }
      for (const auto& [user, hash] : v.as_table()) {
        // The value is a secret: messages never quote it.
        if (user.empty() || user.find(':') != std::string::npos) {
          return ErrorAt(hash,
                         "web.basic_auth_users: a user name must be "
                         "non-empty and hold no ':'");
        }
        if (!hash.is_string() || !IsBcryptHash(hash.as_string().str)) {
          return ErrorAt(hash, "web.basic_auth_users." + user +
                                   " must be a bcrypt hash ($2b$ or $2y$, 60 "
                                   "characters); make one with "
                                   "`sysmetrics --hash-password`");
        }
        web->basic_auth_users[user] = hash.as_string().str;
      }
    } else {
      return ErrorAt(v, "key '" + key + "' in [web] is listed but not handled");
    }
  }
  return Status::Ok();
}

Status ApplyServer(const Value& v, Config* config) {
  std::string names;
  Status s = ApplySection(v, "server",
                          {{"listen", &config->listen},
                           {"metrics_path", &config->metrics_path},
                           {"max_requests", &config->max_requests},
                           {"max_connections", &config->max_connections},
                           {"metric_names", &names}});
  if (!s.ok()) return s;
  if (!names.empty()) {
    Result<MetricNames> parsed = ParseMetricNames(names);
    if (!parsed.ok()) {
      return ErrorAt(v.as_table().at("metric_names"),
                     "server.metric_names: " + parsed.error());
    }
    config->metric_names = parsed.value();
  }
  for (const char* key : {"max_requests", "max_connections"}) {
    if (v.as_table().count(key) != 0) {
      config->connection_limits_origin = OriginOf(v.as_table().at(key));
    }
  }
  return Status::Ok();
}

Status ApplyPlugins(const Value& v, Config* config) {
  Status s =
      ApplySection(v, "plugins",
                   {{"dir", &config->plugin_dir},
                    {"check_permissions", &config->check_plugin_permissions},
                    {"state_dir", &config->state_dir}});
  if (s.ok() && v.as_table().count("state_dir") != 0 &&
      !config->state_dir.starts_with("/")) {
    return ErrorAt(v.as_table().at("state_dir"),
                   "plugins.state_dir must be an absolute path, not \"" +
                       config->state_dir + "\"");
  }
  return s;
}

Status ApplyLog(const Value& v, Config* config) {
  std::string format;
  std::string level;
  Status s = ApplySection(v, "log", {{"format", &format}, {"level", &level}});
  if (!s.ok()) return s;
  if (!format.empty()) {
    Result<LogFormat> parsed = ParseLogFormat(format);
    if (!parsed.ok()) {
      return ErrorAt(v.as_table().at("format"),
                     "log.format: " + parsed.error());
    }
    config->log_format = parsed.value();
  }
  if (!level.empty()) {
    Result<LogLevel> parsed = ParseLogLevel(level);
    if (!parsed.ok()) {
      return ErrorAt(v.as_table().at("level"), "log.level: " + parsed.error());
    }
    config->log_level = parsed.value();
  }
  return Status::Ok();
}

Status ApplyCollectors(const Value& v, Config* config) {
  if (!v.is_table()) return ErrorAt(v, "collectors must be a table");
  for (const auto& [name, table] : v.as_table()) {
    Status s = ApplyCollector(name, table, &config->collectors[name]);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// Applies one section of a configuration file.
Status ApplySectionOf(const std::string& section, const Value& v,
                      Config* config) {
  if (section == "server") return ApplyServer(v, config);
  if (section == "scrape") {
    return ApplySection(
        v, section,
        {{"timeout_margin_seconds", &config->timeout_margin_seconds},
         {"default_timeout_seconds", &config->default_timeout_seconds},
         {"collector_timeout_seconds", &config->collector_timeout_seconds},
         {"sample_limit", &config->sample_limit},
         {"inline_nonblocking", &config->inline_nonblocking}});
  }
  if (section == "paths") {
    return ApplySection(v, section,
                        {{"procfs", &config->procfs},
                         {"sysfs", &config->sysfs},
                         {"rootfs", &config->rootfs},
                         {"udev_data", &config->udev_data}});
  }
  if (section == "plugins") return ApplyPlugins(v, config);
  if (section == "log") return ApplyLog(v, config);
  if (section == "web") return ApplyWeb(v, &config->web);
  if (section == "collectors") return ApplyCollectors(v, config);
  return ErrorAt(v, "section [" + section + "] is listed but not handled");
}

Status ApplyFile(const Value& root, Config* config) {
  // As with [web]: the list is checked first, so the error (and the
  // documentation test reading it) names every section the code accepts.
  static constexpr std::initializer_list<const char*> kSections = {
      "server", "scrape", "paths", "plugins", "log", "web", "collectors"};
  for (const auto& [section, v] : root.as_table()) {
    if (!Listed(kSections, section)) {
      return ErrorAt(v, "unknown section [" + section +
                            "]; valid sections: " + Keys(kSections));
    }
    if (Status s = ApplySectionOf(section, v, config); !s.ok()) return s;
  }
  return Status::Ok();
}

Status Validate(const Config& c) {
  if (!c.metrics_path.starts_with("/") ||
      c.metrics_path.find_first_of("?# ") != std::string::npos) {
    return Status::Error(
        "server.metrics_path must start with '/' and hold "
        "no '?', '#' or space: \"" +
        c.metrics_path + "\"");
  }
  if (c.metrics_path == "/" || c.metrics_path == "/health") {
    return Status::Error("server.metrics_path cannot be \"" + c.metrics_path +
                         "\": that path is taken by the landing page or "
                         "the health check");
  }
  if (c.max_connections > 1000000 || c.max_connections <= c.max_requests) {
    // Connections whose scrape runs cannot be evicted: with no more room
    // than that, scrapes in flight could hold every slot.
    return Status::Error(
        c.connection_limits_origin.ToString() + ": server.max_connections (" +
        std::to_string(c.max_connections) +
        ") must be larger than server.max_requests (" +
        std::to_string(c.max_requests) + ") and at most 1000000");
  }
  const WebConfig& w = c.web;
  if (w.tls_cert_file.empty() != w.tls_key_file.empty()) {
    return Status::Error(w.tls_origin.ToString() +
                         ": [web.tls] needs both cert_file and key_file");
  }
  if (!w.tls_client_ca_file.empty() && w.tls_cert_file.empty()) {
    return Status::Error(w.tls_origin.ToString() +
                         ": web.tls.client_ca_file needs cert_file and "
                         "key_file as well");
  }
  return Status::Ok();
}

bool KindFits(RawOption::Kind kind, OptionType type) {
  switch (type) {
    case OptionType::kBool:
      return kind == RawOption::Kind::kBool;
    case OptionType::kInt:
      return kind == RawOption::Kind::kInt;
    case OptionType::kDouble:
      return kind == RawOption::Kind::kDouble || kind == RawOption::Kind::kInt;
    case OptionType::kString:
      return kind == RawOption::Kind::kString;
    case OptionType::kStringList:
      return kind == RawOption::Kind::kStringList;
  }
  return false;
}

// Sets *out from the flag's text, when given, with parse; the error names
// the flag.
template <class T>
Status ApplyFlag(const char* flag, const std::optional<std::string>& text,
                 Result<T> (*parse)(std::string_view), T* out) {
  if (!text) return Status::Ok();
  Result<T> parsed = parse(*text);
  if (!parsed.ok()) return Status::Error(flag + (": " + parsed.error()));
  *out = parsed.value();
  return Status::Ok();
}

}  // namespace

std::string Origin::ToString() const {
  if (line == 0) return file;
  return file + ":" + std::to_string(line);
}

Result<Config> LoadConfig(const CommandLine& cl,
                          const std::string& default_path) {
  Config config;
  const std::string path = cl.config.value_or(default_path);
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (ec) {
    // Not "absent": something on the way cannot be read. Running on the
    // defaults would hide the operator's configuration.
    return Status::Error(path +
                         ": cannot read: " + ErrnoDescription(ec.value()));
  }
  if (!exists && cl.config) {
    return Status::Error(path +
                         ": configuration file not found (named by "
                         "--config)");
  }
  if (exists) {
    std::vector<std::string> files = {path};
    const std::filesystem::path dropins =
        std::filesystem::path(path).parent_path() / "conf.d";
    Result<std::vector<std::string>> extra = ListDropIns(dropins);
    if (!extra.ok()) return extra.status();
    files.insert(files.end(), extra.value().begin(), extra.value().end());
    for (const std::string& file : files) {
      Value root;
      if (Status s = ParseFile(file, &root); !s.ok()) return s;
      if (Status s = ApplyFile(root, &config); !s.ok()) return s;
      config.files.push_back(file);
    }
  }

  // Flags override the files.
  if (cl.listen) config.listen = *cl.listen;
  if (cl.plugin_dir) config.plugin_dir = *cl.plugin_dir;
  if (cl.max_requests) {
    const std::string& text = *cl.max_requests;
    const std::optional<std::int64_t> n = ParseWhole<std::int64_t>(text);
    if (!n || *n < 1) {
      return Status::Error(
          "--max-requests must be a whole number of at "
          "least 1, not '" +
          text + "'");
    }
    config.max_requests = *n;
    config.connection_limits_origin = Origin{"--max-requests", 0};
  }
  if (cl.state_dir) {
    if (!cl.state_dir->starts_with("/")) {
      return Status::Error("--state-dir must be an absolute path, not '" +
                           *cl.state_dir + "'");
    }
    config.state_dir = *cl.state_dir;
  }
  if (cl.procfs) config.procfs = *cl.procfs;
  if (cl.sysfs) config.sysfs = *cl.sysfs;
  if (cl.rootfs) config.rootfs = *cl.rootfs;
  if (cl.udev_data) config.udev_data = *cl.udev_data;
  Status flags = ApplyFlag("--metric-names", cl.metric_names, ParseMetricNames,
                           &config.metric_names);
  if (flags.ok()) {
    flags = ApplyFlag("--log-format", cl.log_format, ParseLogFormat,
                      &config.log_format);
  }
  if (flags.ok()) {
    flags = ApplyFlag("--log-level", cl.log_level, ParseLogLevel,
                      &config.log_level);
  }
  if (!flags.ok()) return flags;
  for (const auto& [name, on] : cl.collectors) {
    CollectorConfig& c = config.collectors[name];
    c.enabled = on;
    c.enabled_origin =
        Origin{(on ? "--collector." : "--no-collector.") + name, 0};
  }
  if (Status s = Validate(config); !s.ok()) return s;
  return config;
}

Result<PluginOptions> ResolveOptions(const PluginInfo& plugin,
                                     const CollectorConfig& config) {
  PluginOptions options = PluginOptions::Defaults(plugin.schema);
  for (const RawOption& raw : config.options) {
    OptionValue* target = options.FindMutable(raw.key);
    if (target == nullptr) {
      std::string valid;
      for (const char* k : kHostCollectorKeys) {
        valid += (valid.empty() ? "" : ", ") + std::string(k);
      }
      for (const OptionSpec& spec : plugin.schema) valid += ", " + spec.key;
      return Status::Error(raw.origin.ToString() + ": unknown key '" + raw.key +
                           "' in [collectors." + plugin.name +
                           "]; valid keys: " + valid);
    }
    if (!KindFits(raw.kind, target->type)) {
      return Status::Error(raw.origin.ToString() + ": collectors." +
                           plugin.name + "." + raw.key + " must be of type " +
                           std::string(OptionTypeName(target->type)) +
                           ", not " + raw.toml_type);
    }
    const OptionType type = target->type;
    *target = raw.value;
    if (type == OptionType::kDouble && raw.kind == RawOption::Kind::kInt) {
      target->d = static_cast<double>(raw.value.i);
    }
    target->type = type;
  }
  return options;
}

const std::set<std::string>& DefaultEnabledCollectors() {
  // node_exporter's defaults among the collectors sysmetrics has
  // (README, "Metrics").
  static const std::set<std::string> kDefaults = {
      "cpu",        "disk",    "memory",   "network", "netclass",
      "filesystem", "loadavg", "pressure", "stat",    "vmstat"};
  return kDefaults;
}

bool IsEnabled(const Config& config, const std::string& name) {
  const auto it = config.collectors.find(name);
  if (it != config.collectors.end() && it->second.enabled) {
    return *it->second.enabled;
  }
  return DefaultEnabledCollectors().count(name) != 0;
}

}  // namespace sysmetrics
