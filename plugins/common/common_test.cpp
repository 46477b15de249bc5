// Cases for the helpers every built-in plugin shares: whole-file reads (one
// shot and kept open), field splitting, number parsing and the name filter.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <sysmetrics/plugin.hpp>
#include <vector>

#include "name_filter.hpp"
#include "proc_file.hpp"
#include "test_host.hpp"

namespace sysmetrics::plugin {
namespace {

std::string TempFile(const std::string& content) {
  char name[] = "/tmp/sysmetrics_common_test_XXXXXX";
  const int fd = ::mkstemp(name);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(name, std::ios::binary) << content;
  return name;
}

TEST_CASE("ReadFileInto reads a file larger than its first buffer") {
  const std::string content(100000, 'x');
  const std::string path = TempFile(content);
  std::string buf;
  std::string error;
  CHECK(ReadFileInto(path, &buf, &error));
  CHECK(buf == content);
  std::remove(path.c_str());
}

TEST_CASE("ReadFileInto names the file and the reason on failure") {
  std::string buf = "stale";
  std::string error;
  CHECK_FALSE(ReadFileInto("/nonexistent/stat", &buf, &error));
  CHECK(error == "/nonexistent/stat: No such file or directory");
  CHECK(buf.empty());
}

TEST_CASE("ProcFile::error_number tells absent from other failures") {
  ProcFile missing("/nonexistent/pressure/cpu");
  std::string buf;
  std::string error;
  CHECK_FALSE(missing.Read(&buf, &error));
  CHECK(missing.error_number() == ENOENT);
  ProcFile dir("/tmp");  // not a regular file: no errno
  CHECK_FALSE(dir.Read(&buf, &error));
  CHECK(dir.error_number() == 0);
  const std::string path = TempFile("some total=1\n");
  ProcFile file(path);
  REQUIRE(file.Read(&buf, &error));
  CHECK(file.error_number() == 0);
  std::remove(path.c_str());
  CHECK_FALSE(file.Read(&buf, &error));
  CHECK(file.error_number() == ENOENT);
}

TEST_CASE("ProcFile sees a replaced regular file on the next read") {
  const std::string path = TempFile("one\n");
  ProcFile file(path);
  std::string buf;
  std::string error;
  REQUIRE(file.Read(&buf, &error));
  CHECK(buf == "one\n");
  // Replace the file (a new inode), as a fixture tree or a script would.
  const std::string other = TempFile("two two\n");
  REQUIRE(std::rename(other.c_str(), path.c_str()) == 0);
  REQUIRE(file.Read(&buf, &error));
  CHECK(buf == "two two\n");
  std::remove(path.c_str());
  CHECK_FALSE(file.Read(&buf, &error));
  CHECK(error == path + ": No such file or directory");
}

TEST_CASE("ProcFile reads procfs afresh on every read") {
  // /proc/self/io counts the bytes this process has read, so reading it
  // through one kept-open ProcFile must show the count moving on: each read
  // is a fresh, complete copy rather than a stale or partial one.
  ProcFile file("/proc/self/io");
  std::string first;
  std::string second;
  std::string error;
  REQUIRE(file.Read(&first, &error));
  REQUIRE(file.Read(&second, &error));
  REQUIRE(first.rfind("rchar: ", 0) == 0);
  REQUIRE(second.rfind("rchar: ", 0) == 0);
  CHECK(first.back() == '\n');
  CHECK(second.back() == '\n');
  std::string_view a = first;
  std::string_view b = second;
  a.remove_prefix(7);
  b.remove_prefix(7);
  std::uint64_t rchar_first = 0;
  std::uint64_t rchar_second = 0;
  REQUIRE(ParseU64(a.substr(0, a.find('\n')), &rchar_first));
  REQUIRE(ParseU64(b.substr(0, b.find('\n')), &rchar_second));
  CHECK(rchar_second >= rchar_first + first.size());
}

TEST_CASE("NextField and ParseU64") {
  std::string_view line = "  sda\t12 18446744073709551615 x";
  CHECK(NextField(&line) == "sda");
  std::uint64_t v = 0;
  CHECK(ParseU64(NextField(&line), &v));
  CHECK(v == 12);
  CHECK(ParseU64(NextField(&line), &v));
  CHECK(v == 18446744073709551615ULL);
  CHECK_FALSE(ParseU64(NextField(&line), &v));
  CHECK(NextField(&line).empty());
  CHECK_FALSE(ParseU64("18446744073709551616", &v));  // overflow
  CHECK_FALSE(ParseU64("-1", &v));
  CHECK_FALSE(ParseU64("", &v));
}

TEST_CASE("ParseWhole takes the whole text or nothing") {
  CHECK(ParseWhole<std::int64_t>("-42") == -42);
  CHECK(ParseWhole<std::uint32_t>("4294967295") == 4294967295U);
  CHECK_FALSE(ParseWhole<std::uint32_t>("4294967296"));  // out of range
  CHECK_FALSE(ParseWhole<std::uint64_t>("-1"));
  CHECK_FALSE(ParseWhole<std::int64_t>("12 "));
  CHECK_FALSE(ParseWhole<std::int64_t>(" 12"));
  CHECK_FALSE(ParseWhole<std::int64_t>("+12"));
  CHECK_FALSE(ParseWhole<std::int64_t>(""));
  CHECK(ParseWhole<double>("9.5") == 9.5);
  CHECK(ParseWhole<double>("1e3") == 1000.0);
  CHECK_FALSE(ParseWhole<double>("9.5s"));
  CHECK_FALSE(ParseWhole<double>("."));
}

TEST_CASE("NameFilter excludes whole matches and caches the verdict") {
  NameFilter filter(TestHost(), "^(ram|loop)\\d+$");
  filter.BeginCollect();
  CHECK(filter.Include("loop0") == nullptr);
  const char* sda = filter.Include("sda");
  REQUIRE(sda != nullptr);
  CHECK(std::string(sda) == "sda");
  CHECK(filter.Include("sda") == sda);  // cached: the same string
  CHECK(filter.Include("loop") != nullptr);
  NameFilter none(TestHost(), "");
  none.BeginCollect();
  CHECK(none.Include("loop0") != nullptr);
  CHECK_THROWS_AS(NameFilter(TestHost(), "("), Error);
}

// Every pointer one collect got must still hold its own name at the end of
// that collect, however many names the collect looks up: the collectors
// emit the labels after the whole file is filtered.
void CheckOneCollect(NameFilter& filter,
                     const std::vector<std::string>& names) {
  filter.BeginCollect();
  std::vector<const char*> labels;
  labels.reserve(names.size());
  for (const std::string& name : names) labels.push_back(filter.Include(name));
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i].starts_with("veth")) {
      CHECK(labels[i] == nullptr);
    } else {
      REQUIRE(labels[i] != nullptr);
      CHECK(std::string_view(labels[i]) == names[i]);
    }
  }
}

