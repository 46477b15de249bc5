// AttributeFiles on fixture class directories (descriptors held on any file
// system with Keep::kAlways) and on the real sysfs of a network namespace of
// its own, where interfaces are renamed, changed and removed under it.
#include "attribute_files.hpp"

#include <dirent.h>
#include <doctest/doctest.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "temp_dir.hpp"

namespace sysmetrics::netclass {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const std::vector<const char*> kFiles = {"mtu", "operstate", "speed"};

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

// An interface directory with the given attribute values (files absent for
// an empty value).
void MakeInterface(const std::string& class_dir, const std::string& name,
                   const std::string& mtu, const std::string& operstate,
                   const std::string& speed = "") {
  fs::create_directories(class_dir + "/" + name);
  const std::string base = class_dir + "/" + name + "/";
  if (!mtu.empty()) Write(base + "mtu", mtu);
  if (!operstate.empty()) Write(base + "operstate", operstate);
  if (!speed.empty()) Write(base + "speed", speed);
}

// The descriptors this process has open.
std::size_t OpenFds() {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    (void)e;
    ++n;
  }
  return n;
}

// Reads every listed entry: "name:file=value" or "name:file!errno", one
// per attribute, in order.
std::vector<std::string> ReadAll(AttributeFiles* files) {
  std::vector<std::string> out;
  REQUIRE(files->List() == 0);
  for (std::size_t e = 0; e < files->size(); ++e) {
    const std::string& name = files->name(e);
    const int open_err = files->Open(e);
    if (open_err != 0) {
      out.push_back(name + "!" + std::to_string(open_err));
      continue;
    }
    for (std::size_t k = 0; k < kFiles.size(); ++k) {
      std::string_view value;
      const int err = files->Read(k, &value);
      out.push_back(
          name + ":" + kFiles[k] +
          (err == 0 ? "=" + std::string(value) : "!" + std::to_string(err)));
    }
  }
  return out;
}

TEST_CASE("entries are listed sorted, regular files left out") {
  TempDir dir;
  MakeInterface(dir.path(), "eth1", "1500", "up");
  MakeInterface(dir.path(), "eth0", "9000", "down");
  fs::create_directory_symlink(dir.path() + "/eth0", dir.path() + "/lnk0");
  Write(dir.File("bonding_masters"), "bond0\n");
  AttributeFiles files(dir.path(), kFiles, AttributeFiles::Keep::kAlways, 100);
  REQUIRE(files.List() == 0);
  REQUIRE(files.size() == 3);
  CHECK(files.name(0) == "eth0");
  CHECK(files.name(1) == "eth1");
  CHECK(files.name(2) == "lnk0");
}

TEST_CASE("held descriptors read a file's new content, absent stays absent") {
  TempDir dir;
  MakeInterface(dir.path(), "eth0", "1500", "up");  // no speed
  const std::size_t fds_before = OpenFds();
  {
    AttributeFiles files(dir.path(), kFiles, AttributeFiles::Keep::kAlways,
                         100);
    const std::string e = std::to_string(ENOENT);
    CHECK(ReadAll(&files) == std::vector<std::string>{"eth0:mtu=1500",
                                                      "eth0:operstate=up",
                                                      "eth0:speed!" + e});
    CHECK(files.held_fds() == 2);
    Write(dir.File("eth0/mtu"), "9000");    // rewritten in place
    Write(dir.File("eth0/speed"), "1000");  // appears: same entry, not seen
    CHECK(ReadAll(&files) == std::vector<std::string>{"eth0:mtu=9000",
                                                      "eth0:operstate=up",
                                                      "eth0:speed!" + e});
    CHECK(files.held_fds() == 2);
    CHECK(OpenFds() == fds_before + 2 + 1);  // the files and the directory
  }
  CHECK(OpenFds() == fds_before);
}

