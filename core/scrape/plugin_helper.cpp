#include "scrape/plugin_helper.hpp"

#include <Poco/Exception.h>
#include <Poco/Pipe.h>
#include <Poco/Process.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/text.hpp"
#include "common/thread_annotations.hpp"
#include "plugin/plugin_wire.hpp"
#include "scrape/collector.hpp"
#include "scrape/name_ownership.hpp"
#include "util/sigpipe.hpp"

namespace sysmetrics {
namespace {

using Clock = std::chrono::steady_clock;

constexpr Clock::duration kMaxBackoff = std::chrono::seconds(60);
constexpr Clock::duration kStopGrace = std::chrono::seconds(1);
// The frame buffer kept between collects; a larger one is given back.
constexpr std::size_t kKeepPayload = std::size_t{1} << 20;
// Labels in one sample of a replayed result: more is malformed (a real
// series has a handful; the host's label check is quadratic in them).
constexpr std::uint32_t kMaxReplayLabels = 1024;
// How much earlier than the scrape a collect gives up on its helper (at
// most a tenth of the time left).
constexpr Clock::duration kDeadlineMargin = std::chrono::milliseconds(20);

std::string Seconds(Clock::duration d) {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(d).count());
}

// How often a helper checks that the exporter is still its parent.
constexpr std::chrono::milliseconds kWatchInterval{100};

// How long Kill waits for a killed helper to exit before leaving it to
// ReapStragglers.
constexpr Clock::duration kReapWait = std::chrono::milliseconds(500);

// Killed helpers that had not exited when Kill gave up waiting: reaped by
// a later Kill, so that none stays a zombie for long. Shared by every
// helper of the process.
struct Stragglers {
  Mutex mu;
  std::vector<Poco::ProcessHandle> handles GUARDED_BY(mu);
};
Stragglers& AllStragglers() {
  static Stragglers stragglers;
  return stragglers;
}

void ReapStragglers() {
  Stragglers& s = AllStragglers();
  const MutexLock lock(s.mu);
  const auto exited = [](const Poco::ProcessHandle& h) {
    try {
      return h.tryWait() >= 0;
    } catch (const Poco::Exception&) {
      return true;  // not ours to wait for
    }
  };
  s.handles.erase(std::remove_if(s.handles.begin(), s.handles.end(), exited),
                  s.handles.end());
}

// How a helper ended, from Poco's wait() code (256 + signal when killed).
std::string DescribeExit(int code) {
  if (code < 256) return "exited with status " + std::to_string(code);
  const int sig = code - 256;
  const char* abbrev = sigabbrev_np(sig);
  return "was killed by signal " + std::to_string(sig) +
         (abbrev != nullptr ? " (SIG" + std::string(abbrev) + ")" : "");
}

// --- The helper process side ----------------------------------------------

// The protocol's file descriptors, moved above stdio so that stdout can be
// pointed at stderr: whatever a plugin prints goes to the log stream.
struct HelperFds {
  int in = -1;
  int out = -1;
};

Result<HelperFds> SetUpFds() {
  HelperFds fds;
  fds.in = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
  fds.out = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (fds.in < 0 || fds.out < 0) {
    return Status::Error("cannot move the pipes above stdio: " +
                         ErrnoText(errno));
  }
  if (::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    return Status::Error("cannot point stdout at stderr: " + ErrnoText(errno));
  }
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0 || ::dup2(null, STDIN_FILENO) < 0) {
    return Status::Error("cannot read stdin from /dev/null: " +
                         ErrnoText(errno));
  }
  ::close(null);
  return fds;
}

// Sends w's frame and clears w. An error only when the exporter is gone.
Status Send(int fd, wire::Kind kind, wire::Writer& w) {
  Status sent = wire::WriteFrame(fd, kind, w.buffer());
  w.Clear();
  return sent;
}

