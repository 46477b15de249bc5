#include "cpu_sysfs.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace sysmetrics::cpu {
namespace {

using Cpus = std::vector<std::uint32_t>;

TEST_CASE("cpulists as the kernel prints them") {
  Cpus cpus;
  std::string err;
  REQUIRE(ParseCpuList("0-3,8\n", &cpus, &err));
  CHECK(cpus == Cpus{0, 1, 2, 3, 8});
  REQUIRE(ParseCpuList("5\n", &cpus, &err));
  CHECK(cpus == Cpus{5});
  REQUIRE(ParseCpuList("1,3,5-6,16383", &cpus, &err));
  CHECK(cpus == Cpus{1, 3, 5, 6, 16383});
  REQUIRE(ParseCpuList("2-2", &cpus, &err));
  CHECK(cpus == Cpus{2});
}

TEST_CASE("an empty cpulist is no CPU") {
  Cpus cpus{1};
  std::string err;
  REQUIRE(ParseCpuList("", &cpus, &err));
  CHECK(cpus.empty());
  cpus = {1};
  REQUIRE(ParseCpuList("\n", &cpus, &err));
  CHECK(cpus.empty());
  REQUIRE(ParseCpuList("  \n", &cpus, &err));
  CHECK(cpus.empty());
}

TEST_CASE("overlaps and disorder give each CPU once, ascending") {
  Cpus cpus;
  std::string err;
  REQUIRE(ParseCpuList("8,0-3,2-4, 1", &cpus, &err));
  CHECK(cpus == Cpus{0, 1, 2, 3, 4, 8});
}

TEST_CASE("a bad cpulist is refused whole, naming the element") {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"x", "'x' is not a CPU or a range of CPUs below 16384"},
      {"0-3,x\n", "'x' is not a CPU or a range of CPUs below 16384"},
      {"3-1", "'3-1' is not a CPU or a range of CPUs below 16384"},
      {"0-", "'0-' is not a CPU or a range of CPUs below 16384"},
      {"-1", "'-1' is not a CPU or a range of CPUs below 16384"},
      {"0,,1", "'' is not a CPU or a range of CPUs below 16384"},
      {"0-3,", "'' is not a CPU or a range of CPUs below 16384"},
      {"16384", "'16384' is not a CPU or a range of CPUs below 16384"},
      {"0-99999999999",
       "'0-99999999999' is not a CPU or a range of CPUs below 16384"},
      {"0-1-2", "'0-1-2' is not a CPU or a range of CPUs below 16384"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    Cpus cpus{7};
    std::string err;
    CHECK_FALSE(ParseCpuList(c.text, &cpus, &err));
    CHECK(cpus.empty());
    CHECK(err == c.error);
  }
}

TEST_CASE("one-number sysfs files") {
  std::uint64_t v = 0;
  CHECK(ParseSysfsU64("0\n", &v));
  CHECK(v == 0);
  CHECK(ParseSysfsU64("12345\n", &v));
  CHECK(v == 12345);
  CHECK(ParseSysfsU64("18446744073709551615", &v));
  CHECK(v == 18446744073709551615ULL);
  CHECK_FALSE(ParseSysfsU64("", &v));
  CHECK_FALSE(ParseSysfsU64("\n", &v));
  CHECK_FALSE(ParseSysfsU64("-1\n", &v));
  CHECK_FALSE(ParseSysfsU64("12 34\n", &v));
  CHECK_FALSE(ParseSysfsU64(" 12\n", &v));
  CHECK_FALSE(ParseSysfsU64("0x10\n", &v));
}

}  // namespace
}  // namespace sysmetrics::cpu