TEST_CASE("a renamed, removed or re-created entry is opened afresh") {
  TempDir dir;
  MakeInterface(dir.path(), "a", "1000", "up");
  MakeInterface(dir.path(), "b", "2000", "down");
  AttributeFiles files(dir.path(), kFiles, AttributeFiles::Keep::kAlways, 100);
  const std::string e = std::to_string(ENOENT);
  CHECK(ReadAll(&files) ==
        std::vector<std::string>{"a:mtu=1000", "a:operstate=up", "a:speed!" + e,
                                 "b:mtu=2000", "b:operstate=down",
                                 "b:speed!" + e});
  // Swap the names: the directories keep their inode numbers.
  fs::rename(dir.File("a"), dir.File("t"));
  fs::rename(dir.File("b"), dir.File("a"));
  fs::rename(dir.File("t"), dir.File("b"));
  CHECK(ReadAll(&files) == std::vector<std::string>{
                               "a:mtu=2000", "a:operstate=down", "a:speed!" + e,
                               "b:mtu=1000", "b:operstate=up", "b:speed!" + e});
  CHECK(files.held_fds() == 4);
  // Removed, then re-created under the same name with a speed file.
  fs::remove_all(dir.File("a"));
  CHECK(ReadAll(&files) == std::vector<std::string>{
                               "b:mtu=1000", "b:operstate=up", "b:speed!" + e});
  CHECK(files.held_fds() == 2);
  MakeInterface(dir.path(), "a", "1400", "up", "100");
  CHECK(ReadAll(&files) == std::vector<std::string>{
                               "a:mtu=1400", "a:operstate=up", "a:speed=100",
                               "b:mtu=1000", "b:operstate=up", "b:speed!" + e});
  CHECK(files.held_fds() == 5);
}

TEST_CASE("past the descriptor budget entries are opened on each read") {
  TempDir dir;
  MakeInterface(dir.path(), "eth0", "1500", "up", "10");
  MakeInterface(dir.path(), "eth1", "1500", "up", "10");
  const std::size_t fds_before = OpenFds();
  AttributeFiles files(dir.path(), kFiles, AttributeFiles::Keep::kAlways, 4);
  ReadAll(&files);
  CHECK(files.held_fds() == 3);  // eth0's three; eth1's would make six
  Write(dir.File("eth1/mtu"), "1280");
  fs::rename(dir.File("eth1/mtu"), dir.File("eth1/old"));
  Write(dir.File("eth1/mtu"), "9000");  // a new file: read, as not held
  const std::vector<std::string> got = ReadAll(&files);
  REQUIRE(got.size() == 6);
  CHECK(got[3] == "eth1:mtu=9000");
  // eth0's files, the class directory, and eth1's directory until the next
  // List or Open.
  CHECK(OpenFds() == fds_before + 3 + 1 + 1);
  REQUIRE(files.List() == 0);
  CHECK(OpenFds() == fds_before + 3 + 1);
}

TEST_CASE("off sysfs with Keep::kOnSysfs nothing is held") {
  TempDir dir;
  MakeInterface(dir.path(), "eth0", "1500", "up", "10");
  AttributeFiles files(dir.path(), kFiles, AttributeFiles::Keep::kOnSysfs, 100);
  CHECK(ReadAll(&files)[0] == "eth0:mtu=1500");
  CHECK(files.held_fds() == 0);
  Write(dir.File("eth0/new"), "9000");
  fs::rename(dir.File("eth0/new"), dir.File("eth0/mtu"));  // replaced
  CHECK(ReadAll(&files)[0] == "eth0:mtu=9000");
}

TEST_CASE("errors: a missing directory, an oversized file") {
  TempDir dir;
  AttributeFiles missing(dir.File("none"), kFiles,
                         AttributeFiles::Keep::kAlways, 100);
  CHECK(missing.List() == ENOENT);
  CHECK(missing.size() == 0);
  MakeInterface(dir.path(), "eth0", std::string(5000, '1'), "up");
  AttributeFiles files(dir.path(), kFiles, AttributeFiles::Keep::kAlways, 100);
  CHECK(ReadAll(&files)[0] == "eth0:mtu!" + std::to_string(EFBIG));
}