// Applies the exporter's option values over the schema's defaults.
Status ApplyOptions(wire::Reader& r, const PluginInfo& info,
                    PluginOptions* options) {
  *options = PluginOptions::Defaults(info.schema);
  const std::uint32_t n = r.Count(6);
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
    const std::string key = r.Str();
    OptionValue value = r.Option();
    if (!r.ok()) break;
    OptionValue* slot = options->FindMutable(key);
    if (slot == nullptr || slot->type != value.type) {
      return Status::Error("option '" + key +
                           "' is not in the plugin's schema with that type");
    }
    *slot = std::move(value);
  }
  if (!r.ok()) return Status::Error("malformed create request");
  return Status::Ok();
}

void EncodeResult(wire::Writer& w, const Run& run) {
  w.U8(run.ok ? 1 : 0);
  w.Str(run.error);
  w.F64(run.seconds);
  w.U64(run.skipped_lines);
  w.U64(run.refused_families);
  if (!run.ok) return;
  const MetricSet& set = run.metrics;
  w.U32(static_cast<std::uint32_t>(set.families().size()));
  for (const MetricSet::Family& f : set.families()) {
    w.Str(set.str(f.name));
    w.Str(set.str(f.help));
    w.Str(set.str(f.unit));
    w.U8(static_cast<std::uint8_t>(f.type));
    w.U32(f.sample_count);
    for (std::uint32_t i = 0; i < f.sample_count; ++i) {
      const MetricSet::Sample& s = set.sample(f.first_sample + i);
      w.Str(set.str(s.suffix));
      w.U32(s.label_count);
      for (std::uint32_t k = 0; k < s.label_count; ++k) {
        const MetricSet::Label& l = set.label(s.first_label + k);
        w.Str(set.str(l.name));
        w.Str(set.str(l.value));
      }
      w.F64(s.value);
    }
  }
}

// A collect request carries, when they changed since the last one, the
// data of the name-ownership check the exporter runs (collector.hpp,
// sm_host): the longer enabled collector names and the reserved names. The
// helper runs the same check, so begin_family tells the plugin what the
// exporter would. An error if the request is malformed.
Status ApplyNames(std::string_view payload, Collector* collector,
                  std::shared_ptr<ReservedNameBoard>* board) {
  if (payload.empty()) return Status::Ok();
  wire::Reader r(payload);
  const auto malformed = [] {
    return Status::Error("malformed collect request");
  };
  if (r.U8() == 0) return r.ok() && r.at_end() ? Status::Ok() : malformed();
  std::vector<std::string> longer(r.Count(5));
  for (std::string& name : longer) name = r.Str();
  std::vector<std::string> reserved(r.Count(5));
  for (std::string& name : reserved) name = r.Str();
  if (!r.ok() || !r.at_end()) return malformed();
  if (*board == nullptr) *board = std::make_shared<ReservedNameBoard>();
  (*board)->Add(reserved);
  collector->ShareNames(std::move(longer), *board);
  return Status::Ok();
}

// Serves create and collect requests until the exporter closes the pipe.
int ServeRequests(const HelperFds& fds,
                  const std::shared_ptr<LoadedPlugin>& plugin) {
  std::unique_ptr<Collector> collector;
  // The names reserved against this plugin, as the exporter last sent them.
  std::shared_ptr<ReservedNameBoard> board;
  wire::Writer w;
  std::string payload;
  for (;;) {
    wire::Kind kind{};
    if (!wire::ReadFrame(fds.in, Clock::time_point::max(), wire::kMaxFrame,
                         &kind, &payload)
             .ok()) {
      return 0;  // the exporter closed the pipe (or is gone): done
    }
    if (kind == wire::Kind::kCreate && collector == nullptr) {
      wire::Reader r(payload);
      CollectorSettings cs;
      cs.procfs_root = r.Str();
      cs.sysfs_root = r.Str();
      cs.sample_limit = static_cast<std::size_t>(r.U64());
      PluginOptions options;
      const Status applied = ApplyOptions(r, plugin->info(), &options);
      sm_status st = SM_ERR_CONFIG;
      std::string error = applied.message();
      if (applied.ok()) {
        auto created = Collector::Create(plugin, std::move(options), cs, &st);
        if (created.ok()) {
          collector = created.take();
        } else {
          error = created.error();
        }
      }
      w.U32(static_cast<std::uint32_t>(st));
      w.Str(error);
      if (!Send(fds.out, wire::Kind::kCreated, w).ok()) return 1;
    } else if (kind == wire::Kind::kCollect && collector != nullptr) {
      // The exporter never sends a malformed one; it sees the helper end.
      if (!ApplyNames(payload, collector.get(), &board).ok()) return 1;
      Collector::StartKind start{};
      std::shared_ptr<Run> run =
          collector->Start(Clock::time_point::max(), &start, nullptr);
      collector->Execute(run);
      EncodeResult(w, *run);
      run.reset();
      if (!Send(fds.out, wire::Kind::kResult, w).ok()) return 1;
    } else {
      return 1;  // out of order: the exporter never does this
    }
  }
}

