#include "plugin/quarantine.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <optional>
#include <system_error>

#include "common/text.hpp"

namespace sysmetrics {
namespace {

constexpr std::string_view kFormat = "sysmetrics-quarantine-1";
// Far more than a record needs; a bigger file is not one of ours.
constexpr std::size_t kMaxRecordBytes = std::size_t{64} * 1024;

void AddLine(std::string& out, std::string_view key, std::string_view value) {
  out.append(key);
  out.push_back('=');
  for (const char c : value) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\n');
}

std::string Unescape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size()) {
      ++i;
      out.push_back(value[i] == 'n' ? '\n' : value[i]);
    } else {
      out.push_back(value[i]);
    }
  }
  return out;
}

// Stores the whole of text as a number in *out, one of the record's
// differently typed identity fields; false, leaving it, if it is not one.
template <class T>
bool ParseNumber(std::string_view text, T* out) {
  const std::optional<T> v = ParseWhole<T>(text);
  if (v) *out = *v;
  return v.has_value();
}

Result<std::string> ReadRecordFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error("cannot read: " + ErrnoText(errno));
  std::string text;
  text.resize(kMaxRecordBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxRecordBytes) {
    return Status::Error("larger than " + std::to_string(kMaxRecordBytes) +
                         " bytes");
  }
  return text;
}

}  // namespace

Result<FileIdentity> IdentityOf(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    return Status::Error(file.string() + ": " + ErrnoText(errno));
  }
  FileIdentity id;
  id.device = st.st_dev;
  id.inode = st.st_ino;
  id.size = static_cast<std::uint64_t>(st.st_size);
  id.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                st.st_mtim.tv_nsec;
  return id;
}

std::string FormatQuarantineHead(std::string_view collector,
                                 std::string_view file,
                                 const FileIdentity& identity) {
  std::string out;
  AddLine(out, "format", kFormat);
  AddLine(out, "collector", collector);
  AddLine(out, "file", file);
  AddLine(out, "device", std::to_string(identity.device));
  AddLine(out, "inode", std::to_string(identity.inode));
  AddLine(out, "size", std::to_string(identity.size));
  AddLine(out, "mtime_ns", std::to_string(identity.mtime_ns));
  return out;
}

std::string FormatQuarantineRecord(const QuarantineRecord& record) {
  std::string out =
      FormatQuarantineHead(record.collector, record.file, record.identity);
  AddLine(out, "call", record.call);
  AddLine(out, "signal", record.signal);
  AddLine(out, "time", record.time);
  return out;
}

Result<QuarantineRecord> ParseQuarantineRecord(std::string_view text) {
  QuarantineRecord r;
  bool format = false;
  int identity_keys = 0;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty()) continue;
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return Status::Error("line " + std::to_string(line_no) +
                           ": no '=' (want key=value)");
    }
    const std::string_view key = line.substr(0, eq);
    const std::string_view raw = line.substr(eq + 1);
    bool number_ok = true;
    if (key == "format") {
      if (raw != kFormat) {
        return Status::Error("format '" + std::string(raw) + "', want '" +
                             std::string(kFormat) + "'");
      }
      format = true;
    } else if (key == "collector") {
      r.collector = Unescape(raw);
    } else if (key == "file") {
      r.file = Unescape(raw);
    } else if (key == "device") {
      number_ok = ParseNumber(raw, &r.identity.device);
      ++identity_keys;
    } else if (key == "inode") {
      number_ok = ParseNumber(raw, &r.identity.inode);
      ++identity_keys;
    } else if (key == "size") {
      number_ok = ParseNumber(raw, &r.identity.size);
      ++identity_keys;
    } else if (key == "mtime_ns") {
      number_ok = ParseNumber(raw, &r.identity.mtime_ns);
      ++identity_keys;
    } else if (key == "call") {
      r.call = Unescape(raw);
    } else if (key == "signal") {
      r.signal = Unescape(raw);
    } else if (key == "time") {
      r.time = Unescape(raw);
    }
    if (!number_ok) {
      return Status::Error("line " + std::to_string(line_no) + ": " +
                           std::string(key) + " is not a number");
    }
  }
  if (!format) return Status::Error("no format line");
  if (r.collector.empty()) return Status::Error("no collector");
  if (identity_keys != 4) {
    return Status::Error(
        "the file's identity is incomplete (want device, inode, size and "
        "mtime_ns)");
  }
  return r;
}

std::filesystem::path QuarantineDir(const std::filesystem::path& state_dir) {
  return state_dir / "quarantine";
}

Status PrepareQuarantine(const std::filesystem::path& state_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(state_dir, ec)) {
    return Status::Error("state directory " + state_dir.string() + ": " +
                         (ec ? ec.message() : "not a directory or missing"));
  }
  const std::filesystem::path dir = QuarantineDir(state_dir);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::Error("cannot create " + dir.string() + ": " +
                         ErrnoText(errno));
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::Error(dir.string() + ": not a directory");
  }
  // access() checks the real user, which is the effective one here, and
  // reports a read-only mount (systemd's ProtectSystem) as EROFS.
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return Status::Error(dir.string() +
                         " is not writable: " + ErrnoText(errno));
  }
  return Status::Ok();
}

QuarantineVerdict CheckQuarantine(const std::filesystem::path& dir,
                                  std::string_view name,
                                  const std::filesystem::path& file) {
  QuarantineVerdict v;
  v.record = dir / std::string(name);
  std::error_code ec;
  if (!std::filesystem::exists(v.record, ec) && !ec) return v;
  const std::string remove_hint =
      "; fix or replace the plugin file, or remove " + v.record.string() +
      " to try it again";
  auto text = ReadRecordFile(v.record);
  auto record = text.ok() ? ParseQuarantineRecord(text.value())
                          : Result<QuarantineRecord>(text.status());
  if (!record.ok()) {
    // Never load a plugin on a record that cannot be read: it may be the
    // one that crashed us.
    v.quarantined = true;
    v.reason = "quarantined: unreadable record " + v.record.string() + " (" +
               record.error() + ")" + remove_hint;
    return v;
  }
  const QuarantineRecord& r = record.value();
  auto now = IdentityOf(file);
  if (now.ok() && !(now.value() == r.identity)) {
    v.stale = true;
    return v;
  }
  v.quarantined = true;
  v.reason = "quarantined: crashed the exporter (" +
             (r.signal.empty() ? std::string("signal") : r.signal) + " in " +
             (r.call.empty() ? std::string("a plugin call") : r.call) +
             ") at " + (r.time.empty() ? std::string("unknown time") : r.time) +
             remove_hint;
  return v;
}

}  // namespace sysmetrics