TEST_CASE("NameFilter in kKeepMatching mode includes only what matches") {
  NameFilter keep(TestHost(), "^(oom_kill|pgpg|pswp|pg.*fault).*",
                  NameFilter::Mode::kKeepMatching);
  keep.BeginCollect();
  CHECK(std::string(keep.Include("pgfault")) == "pgfault");
  CHECK(std::string(keep.Include("pgmajfault")) == "pgmajfault");
  CHECK(std::string(keep.Include("oom_kill")) == "oom_kill");
  CHECK(keep.Include("nr_free_pages") == nullptr);
  CHECK(keep.Include("xpgpgin") == nullptr);  // anchored at the start
  CHECK(keep.cached() == 5);
  // An empty pattern matches everywhere (a search): includes all.
  NameFilter all(TestHost(), "", NameFilter::Mode::kKeepMatching);
  all.BeginCollect();
  CHECK(all.Include("anything") != nullptr);
  // A search, not a whole match: "fault" anywhere.
  NameFilter part(TestHost(), "fault", NameFilter::Mode::kKeepMatching);
  part.BeginCollect();
  CHECK(part.Include("pgmajfault") != nullptr);
  CHECK(part.Include("pgpgin") == nullptr);
}

TEST_CASE("NameFilter: more names in one collect than its bound") {
  NameFilter filter(TestHost(), "^veth");
  std::vector<std::string> names;
  for (std::size_t i = 0; i < NameFilter::kMaxNames * 2 + 3; ++i) {
    names.push_back((i % 3 == 0 ? "veth" : "eth") + std::to_string(i));
  }
  for (int scrape = 0; scrape < 3; ++scrape) CheckOneCollect(filter, names);
  // The names in use are all kept, whatever the bound.
  CHECK(filter.cached() == names.size());
}

TEST_CASE("NameFilter: churning names over many collects stay bounded") {
  NameFilter filter(TestHost(), "^veth");
  std::size_t peak = 0;
  for (std::size_t scrape = 0; scrape < 200; ++scrape) {
    // 10 stable names and 100 that exist for one scrape only.
    std::vector<std::string> names;
    names.reserve(110);
    for (int i = 0; i < 10; ++i) names.push_back("eth" + std::to_string(i));
    for (std::size_t i = 0; i < 100; ++i) {
      names.push_back((i % 2 == 0 ? "veth" : "cali") +
                      std::to_string(scrape * 100 + i));
    }
    CheckOneCollect(filter, names);
    peak = std::max(peak, filter.cached());
  }
  // 20,010 distinct names were seen; the cache never held much more than
  // its bound and one collect's names.
  CHECK(peak <= NameFilter::kMaxNames + 110 + 1);
}

