#include "mountinfo.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sysmetrics::filesystem {
namespace {

constexpr std::string_view kFile = "/proc/self/mountinfo";

std::string Fixture(const char* tree) {
  std::ifstream in(
      std::string(SYSMETRICS_SOURCE_DIR "/plugins/filesystem/testdata/") +
      tree + "/mountinfo");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::size_t> Lines(const MountInfo& mi) {
  std::vector<std::size_t> lines;
  for (const plugin::SkippedLine& s : mi.skipped) lines.push_back(s.line);
  return lines;
}

TEST_CASE("a 2.6-era mountinfo: no optional fields") {
  const std::string text = Fixture("linux-2.6");
  MountInfo mi;
  std::string err;
  REQUIRE(ParseMountInfo(text, kFile, &mi, &err));
  CHECK(mi.skipped.empty());
  REQUIRE(mi.mounts.size() == 11);
  const Mount& root = mi.mounts[5];
  CHECK(root.line == 6);
  CHECK(root.mount_point == "/");
  CHECK(root.fs_type == "ext4");
  CHECK(root.source == "/dev/mapper/vg_root-lv_root");
  CHECK_FALSE(root.readonly);
  const Mount& nfs = mi.mounts[10];
  CHECK(nfs.mount_point == "/mnt/nfs");
  CHECK(nfs.fs_type == "nfs");
  CHECK(nfs.source == "filer:/export");
  CHECK(nfs.readonly);
}

TEST_CASE("a 6.x mountinfo: optional fields, escapes, read-only sources") {
  const std::string text = Fixture("linux-6.x");
  MountInfo mi;
  std::string err;
  REQUIRE(ParseMountInfo(text, kFile, &mi, &err));
  CHECK(mi.skipped.empty());
  REQUIRE(mi.mounts.size() == 13);
  CHECK(mi.mounts[0].mount_point == "/");
  CHECK(mi.mounts[0].source == "/dev/nvme0n1p2");
  CHECK(mi.mounts[6].readonly);  // squashfs: ro in both lists
  CHECK(mi.mounts[7].mount_point == "/mnt/my disk");
  CHECK(mi.mounts[7].fs_type == "ext4");  // after "shared:31 master:5 -"
  // Four optional fields; ro only in the super options.
  CHECK(mi.mounts[8].mount_point == "/srv/tab\tand\nnl\\bs");
  CHECK(mi.mounts[8].fs_type == "xfs");
  CHECK(mi.mounts[8].source == "/dev/sdc1");
  CHECK(mi.mounts[8].readonly);
  // A bind mount of a subtree: the same source as /.
  CHECK(mi.mounts[9].mount_point == "/bind");
  CHECK(mi.mounts[9].source == "/dev/nvme0n1p2");
  CHECK(mi.mounts[12].fs_type == "nfs4");
}

TEST_CASE("unescaping: the four kernel escapes; anything else stays") {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"/a\\040b", "/a b"},      {"/a\\011b", "/a\tb"},
      {"/a\\012b", "/a\nb"},     {"/a\\134b", "/a\\b"},
      {"/a\\134040", "/a\\040"},  // an escaped backslash, then text
      {"/a\\000b", "/a\\000b"},   // no NUL byte out of an odd escape
      {"/a\\04", "/a\\04"},       // cut short
      {"/a\\", "/a\\"},          {"/\\040\\040", "/  "},
  };
  for (const Case& c : cases) {
    CAPTURE(c.in);
    std::string out = "junk";
    UnescapeMountPath(c.in, &out);
    CHECK(out == c.out);
  }
}

TEST_CASE("ro is a whole option") {
  CHECK(HasReadOnlyOption("ro"));
  CHECK(HasReadOnlyOption("rw,ro"));
  CHECK(HasReadOnlyOption("ro,noatime"));
  CHECK_FALSE(HasReadOnlyOption("rw,errors=remount-ro"));
  CHECK_FALSE(HasReadOnlyOption("rootcontext=x"));
  CHECK_FALSE(HasReadOnlyOption(""));
}

TEST_CASE("a malformed line is skipped and reported; the rest is read") {
  const std::string text =
      "22 1 259:2 / / rw shared:1 - ext4 /dev/root rw\n"
      "x 1 0:1 / /a rw - tmpfs tmpfs rw\n"           // 2: bad ID
      "23 22 0:1 / /b rw shared:1 tmpfs tmpfs rw\n"  // 3: no separator
      "24 22 0:1 / /c\n"                             // 4: too few fields
      "25 22 0:1 / relative rw - tmpfs tmpfs rw\n"   // 5: not absolute
      "26 22 0:1 / /d rw - tmpfs\n"                  // 6: no source
      "\n"                                           // blank: ignored
      "27 22 0:1 / /e rw - tmpfs tmpfs rw extra\n";  // 8: more fields: fine
  MountInfo mi;
  std::string err;
  REQUIRE(ParseMountInfo(text, kFile, &mi, &err));
  CHECK(Lines(mi) == std::vector<std::size_t>{2, 3, 4, 5, 6});
  REQUIRE(mi.mounts.size() == 2);
  CHECK(mi.mounts[0].mount_point == "/");
  CHECK(mi.mounts[1].mount_point == "/e");
  CHECK(mi.mounts[1].line == 8);
  CHECK(mi.skipped[0].reason ==
        "mount ID 'x' or parent ID '1' is not a number");
  CHECK(mi.skipped[1].reason == "no ' - ' separator after the optional fields");
  CHECK(mi.skipped[3].reason ==
        "mount point 'relative' is not an absolute path");
}

TEST_CASE("nothing readable fails the file") {
  for (const char* text : {"", "\n\n", "garbage\n", "1 2 3 4 5 6 -\n"}) {
    CAPTURE(text);
    MountInfo mi;
    std::string err;
    CHECK_FALSE(ParseMountInfo(text, kFile, &mi, &err));
    CHECK(err == "/proc/self/mountinfo: no mount line could be read");
    CHECK(mi.mounts.empty());
  }
}

TEST_CASE("a reused result holds only the last parse") {
  MountInfo mi;
  std::string err;
  REQUIRE(ParseMountInfo(Fixture("linux-6.x"), kFile, &mi, &err));
  REQUIRE(
      ParseMountInfo("1 0 0:1 / / rw - ext4 /dev/x ro\n", kFile, &mi, &err));
  REQUIRE(mi.mounts.size() == 1);
  CHECK(mi.mounts[0].readonly);
  CHECK(mi.mounts[0].source == "/dev/x");
  // A read-only bind of a writable file system (systemd's ProtectSystem
  // makes one of every mount in the service's namespace) is not.
  REQUIRE(ParseMountInfo("1 0 0:1 / /home ro,nosuid - ext4 /dev/x rw\n", kFile,
                         &mi, &err));
  REQUIRE(mi.mounts.size() == 1);
  CHECK_FALSE(mi.mounts[0].readonly);
}

}  // namespace
}  // namespace sysmetrics::filesystem