// Ends this helper within kWatchInterval of the exporter's death, even
// while the plugin holds the main thread and the pipe is never read again.
// (PR_SET_PDEATHSIG would follow the exporter's thread that started the
// helper, not the exporter: a restart's pool thread ends with a reload.)
void WatchExporter(pid_t exporter) {
  if (::getppid() != exporter) ::_exit(1);  // already gone
  std::thread([exporter] {
    for (;;) {
      std::this_thread::sleep_for(kWatchInterval);
      if (::getppid() != exporter) ::_exit(1);
    }
  }).detach();  // lives as long as the helper; _exit or exit ends it
}

}  // namespace

int RunPluginHost(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr,
                 "%s is started by sysmetrics for an isolated collector, not "
                 "by hand\n",
                 kPluginHostFlag);
    return 2;
  }
  // The exporter decides when a helper ends: it closes the pipe (the helper
  // then exits) or kills it. Signals meant for the exporter (a terminal's
  // Ctrl-C, systemd's SIGTERM to the whole unit) must not end helpers under
  // a draining exporter; and a helper must not outlive the exporter, even
  // one stuck in plugin code that never reads its pipe again.
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGTERM, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  WatchExporter(static_cast<pid_t>(std::strtol(argv[6], nullptr, 10)));
  const Result<HelperFds> set_up = SetUpFds();
  if (!set_up.ok()) {
    std::fprintf(stderr, "plugin helper: %s\n", set_up.error().c_str());
    return 1;
  }
  const HelperFds& fds = set_up.value();
  // The exporter passes its own (checked) settings; anything else falls
  // back to text at info rather than refusing to start.
  const Result<LogFormat> format = ParseLogFormat(argv[4]);
  const Result<LogLevel> level = ParseLogLevel(argv[5]);
  InitLogging(format.ok() ? format.value() : LogFormat::kText,
              level.ok() ? level.value() : LogLevel::kInfo);
  wire::Writer w;
  auto plugin = LoadPlugin(argv[2], argv[3]);
  if (!plugin.ok()) {
    w.Str(plugin.error());
    return Send(fds.out, wire::Kind::kFail, w).ok() ? 0 : 1;
  }
  wire::EncodeInfo(w, plugin.value()->info());
  if (!Send(fds.out, wire::Kind::kHello, w).ok()) return 1;
  return ServeRequests(fds, plugin.value());
}

// --- The exporter side ----------------------------------------------------

struct PluginHelper::Process {
  Process(const Poco::ProcessHandle& h, const Poco::Pipe& i,
          const Poco::Pipe& o)
      : handle(h), in(i), out(o) {}
  Poco::ProcessHandle handle;
  Poco::Pipe in;   // the exporter writes, the helper reads (its stdin)
  Poco::Pipe out;  // the helper writes (its stdout), the exporter reads
};

PluginHelper::PluginHelper(std::string file, std::string name,
                           HelperSettings settings)
    : file_(std::move(file)),
      name_(std::move(name)),
      settings_(std::move(settings)) {}

PluginHelper::~PluginHelper() { Stop(kStopGrace); }