TEST_CASE("ReadFileInto refuses a FIFO without blocking") {
  char dir[] = "/tmp/sysmetrics_common_test_XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string fifo = std::string(dir) + "/stat";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string buf;
  std::string error;
  // No writer: a blocking open would never return.
  CHECK_FALSE(ReadFileInto(fifo, &buf, &error));
  CHECK(error == fifo + ": not a regular file");
  ProcFile file(fifo);
  CHECK_FALSE(file.Read(&buf, &error));
  CHECK(error == fifo + ": not a regular file");
  std::remove(fifo.c_str());
  ::rmdir(dir);
}

TEST_CASE("ReadFileInto refuses a file above the read limit") {
  const std::string path = TempFile(std::string(kMaxFileBytes + 1, 'x'));
  std::string buf;
  std::string error;
  CHECK_FALSE(ReadFileInto(path, &buf, &error));
  CHECK(error == path + ": larger than the 16 MiB read limit; not read");
  CHECK(buf.empty());
  // The buffer does not keep the memory of the refused read.
  CHECK(buf.capacity() <= kKeepBufferBytes);
  std::remove(path.c_str());
  // Exactly at the limit is fine.
  const std::string at_limit = TempFile(std::string(kMaxFileBytes, 'y'));
  CHECK(ReadFileInto(at_limit, &buf, &error));
  CHECK(buf.size() == kMaxFileBytes);
  std::remove(at_limit.c_str());
}

TEST_CASE("ProcFile gives back a large buffer once files are small again") {
  const std::string path = TempFile(std::string(8u << 20, 'x'));
  ProcFile file(path);
  std::string buf;
  std::string error;
  REQUIRE(file.Read(&buf, &error));
  CHECK(buf.capacity() >= (8u << 20));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "cpu0 1 2 3 4\n";
  REQUIRE(file.Read(&buf, &error));
  CHECK(buf == "cpu0 1 2 3 4\n");
  CHECK(buf.capacity() <= kKeepBufferBytes);
  std::remove(path.c_str());
}

// A host api table of the given size whose log and skip_line record what
// they were called with.
struct FakeHost {
  static inline std::string logged;
  static inline std::string skipped;
  static void Log(sm_host* /*host*/, sm_log_level /*level*/, const char* msg) {
    logged = msg;
  }
  static void Skip(sm_emitter* /*em*/, const char* file, uint64_t line,
                   const char* reason) {
    skipped = std::string(file) + ":" + std::to_string(line) + " " + reason;
  }
  static sm_host_api Api(std::size_t size) {
    sm_host_api api{};
    api.struct_size = static_cast<std::uint32_t>(size);
    api.log = &Log;
    api.skip_line = &Skip;
    return api;
  }
};

TEST_CASE("Emitter::SkipLine reports to a 1.2 host, logs on an older one") {
  int dummy = 0;
  auto* host = reinterpret_cast<sm_host*>(&dummy);
  const sm_host_api current = FakeHost::Api(sizeof(sm_host_api));
  Emitter(nullptr, &current, host).SkipLine("/proc/stat", 3, "bad");
  CHECK(FakeHost::skipped == "/proc/stat:3 bad");
  CHECK(FakeHost::logged.empty());
  // A 1.1 host's table ends before skip_line: never read past it.
  FakeHost::skipped.clear();
  const sm_host_api old = FakeHost::Api(offsetof(sm_host_api, skip_line));
  Emitter(nullptr, &old, host).SkipLine("/proc/stat", 4, "worse");
  CHECK(FakeHost::skipped.empty());
  CHECK(FakeHost::logged == "/proc/stat:4: line skipped: worse");
}

TEST_CASE("Regex: the host's engine through the C++ layer, from 1.3") {
  Regex re(TestHost(), "^eth[0-9]+$");
  CHECK(re.Search("eth0"));
  CHECK_FALSE(re.Search("veth0"));
  const Regex moved(std::move(re));  // the handle moves with it
  CHECK(moved.Search("eth12"));
  try {
    const Regex bad(TestHost(), "(");
    FAIL("an invalid pattern compiled");
  } catch (const Error& e) {
    CHECK(e.status() == SM_ERR_CONFIG);
    CHECK(std::string(e.what()).size() > 0);  // the engine's reason
  }
  // A 1.2 host's table ends before regex_compile: never read past it.
  int dummy = 0;
  const sm_host_api old = FakeHost::Api(offsetof(sm_host_api, regex_compile));
  try {
    const Regex none(Host(reinterpret_cast<sm_host*>(&dummy), &old), "x");
    FAIL("compiled on a 1.2 host");
  } catch (const Error& e) {
    CHECK(e.status() == SM_ERR_CONFIG);
    CHECK(std::string(e.what()).find("1.3") != std::string::npos);
  }
}

TEST_CASE("WriteError truncates to the buffer and terminates") {
  char err[8];
  WriteError(err, sizeof err, "diskstats: bad");
  CHECK(std::string(err) == "disksta");  // 7 characters and the NUL
  WriteError(nullptr, 0, "ignored");
}

}  // namespace
}  // namespace sysmetrics::plugin
