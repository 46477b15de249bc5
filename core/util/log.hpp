// Logging: one structured line per event, as text or JSON, through spdlog.
//
// A log call is a level, a message and context fields (key, value). Text
// mode prints `msg key=value ...` with values quoted and escaped when needed;
// JSON mode prints exactly one JSON object per line with timestamp, level,
// msg and the fields as members. Both escape control characters and bytes
// that are not UTF-8, so text from plugins or clients cannot forge lines.
// Thread-safe: spdlog's sinks are the _mt variants.
#pragma once

#include <initializer_list>
#include <iosfwd>
#include <string>
#include <string_view>

#include "util/status.hpp"

namespace sysmetrics {

enum class LogLevel { kDebug, kInfo, kWarn, kError, kOff };
enum class LogFormat { kText, kJson };

struct LogField {
  std::string_view key;
  std::string_view value;
};

// Parses "debug", "info", "warn" (or "warning"), "error", "off"; any other
// text is an error naming it and the valid levels, for the caller to prefix
// with the setting it came from.
Result<LogLevel> ParseLogLevel(std::string_view text);
// The name ParseLogLevel reads back as level ("debug", ..., "off").
std::string_view LogLevelName(LogLevel level);
// Parses "text" or "json"; an error as for ParseLogLevel otherwise.
Result<LogFormat> ParseLogFormat(std::string_view text);

// Sets up the process-wide logger writing to stderr. Call before threads.
void InitLogging(LogFormat format, LogLevel level);
// Same, writing to out instead of stderr (tests capture log lines this way).
// out must outlive all logging.
void InitLoggingToStream(std::ostream& out, LogFormat format, LogLevel level);
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

void Log(LogLevel level, std::string_view msg,
         std::initializer_list<LogField> fields = {});

// Renders a message and fields as the %v part of a line; exposed for tests.
void RenderLogLine(std::string& out, LogFormat format, std::string_view msg,
                   std::initializer_list<LogField> fields);

// Appends s as the inside of a JSON string (no quotes added): escapes '"',
// '\', control characters, and each byte that is not valid UTF-8 as \u00XX.
void AppendJsonEscaped(std::string& out, std::string_view s);

}  // namespace sysmetrics
