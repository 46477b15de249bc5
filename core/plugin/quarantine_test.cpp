#include "plugin/quarantine.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace sysmetrics {
namespace {

namespace fs = std::filesystem;

// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (fs::temp_directory_path() / "sysmetrics-quarantine-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

QuarantineRecord Sample() {
  QuarantineRecord r;
  r.collector = "crashes";
  r.file = "/usr/lib/sysmetrics/crashes.so";
  r.identity = {2049, 1311768, 15928, 1733054400123456789};
  r.call = "collect";
  r.signal = "SIGSEGV";
  r.time = "2026-12-01T10:00:00.123Z";
  return r;
}

TEST_CASE("a quarantine record reads back as written") {
  const QuarantineRecord r = Sample();
  const std::string text = FormatQuarantineRecord(r);
  CHECK(text ==
        "format=sysmetrics-quarantine-1\n"
        "collector=crashes\n"
        "file=/usr/lib/sysmetrics/crashes.so\n"
        "device=2049\n"
        "inode=1311768\n"
        "size=15928\n"
        "mtime_ns=1733054400123456789\n"
        "call=collect\n"
        "signal=SIGSEGV\n"
        "time=2026-12-01T10:00:00.123Z\n");
  CHECK(
      text.starts_with(FormatQuarantineHead(r.collector, r.file, r.identity)));
  auto back = ParseQuarantineRecord(text);
  REQUIRE(back.ok());
  CHECK(back.value().collector == r.collector);
  CHECK(back.value().file == r.file);
  CHECK(back.value().identity == r.identity);
  CHECK(back.value().call == r.call);
  CHECK(back.value().signal == r.signal);
  CHECK(back.value().time == r.time);
}

TEST_CASE("a path with a backslash or a newline survives the record") {
  QuarantineRecord r = Sample();
  r.file = "/odd\\dir/new\nline.so";
  auto back = ParseQuarantineRecord(FormatQuarantineRecord(r));
  REQUIRE(back.ok());
  CHECK(back.value().file == r.file);
}

TEST_CASE("unknown keys are ignored; what identifies the file is required") {
  const std::string text = FormatQuarantineRecord(Sample());
  CHECK(ParseQuarantineRecord(text + "future=1\n").ok());
  // A record cut short after its head (call, signal, time lost) still
  // identifies the file.
  CHECK(ParseQuarantineRecord(text.substr(0, text.find("call="))).ok());

  CHECK(ParseQuarantineRecord("").error() == "no format line");
  CHECK(ParseQuarantineRecord("format=other-2\n").error() ==
        "format 'other-2', want 'sysmetrics-quarantine-1'");
  std::string no_inode = text;
  no_inode.erase(no_inode.find("inode="),
                 std::string("inode=1311768\n").size());
  CHECK(ParseQuarantineRecord(no_inode).error().find(
            "identity is incomplete") != std::string::npos);
  std::string bad_size = text;
  bad_size.replace(bad_size.find("size=15928"), 10, "size=15x28");
  CHECK(ParseQuarantineRecord(bad_size).error() ==
        "line 6: size is not a number");
  CHECK(
      ParseQuarantineRecord("format=sysmetrics-quarantine-1\njunk\n").error() ==
      "line 2: no '=' (want key=value)");
}

TEST_CASE("a file's identity changes when it is rewritten or touched") {
  const TempDir tmp;
  const fs::path file = tmp.path() / "p.so";
  WriteFile(file, "one");
  auto first = IdentityOf(file);
  REQUIRE(first.ok());
  CHECK(first.value().size == 3);
  CHECK(IdentityOf(file).value() == first.value());

  // Same size, new mtime.
  timespec times[2] = {{0, UTIME_OMIT}, {12345, 678}};
  REQUIRE(::utimensat(AT_FDCWD, file.c_str(), times, 0) == 0);
  auto touched = IdentityOf(file);
  REQUIRE(touched.ok());
  CHECK(touched.value().mtime_ns == 12345000000678);
  CHECK_FALSE(touched.value() == first.value());

  // Replaced by another file (a new inode), times made equal again.
  const fs::path other = tmp.path() / "q.so";
  WriteFile(other, "one");
  REQUIRE(::utimensat(AT_FDCWD, other.c_str(), times, 0) == 0);
  fs::rename(other, file);
  auto replaced = IdentityOf(file);
  REQUIRE(replaced.ok());
  CHECK(replaced.value().mtime_ns == touched.value().mtime_ns);
  CHECK(replaced.value().inode != touched.value().inode);
  CHECK_FALSE(replaced.value() == touched.value());

  CHECK_FALSE(IdentityOf(tmp.path() / "none.so").ok());
}

TEST_CASE("CheckQuarantine: no record, a matching one, a stale one") {
  const TempDir tmp;
  const fs::path dir = QuarantineDir(tmp.path());
  const fs::path plugin = tmp.path() / "crashes.so";
  WriteFile(plugin, "plugin");

  // No quarantine directory at all, then an empty one.
  CHECK_FALSE(CheckQuarantine(dir, "crashes", plugin).quarantined);
  REQUIRE(PrepareQuarantine(tmp.path()).ok());
  REQUIRE(fs::is_directory(dir));
  QuarantineVerdict none = CheckQuarantine(dir, "crashes", plugin);
  CHECK_FALSE(none.quarantined);
  CHECK_FALSE(none.stale);

  QuarantineRecord r = Sample();
  r.file = plugin.string();
  r.identity = IdentityOf(plugin).value();
  WriteFile(dir / "crashes", FormatQuarantineRecord(r));
  const QuarantineVerdict matching = CheckQuarantine(dir, "crashes", plugin);
  CHECK(matching.quarantined);
  CHECK(matching.record == dir / "crashes");
  CHECK(matching.reason ==
        "quarantined: crashed the exporter (SIGSEGV in collect) at "
        "2026-12-01T10:00:00.123Z; fix or replace the plugin file, or remove " +
            (dir / "crashes").string() + " to try it again");
  // Another collector's record is not this one's.
  CHECK_FALSE(CheckQuarantine(dir, "other", plugin).quarantined);

  WriteFile(plugin, "plugin, fixed");
  const QuarantineVerdict stale = CheckQuarantine(dir, "crashes", plugin);
  CHECK_FALSE(stale.quarantined);
  CHECK(stale.stale);
}

TEST_CASE("CheckQuarantine keeps a plugin out on a record it cannot read") {
  const TempDir tmp;
  REQUIRE(PrepareQuarantine(tmp.path()).ok());
  const fs::path plugin = tmp.path() / "crashes.so";
  WriteFile(plugin, "plugin");
  WriteFile(QuarantineDir(tmp.path()) / "crashes", "garbage\n");
  const QuarantineVerdict v =
      CheckQuarantine(QuarantineDir(tmp.path()), "crashes", plugin);
  CHECK(v.quarantined);
  CHECK(v.reason.find("quarantined: unreadable record") == 0);
  CHECK(v.reason.find("no '='") != std::string::npos);
}

TEST_CASE("PrepareQuarantine says why quarantine is off") {
  const TempDir tmp;
  const Status missing = PrepareQuarantine(tmp.path() / "none");
  CHECK_FALSE(missing.ok());
  CHECK(missing.message().find("state directory " +
                               (tmp.path() / "none").string()) == 0);
  WriteFile(tmp.path() / "file", "");
  CHECK_FALSE(PrepareQuarantine(tmp.path() / "file").ok());
  fs::create_directory(tmp.path() / "s");
  WriteFile(tmp.path() / "s" / "quarantine", "");
  const Status not_dir = PrepareQuarantine(tmp.path() / "s");
  CHECK(not_dir.message().find("not a directory") != std::string::npos);
  // Idempotent.
  CHECK(PrepareQuarantine(tmp.path()).ok());
  CHECK(PrepareQuarantine(tmp.path()).ok());
}

}  // namespace
}  // namespace sysmetrics
