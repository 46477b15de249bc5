#include "plugin/fatal_signal.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace sysmetrics {
namespace {

constexpr std::array<int, 6> kFatalSignals = {SIGSEGV, SIGBUS,  SIGILL,
                                              SIGFPE,  SIGABRT, SIGSYS};
// Enough for the handler's frame when the thread's own stack is exhausted.
constexpr std::size_t kAltStackBytes = std::size_t{64} * 1024;

thread_local const PluginCallScope* t_current = nullptr;

// A thread's alternate signal stack, given up when the thread ends (scrape
// workers come and go; a mapping per thread ever started would pile up).
struct AltStack {
  bool tried = false;
  void* mem = nullptr;
  AltStack() = default;
  AltStack(const AltStack&) = delete;
  AltStack& operator=(const AltStack&) = delete;
  ~AltStack() {
    if (mem == nullptr) return;
    stack_t off{};
    off.ss_flags = SS_DISABLE;
    ::sigaltstack(&off, nullptr);
    ::munmap(mem, kAltStackBytes);
  }
};
thread_local AltStack t_alt_stack;

// A quarantine record to write when a call into file crashes; immutable
// once published in g_records.
struct CrashRecord {
  std::string file;
  std::string path;
  std::string tmp_path;
  std::string dir;
  std::string head;
};
constexpr std::size_t kMaxCrashRecords = 256;
// Read by the handler (lock-free atomics are async-signal-safe); written by
// SetCrashRecord on the main thread.
std::array<std::atomic<const CrashRecord*>, kMaxCrashRecords> g_records{};
// Every record ever set, replaced ones included: a handler may still be
// reading one that SetCrashRecord just replaced, so none is ever freed.
std::vector<std::unique_ptr<const CrashRecord>> g_records_owned;
std::atomic<bool> g_record_written{false};

std::atomic<bool> g_json{false};
std::atomic<bool> g_installed{false};
// The actions ours replaced, to hand each signal on to.
std::array<struct sigaction, kFatalSignals.size()> g_previous{};

const char* SignalName(int sig) {
  switch (sig) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGBUS:
      return "SIGBUS";
    case SIGILL:
      return "SIGILL";
    case SIGFPE:
      return "SIGFPE";
    case SIGABRT:
      return "SIGABRT";
    case SIGSYS:
      return "SIGSYS";
    default:
      return "signal";
  }
}

