#include "plugin/fatal_signal.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "plugin/quarantine.hpp"

namespace sysmetrics {
namespace {

TEST_CASE("PluginCallScope marks the innermost call of its own thread") {
  CHECK(PluginCallScope::Current() == nullptr);
  {
    const PluginCallScope load("demo", "load", "/p/demo.so");
    CHECK(PluginCallScope::Current() == &load);
    {
      const PluginCallScope entry("demo", "entry", "/p/demo.so");
      REQUIRE(PluginCallScope::Current() == &entry);
      CHECK(std::string(PluginCallScope::Current()->call()) == "entry");
      // Another thread is not inside this call.
      const PluginCallScope* other = &entry;
      std::thread([&other] { other = PluginCallScope::Current(); }).join();
      CHECK(other == nullptr);
    }
    CHECK(PluginCallScope::Current() == &load);
  }
  CHECK(PluginCallScope::Current() == nullptr);
}

TEST_CASE("PluginCallScope stands in for missing names") {
  const PluginCallScope scope(nullptr, nullptr, nullptr);
  CHECK(std::string(scope.collector()) == "?");
  CHECK(std::string(scope.call()) == "?");
  CHECK(std::string(scope.file()) == "?");
}

// Runs body in a child process and returns how it ended (waitpid's
// status). The child's output goes nowhere (the handler's log line), and
// its fatal signals start at their default actions, not doctest's crash
// reporting, which the handler would hand them on to.
template <class F>
int InChild(F body) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    for (const int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS}) {
      ::signal(sig, SIG_DFL);
    }
    body();
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return status;
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST_CASE("a crash in a plugin call writes that plugin's quarantine record") {
  std::string tmpl = (std::filesystem::temp_directory_path() /
                      "sysmetrics-crash-record-XXXXXX")
                         .string();
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  const std::filesystem::path dir = tmpl;
  const std::string file = (dir / "crashes.so").string();
  const std::string other = (dir / "other.so").string();
  const std::string record = (dir / "crashes").string();
  const FileIdentity id{1, 2, 3, 4};
  const std::string head = FormatQuarantineHead("crashes", file, id);

  // SIGABRT: the signal abort() sends, and one the sanitizers leave alone.
  auto crash_in = [](const std::string& f, bool with_record,
                     const std::string& record_path, const std::string& h) {
    InstallFatalSignalHandler(LogFormat::kText);
    if (with_record) SetCrashRecord(f, record_path, h);
    const PluginCallScope scope("crashes", "collect", f.c_str());
    ::raise(SIGABRT);
  };

  SUBCASE("the record reads back with the call, the signal and the time") {
    const int status = InChild([&] { crash_in(file, true, record, head); });
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGABRT);
    auto r = ParseQuarantineRecord(ReadAll(record));
    REQUIRE(r.ok());
    CHECK(r.value().collector == "crashes");
    CHECK(r.value().file == file);
    CHECK(r.value().identity == id);
    CHECK(r.value().call == "collect");
    CHECK(r.value().signal == "SIGABRT");
    CHECK(r.value().time.size() ==
          std::string("2026-12-01T10:00:00.123Z").size());
    CHECK_FALSE(std::filesystem::exists(record + ".tmp"));
  }
  SUBCASE("the record set last for a file is the one written") {
    const FileIdentity newer{1, 2, 3, 5};
    const int status = InChild([&] {
      InstallFatalSignalHandler(LogFormat::kText);
      SetCrashRecord(other, (dir / "other").string(), head);
      SetCrashRecord(file, record, head);
      SetCrashRecord(file, record, head);  // a reload, nothing changed
      SetCrashRecord(file, record,
                     FormatQuarantineHead("crashes", file, newer));
      const PluginCallScope scope("crashes", "collect", file.c_str());
      ::raise(SIGABRT);
    });
    CHECK(WIFSIGNALED(status));
    auto r = ParseQuarantineRecord(ReadAll(record));
    REQUIRE(r.ok());
    CHECK(r.value().identity == newer);
    CHECK_FALSE(std::filesystem::exists(dir / "other"));
  }
  SUBCASE("a crash in a plugin with no record set writes none") {
    // A record is set for other.so; the crash is in crashes.so.
    const int status = InChild([&] { crash_in(file, false, record, head); });
    CHECK(WIFSIGNALED(status));
    const int status2 = InChild([&] {
      InstallFatalSignalHandler(LogFormat::kText);
      SetCrashRecord(other, record, head);
      const PluginCallScope scope("crashes", "collect", file.c_str());
      ::raise(SIGABRT);
    });
    CHECK(WIFSIGNALED(status2));
    CHECK_FALSE(std::filesystem::exists(record));
  }
  SUBCASE("a full table refuses the next file, and says so") {
    const int status = InChild([&] {
      for (int i = 0; i < 256; ++i) {
        const std::string f = file + std::to_string(i);
        if (!SetCrashRecord(f, record, head).ok()) ::_exit(1);
      }
      const Status full = SetCrashRecord(file, record, head);
      ::_exit(!full.ok() && full.message() == "too many plugin files" ? 0 : 2);
    });
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  SUBCASE("a crash outside any plugin call writes none") {
    const int status = InChild([&] {
      InstallFatalSignalHandler(LogFormat::kText);
      SetCrashRecord(file, record, head);
      ::raise(SIGABRT);
    });
    CHECK(WIFSIGNALED(status));
    CHECK_FALSE(std::filesystem::exists(record));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace sysmetrics
