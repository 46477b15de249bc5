// Fatal signals inside plugin code (crash containment, first layer): when
// SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT or SIGSYS arrives on a thread
// that is inside a plugin call, one log line names the collector, the call
// and the signal before the process dies as it would have (the handler that
// was installed before ours, a sanitizer's say, else the default action:
// the same signal, the same exit status, a core dump where enabled). The
// handler is async-signal-safe: it formats into a stack buffer and write()s
// to stderr.
#pragma once

#include "log.hpp"

namespace sysmetrics {

// Installs the handler (once; later calls only change the format). Call
// after InitLogging, before any plugin is loaded.
void InstallFatalSignalHandler(LogFormat format);

// Marks the calling thread as inside a plugin call for the scope's life.
// collector, call and file must outlive the scope (the plugin's name and
// path, string literals). Scopes nest (the innermost is reported). The
// first scope on a thread gives it an alternate signal stack, so a plugin
// that overflows its stack is still named.
class PluginCallScope {
 public:
  PluginCallScope(const char* collector, const char* call,
                  const char* file) noexcept;
  ~PluginCallScope();
  PluginCallScope(const PluginCallScope&) = delete;
  PluginCallScope& operator=(const PluginCallScope&) = delete;

  const char* collector() const { return collector_; }
  const char* call() const { return call_; }
  const char* file() const { return file_; }
  // The innermost scope of the calling thread, or null.
  static const PluginCallScope* Current() noexcept;

 private:
  const PluginCallScope* previous_;
  const char* collector_;
  const char* call_;
  const char* file_;
};

}  // namespace sysmetrics
