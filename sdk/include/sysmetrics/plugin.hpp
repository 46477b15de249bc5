// sysmetrics plugin SDK: optional header-only C++ layer over plugin.h.
//
// A C++ collector is a class with a constructor taking `sysmetrics::Host&`
// (read options there; throw sysmetrics::Error to refuse) and a method
// `void Collect(sysmetrics::Emitter&)` (throw sysmetrics::Error to fail the
// scrape). SYSMETRICS_CPP_PLUGIN defines the descriptor and the entry
// function, and trampolines that catch every exception at the C boundary,
// so no exception ever reaches the host (contract 5 of plugin.h).
//
// Thread-safety follows plugin.h: Collect() of one instance is never called
// concurrently with itself; Host and Emitter are thin handles over the host
// table and may be used from the thread inside the call only.
#pragma once

#include <sysmetrics/plugin.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sysmetrics {

// Thrown by plugin code to fail create or collect with a status and reason.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, sm_status status = SM_ERR)
      : std::runtime_error(what), status_(status) {}
  sm_status status() const noexcept { return status_; }

 private:
  sm_status status_;
};

// Access to the host services for one instance: config, roots, logging.
class Host {
 public:
  Host(sm_host* host, const sm_host_api* api) : host_(host), api_(api) {}

  bool Bool(const char* key) const {
    int v = 0;
    Check(api_->config_bool(host_, key, &v), key);
    return v != 0;
  }
  std::int64_t Int(const char* key) const {
    std::int64_t v = 0;
    Check(api_->config_int(host_, key, &v), key);
    return v;
  }
  double Double(const char* key) const {
    double v = 0;
    Check(api_->config_double(host_, key, &v), key);
    return v;
  }
  std::string String(const char* key) const {
    const char* v = nullptr;
    Check(api_->config_string(host_, key, &v), key);
    return v != nullptr ? v : "";
  }
  std::vector<std::string> StringList(const char* key) const {
    std::size_t n = 0;
    Check(api_->config_list_size(host_, key, &n), key);
    std::vector<std::string> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      const char* v = nullptr;
      Check(api_->config_list_item(host_, key, i, &v), key);
      out.emplace_back(v != nullptr ? v : "");
    }
    return out;
  }
  std::string ProcfsRoot() const { return api_->procfs_root(host_); }
  std::string SysfsRoot() const { return api_->sysfs_root(host_); }

  void Log(sm_log_level level, const std::string& msg) const {
    api_->log(host_, level, msg.c_str());
  }

  sm_host* raw() const { return host_; }
  const sm_host_api* api() const { return api_; }

 private:
  static void Check(sm_status s, const char* key) {
    if (s != SM_OK) {
      throw Error(std::string("option '") + key +
                      "' is not declared with this type in the schema",
                  SM_ERR_CONFIG);
    }
  }

  sm_host* host_;
  const sm_host_api* api_;
};

// A regular expression in the host's engine (ABI 1.3; ECMAScript syntax,
// as std::regex): a plugin that uses it carries no regex engine of its
// own. Compile once (in the constructor), search as often as needed; a
// Regex is immutable, so searches may run on any thread. Move-only; it
// must go before the instance's destroy() returns (a member of the
// collector does).
class Regex {
 public:
  // Throws Error(SM_ERR_CONFIG) with the engine's reason when pattern does
  // not compile, or when the host is older than 1.3.
  Regex(const Host& host, const std::string& pattern) : api_(host.api()) {
    if (!SM_HAS_MEMBER(api_, sm_host_api, regex_free) ||
        api_->regex_compile == nullptr) {
      throw Error("regular expressions need a host of plugin ABI 1.3 or later",
                  SM_ERR_CONFIG);
    }
    char err[256] = {};
    re_ = api_->regex_compile(host.raw(), pattern.c_str(), err, sizeof err);
    if (re_ == nullptr) throw Error(err, SM_ERR_CONFIG);
  }
  ~Regex() {
    if (re_ != nullptr) api_->regex_free(re_);
  }
  Regex(Regex&& other) noexcept
      : api_(other.api_), re_(std::exchange(other.re_, nullptr)) {}
  Regex& operator=(Regex&& other) noexcept {
    if (this != &other) {
      if (re_ != nullptr) api_->regex_free(re_);
      api_ = other.api_;
      re_ = std::exchange(other.re_, nullptr);
    }
    return *this;
  }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Whether the expression matches somewhere in text. Throws Error when
  // the engine gives up (a pattern too complex for this text).
  bool Search(std::string_view text) const {
    const int r = api_->regex_search(re_, text.data(), text.size());
    if (r < 0) throw Error("regular expression search failed");
    return r == 1;
  }

