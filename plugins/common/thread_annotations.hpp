// Lock ownership as code: Clang's thread-safety attributes, and a mutex,
// scoped lock and condition variable that carry them. Shared by the host
// (core/) and the built-in plugins; header-only and free of host code.
//
// A member declared `T x_ GUARDED_BY(mu_);` may only be read or written
// with mu_ held; a function declared `REQUIRES(mu_)` may only be called with
// it held, `EXCLUDES(mu_)` only without. Clang checks this at compile time
// with -Wthread-safety: in every clang build (the top CMakeLists.txt; an
// error under SYSMETRICS_WERROR) and in clang-tidy (.clang-tidy), which CI
// runs on every file. Under GCC the macros are empty and the types cost
// what std::mutex and std::condition_variable cost. libstdc++'s std::mutex
// carries no attributes, so guarded data is locked with the Mutex below.
//
// The analysis is per function and does not follow aliases: lock and touch
// the data through the same expression (`MutexLock lock(w.mu); ++w.n;`,
// not `lock(p->mu); ++w.n;` with w == *p). Lambda bodies are functions of
// their own, holding nothing: wait with an explicit loop around
// CondVar::Wait, not with a predicate. Constructors and destructors are
// not checked.
//
// Thread-safety: Mutex and CondVar are thread-safe; a MutexLock belongs
// to the thread that made it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define SM_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define SM_THREAD_ANNOTATION(x)
#endif

// A type that is a lock (Mutex).
#define CAPABILITY(x) SM_THREAD_ANNOTATION(capability(x))
// An RAII type that holds a lock from construction to destruction.
#define SCOPED_CAPABILITY SM_THREAD_ANNOTATION(scoped_lockable)
// The data member is read and written only with the lock held.
#define GUARDED_BY(x) SM_THREAD_ANNOTATION(guarded_by(x))
// What the pointer member points to is accessed only with the lock held.
#define PT_GUARDED_BY(x) SM_THREAD_ANNOTATION(pt_guarded_by(x))
// The caller holds the locks, and still holds them on return.
#define REQUIRES(...) SM_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// The caller must not hold the locks (the function takes them).
#define EXCLUDES(...) SM_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// The function takes the locks (no argument: the object itself).
#define ACQUIRE(...) SM_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
// The function lets go of the locks (no argument: the object itself).
#define RELEASE(...) SM_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
// The function returns a reference to the lock named.
#define RETURN_CAPABILITY(x) SM_THREAD_ANNOTATION(lock_returned(x))
// The function is not checked: for code whose locking the analysis
// cannot follow. Say why where it is used.
#define NO_THREAD_SAFETY_ANALYSIS \
  SM_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace sysmetrics {

// std::mutex with the attributes. Not recursive.
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds mu from construction to destruction; Unlock() and Lock() let go
// of it and take it again in between (the destructor releases it only if
// held).
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() RELEASE() {
    if (held_) mu_.Unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Precondition: held. Lets go of the lock.
  void Unlock() RELEASE() {
    mu_.Unlock();
    held_ = false;
  }
  // Precondition: not held. Takes the lock again.
  void Lock() ACQUIRE() {
    mu_.Lock();
    held_ = true;
  }

 private:
  Mutex& mu_;
  bool held_ = true;
};

// std::condition_variable waiting on a Mutex. Each wait lets go of mu while
// it sleeps and holds it again on return; a wait may return without a
// notification (spuriously), so wait in a loop on the condition.
class CondVar {
 public:
  // Blocks until notified (or spuriously woken).
  void Wait(Mutex& mu) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // still held: the caller's to unlock
  }
  // As Wait, but returns false once deadline has passed, true otherwise.
  template <class Clock, class Duration>
  bool WaitUntil(Mutex& mu,
                 const std::chrono::time_point<Clock, Duration>& deadline)
      REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    const std::cv_status status = cv_.wait_until(lock, deadline);
    lock.release();
    return status == std::cv_status::no_timeout;
  }

  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace sysmetrics
