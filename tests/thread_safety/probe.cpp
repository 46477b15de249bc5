// Compiled by clang++ with -Wthread-safety -Werror (CMakeLists.txt here):
// as is it must compile, and with VIOLATION=n clang must reject violation
// n. So the attributes of plugins/common/thread_annotations.hpp reach
// clang and the analysis holds code to them (macros left empty by mistake
// would let every violation through).
#include "common/thread_annotations.hpp"

namespace {

class Counter {
 public:
  void Add() {
    sysmetrics::MutexLock lock(mu_);
    AddLocked();
    lock.Unlock();
    lock.Lock();
    while (n_ > 100) cv_.Wait(mu_);
  }

#if VIOLATION == 1
  int Read() { return n_; }  // no lock
#elif VIOLATION == 2
  void AddUnlocked() { AddLocked(); }  // REQUIRES, no lock
#elif VIOLATION == 3
  void AddAfterUnlock() {
    sysmetrics::MutexLock lock(mu_);
    lock.Unlock();
    ++n_;  // let go of above
  }
#elif VIOLATION == 4
  void WaitUnlocked() { cv_.Wait(mu_); }  // a wait needs the lock
#endif

 private:
  void AddLocked() REQUIRES(mu_) { ++n_; }

  sysmetrics::Mutex mu_;
  sysmetrics::CondVar cv_;
  int n_ GUARDED_BY(mu_) = 0;
};

}  // namespace