 private:
  const sm_host_api* api_;
  sm_regex* re_ = nullptr;
};

// Emits families and samples during one Collect() call.
class Emitter {
 public:
  // host is needed only to log a skipped line on a host older than 1.2.
  Emitter(sm_emitter* em, const sm_host_api* api, sm_host* host = nullptr)
      : em_(em), api_(api), host_(host) {}

  // Begins a family. Returns false if the host refused it (it logs why).
  bool Family(const char* name, const char* help, sm_metric_type type,
              const char* unit = nullptr) {
    sm_family f{};
    f.struct_size = sizeof f;
    f.name = name;
    f.help = help;
    f.type = type;
    f.unit = unit;
    return api_->begin_family(em_, &f) == SM_OK;
  }

  // Adds a sample with the given labels to the current family. Throws
  // sysmetrics::Error once the host's sample limit is reached.
  bool Sample(double value, const sm_label* labels = nullptr,
              std::uint32_t n_labels = 0, const char* suffix = nullptr) {
    sm_sample s{};
    s.struct_size = sizeof s;
    s.suffix = suffix;
    s.labels = labels;
    s.n_labels = n_labels;
    s.value = value;
    const sm_status st = api_->emit_sample(em_, &s);
    if (st == SM_ERR_LIMIT) throw Error("sample limit reached", SM_ERR_LIMIT);
    return st == SM_OK;
  }
  bool Sample(double value, std::initializer_list<sm_label> labels,
              const char* suffix = nullptr) {
    return Sample(value, labels.begin(),
                  static_cast<std::uint32_t>(labels.size()), suffix);
  }

  // Reports a line of file that Collect() skipped (plugin.h, contract 8).
  // A host older than ABI 1.2 cannot count it: the line is logged instead.
  void SkipLine(const char* file, std::uint64_t line, const char* reason) {
    if (SM_HAS_MEMBER(api_, sm_host_api, skip_line) &&
        api_->skip_line != nullptr) {
      api_->skip_line(em_, file, line, reason);
    } else if (host_ != nullptr) {
      const std::string msg = std::string(file) + ":" + std::to_string(line) +
                              ": line skipped: " + reason;
      api_->log(host_, SM_LOG_WARN, msg.c_str());
    }
  }

 private:
  sm_emitter* em_;
  const sm_host_api* api_;
  sm_host* host_;
};

