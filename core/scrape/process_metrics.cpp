#include "scrape/process_metrics.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <string>

#include "common/text.hpp"
#include "scrape/name_ownership.hpp"
#include "util/log.hpp"

namespace sysmetrics {
namespace {

// Fields of /proc/<pid>/stat counted from the first after the command
// name's ')' (field 3, the state): proc(5)'s field number minus 3.
constexpr std::size_t kUtime = 11;      // field 14
constexpr std::size_t kStime = 12;      // field 15
constexpr std::size_t kStartTime = 19;  // field 22
constexpr std::size_t kVsize = 20;      // field 23
constexpr std::size_t kRss = 21;        // field 24, in pages

Result<double> ParseNumber(std::string_view field) {
  const std::optional<std::uint64_t> v = ParseWhole<std::uint64_t>(field);
  if (!v) {
    return Status::Error("\"" + std::string(field) + "\" is not a number");
  }
  return static_cast<double>(*v);
}

// Reads all of fd from offset 0 into buf (at most its size); returns the
// length, or -1.
ssize_t ReadAt0(int fd, char* buf, std::size_t size) {
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n =
        ::pread(fd, buf + got, size - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(got);
}

// The boot time (btime of /proc/stat), in seconds since the epoch; -1 when
// it cannot be read.
double BootTime() {
  std::FILE* f = std::fopen("/proc/stat", "re");
  if (f == nullptr) return -1;
  double btime = -1;
  char line[4096];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    const std::string_view l(line);
    if (!l.starts_with("btime ")) continue;
    std::string_view v = l.substr(6);
    while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) {
      v.remove_suffix(1);
    }
    const Result<double> parsed = ParseNumber(v);
    if (parsed.ok()) btime = parsed.value();
    break;
  }
  std::fclose(f);
  return btime;
}

void Gauge(MetricSet* set, std::string_view name, std::string_view help,
           double value, MetricType type = MetricType::kGauge) {
  set->BeginFamily(name, help, type);
  set->AddSample({}, {}, value);
}

}  // namespace

double CountOpenFds(bool use_size) {
  struct stat st {};
  if (use_size && ::stat("/proc/self/fd", &st) == 0 && st.st_size > 0) {
    return static_cast<double>(st.st_size);
  }
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  double n = 0;
  // A stream of our own: readdir is thread-safe on it (glibc, POSIX 2024).
  while (const dirent* e = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe)
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") ++n;
  }
  ::closedir(d);
  return n - 1;  // the descriptor that listed them
}

Result<ProcessStat> ParseProcessStat(std::string_view text,
                                     double ticks_per_second,
                                     double page_bytes) {
  const std::size_t close = text.rfind(')');
  if (close == std::string_view::npos) {
    return Status::Error("no ')' after the command name");
  }
  std::string_view rest = text.substr(close + 1);
  std::array<std::string_view, kRss + 1> f;
  for (std::string_view& field : f) {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\n')) {
      rest.remove_prefix(1);
    }
    const std::size_t end = std::min(rest.find_first_of(" \n"), rest.size());
    field = rest.substr(0, end);
    rest.remove_prefix(end);
    if (field.empty()) {
      return Status::Error("fewer than " + std::to_string(kRss + 3) +
                           " fields");
    }
  }
  std::array<double, kRss + 1> v{};
  for (const std::size_t i : {kUtime, kStime, kStartTime, kVsize, kRss}) {
    const Result<double> n = ParseNumber(f[i]);
    if (!n.ok()) {
      return Status::Error("field " + std::to_string(i + 3) + ": " + n.error());
    }
    v[i] = n.value();
  }
  ProcessStat out;
  out.cpu_seconds = (v[kUtime] + v[kStime]) / ticks_per_second;
  out.start_ticks = v[kStartTime];
  out.virtual_bytes = v[kVsize];
  out.resident_bytes = v[kRss] * page_bytes;
  return out;
}

ProcessMetrics::ProcessMetrics()
    : stat_fd_(::open("/proc/self/stat", O_RDONLY | O_CLOEXEC)),
      ticks_per_second_(static_cast<double>(::sysconf(_SC_CLK_TCK))),
      page_bytes_(static_cast<double>(::sysconf(_SC_PAGESIZE))) {
  if (stat_fd_ < 0) {
    Log(LogLevel::kWarn,
        "cannot open /proc/self/stat; process_* metrics "
        "other than the descriptor counts are not served");
    return;
  }
  char buf[1024];
  const ssize_t n = ReadAt0(stat_fd_, buf, sizeof buf);
  const double boot = BootTime();
  if (n <= 0 || boot < 0) return;
  const Result<ProcessStat> st = ParseProcessStat(
      {buf, static_cast<std::size_t>(n)}, ticks_per_second_, page_bytes_);
  if (st.ok()) start_time_ = boot + st.value().start_ticks / ticks_per_second_;
}

ProcessMetrics::~ProcessMetrics() {
  if (stat_fd_ >= 0) ::close(stat_fd_);
}

void ProcessMetrics::Append(MetricSet* set) const {
  // The help texts are client_golang's, word for word.
  ProcessStat st;
  char buf[1024];
  const ssize_t n = stat_fd_ < 0 ? -1 : ReadAt0(stat_fd_, buf, sizeof buf);
  // Served only when read; a failure leaves these families out.
  const Result<ProcessStat> parsed =
      n > 0 ? ParseProcessStat({buf, static_cast<std::size_t>(n)},
                               ticks_per_second_, page_bytes_)
            : Status::Error("cannot read /proc/self/stat");
  const bool have_stat = parsed.ok();
  if (have_stat) st = parsed.value();
  if (have_stat) {
    Gauge(set, kHostFamilies[kProcessCpuSeconds],
          "Total user and system CPU time spent in seconds.", st.cpu_seconds,
          MetricType::kCounter);
  }
  if (const double fds = CountOpenFds(true); fds >= 0) {
    Gauge(set, kHostFamilies[kProcessOpenFds],
          "Number of open file descriptors.", fds);
  }
  if (rlimit lim{}; ::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    Gauge(
        set, kHostFamilies[kProcessMaxFds],
        "Maximum number of open file descriptors.",
        lim.rlim_cur == RLIM_INFINITY ? -1 : static_cast<double>(lim.rlim_cur));
  }
  if (have_stat) {
    Gauge(set, kHostFamilies[kProcessVirtualMemory],
          "Virtual memory size in bytes.", st.virtual_bytes);
    Gauge(set, kHostFamilies[kProcessResidentMemory],
          "Resident memory size in bytes.", st.resident_bytes);
  }
  if (start_time_ >= 0) {
    Gauge(set, kHostFamilies[kProcessStartTime],
          "Start time of the process since unix epoch in seconds.",
          start_time_);
  }
}

}  // namespace sysmetrics
