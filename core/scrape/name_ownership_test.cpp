#include "scrape/name_ownership.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace sysmetrics {
namespace {

OwnerVerdict Verdict(std::string_view family, std::string_view collector,
                     const std::vector<std::string>& enabled = {},
                     const ReservedNames& reserved = *HostReservedNames()) {
  const std::vector<std::string> longer =
      LongerCollectorNames(collector, enabled);
  return CheckFamilyOwner(family, collector, longer, reserved).verdict;
}

TEST_CASE("a third-party plugin owns sysmetrics_NAME and sysmetrics_NAME_*") {
  CHECK(Verdict("sysmetrics_foo", "foo") == OwnerVerdict::kOwned);
  CHECK(Verdict("sysmetrics_foo_x", "foo") == OwnerVerdict::kOwned);
  CHECK(Verdict("sysmetrics_foo_x_total", "foo") == OwnerVerdict::kOwned);
  CHECK(Verdict("sysmetrics_foox", "foo") == OwnerVerdict::kOutside);
  CHECK(Verdict("sysmetrics_fo", "foo") == OwnerVerdict::kOutside);
  CHECK(Verdict("foo_x", "foo") == OwnerVerdict::kOutside);
  CHECK(Verdict("sysmetrics_bar_x", "foo") == OwnerVerdict::kOutside);
  CHECK(Verdict("node_load1", "foo") == OwnerVerdict::kOutside);
}

TEST_CASE("the longest enabled collector name that matches owns a family") {
  const std::vector<std::string> enabled = {"foo", "foo_bar", "foo_bar_baz",
                                            "foobar", "cpu"};
  CHECK(LongerCollectorNames("foo", enabled) ==
        std::vector<std::string>{"foo_bar", "foo_bar_baz"});
  CHECK(LongerCollectorNames("foo_bar_baz", enabled).empty());
  CHECK(Verdict("sysmetrics_foo_x", "foo", enabled) == OwnerVerdict::kOwned);
  CHECK(Verdict("sysmetrics_foo_bar", "foo", enabled) == OwnerVerdict::kLonger);
  CHECK(Verdict("sysmetrics_foo_bar_x", "foo", enabled) ==
        OwnerVerdict::kLonger);
  CHECK(Verdict("sysmetrics_foo_bar_x", "foo_bar", enabled) ==
        OwnerVerdict::kOwned);
  CHECK(Verdict("sysmetrics_foo_bar_baz_x", "foo_bar", enabled) ==
        OwnerVerdict::kLonger);
  CHECK(Verdict("sysmetrics_foo_bar_baz_x", "foo_bar_baz", enabled) ==
        OwnerVerdict::kOwned);
  // The owner named is the longest match, whatever the order enabled.
  const std::vector<std::string> reversed = {"foo_bar_baz", "foo_bar"};
  const std::vector<std::string> longer = LongerCollectorNames("foo", reversed);
  const FamilyOwner owner = CheckFamilyOwner("sysmetrics_foo_bar_baz_x", "foo",
                                             longer, *HostReservedNames());
  CHECK(owner.owner == "foo_bar_baz");
  CHECK(DescribeRefusal(owner, "sysmetrics_foo_bar_baz_x", "foo") ==
        "'sysmetrics_foo_bar_baz_x' belongs to the enabled collector "
        "'foo_bar_baz', the longest collector name it matches");
}

TEST_CASE("the host's names and reserved names are refused to third parties") {
  CHECK(Verdict("sysmetrics_collector_success", "collector") ==
        OwnerVerdict::kHost);
  CHECK(Verdict("sysmetrics_collector_anything", "collector") ==
        OwnerVerdict::kHost);
  CHECK(Verdict("sysmetrics_scrape_x", "scrape") == OwnerVerdict::kHost);
  CHECK(Verdict("sysmetrics_build_info", "build") == OwnerVerdict::kHost);
  CHECK(Verdict("sysmetrics_plugin_info", "plugin") == OwnerVerdict::kHost);
  CHECK(Verdict("sysmetrics_plugin_other", "plugin") == OwnerVerdict::kOwned);
  for (const std::string_view name : kHostFamilies) {
    CAPTURE(name);
    CHECK(HostReservedNames()->Contains(name));
  }
  const ReservedNames reserved({"sysmetrics_cpus_online"});
  CHECK(Verdict("sysmetrics_cpus_online", "cpus", {}, reserved) ==
        OwnerVerdict::kReserved);
  CHECK(Verdict("sysmetrics_cpus_other", "cpus", {}, reserved) ==
        OwnerVerdict::kOwned);
  CHECK(DescribeRefusal({OwnerVerdict::kReserved, {}}, "sysmetrics_cpus_online",
                        "cpus") ==
        "'sysmetrics_cpus_online' is served by a plugin shipped with "
        "sysmetrics");
  CHECK(DescribeRefusal({OwnerVerdict::kOutside, {}}, "x", "foo") ==
        "'x' is outside the collector's namespace (sysmetrics_foo and "
        "sysmetrics_foo_*)");
}

TEST_CASE("the board grows, and its snapshots stay as they were") {
  ReservedNameBoard board;
  const auto before = board.Snapshot();
  CHECK(before->Contains("sysmetrics_build_info"));
  CHECK_FALSE(before->Contains("sysmetrics_cpus_online"));
  const std::vector<std::string> served = {"sysmetrics_cpus_online",
                                           "sysmetrics_cpu_seconds_total"};
  board.Add(served);
  CHECK(board.Snapshot()->Contains("sysmetrics_cpus_online"));
  CHECK(board.Snapshot()->Contains("sysmetrics_build_info"));
  CHECK_FALSE(before->Contains("sysmetrics_cpus_online"));
  const auto after = board.Snapshot();
  board.Add(served);  // nothing new: the same set
  CHECK(board.Snapshot() == after);
}

TEST_CASE("shipped collectors merge first, textfile last") {
  CHECK(RankOf("cpu", true) == MergeRank::kShipped);
  CHECK(RankOf("aaa", false) == MergeRank::kThirdParty);
  CHECK(RankOf("textfile", true) == MergeRank::kTextfile);
  CHECK(RankOf("textfile", false) == MergeRank::kTextfile);
}

}  // namespace
}  // namespace sysmetrics