Result<std::unique_ptr<PluginHelper>> PluginHelper::Start(
    const std::string& file, const std::string& name,
    const HelperSettings& settings) {
  std::unique_ptr<PluginHelper> helper(new PluginHelper(file, name, settings));
  if (Status s = helper->Spawn(Clock::now() + settings.start_timeout);
      !s.ok()) {
    return s;
  }
  return helper;
}

pid_t PluginHelper::pid() const {
  return process_ != nullptr ? process_->handle.id() : 0;
}

Status PluginHelper::Spawn(Clock::time_point deadline) {
  // A helper that died must cost a failed write (EPIPE), not the exporter.
  IgnoreSigpipe();
  names_sent_ = false;  // a new helper knows none of them
  Poco::Pipe in;
  Poco::Pipe out;
  const Poco::Process::Args args = {
      kPluginHostFlag,
      file_,
      name_,
      settings_.log_format == LogFormat::kJson ? "json" : "text",
      std::string(LogLevelName(settings_.log_level)),
      std::to_string(::getpid())};
  try {
    const Poco::ProcessHandle handle =
        Poco::Process::launch(settings_.command, args, &in, &out, nullptr);
    process_ = std::make_unique<Process>(handle, in, out);
    // Poco's pipes are not close-on-exec: a later helper closes what it
    // inherits, but a plugin in this process that runs a program must not
    // hold this helper's pipe open.
    ::fcntl(in.writeHandle(), F_SETFD, FD_CLOEXEC);
    ::fcntl(out.readHandle(), F_SETFD, FD_CLOEXEC);
  } catch (const Poco::Exception& e) {
    return Status::Error("cannot start a helper process: " + e.displayText());
  }
  wire::Kind kind{};
  bool timed_out = false;
  const Status read =
      wire::ReadFrame(process_->out.readHandle(), deadline, wire::kMaxFrame,
                      &kind, &payload_, &timed_out);
  if (!read.ok()) {
    const std::string how = Kill();
    return Status::Error(timed_out ? "the helper process did not load the "
                                     "plugin in time and was killed"
                                   : "the helper process " + how +
                                         " while loading the plugin");
  }
  wire::Reader r(payload_);
  if (kind == wire::Kind::kFail) {
    std::string reason = r.Str();
    Stop(kStopGrace);
    return Status::Error(r.ok() ? reason : "the helper could not load it");
  }
  Result<PluginInfo> hello = kind == wire::Kind::kHello
                                 ? wire::DecodeInfo(r)
                                 : Status::Error("not a hello");
  if (!hello.ok() || hello.value().name != name_) {
    Kill();
    return Status::Error("the helper process sent a malformed hello");
  }
  PluginInfo info = hello.take();
  info.file = file_;
  info.shipped = IsShippedPlugin(info.name, info.version);
  if (!started_) {
    info_ = std::move(info);
    started_ = true;
    return Status::Ok();
  }
  // A restart: other threads read info_ (the landing page, the scrape's
  // labels), so it never changes; a file that now holds another plugin
  // needs a reload, which checks its options again.
  if (info.version != info_.version || info.abi_major != info_.abi_major ||
      info.abi_minor != info_.abi_minor ||
      info.schema.size() != info_.schema.size()) {
    Kill();
    return Status::Error(
        "the plugin file changed since the exporter loaded "
        "it (now version " +
        info.version + "); reload the exporter to use it");
  }
  return Status::Ok();
}

Status PluginHelper::Create(HelperInstance instance, sm_status* create_status) {
  instance_ = std::move(instance);
  created_ = true;
  return CreateInHelper(Clock::now() + settings_.start_timeout, create_status);
}