// Runs body in a child process in a network and mount namespace of its own,
// with a sysfs of that namespace mounted at a temporary directory; the
// child's exit status is the number of failed checks. Root only.
int InNetworkNamespace(int (*body)(const std::string& class_net)) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) ::_exit(100);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      ::_exit(101);
    }
    char tmpl[] = "/tmp/sysfs-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) ::_exit(102);
    if (::mount("sysfs", tmpl, "sysfs", 0, nullptr) != 0) ::_exit(103);
    const int failed = body(std::string(tmpl) + "/class/net");
    ::umount(tmpl);
    ::rmdir(tmpl);
    ::_exit(failed);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

int Run(const char* command) {
  // NOLINTNEXTLINE(cert-env33-c,concurrency-mt-unsafe): a test's child
  return std::system(command);
}

// Every check a failure count; messages on stderr.
int Expect(bool ok, const char* what) {
  if (!ok) std::fprintf(stderr, "real sysfs: %s\n", what);
  return ok ? 0 : 1;
}

int RealSysfsBody(const std::string& class_net) {
  if (Run("ip link add v0 type veth peer name v1") != 0) return 90;
  const std::vector<const char*> files = {"mtu", "ifindex"};
  AttributeFiles reader(class_net, files, AttributeFiles::Keep::kOnSysfs, 100);
  int failed = 0;
  auto read = [&](const std::string& name, std::size_t k) -> std::string {
    if (reader.List() != 0) return "list failed";
    for (std::size_t e = 0; e < reader.size(); ++e) {
      if (reader.name(e) != name) continue;
      if (reader.Open(e) != 0) return "open failed";
      std::string_view v;
      const int err = reader.Read(k, &v);
      return err == 0 ? std::string(v) : "!" + std::to_string(err);
    }
    return "absent";
  };
  failed += Expect(read("v0", 0) == "1500\n", "v0 mtu 1500");
  failed += Expect(reader.held_fds() == 2, "v0's two files held");
  const std::string v1_index = read("v1", 1);
  failed += Expect(reader.held_fds() == 4, "v1's two files held");
  Run("ip link set v0 mtu 1400");
  failed += Expect(read("v0", 0) == "1400\n", "a held file reads anew");
  Run("ip link set v0 name v2 && ip link set v1 name v0");  // v1 is now v0
  failed += Expect(read("v0", 1) == v1_index, "a renamed entry is reopened");
  failed += Expect(read("v2", 0) == "1400\n", "the old v0 found as v2");
  failed += Expect(reader.held_fds() == 4, "no descriptor leaked on rename");
  // Removed between the listing and the read: ENODEV, then dropped.
  failed += Expect(reader.List() == 0, "list");
  std::size_t v2 = reader.size();
  for (std::size_t e = 0; e < reader.size(); ++e) {
    if (reader.name(e) == "v2") v2 = e;
  }
  failed += Expect(v2 < reader.size() && reader.Open(v2) == 0, "open v2");
  Run("ip link del v2");  // takes its peer, now v0, with it
  std::string_view v;
  failed += Expect(reader.Read(0, &v) == ENODEV, "a removed entry: ENODEV");
  failed += Expect(read("v0", 0) == "absent", "the peer is gone too");
  failed += Expect(reader.held_fds() == 0, "all closed");
  return failed;
}

TEST_CASE("on the real sysfs: held files read anew, renames and removals") {
  if (::geteuid() != 0 || Run("command -v ip > /dev/null") != 0) {
    // Creating interfaces needs root and iproute2, which the test
    // dependencies install; say so rather than pass silently.
    FAIL(
        "needs root and iproute2 (ip) to create interfaces in a network "
        "namespace");
  }
  const int failed = InNetworkNamespace(RealSysfsBody);
  INFO("child exit status (failed checks; 90+: setup): " << failed);
  CHECK(failed == 0);
}

}  // namespace
}  // namespace sysmetrics::netclass
