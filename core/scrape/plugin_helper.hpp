// PluginHelper: one plugin instance run in a helper process, so that its
// crash, hang, leak or memory corruption costs that collector only.
//
// The helper is this same executable started as `EXE --plugin-host FILE NAME
// FORMAT LEVEL EXPORTER_PID` (RunPluginHost). It loads the plugin through the
// same C ABI and checks as the exporter would (LoadPlugin), reports the
// descriptor, creates the instance with the options the exporter resolved, and
// runs collect() on request with the host's own emit checks; the exporter then
// replays what came back through the host API (HostApi()), so every check
// runs again on its side: nothing the helper sends is trusted. The helper's
// stdin and stdout carry the frames (plugin_wire.hpp); its stdout is
// pointed at stderr before the plugin loads, so a plugin that prints cannot
// corrupt them. It logs to the exporter's stderr in the exporter's format.
//
// When the helper dies, overstays a deadline (it is killed) or sends
// something malformed (killed), the collect fails with what happened, and a
// later one starts a new helper after a back-off that doubles from 1 s up
// to 60 s while failures repeat and resets after a successful collect. One
// that grows past its memory limit is killed after a successful collect and
// replaced at the next one, without back-off. A restart may take as long as
// a start (start_timeout), past the scrape's deadline. The plugin's info is
// fixed at start: a restart that finds another version in the file fails
// (a reload loads it).
//
// Thread-compatible: Collect is called by one run at a time (plugin.h
// contract 3); restarts() may be read from any thread.
#pragma once

#include <sys/types.h>
#include <sysmetrics/plugin.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/plugin_loader.hpp"
#include "plugin/plugin_options.hpp"
#include "util/log.hpp"
#include "util/status.hpp"

namespace sysmetrics {

class ReservedNames;

// argv[1] of a helper process.
inline constexpr const char* kPluginHostFlag = "--plugin-host";

// The main of a helper process; argv as described above. Returns the exit
// status: 0 when the exporter closed the pipe, 1 on a protocol error.
int RunPluginHost(int argc, char** argv);

struct HelperSettings {
  // The executable to start (this one; tests pass their own binary, whose
  // main also dispatches --plugin-host).
  std::string command = "/proc/self/exe";
  LogFormat log_format = LogFormat::kText;
  LogLevel log_level = LogLevel::kInfo;
  // Resident memory the helper may reach before it is restarted; 0: none.
  std::size_t memory_limit_bytes = std::size_t{256} << 20;
  // Longest a helper may take to load the plugin at start.
  std::chrono::steady_clock::duration start_timeout = std::chrono::seconds(10);
  // The wait before the first restart after a failure; it doubles with each
  // failure in a row, up to 60 s. Zero (tests): restart at once, always.
  std::chrono::steady_clock::duration first_backoff = std::chrono::seconds(1);
};

// What the instance is created with, kept to create it again in a new
// helper after a restart.
struct HelperInstance {
  PluginOptions options;
  std::string procfs_root;
  std::string sysfs_root;
  std::size_t sample_limit = 0;
};

// Replays a helper's result payload into em through the host API (every
// check of the host runs on it), adding its skipped lines to em->skipped
// and the families it refused to em->refused_families.
// The value is the plugin's verdict: OK, or its reason (nothing is then
// emitted). An error is the replay's own: the payload is malformed, and the
// message says how (em may then hold part of it: the caller fails the run,
// which discards it).
struct CollectVerdict {
  Status plugin;  // what the plugin's collect returned, with its reason
};
Result<CollectVerdict> ReplayResult(std::string_view payload, sm_emitter* em);

class PluginHelper {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts a helper for the plugin at file (a resolved, trusted path),
  // named name, and waits for it to load the plugin. Fails with the reason
  // the plugin could not be loaded (the same text an in-process load gives),
  // or with what happened to the helper.
  static Result<std::unique_ptr<PluginHelper>> Start(
      const std::string& file, const std::string& name,
      const HelperSettings& settings);
  // Stops the helper: closes its pipe (it destroys the instance and exits),
  // and kills it if it has not exited within a second.
  ~PluginHelper();
  PluginHelper(const PluginHelper&) = delete;
  PluginHelper& operator=(const PluginHelper&) = delete;

  // As the helper reported it, with file set to the plugin's path.
  const PluginInfo& info() const { return info_; }

  // Creates the instance in the helper; on failure, create_status is the
  // plugin's status (SM_ERR_CONFIG: it refused its options).
  Status Create(HelperInstance instance, sm_status* create_status);

  // Runs collect() in the helper and replays its output into em through the
  // host API; adds its skipped lines to em->skipped. Returns SM_OK, or a
  // failure with the reason in *error (the plugin's, or the helper's fate).
  sm_status Collect(sm_emitter* em, Clock::time_point deadline,
                    std::string* error);

  // Helpers started after the first, since start.
  std::uint64_t restarts() const {
    return restarts_.load(std::memory_order_relaxed);
  }
  // The running helper's process id; 0 when none runs.
  pid_t pid() const;

 private:
  struct Process;
  PluginHelper(std::string file, std::string name, HelperSettings settings);

  // Launches a helper and reads its hello (by deadline).
  Status Spawn(Clock::time_point deadline);
  // Sends the create request and reads the answer (by deadline).
  Status CreateInHelper(Clock::time_point deadline, sm_status* create_status);
  // A new helper with the instance created, after the back-off.
  Status Restart(Clock::time_point deadline);
  // Ends the helper (SIGKILL unless it already exited) and says how it
  // ended, e.g. "killed by signal 11 (SIGSEGV)".
  std::string Kill();
  // Closes the pipe and lets the helper exit by itself, killing it after
  // grace. Returns how it ended.
  std::string Stop(Clock::duration grace);
  // Records a failure that ended the helper and sets the back-off.
  void Failed(const std::string& what);
  // The helper's resident bytes when it has a memory limit and is over it;
  // nothing when it is within it, has none, or its size cannot be read (a
  // question, not an operation that fails: the next scrape asks again).
  std::optional<std::size_t> ResidentOverLimit() const;
  // The collect request: the name-ownership data of host when the helper
  // does not have it yet (ApplyNames in the helper), else nothing new.
  std::string CollectRequest(const sm_host& host);

  const std::string file_;
  const std::string name_;
  const HelperSettings settings_;
  PluginInfo info_;
  std::unique_ptr<Process> process_;  // null while none runs
  HelperInstance instance_;
  bool created_ = false;  // instance_ is set
  bool started_ = false;  // info_ is set (immutable from then on)
  Clock::time_point next_start_{};
  Clock::duration backoff_{};
  std::string last_failure_;
  std::string payload_;  // scratch for frames
  // The ownership data the running helper has (CollectRequest).
  bool names_sent_ = false;
  std::shared_ptr<const ReservedNames> sent_reserved_;
  std::vector<std::string> sent_longer_;
  std::atomic<std::uint64_t> restarts_{0};
};

}  // namespace sysmetrics