Status PluginHelper::CreateInHelper(Clock::time_point deadline,
                                    sm_status* create_status) {
  *create_status = SM_ERR;
  if (process_ == nullptr) return Status::Error("no helper process");
  wire::Writer w;
  w.Str(instance_.procfs_root);
  w.Str(instance_.sysfs_root);
  w.U64(instance_.sample_limit);
  w.U32(static_cast<std::uint32_t>(instance_.options.values().size()));
  for (const auto& [key, value] : instance_.options.values()) {
    w.Str(key);
    w.Option(value);
  }
  wire::Kind kind{};
  bool timed_out = false;
  Status s = wire::WriteFrame(process_->in.writeHandle(), wire::Kind::kCreate,
                              w.buffer());
  if (s.ok()) {
    s = wire::ReadFrame(process_->out.readHandle(), deadline, wire::kMaxFrame,
                        &kind, &payload_, &timed_out);
  }
  if (!s.ok()) {
    const std::string how = Kill();
    return Status::Error(timed_out
                             ? "create() did not return in time; the "
                               "helper process was killed"
                             : "the helper process " + how + " in create()");
  }
  wire::Reader r(payload_);
  const std::uint32_t st = r.U32();
  std::string error = r.Str();
  if (kind != wire::Kind::kCreated || !r.ok()) {
    Kill();
    return Status::Error("the helper process sent a malformed answer");
  }
  if (st == SM_OK) {
    *create_status = SM_OK;
    return Status::Ok();
  }
  // The value is the plugin's; only SM_ERR_CONFIG matters to the caller.
  *create_status = st == SM_ERR_CONFIG ? SM_ERR_CONFIG : SM_ERR;
  Stop(kStopGrace);
  return Status::Error(error);
}

std::string PluginHelper::Kill() {
  ReapStragglers();
  if (process_ == nullptr) return "was not running";
  std::string how;
  try {
    // A helper that already died is a zombie until waited for: the signal
    // is harmless, and tryWait() reports how it really ended. One in
    // uninterruptible sleep (a hung NFS read) dies only when that returns:
    // it is not waited for here, but reaped later (ReapStragglers).
    ::kill(process_->handle.id(), SIGKILL);
    const Clock::time_point give_up = Clock::now() + kReapWait;
    int code = process_->handle.tryWait();
    while (code < 0 && Clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      code = process_->handle.tryWait();
    }
    if (code >= 0) {
      how = DescribeExit(code);
    } else {
      how = "was killed and has not exited yet (uninterruptible sleep?)";
      Stragglers& stragglers = AllStragglers();
      const MutexLock lock(stragglers.mu);
      stragglers.handles.push_back(process_->handle);
    }
  } catch (const Poco::Exception& e) {
    how = "could not be waited for: " + e.displayText();
  }
  process_.reset();
  return how;
}

std::string PluginHelper::Stop(Clock::duration grace) {
  if (process_ == nullptr) return "was not running";
  process_->in.close(Poco::Pipe::CLOSE_WRITE);
  // The helper exits when it reads the end of its input; its stdout then
  // closes, which ends the wait here without polling the process.
  const Clock::time_point deadline = Clock::now() + grace;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{process_->out.readHandle(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count()) + 1) <= 0) continue;
    char discard[512];
    if (::read(p.fd, discard, sizeof discard) <= 0) break;
  }
  return Kill();
}

void PluginHelper::Failed(const std::string& what) {
  backoff_ = backoff_ == Clock::duration::zero()
                 ? settings_.first_backoff
                 : std::min(backoff_ * 2, kMaxBackoff);
  next_start_ = Clock::now() + backoff_;
  last_failure_ = what;
  Log(LogLevel::kError, "plugin helper failed",
      {{"collector", name_},
       {"what", what},
       {"restart_in_seconds", Seconds(backoff_)}});
}

