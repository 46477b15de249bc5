#include "util/log.hpp"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "common/exposition_rules.hpp"

namespace sysmetrics {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};

spdlog::level::level_enum ToSpd(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kOff:
      break;
  }
  return spdlog::level::off;
}

const char kHex[] = "0123456789abcdef";

// Text mode: a value needs quotes if empty or if it holds a space, quote,
// '=', a control character or a non-ASCII byte; inside quotes the same
// escapes as JSON apply, so a line stays one line.
bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '"' || c == '=' || c == '\\') {
      return true;
    }
  }
  return false;
}

// The length of the longest valid UTF-8 sequence that starts at s[i], a
// non-ASCII byte: 2 to 4, or 0 when none does (a stray byte).
std::size_t Utf8SequenceAt(std::string_view s, std::size_t i) {
  std::size_t n = 1;
  while (i + n < s.size() && n < 4 &&
         (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) {
    ++n;
  }
  while (n > 1 && !IsValidUtf8(s.substr(i, n))) --n;
  return n > 1 ? n : 0;
}

enum class Escaping : std::uint8_t {
  kText,  // a message or key: control characters as \xXX; quotes kept
  kJson,  // a JSON string: quote and backslash escaped, others as \u00XX
};

// Appends s so that one event stays on one line: printable characters and
// valid UTF-8 as they are, newline, CR and tab as \n, \r, \t, and every
// other control character or stray byte as a hex escape (JSON reads
// \u00XX as the byte's Latin-1 code point).
void AppendEscaped(std::string& out, std::string_view s, Escaping how) {
  const char* hex_prefix = how == Escaping::kJson ? "\\u00" : "\\x";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto u = static_cast<unsigned char>(s[i]);
    const std::size_t n = u >= 0x80 ? Utf8SequenceAt(s, i) : 0;
    if (how == Escaping::kJson && (u == '"' || u == '\\')) {
      out.push_back('\\');
      out.push_back(static_cast<char>(u));
    } else if (u == '\n') {
      out.append("\\n");
    } else if (u == '\r') {
      out.append("\\r");
    } else if (u == '\t') {
      out.append("\\t");
    } else if (u >= 0x20 && u < 0x7f) {
      out.push_back(static_cast<char>(u));
    } else if (n != 0) {
      out.append(s.substr(i, n));
      i += n - 1;
    } else {
      out.append(hex_prefix).push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
}

}  // namespace

namespace {

// Each level and its name, as the flag, the configuration and the helper
// process's command line spell it.
constexpr std::pair<LogLevel, std::string_view> kLevelNames[] = {
    {LogLevel::kDebug, "debug"}, {LogLevel::kInfo, "info"},
    {LogLevel::kWarn, "warn"},   {LogLevel::kError, "error"},
    {LogLevel::kOff, "off"},
};

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  for (const auto& [l, name] : kLevelNames) {
    if (l == level) return name;
  }
  return "info";
}

Result<LogLevel> ParseLogLevel(std::string_view text) {
  if (text == "warning") return LogLevel::kWarn;  // also accepted
  for (const auto& [level, name] : kLevelNames) {
    if (text == name) return level;
  }
  return Status::Error("\"" + std::string(text) +
                       "\" is not a log level (debug, info, warn, error, off)");
}

Result<LogFormat> ParseLogFormat(std::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return Status::Error("\"" + std::string(text) +
                       "\" is not a log format (text, json)");
}

void AppendJsonEscaped(std::string& out, std::string_view s) {
  AppendEscaped(out, s, Escaping::kJson);
}

void RenderLogLine(std::string& out, LogFormat format, std::string_view msg,
                   std::initializer_list<LogField> fields) {
  if (format == LogFormat::kJson) {
    out.append("\"msg\":\"");
    AppendJsonEscaped(out, msg);
    out.push_back('"');
    for (const LogField& f : fields) {
      out.append(",\"");
      AppendJsonEscaped(out, f.key);
      out.append("\":\"");
      AppendJsonEscaped(out, f.value);
      out.push_back('"');
    }
    return;
  }
  AppendEscaped(out, msg, Escaping::kText);
  for (const LogField& f : fields) {
    out.push_back(' ');
    AppendEscaped(out, f.key, Escaping::kText);
    out.push_back('=');
    if (NeedsQuotes(f.value)) {
      out.push_back('"');
      AppendJsonEscaped(out, f.value);
      out.push_back('"');
    } else {
      out.append(f.value);
    }
  }
}

namespace {

void InstallLogger(const std::shared_ptr<spdlog::sinks::sink>& sink,
                   LogFormat format, LogLevel level) {
  auto logger = std::make_shared<spdlog::logger>("sysmetrics", sink);
  if (format == LogFormat::kJson) {
    logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v",
                        spdlog::pattern_time_type::utc);
  }
  logger->set_level(ToSpd(level));
  logger->flush_on(spdlog::level::debug);
  g_format = format;
  spdlog::set_default_logger(logger);
}

}  // namespace

void InitLogging(LogFormat format, LogLevel level) {
  InstallLogger(std::make_shared<spdlog::sinks::stderr_sink_mt>(), format,
                level);
}

void InitLoggingToStream(std::ostream& out, LogFormat format, LogLevel level) {
  InstallLogger(std::make_shared<spdlog::sinks::ostream_sink_mt>(out), format,
                level);
}

void SetLogLevel(LogLevel level) {
  spdlog::default_logger_raw()->set_level(ToSpd(level));
}

bool LogEnabled(LogLevel level) {
  return spdlog::default_logger_raw()->should_log(ToSpd(level));
}

void Log(LogLevel level, std::string_view msg,
         std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  thread_local std::string line;
  line.clear();
  RenderLogLine(line, g_format.load(std::memory_order_relaxed), msg, fields);
  spdlog::default_logger_raw()->log(ToSpd(level), "{}", line);
}

}  // namespace sysmetrics