namespace detail {

inline void WriteError(char* err, std::size_t err_len, const char* msg) {
  if (err == nullptr || err_len == 0) return;
  std::size_t n = std::strlen(msg);
  if (n >= err_len) n = err_len - 1;
  std::memcpy(err, msg, n);
  err[n] = '\0';
}

template <class T>
struct Instance {
  Instance(sm_host* h, const sm_host_api* a) : host(h, a), impl(host) {}
  Host host;
  T impl;
};

// Runs f, turning every exception into a status and error text.
template <class F>
sm_status Guard(char* err, std::size_t err_len, F&& f) noexcept {
  try {
    std::forward<F>(f)();
    return SM_OK;
  } catch (const Error& e) {
    WriteError(err, err_len, e.what());
    return e.status() == SM_OK ? SM_ERR : e.status();
  } catch (const std::bad_alloc&) {
    WriteError(err, err_len, "out of memory");
    return SM_ERR;
  } catch (const std::exception& e) {
    WriteError(err, err_len, e.what());
    return SM_ERR;
  } catch (...) {
    WriteError(err, err_len, "unknown C++ exception");
    return SM_ERR;
  }
}

template <class T>
sm_status Create(sm_host* host, const sm_host_api* api, void** instance,
                 char* err, std::size_t err_len) noexcept {
  // Guard catches std::bad_alloc from new.
  // NOLINTBEGIN(bugprone-unhandled-exception-at-new)
  return Guard(err, err_len, [&] { *instance = new Instance<T>(host, api); });
  // NOLINTEND(bugprone-unhandled-exception-at-new)
}

template <class T>
sm_status Collect(void* instance, sm_emitter* em, char* err,
                  std::size_t err_len) noexcept {
  auto* inst = static_cast<Instance<T>*>(instance);
  return Guard(err, err_len, [&] {
    Emitter emitter(em, inst->host.api(), inst->host.raw());
    inst->impl.Collect(emitter);
  });
}

template <class T>
void Destroy(void* instance) noexcept {
  try {
    delete static_cast<Instance<T>*>(instance);
  } catch (...) {  // NOLINT(bugprone-empty-catch): nowhere left to report.
  }
}

}  // namespace detail

// Helpers to declare options in a schema array.
constexpr sm_option BoolOption(const char* key, bool def, const char* help) {
  return sm_option{sizeof(sm_option), key, SM_OPT_BOOL, help,
                   def ? 1 : 0,       0.0, nullptr,     nullptr};
}
constexpr sm_option IntOption(const char* key, std::int64_t def,
                              const char* help) {
  return sm_option{sizeof(sm_option), key,    SM_OPT_INT, help, def, 0.0,
                   nullptr,           nullptr};
}
constexpr sm_option DoubleOption(const char* key, double def,
                                 const char* help) {
  return sm_option{sizeof(sm_option), key,    SM_OPT_DOUBLE, help, 0, def,
                   nullptr,           nullptr};
}
constexpr sm_option StringOption(const char* key, const char* def,
                                 const char* help) {
  return sm_option{
      sizeof(sm_option), key, SM_OPT_STRING, help, 0, 0.0, def, nullptr};
}
constexpr sm_option StringListOption(const char* key, const char* const* def,
                                     const char* help) {
  return sm_option{sizeof(sm_option), key, SM_OPT_STRING_LIST, help, 0, 0.0,
                   nullptr,           def};
}

}  // namespace sysmetrics

// Defines the descriptor and the entry point for collector class T.
// OPTIONS is a static array of sm_option (or nullptr with N_OPTIONS 0).
#define SYSMETRICS_CPP_PLUGIN(T, NAME, VERSION, DESCRIPTION, OPTIONS,      \
                              N_OPTIONS)                                   \
  SYSMETRICS_CPP_PLUGIN_WITH_FLAGS(T, NAME, VERSION, DESCRIPTION, OPTIONS, \
                                   N_OPTIONS, 0u)

// The same with sm_plugin.flags, e.g. SM_PLUGIN_NONBLOCKING for a collector
// whose Collect() only reads /proc or /sys and computes (plugin.h, 7).
#define SYSMETRICS_CPP_PLUGIN_WITH_FLAGS(T, NAME, VERSION, DESCRIPTION,  \
                                         OPTIONS, N_OPTIONS, FLAGS)      \
  extern "C" const sm_plugin* sysmetrics_plugin_entry(                   \
      uint32_t /*host_abi_major*/, uint32_t /*host_abi_minor*/) {        \
    static const sm_plugin kPlugin = {sizeof(sm_plugin),                 \
                                      SM_ABI_VERSION_MAJOR,              \
                                      SM_ABI_VERSION_MINOR,              \
                                      NAME,                              \
                                      VERSION,                           \
                                      DESCRIPTION,                       \
                                      OPTIONS,                           \
                                      N_OPTIONS,                         \
                                      &::sysmetrics::detail::Create<T>,  \
                                      &::sysmetrics::detail::Collect<T>, \
                                      &::sysmetrics::detail::Destroy<T>, \
                                      FLAGS};                            \
    return &kPlugin;                                                     \
  }