Status PluginHelper::Restart(Clock::time_point deadline) {
  if (!created_) return Status::Error("not created");
  const Clock::time_point now = Clock::now();
  if (now < next_start_) {
    return Status::Error(last_failure_ + "; a new helper starts in " +
                         Seconds(next_start_ - now + std::chrono::seconds(1)) +
                         " s");
  }
  restarts_.fetch_add(1, std::memory_order_relaxed);
  // As long as a start may take, whatever the scrape's deadline: a plugin
  // slow to load would otherwise never come back after one failure. A
  // scrape that gives up meanwhile sees a late run, as with any collector.
  const Clock::time_point start_by =
      std::max(deadline, now + settings_.start_timeout);
  Status s = Spawn(start_by);
  sm_status create_status = SM_OK;
  if (s.ok()) s = CreateInHelper(start_by, &create_status);
  if (!s.ok()) {
    Kill();
    Failed("restart failed: " + s.message());
    return Status::Error(last_failure_);
  }
  Log(LogLevel::kInfo, "plugin helper restarted",
      {{"collector", name_}, {"after", last_failure_}});
  return Status::Ok();
}

std::string PluginHelper::CollectRequest(const sm_host& host) {
  std::shared_ptr<const ReservedNames> reserved =
      host.reserved != nullptr ? host.reserved->Snapshot() : nullptr;
  wire::Writer w;
  if (names_sent_ && reserved == sent_reserved_ &&
      host.longer_names == sent_longer_) {
    w.U8(0);
    return std::move(w.buffer());
  }
  w.U8(1);
  w.U32(static_cast<std::uint32_t>(host.longer_names.size()));
  for (const std::string& name : host.longer_names) w.Str(name);
  const std::size_t n = reserved != nullptr ? reserved->names().size() : 0;
  w.U32(static_cast<std::uint32_t>(n));
  for (std::size_t i = 0; i < n; ++i) w.Str(reserved->names()[i]);
  names_sent_ = true;
  sent_reserved_ = std::move(reserved);
  sent_longer_ = host.longer_names;
  return std::move(w.buffer());
}

std::optional<std::size_t> PluginHelper::ResidentOverLimit() const {
  if (settings_.memory_limit_bytes == 0 || process_ == nullptr) return {};
  // The real /proc, not the configured procfs root: this is our child.
  const std::string path =
      "/proc/" + std::to_string(process_->handle.id()) + "/statm";
  std::FILE* f = std::fopen(path.c_str(), "re");
  if (f == nullptr) return {};
  unsigned long size = 0;      // NOLINT(google-runtime-int): fscanf's %lu
  unsigned long resident = 0;  // NOLINT(google-runtime-int)
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  if (n != 2) return {};
  const std::size_t rss = static_cast<std::size_t>(resident) *
                          static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  if (rss <= settings_.memory_limit_bytes) return {};
  return rss;
}

Result<CollectVerdict> ReplayResult(std::string_view payload, sm_emitter* em) {
  wire::Reader r(payload);
  const bool ok = r.U8() != 0;
  const char* err = r.Str();
  (void)r.F64();  // the helper's own timing; the exporter measures its own
  const std::uint64_t skipped = r.U64();
  // Families the helper's own checks refused (the plugin was told); those
  // the exporter refuses on replay add to this.
  const std::uint64_t refused = r.U64();
  const auto cut = [] { return Status::Error("cut short or malformed"); };
  if (!ok) {
    if (!r.ok() || !r.at_end()) return cut();
    // Counted only from a result that is whole: a corrupted helper's
    // numbers must not reach the counters.
    em->skipped += skipped;
    em->refused_families += refused;
    return CollectVerdict{Status::Error(
        err[0] != '\0' ? err : "collect failed without a reason")};
  }
  const sm_host_api& api = HostApi();
  thread_local std::vector<sm_label> labels;
  // A family is at least three empty strings, a type and a count.
  const std::uint32_t families = r.Count(std::size_t{3} * 5 + 1 + 4);
  for (std::uint32_t i = 0; i < families && r.ok(); ++i) {
    sm_family f{};
    f.struct_size = sizeof f;
    f.name = r.Str();
    f.help = r.Str();
    const char* unit = r.Str();
    f.unit = unit[0] != '\0' ? unit : nullptr;
    const std::uint8_t type = r.U8();
    if (type > SM_METRIC_SUMMARY) {
      return Status::Error("metric type " + std::to_string(type) +
                           " does not exist");
    }
    f.type = static_cast<sm_metric_type>(type);
    const std::uint32_t samples = r.Count(5 + 4 + 8);
    if (!r.ok()) return cut();
    api.begin_family(em, &f);
    for (std::uint32_t k = 0; k < samples && r.ok(); ++k) {
      sm_sample s{};
      s.struct_size = sizeof s;
      const char* suffix = r.Str();
      s.suffix = suffix[0] != '\0' ? suffix : nullptr;
      const std::uint32_t n = r.Count(std::size_t{2} * 5);
      if (n > kMaxReplayLabels) {
        return Status::Error("a sample with " + std::to_string(n) +
                             " labels, over " +
                             std::to_string(kMaxReplayLabels));
      }
      labels.resize(n);
      for (std::uint32_t l = 0; l < n; ++l) {
        labels[l].name = r.Str();
        labels[l].value = r.Str();
      }
      s.labels = labels.data();
      s.n_labels = n;
      s.value = r.F64();
      if (!r.ok()) return cut();
      api.emit_sample(em, &s);
    }
  }
  if (!r.ok() || !r.at_end()) return cut();
  em->skipped += skipped;
  em->refused_families += refused;
  return CollectVerdict{};
}

