#include "util/log.hpp"

#include <doctest/doctest.h>

namespace sysmetrics {
namespace {

TEST_CASE("JSON escaping keeps one valid object per line") {
  std::string out;
  AppendJsonEscaped(out, "q\" b\\ nl\n tab\t ctl\x01 bad\xFF ok\xC3\xA9");
  CHECK(out == "q\\\" b\\\\ nl\\n tab\\t ctl\\u0001 bad\\u00ff ok\xC3\xA9");
  CHECK(out.find('\n') == std::string::npos);
}

TEST_CASE("JSON rendering puts msg and fields as members") {
  std::string out;
  RenderLogLine(out, LogFormat::kJson, "plugin refused",
                {{"file", "/x/a\"b.so"}, {"reason", "line1\nline2"}});
  CHECK(out ==
        "\"msg\":\"plugin refused\",\"file\":\"/x/a\\\"b.so\","
        "\"reason\":\"line1\\nline2\"");
}

TEST_CASE("text rendering quotes only values that need it") {
  std::string out;
  RenderLogLine(out, LogFormat::kText, "request",
                {{"path", "/metrics"}, {"reason", "has space"}, {"e", ""}});
  CHECK(out == "request path=/metrics reason=\"has space\" e=\"\"");
  out.clear();
  RenderLogLine(out, LogFormat::kText, "two\nlines\xFF", {});
  CHECK(out == "two\\nlines\\xff");
}

// Both formats walk UTF-8 alike: a valid sequence is kept whole even when
// stray continuation bytes follow it, and each stray byte is escaped alone.
TEST_CASE("a valid character before stray bytes is kept in both formats") {
  const std::string_view s = "a\xC3\xA9\x80\x80 \xE2\x82 \xF0\x9F\x98\x80";
  std::string text;
  RenderLogLine(text, LogFormat::kText, s, {});
  CHECK(text == "a\xC3\xA9\\x80\\x80 \\xe2\\x82 \xF0\x9F\x98\x80");
  std::string json;
  AppendJsonEscaped(json, s);
  CHECK(json == "a\xC3\xA9\\u0080\\u0080 \\u00e2\\u0082 \xF0\x9F\x98\x80");
}

// A helper process is started with LogLevelName of the exporter's level
// and parses it back.
TEST_CASE("every level's name parses back to it") {
  for (const LogLevel level :
       {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError,
        LogLevel::kOff}) {
    const Result<LogLevel> back = ParseLogLevel(LogLevelName(level));
    REQUIRE(back.ok());
    CHECK(back.value() == level);
  }
  CHECK(LogLevelName(LogLevel::kWarn) == "warn");
}

TEST_CASE("levels and formats parse") {
  Result<LogLevel> l = ParseLogLevel("debug");
  REQUIRE(l.ok());
  CHECK(l.value() == LogLevel::kDebug);
  l = ParseLogLevel("warning");
  REQUIRE(l.ok());
  CHECK(l.value() == LogLevel::kWarn);
  l = ParseLogLevel("loud");
  REQUIRE_FALSE(l.ok());
  CHECK(l.error() ==
        "\"loud\" is not a log level (debug, info, warn, error, off)");
  Result<LogFormat> f = ParseLogFormat("json");
  REQUIRE(f.ok());
  CHECK(f.value() == LogFormat::kJson);
  f = ParseLogFormat("xml");
  REQUIRE_FALSE(f.ok());
  CHECK(f.error() == "\"xml\" is not a log format (text, json)");
}

}  // namespace
}  // namespace sysmetrics
