// Quarantine (crash containment, second layer): a plugin that crashed the
// serving process is not loaded by the next start, until its file changes or
// an operator removes its record, so a restart loop is impossible.
//
// A record is a small text file, <state_dir>/quarantine/<collector>, one
// "key=value" per line (values escape '\' as "\\" and a newline as "\n"):
//
//   format=sysmetrics-quarantine-1
//   collector=crashes
//   file=/usr/lib/sysmetrics/crashes.so
//   device=2049              st_dev of the file when it was loaded
//   inode=1311768            st_ino
//   size=15928               st_size, bytes
//   mtime_ns=1733054400123456789   st_mtim, nanoseconds since the epoch
//   call=collect             the plugin call that crashed
//   signal=SIGSEGV
//   time=2026-12-01T10:00:00.123Z  when, UTC
//
// The lines up to mtime_ns are known when the plugin is loaded
// (FormatQuarantineHead); the fatal signal handler appends the last three
// (fatal_signal.hpp). Unknown keys are ignored when read, so the format can
// grow.
//
// Plain functions of their arguments and the files they name; thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "util/status.hpp"

namespace sysmetrics {

// What makes a plugin file the same file: replacing, rewriting or touching
// it changes at least one of these.
struct FileIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};

// The identity of file as it is now (stat, following symlinks), or why it
// cannot be had.
Result<FileIdentity> IdentityOf(const std::filesystem::path& file);

struct QuarantineRecord {
  std::string collector;
  std::string file;
  FileIdentity identity;
  std::string call;    // "collect", "create", "load", ...
  std::string signal;  // "SIGSEGV", ...
  std::string time;    // UTC, as the log prints it
};

// The record's lines known at load time (format to mtime_ns), each ending
// in a newline.
std::string FormatQuarantineHead(std::string_view collector,
                                 std::string_view file,
                                 const FileIdentity& identity);

// A whole record, as the fatal signal handler writes it.
std::string FormatQuarantineRecord(const QuarantineRecord& record);

// Reads a record. Fails (saying what is wrong) on another format, a missing
// collector or identity key, or an identity value that is not a number.
Result<QuarantineRecord> ParseQuarantineRecord(std::string_view text);

// <state_dir>/quarantine.
std::filesystem::path QuarantineDir(const std::filesystem::path& state_dir);

// Readies the serving process to write records: state_dir must exist;
// <state_dir>/quarantine is created if missing and must be a writable
// directory. The error says why quarantine is off.
Status PrepareQuarantine(const std::filesystem::path& state_dir);

// The verdict on loading collector name from file given what is in dir
// (a quarantine directory, which need not exist).
struct QuarantineVerdict {
  bool quarantined = false;
  std::string reason;  // why it is not loaded (quarantined only)
  // A record that no longer matches the file (it changed since the crash):
  // the caller removes it and loads the plugin.
  bool stale = false;
  std::filesystem::path record;  // the record's path
};
QuarantineVerdict CheckQuarantine(const std::filesystem::path& dir,
                                  std::string_view name,
                                  const std::filesystem::path& file);

}  // namespace sysmetrics
