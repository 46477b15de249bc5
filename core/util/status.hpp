// Status and Result: errors as values, carrying where and what.
//
// The host's (core/'s) one error convention (DESIGN.md, "Errors in
// the host"):
//
// 1. An operation that can fail returns Status when it has no value, and
//    Result<T> when it has one. Never a bool beside an out-parameter, and
//    never a string where "" means OK.
// 2. The message says what failed and why, the place first
//    ("/proc/stat:3: cpu line has 7 fields, want at least 8"), so a log
//    line alone says what to fix. A caller that knows more wraps it:
//    "--log-level: " + r.error().
// 3. Predicates (IsX, HasX, Contains, ...) return bool: they answer a
//    question and cannot fail. A lookup whose "nothing there" is a normal
//    answer returns std::optional.
// 4. An out-parameter stays only as a buffer the caller reuses on a hot
//    path (GzipCompress's output); the function still returns Status, and
//    its comment says why.
// 5. Exceptions from Poco, toml11 and the standard library are caught where
//    those libraries are called and turned into a Status; none leaves a
//    function that returns one.
// 6. Plugins report across the C ABI with sm_status codes and error text
//    (sdk/include/sysmetrics/plugin.h). That boundary is C and stays so;
//    the host turns what crosses it into a Status.
//
// Plain values; thread-compatible.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace sysmetrics {

class Status {
 public:
  Status() = default;  // OK
  static Status Ok() { return {}; }
  static Status Error(std::string message) {
    return Status(std::move(message));
  }

  bool ok() const { return !failed_; }
  const std::string& message() const { return message_; }

 private:
  explicit Status(std::string message)
      : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

// A value or the Status saying why there is none.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: implicit

  bool ok() const { return std::holds_alternative<T>(v_); }
  T& value() { return std::get<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  T&& take() { return std::move(std::get<T>(v_)); }
  const Status& status() const { return std::get<Status>(v_); }
  const std::string& error() const { return status().message(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace sysmetrics