bool WriteAll(int fd, const char* data, std::size_t size) {
  std::size_t off = 0;
  while (off < size) {
    const ssize_t n = ::write(fd, data + off, size - off);
    if (n > 0) {
      off += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

// A fixed buffer that appends without allocating, dropping what does not
// fit; all a signal handler may use.
class LineBuffer {
 public:
  void Add(const char* s) {
    while (*s != '\0') Put(*s++);
  }
  void Put(char c) {
    if (size_ < buf_.size()) buf_[size_++] = c;
  }
  // Digits of v, zero-padded to width.
  void Number(std::uint64_t v, int width) {
    char digits[20];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0 && n < 20);
    for (int i = n; i < width; ++i) Put('0');
    while (n > 0) Put(digits[--n]);
  }
  // s as the inside of a quoted value or JSON string, escaped as the
  // logger escapes it: '"' and '\\' with a backslash, control bytes as
  // \u00XX.
  void Quoted(const char* s) {
    for (; *s != '\0'; ++s) {
      const auto c = static_cast<unsigned char>(*s);
      if (c == '"' || c == '\\') {
        Put('\\');
        Put(static_cast<char>(c));
      } else if (c < 0x20 || c == 0x7f) {
        Add("\\u00");
        constexpr char kHex[] = "0123456789abcdef";
        Put(kHex[c >> 4]);
        Put(kHex[c & 0xf]);
      } else {
        Put(static_cast<char>(c));
      }
    }
  }
  // A text-mode value as the logger writes it: bare unless empty or
  // holding a space, quote, '=', a control or non-ASCII byte.
  void TextValue(const char* s) {
    bool quote = *s == '\0';
    for (const char* p = s; *p != '\0' && !quote; ++p) {
      const auto c = static_cast<unsigned char>(*p);
      quote = c <= 0x20 || c == '"' || c == '=' || c >= 0x7f;
    }
    if (!quote) {
      Add(s);
      return;
    }
    Put('"');
    Quoted(s);
    Put('"');
  }
  bool WriteTo(int fd) const { return WriteAll(fd, buf_.data(), size_); }

 private:
  std::array<char, 2048> buf_{};
  std::size_t size_ = 0;
};

// UTC "YYYY-MM-DDTHH:MM:SS.mmmZ" from the realtime clock, as the logger
// prints it (clock_gettime is async-signal-safe; gmtime is not, hence the
// civil-date arithmetic).
void AddTimestamp(LineBuffer* out) {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  const std::int64_t secs = ts.tv_sec;
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  // Howard Hinnant's days-to-civil.
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe =
      (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  out->Number(static_cast<std::uint64_t>(year), 4);
  out->Put('-');
  out->Number(static_cast<std::uint64_t>(month), 2);
  out->Put('-');
  out->Number(static_cast<std::uint64_t>(day), 2);
  out->Put('T');
  out->Number(static_cast<std::uint64_t>(rem / 3600), 2);
  out->Put(':');
  out->Number(static_cast<std::uint64_t>(rem / 60 % 60), 2);
  out->Put(':');
  out->Number(static_cast<std::uint64_t>(rem % 60), 2);
  out->Put('.');
  out->Number(static_cast<std::uint64_t>(ts.tv_nsec / 1000000), 3);
  out->Put('Z');
}

void WriteCrashLine(int sig, const PluginCallScope& scope) {
  LineBuffer line;
  const char* const msg = "plugin crashed: the process exits";
  if (g_json.load(std::memory_order_relaxed)) {
    line.Add("{\"ts\":\"");
    AddTimestamp(&line);
    line.Add("\",\"level\":\"error\",\"msg\":\"");
    line.Add(msg);
    line.Add("\",\"collector\":\"");
    line.Quoted(scope.collector());
    line.Add("\",\"call\":\"");
    line.Quoted(scope.call());
    line.Add("\",\"signal\":\"");
    line.Add(SignalName(sig));
    line.Add("\",\"file\":\"");
    line.Quoted(scope.file());
    line.Add("\"}\n");
  } else {
    AddTimestamp(&line);
    line.Add(" error ");
    line.Add(msg);
    line.Add(" collector=");
    line.TextValue(scope.collector());
    line.Add(" call=");
    line.TextValue(scope.call());
    line.Add(" signal=");
    line.Add(SignalName(sig));
    line.Add(" file=");
    line.TextValue(scope.file());
    line.Put('\n');
  }
  line.WriteTo(STDERR_FILENO);
}

bool SameText(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

const CrashRecord* FindCrashRecord(const char* file) {
  for (const auto& slot : g_records) {
    const CrashRecord* r = slot.load(std::memory_order_acquire);
    if (r == nullptr) return nullptr;  // slots fill from the front
    if (SameText(r->file.c_str(), file)) return r;
  }
  return nullptr;
}

// The quarantine record of the crashed plugin, if it has one: the head
// prepared at load, then call, signal and time (quarantine.hpp's format;
// the call names are literals that need no escaping). Synced before the
// rename and the directory after it, so the record survives what follows.
void WriteCrashRecord(int sig, const PluginCallScope& scope) {
  const CrashRecord* r = FindCrashRecord(scope.file());
  if (r == nullptr || g_record_written.exchange(true)) return;
  LineBuffer tail;
  tail.Add("call=");
  tail.Add(scope.call());
  tail.Add("\nsignal=");
  tail.Add(SignalName(sig));
  tail.Add("\ntime=");
  AddTimestamp(&tail);
  tail.Put('\n');
  const int fd =
      ::open(r->tmp_path.c_str(),
             O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return;
  const bool written = WriteAll(fd, r->head.data(), r->head.size()) &&
                       tail.WriteTo(fd) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(r->tmp_path.c_str(), r->path.c_str()) != 0) {
    ::unlink(r->tmp_path.c_str());
    return;
  }
  const int dir = ::open(r->dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

void OnFatalSignal(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  if (const PluginCallScope* scope = t_current; scope != nullptr) {
    WriteCrashLine(sig, *scope);
    WriteCrashRecord(sig, *scope);
  }
  // Hand the signal on as if we had not been here.
  for (std::size_t i = 0; i < kFatalSignals.size(); ++i) {
    if (kFatalSignals[i] != sig) continue;
    const struct sigaction& prev = g_previous[i];
    if ((prev.sa_flags & SA_SIGINFO) != 0 && prev.sa_sigaction != nullptr) {
      errno = saved_errno;
      prev.sa_sigaction(sig, info, context);
      return;
    }
    if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN &&
        prev.sa_handler != nullptr) {
      errno = saved_errno;
      prev.sa_handler(sig);
      return;
    }
  }
  // The default action: restore it and let the signal take the process. A
  // fault re-executes the faulting instruction on return; abort() and
  // raise() are re-raised.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  if (info == nullptr || info->si_code <= 0) ::raise(sig);
  errno = saved_errno;
}

// An alternate stack for this thread, once: a plugin that overflows its
// stack faults with no stack left for a handler.
void EnsureAltStack() noexcept {
  if (t_alt_stack.tried) return;
  t_alt_stack.tried = true;  // one attempt per thread, whatever happens
  stack_t current{};
  if (::sigaltstack(nullptr, &current) == 0 &&
      (current.ss_flags & SS_DISABLE) == 0) {
    return;  // the thread has one already (a sanitizer's, say)
  }
  void* mem = ::mmap(nullptr, kAltStackBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return;
  stack_t ss{};
  ss.ss_sp = mem;
  ss.ss_size = kAltStackBytes;
  ss.ss_flags = 0;
  if (::sigaltstack(&ss, nullptr) != 0) {
    ::munmap(mem, kAltStackBytes);
    return;
  }
  t_alt_stack.mem = mem;
}

}  // namespace

void InstallFatalSignalHandler(LogFormat format) {
  g_json.store(format == LogFormat::kJson, std::memory_order_relaxed);
  if (g_installed.exchange(true)) return;
  for (std::size_t i = 0; i < kFatalSignals.size(); ++i) {
    struct sigaction sa {};
    sa.sa_sigaction = OnFatalSignal;
    ::sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    ::sigaction(kFatalSignals[i], &sa, &g_previous[i]);
  }
}

Status SetCrashRecord(const std::string& file, const std::string& record_path,
                      const std::string& head) {
  auto record = std::make_unique<CrashRecord>();
  record->file = file;
  record->path = record_path;
  record->tmp_path = record_path + ".tmp";
  const std::size_t slash = record_path.rfind('/');
  record->dir = slash == std::string::npos ? std::string(".")
                : slash == 0               ? std::string("/")
                                           : record_path.substr(0, slash);
  record->head = head;
  for (auto& slot : g_records) {
    const CrashRecord* current = slot.load(std::memory_order_acquire);
    if (current != nullptr && current->file != file) continue;
    // A reload sets the same record again: keep the one in place, or
    // every reload would add one for good.
    if (current != nullptr && current->path == record->path &&
        current->head == record->head) {
      return Status::Ok();
    }
    slot.store(record.get(), std::memory_order_release);
    g_records_owned.push_back(std::move(record));
    return Status::Ok();
  }
  return Status::Error("too many plugin files");
}

PluginCallScope::PluginCallScope(const char* collector, const char* call,
                                 const char* file) noexcept
    : previous_(t_current),
      collector_(collector != nullptr ? collector : "?"),
      call_(call != nullptr ? call : "?"),
      file_(file != nullptr ? file : "?") {
  EnsureAltStack();
  t_current = this;
}

PluginCallScope::~PluginCallScope() { t_current = previous_; }

const PluginCallScope* PluginCallScope::Current() noexcept { return t_current; }

}  // namespace sysmetrics