sm_status PluginHelper::Collect(sm_emitter* em, Clock::time_point deadline,
                                std::string* error) {
  if (process_ == nullptr) {
    if (Status s = Restart(deadline); !s.ok()) {
      *error = s.message();
      return SM_ERR;
    }
  }
  // Give up a little before the scrape does, so that the scrape reports
  // what happened to the helper, not only that the deadline passed. No time
  // left at all (a restart took it): not the helper's fault, not killed.
  const Clock::duration left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) {
    *error = "no time left before the deadline to collect";
    return SM_ERR;
  }
  const Clock::duration margin = std::min(left / 10, kDeadlineMargin);
  wire::Kind kind{};
  bool timed_out = false;
  Status s = wire::WriteFrame(process_->in.writeHandle(), wire::Kind::kCollect,
                              CollectRequest(*em->host));
  if (s.ok()) {
    s = wire::ReadFrame(process_->out.readHandle(), deadline - margin,
                        wire::kMaxFrame, &kind, &payload_, &timed_out);
  }
  std::string what;
  Result<CollectVerdict> verdict = Status::Error("no result");
  if (!s.ok()) {
    const std::string how = Kill();
    what = timed_out ? "collect() did not return by its deadline; the helper "
                       "process was killed"
                     : "the helper process " + how + " in collect()";
  } else if (kind != wire::Kind::kResult) {
    Kill();
    what = "the helper process sent a malformed result and was killed";
  } else if (verdict = ReplayResult(payload_, em); !verdict.ok()) {
    Kill();
    what = "the helper process sent a malformed result (" + verdict.error() +
           ") and was killed";
  }
  if (!what.empty()) {
    Failed(what);
    *error = what + "; a new helper starts in " + Seconds(backoff_) + " s";
    return SM_ERR;
  }
  backoff_ = Clock::duration::zero();  // it works again
  if (payload_.capacity() > kKeepPayload) {
    std::string().swap(payload_);  // one huge result is not kept for good
  }
  if (const std::optional<std::size_t> rss = ResidentOverLimit()) {
    Log(LogLevel::kWarn,
        "plugin helper uses more memory than its limit; it is killed and a "
        "new one starts for the next scrape",
        {{"collector", name_},
         {"resident_bytes", std::to_string(*rss)},
         {"memory_limit_bytes", std::to_string(settings_.memory_limit_bytes)}});
    // Killed, not asked to exit: the result is already in hand, and this
    // scrape must not wait for a leaking plugin's destroy().
    Kill();
    last_failure_ = "over its memory limit";
    next_start_ = Clock::now();
  }
  if (!verdict.value().plugin.ok()) {
    *error = verdict.value().plugin.message();
    return SM_ERR;
  }
  return SM_OK;
}

}  // namespace sysmetrics
