// Status and Result: errors as values, carrying where and what.
//
// Code in core/ and plugins/ returns these instead of throwing. A message
// names the place first ("/proc/stat:3: ...") so a log line alone says what
// to fix. Exceptions from Poco or toml11 are caught where those libraries are
// called and turned into a Status. Plain values; thread-compatible.
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
