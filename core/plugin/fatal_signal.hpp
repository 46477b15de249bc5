// Fatal signals inside plugin code (crash containment, first layer): when
// SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT or SIGSYS arrives on a thread
// that is inside a plugin call, one log line names the collector, the call
// and the signal before the process dies as it would have (the handler that
// was installed before ours, a sanitizer's say, else the default action:
// the same signal, the same exit status, a core dump where enabled). The
// handler is async-signal-safe: it formats into a stack buffer and write()s
// to stderr.
//
// Second layer, quarantine (quarantine.hpp): in the serving process, a
// plugin file given a crash record (SetCrashRecord) before it is loaded has
// that record written by the handler when it crashes, with open, write,
// fsync, rename and close only: everything else was prepared beforehand.
#pragma once

#include <string>

#include "util/log.hpp"
#include "util/status.hpp"

namespace sysmetrics {

// Installs the handler (once; later calls only change the format). Call
// after InitLogging, before any plugin is loaded.
void InstallFatalSignalHandler(LogFormat format);

// What the handler writes when a plugin call into file (the path its
// PluginCallScope names) dies of a fatal signal: head (quarantine.hpp's
// FormatQuarantineHead) followed by "call=", "signal=" and "time=" lines, to
// record_path through record_path + ".tmp" and a rename, so a reader never
// sees half a record. The first crash of the process writes its record; a
// second, on another thread meanwhile, writes none. Replaces the record set
// earlier for the same file. An error ("too many plugin files") when the
// table (256 files) is full: that plugin then runs without one. Main thread
// only; never call it in a process that must not write records
// (--check-config).
Status SetCrashRecord(const std::string& file, const std::string& record_path,
                      const std::string& head);

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
