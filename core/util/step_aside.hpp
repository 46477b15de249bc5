// StepAside: a thread that serves jobs under a limit on how many run at
// once (WorkerQueue) says, for a stretch, that it does not compute and so
// must not hold a place under that limit: it waits (for collectors on the
// pool), or it does bounded work that must not hold the jobs behind it back
// (a password check).
//
// The queue installs its hook on each of its threads; on any other thread
// a StepAside does nothing. Code that waits needs no link to the queue: the
// scrape marks its wait for collectors, the server its password checks.
#pragma once

namespace sysmetrics {

class StepAsideHook {
 public:
  // Leave: the calling thread no longer counts as running. Return: it
  // counts again, at once (it does not wait for a place).
  virtual void Leave() = 0;
  virtual void Return() = 0;

 protected:
  StepAsideHook() = default;
  ~StepAsideHook() = default;
  StepAsideHook(const StepAsideHook&) = default;
  StepAsideHook& operator=(const StepAsideHook&) = default;
};

// Installs hook for the calling thread (null removes it).
void SetStepAsideHook(StepAsideHook* hook);

// Steps aside from construction to destruction, on the thread that made
// it (not movable). Nested ones do nothing: the outermost acts.
class StepAside {
 public:
  StepAside();
  ~StepAside();
  StepAside(const StepAside&) = delete;
  StepAside& operator=(const StepAside&) = delete;

 private:
  StepAsideHook* hook_;
};

}  // namespace sysmetrics
