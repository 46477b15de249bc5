#include "scrape/collector.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <utility>

#include "plugin/fatal_signal.hpp"
#include "scrape/host_regex.hpp"
#include "scrape/plugin_helper.hpp"
#include "scrape/text_format.hpp"
#include "util/log.hpp"
#include "util/number_format.hpp"

namespace sysmetrics {
namespace {

// --- The host services (sm_host_api) --------------------------------------

void HostLog(sm_host* host, sm_log_level level, const char* msg) {
  if (host == nullptr || msg == nullptr) return;
  LogLevel l = LogLevel::kInfo;
  // As an integer: any value may come from a plugin (see BeginFamily).
  int raw = 0;
  static_assert(sizeof raw == sizeof level);
  std::memcpy(&raw, &level, sizeof raw);
  switch (raw) {
    case SM_LOG_DEBUG:
      l = LogLevel::kDebug;
      break;
    case SM_LOG_INFO:
      l = LogLevel::kInfo;
      break;
    case SM_LOG_WARN:
      l = LogLevel::kWarn;
      break;
    default:
      l = LogLevel::kError;
      break;
  }
  Log(l, msg, {{"collector", host->plugin_name}});
}

const OptionValue* Option(sm_host* host, const char* key, OptionType type) {
  if (host == nullptr || key == nullptr) return nullptr;
  return host->options.Find(key, type);
}

sm_status ConfigBool(sm_host* host, const char* key, int* out) {
  const OptionValue* v = Option(host, key, OptionType::kBool);
  if (v == nullptr || out == nullptr) return SM_ERR_NOT_FOUND;
  *out = v->b ? 1 : 0;
  return SM_OK;
}

sm_status ConfigInt(sm_host* host, const char* key, int64_t* out) {
  const OptionValue* v = Option(host, key, OptionType::kInt);
  if (v == nullptr || out == nullptr) return SM_ERR_NOT_FOUND;
  *out = v->i;
  return SM_OK;
}

sm_status ConfigDouble(sm_host* host, const char* key, double* out) {
  const OptionValue* v = Option(host, key, OptionType::kDouble);
  if (v == nullptr || out == nullptr) return SM_ERR_NOT_FOUND;
  *out = v->d;
  return SM_OK;
}

sm_status ConfigString(sm_host* host, const char* key, const char** out) {
  const OptionValue* v = Option(host, key, OptionType::kString);
  if (v == nullptr || out == nullptr) return SM_ERR_NOT_FOUND;
  *out = v->s.c_str();
  return SM_OK;
}

sm_status ConfigListSize(sm_host* host, const char* key, size_t* out) {
  const OptionValue* v = Option(host, key, OptionType::kStringList);
  if (v == nullptr || out == nullptr) return SM_ERR_NOT_FOUND;
  *out = v->list.size();
  return SM_OK;
}

sm_status ConfigListItem(sm_host* host, const char* key, size_t index,
                         const char** out) {
  const OptionValue* v = Option(host, key, OptionType::kStringList);
  if (v == nullptr || out == nullptr || index >= v->list.size()) {
    return SM_ERR_NOT_FOUND;
  }
  *out = v->list[index].c_str();
  return SM_OK;
}

const char* ProcfsRoot(sm_host* host) {
  return host != nullptr ? host->procfs_root.c_str() : "/proc";
}

const char* SysfsRoot(sm_host* host) {
  return host != nullptr ? host->sysfs_root.c_str() : "/sys";
}

void ReportProblem(sm_emitter* em, const Status& status) {
  // The first problem of each collect is logged at warn; the rest at debug,
  // so a plugin with a systematic bug cannot flood the log.
  const LogLevel level =
      em->problems++ == 0 ? LogLevel::kWarn : LogLevel::kDebug;
  Log(level, "plugin output refused",
      {{"collector", em->host->plugin_name}, {"reason", status.message()}});
}

// Reports a family refused for a reason other than its owner.
void RefuseFamily(sm_emitter* em, const Status& status) {
  ++em->refused_families;
  ReportProblem(em, status);
}

// Refuses a family the plugin does not own (name_ownership.hpp), logged at
// warn once per family for the life of the instance (at most
// kMaxLoggedLines families), at debug after that: the refused-families
// counter says it goes on.
void RefuseNotOwned(sm_emitter* em, std::string_view family,
                    const FamilyOwner& owner) {
  ++em->refused_families;
  em->not_owned = true;
  sm_host& host = *em->host;
  const bool first = host.logged_families.size() < sm_host::kMaxLoggedLines &&
                     host.logged_families.emplace(family).second;
  Log(first ? LogLevel::kWarn : LogLevel::kDebug,
      "metric family refused: the collector does not own its name",
      {{"collector", host.plugin_name},
       {"family", family},
       {"reason", DescribeRefusal(owner, family, host.plugin_name)}});
}

// Whether this third-party plugin may serve family (a valid name); if not,
// refuses it.
bool Owns(sm_emitter* em, std::string_view family) {
  const sm_host& host = *em->host;
  if (em->reserved == nullptr) {
    em->reserved = host.reserved != nullptr ? host.reserved->Snapshot()
                                            : HostReservedNames();
  }
  const FamilyOwner owner = CheckFamilyOwner(family, host.plugin_name,
                                             host.longer_names, *em->reserved);
  if (owner.verdict == OwnerVerdict::kOwned) return true;
  RefuseNotOwned(em, family, owner);
  return false;
}

sm_status BeginFamily(sm_emitter* em, const sm_family* f) {
  if (em == nullptr || em->set == nullptr) return SM_ERR_INVALID;
  // First, so that a family refused below also ends the previous one: its
  // samples must not land in that one.
  em->set->Finish();
  em->not_owned = false;
  // Past the limit every call is refused at once, whatever it holds: a
  // runaway plugin costs no more per call than this.
  if (em->set->limit_reached()) return SM_ERR_LIMIT;
  if (f == nullptr ||
      f->struct_size < offsetof(sm_family, unit) + sizeof(f->unit) ||
      f->name == nullptr) {
    RefuseFamily(em, Status::Error("malformed sm_family"));
    return SM_ERR_INVALID;
  }
  // Read as an integer: a plugin may store any value there, and loading an
  // out-of-range value as the enum type is undefined behaviour.
  int type = 0;
  static_assert(sizeof type == sizeof f->type);
  std::memcpy(&type, &f->type, sizeof type);
  if (type < SM_METRIC_COUNTER || type > SM_METRIC_SUMMARY) {
    RefuseFamily(em, Status::Error("family '" + std::string(f->name) +
                                   "' has unknown type"));
    return SM_ERR_INVALID;
  }
  // An invalid name is left to the model, which says so.
  const std::string_view name = f->name;
  if (!em->host->shipped && IsValidMetricName(name) && !Owns(em, name)) {
    return SM_ERR_INVALID;
  }
  std::string_view served = name;
  std::string_view unit = f->unit != nullptr ? f->unit : "";
  em->node_row = nullptr;
  if (em->host->node_names != nullptr) {
    // node_exporter's name, without a unit (node declares none).
    em->node_row = em->host->node_names->Find(name);
    if (em->node_row != nullptr) {
      em->node_family = NodeNameMap::NodeFamily(*em->node_row, name);
      served = em->node_family;
      unit = {};
    }
  }
  Status s = em->set->BeginFamily(served, f->help != nullptr ? f->help : "",
                                  static_cast<MetricType>(type), unit);
  if (!s.ok()) {
    if (em->set->limit_reached()) return SM_ERR_LIMIT;
    RefuseFamily(em, s);
    return SM_ERR_INVALID;
  }
  if (em->set->repaired()) {
    ReportProblem(em, Status::Error("help of '" + std::string(f->name) +
                                    "' is not UTF-8; invalid bytes replaced"));
  }
  return SM_OK;
}

sm_status EmitSample(sm_emitter* em, const sm_sample* s) {
  if (em == nullptr || em->set == nullptr) return SM_ERR_INVALID;
  if (em->not_owned) return SM_ERR_INVALID;  // the family was reported
  if (s == nullptr ||
      s->struct_size < offsetof(sm_sample, value) + sizeof(s->value) ||
      (s->n_labels != 0 && s->labels == nullptr)) {
    ReportProblem(em, Status::Error("malformed sm_sample"));
    return SM_ERR_INVALID;
  }
  // Labels arrive as C strings; view them without copying, in one vector
  // per thread that keeps its capacity (a local array of views was zeroed
  // whole on every sample, which showed in the scrape's profile).
  thread_local std::vector<LabelView> labels;
  labels.clear();
  for (std::uint32_t i = 0; i < s->n_labels; ++i) {
    const sm_label& l = s->labels[i];
    if (l.name == nullptr || l.value == nullptr) {
      ReportProblem(em, Status::Error("label with a NULL name or value"));
      return SM_ERR_INVALID;
    }
    labels.push_back(LabelView{l.name, l.value});
  }
  double value = s->value;
  if (em->node_row != nullptr) {
    const NodeNameRow& row = *em->node_row;
    if (!row.label_from.empty()) {
      for (LabelView& l : labels) {
        if (l.name == row.label_from) l.name = row.label_to;
      }
    }
    value *= row.scale;
  }
  Status st =
      em->set->AddSample(s->suffix != nullptr ? s->suffix : "", labels, value);
  if (!st.ok()) {
    if (em->set->limit_reached()) return SM_ERR_LIMIT;
    ReportProblem(em, st);
    return SM_ERR_INVALID;
  }
  if (em->set->repaired()) {
    ReportProblem(em, Status::Error("label value is not UTF-8; invalid bytes "
                                    "replaced"));
  }
  return SM_OK;
}

void SkipLine(sm_emitter* em, const char* file, uint64_t line,
              const char* reason) {
  if (em == nullptr || em->host == nullptr) return;
  ++em->skipped;
  sm_host& host = *em->host;
  if (host.logged_lines.size() > sm_host::kMaxLoggedLines) return;
  const std::string where =
      std::string(file != nullptr ? file : "?") + ":" + std::to_string(line);
  if (host.logged_lines.size() == sm_host::kMaxLoggedLines) {
    host.logged_lines.insert("");  // past the bound: say so once
    Log(LogLevel::kWarn,
        "more skipped lines: counted in "
        "sysmetrics_collector_skipped_lines_total, no longer logged until "
        "the next reload",
        {{"collector", host.plugin_name}});
    return;
  }
  if (!host.logged_lines.insert(where).second) return;
  Log(LogLevel::kWarn, "line skipped",
      {{"collector", host.plugin_name},
       {"file", file != nullptr ? file : "?"},
       {"line", std::to_string(line)},
       {"reason", reason != nullptr ? reason : "no reason given"}});
}

const sm_host_api kHostApi = {
    sizeof(sm_host_api),
    SM_ABI_VERSION_MAJOR,
    SM_ABI_VERSION_MINOR,
    &HostLog,
    &ConfigBool,
    &ConfigInt,
    &ConfigDouble,
    &ConfigString,
    &ConfigListSize,
    &ConfigListItem,
    &ProcfsRoot,
    &SysfsRoot,
    &BeginFamily,
    &EmitSample,
    &SkipLine,
    &HostRegexCompile,
    &HostRegexSearch,
    &HostRegexFree,
};

constexpr std::size_t kErrLen = 512;

}  // namespace

const sm_host_api& HostApi() { return kHostApi; }

Collector::Collector(std::shared_ptr<LoadedPlugin> plugin,
                     std::unique_ptr<PluginHelper> helper,
                     CollectorSettings settings)
    : plugin_(std::move(plugin)),
      helper_(std::move(helper)),
      info_(helper_ != nullptr ? &helper_->info() : &plugin_->info()),
      settings_(std::move(settings)) {}

Result<std::unique_ptr<Collector>> Collector::Create(
    std::shared_ptr<LoadedPlugin> plugin, PluginOptions options,
    const CollectorSettings& settings, sm_status* create_status) {
  std::unique_ptr<Collector> c(
      new Collector(std::move(plugin), nullptr, settings));
  c->host_.plugin_name = c->plugin_->info().name;
  c->host_.shipped = c->plugin_->info().shipped;
  c->host_.options = std::move(options);
  c->host_.procfs_root = settings.procfs_root;
  c->host_.sysfs_root = settings.sysfs_root;
  if (settings.node_names) c->host_.node_names = &NodeNameMap::Get();
  char err[kErrLen] = {};
  void* instance = nullptr;
  sm_status st = SM_ERR;
  {
    const PluginCallScope scope(c->host_.plugin_name.c_str(), "create",
                                c->plugin_->info().file.c_str());
    st = c->plugin_->descriptor().create(&c->host_, &kHostApi, &instance, err,
                                         sizeof err);
  }
  if (create_status != nullptr) *create_status = st;
  if (st != SM_OK) {
    err[kErrLen - 1] = '\0';
    return Status::Error("create failed (status " + std::to_string(st) +
                         "): " + (err[0] != '\0' ? err : "no reason given"));
  }
  c->instance_ = instance;
  return c;
}

Result<std::unique_ptr<Collector>> Collector::CreateIsolated(
    std::unique_ptr<PluginHelper> helper, PluginOptions options,
    const CollectorSettings& settings, sm_status* create_status) {
  HelperInstance instance;
  instance.options = std::move(options);
  instance.procfs_root = settings.procfs_root;
  instance.sysfs_root = settings.sysfs_root;
  instance.sample_limit = settings.sample_limit;
  sm_status st = SM_ERR;
  const Status s = helper->Create(std::move(instance), &st);
  if (create_status != nullptr) *create_status = st;
  if (!s.ok()) return s;
  CollectorSettings isolated = settings;
  isolated.run_inline = false;  // a helper is always waited for
  std::unique_ptr<Collector> c(
      new Collector(nullptr, std::move(helper), std::move(isolated)));
  c->host_.plugin_name = c->info_->name;
  c->host_.shipped = c->info_->shipped;
  if (settings.node_names) c->host_.node_names = &NodeNameMap::Get();
  return c;
}

Collector::~Collector() {
  // A run queued but never executed (the pool dropped it at Stop) is still
  // current_; its deleter returns it to spare_, which members are destroyed
  // before current_: release it while spare_ is alive.
  current_.reset();
  if (helper_ != nullptr) {
    helper_.reset();  // the helper destroys the instance and exits
    return;
  }
  if (plugin_->descriptor().destroy != nullptr) {
    const PluginCallScope scope(host_.plugin_name.c_str(), "destroy",
                                plugin_->info().file.c_str());
    plugin_->descriptor().destroy(instance_);
  }
}

std::shared_ptr<Run> Collector::NewRun() {
  // Runs go back to spare_ when the last holder lets
  // go, so a MetricSet keeps its capacity from scrape to scrape.
  std::unique_ptr<Run> run;
  if (!spare_.empty()) {
    run = std::move(spare_.back());
    spare_.pop_back();
  } else {
    run = std::make_unique<Run>();
  }
  run->metrics.Clear();
  run->metrics.set_sample_limit(settings_.sample_limit);
  run->ok = false;
  run->error.clear();
  run->seconds = 0;
  run->skipped_lines = 0;
  run->refused_families = 0;
  run->done.store(false, std::memory_order_relaxed);
  run->waiters.clear();
  return {run.release(), [this](Run* r) {
            MutexLock lock(mu_);
            spare_.emplace_back(r);
          }};
}

std::shared_ptr<Run> Collector::Start(
    Clock::time_point deadline, StartKind* kind,
    const std::shared_ptr<RunWaiter>& waiter) {
  MutexLock lock(mu_);
  const Clock::time_point now = Clock::now();
  if (current_ != nullptr && now > current_->deadline) {
    *kind = StartKind::kBusy;
    return nullptr;
  }
  if (current_ != nullptr) {
    *kind = StartKind::kJoined;
  } else {
    current_ = NewRun();
    current_->started = now;
    current_->deadline = deadline;
    *kind = StartKind::kStarted;
  }
  if (waiter != nullptr) {
    // Lock order everywhere: collector mu_, then waiter mu.
    MutexLock wl(waiter->mu);
    ++waiter->pending;
    current_->waiters.push_back(waiter);
  }
  return current_;
}

std::uint64_t Collector::errors() const {
  MutexLock lock(mu_);
  return errors_;
}

void Collector::StopRunningInline(double seconds) {
  if (demoted_.exchange(true)) return;
  std::string took;
  AppendValue(took, seconds);
  Log(LogLevel::kWarn,
      "collect() overstayed its deadline on the scraping thread; it runs on "
      "the collector pool from now on, where a late run costs only this "
      "collector",
      {{"collector", name()}, {"seconds", took}});
}

std::uint64_t Collector::skipped_lines() const {
  MutexLock lock(mu_);
  return skipped_lines_;
}

std::uint64_t Collector::refused_families() const {
  MutexLock lock(mu_);
  return refused_families_;
}

void Collector::CountRefusedFamilies(std::uint64_t n) {
  MutexLock lock(mu_);
  refused_families_ += n;
}

void Collector::ShareNames(std::vector<std::string> longer_names,
                           std::shared_ptr<ReservedNameBoard> reserved) {
  host_.longer_names = std::move(longer_names);
  host_.reserved = std::move(reserved);
}

void Collector::RecordScrape(bool success, double seconds,
                             const std::string& error) {
  const auto now = std::chrono::system_clock::now();
  MutexLock lock(mu_);
  if (!success) ++errors_;
  last_.seen = true;
  last_.success = success;
  last_.seconds = seconds;
  last_.error = error;  // no allocation while it stays empty
  last_.when = now;
}

Collector::LastScrape Collector::last_scrape() const {
  MutexLock lock(mu_);
  return last_;
}

std::shared_ptr<const std::vector<Collector::KnownFamily>>
Collector::known_families() const {
  MutexLock lock(mu_);
  return known_;
}

void Collector::NoteFamilies(const MetricSet& set) {
  const auto known = known_families();
  const auto less = [](const KnownFamily& k, std::string_view name) {
    return k.name < name;
  };
  // The names not yet known; in the common case, none, and no allocation.
  // A set never holds a family twice, so appending them and sorting once
  // keeps the names unique.
  std::vector<KnownFamily> fresh;
  for (const MetricSet::Family& f : set.families()) {
    const std::string_view name = set.str(f.name);
    const auto it = std::lower_bound(known->begin(), known->end(), name, less);
    if (it == known->end() || it->name != name) {
      fresh.push_back(KnownFamily{std::string(name), f.type});
    }
  }
  if (fresh.empty() || known->size() >= kMaxKnownFamilies) return;
  if (host_.reserved != nullptr &&
      RankOf(name(), info().shipped) == MergeRank::kShipped) {
    // Names a shipped collector has served are refused to third parties
    // from now on, at begin_family (name_ownership.hpp).
    std::vector<std::string> names;
    names.reserve(fresh.size());
    for (const KnownFamily& k : fresh) names.push_back(k.name);
    host_.reserved->Add(names);
  }
  auto next = std::make_shared<std::vector<KnownFamily>>(*known);
  const std::size_t room = kMaxKnownFamilies - next->size();
  if (fresh.size() > room) fresh.resize(room);
  std::move(fresh.begin(), fresh.end(), std::back_inserter(*next));
  std::sort(next->begin(), next->end(),
            [](const KnownFamily& a, const KnownFamily& b) {
              return a.name < b.name;
            });
  MutexLock lock(mu_);
  known_ = std::move(next);
}

std::uint64_t Collector::restarts() const {
  return helper_ != nullptr ? helper_->restarts() : 0;
}

sm_status Collector::CallCollect(sm_emitter* em, const Run& run,
                                 std::string* error) {
  if (helper_ != nullptr) return helper_->Collect(em, run.deadline, error);
  char err[kErrLen];
  err[0] = '\0';
  sm_status st = SM_ERR;
  {
    const PluginCallScope scope(host_.plugin_name.c_str(), "collect",
                                info_->file.c_str());
    st = plugin_->descriptor().collect(instance_, em, err, sizeof err);
  }
  if (st != SM_OK) {
    err[kErrLen - 1] = '\0';
    *error = err[0] != '\0' ? err : "collect failed without a reason";
  }
  return st;
}

void Collector::Execute(const std::shared_ptr<Run>& run_ptr) {
  Run& run = *run_ptr;
  sm_emitter em;
  em.host = &host_;
  em.set = &run.metrics;
  const auto t0 = Clock::now();
  std::string error;
  const sm_status st = CallCollect(&em, run, &error);
  run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  run.skipped_lines = em.skipped;
  run.refused_families = em.refused_families;
  em.set->Finish();
  if (run.metrics.limit_reached()) {
    // Truncated output is wrong output: fail the collector for this scrape.
    run.ok = false;
    run.error = "emitted more than the sample limit of " +
                std::to_string(settings_.sample_limit) +
                " samples (or as many families)";
  } else if (st == SM_OK) {
    run.ok = true;
    NoteFamilies(run.metrics);
  } else {
    run.ok = false;
    run.error = std::move(error);
  }
  MutexLock lock(mu_);
  skipped_lines_ += run.skipped_lines;
  refused_families_ += run.refused_families;
  run.done.store(true, std::memory_order_release);
  current_.reset();
  for (const std::shared_ptr<RunWaiter>& w : run.waiters) {
    MutexLock wl(w->mu);
    if (--w->pending <= w->wake_at) w->cv.NotifyOne();
  }
  run.waiters.clear();
}

CollectorPool::CollectorPool(std::size_t max_threads)
    : max_threads_(max_threads == 0 ? 1 : max_threads) {}

CollectorPool::~CollectorPool() { Stop(std::chrono::seconds(5)); }

void CollectorPool::Submit(Collector* collector, std::shared_ptr<Run> run) {
  MutexLock lock(mu_);
  if (stop_) return;
  queue_.push_back(Task{collector, std::move(run)});
  if (idle_ == 0 && threads_.size() < max_threads_) {
    threads_.emplace_back([this] { Loop(); });
  } else {
    cv_.NotifyOne();
  }
}

void CollectorPool::Loop() {
  MutexLock lock(mu_);
  for (;;) {
    ++idle_;
    while (!stop_ && queue_.empty()) cv_.Wait(mu_);
    --idle_;
    if (stop_) return;
    Task task = std::move(queue_.back());
    queue_.pop_back();
    ++running_;
    lock.Unlock();
    task.collector->Execute(task.run);
    task.run.reset();  // may recycle the run: takes the collector's mutex
    lock.Lock();
    if (--running_ == 0) idle_cv_.NotifyAll();
  }
}

bool CollectorPool::Stop(Clock::duration bound) {
  const Clock::time_point give_up = Clock::now() + bound;
  MutexLock lock(mu_);
  stop_ = true;
  queue_.clear();
  cv_.NotifyAll();
  while (running_ != 0) {
    if (!idle_cv_.WaitUntil(mu_, give_up)) break;
  }
  const bool drained = running_ == 0;
  std::vector<std::thread> threads = std::move(threads_);
  threads_.clear();
  lock.Unlock();
  for (std::thread& t : threads) {
    if (drained) {
      t.join();
    } else {
      t.detach();  // still inside a plugin; the process outlives it
    }
  }
  return drained;
}

}  // namespace sysmetrics
