// Cases for the helpers every built-in plugin shares: whole-file reads (one
// shot and kept open), field splitting, number parsing and the name filter.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "name_filter.hpp"
#include "proc_file.hpp"

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

TEST_CASE("NameFilter excludes whole matches and caches the verdict") {
  NameFilter filter("^(ram|loop)\\d+$");
  CHECK(filter.Include("loop0") == nullptr);
  const std::string* sda = filter.Include("sda");
  REQUIRE(sda != nullptr);
  CHECK(*sda == "sda");
  CHECK(filter.Include("sda") == sda);  // cached: the same string
  CHECK(filter.Include("loop") != nullptr);
  NameFilter none("");
  CHECK(none.Include("loop0") != nullptr);
  CHECK_THROWS_AS(NameFilter("("), std::regex_error);
}

TEST_CASE("NameFilter's cache starts over past its bound") {
  NameFilter filter("^veth");
  for (std::size_t i = 0; i < NameFilter::kMaxNames * 2 + 3; ++i) {
    const std::string name = "eth" + std::to_string(i);
    const std::string* cached = filter.Include(name);
    REQUIRE(cached != nullptr);
    CHECK(*cached == name);
  }
  CHECK(filter.Include("veth1") == nullptr);
}

TEST_CASE("WriteError truncates to the buffer and terminates") {
  char err[8];
  WriteError(err, sizeof err, "diskstats: bad");
  CHECK(std::string(err) == "disksta");  // 7 characters and the NUL
  WriteError(nullptr, 0, "ignored");
}

}  // namespace
}  // namespace sysmetrics::plugin
