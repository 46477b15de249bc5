#!/usr/bin/env bash
# Runs the test suite built with sanitizers: every test (but packaging and
# the benchmark smoke run) with AddressSanitizer + UndefinedBehaviorSanitizer,
# then the tests labelled "concurrency" (concurrent scrapes over every
# plugin, reloads and shutdown during scrapes, hostile clients, the
# collector pool) with ThreadSanitizer. Any report fails: the runtime
# options make the first one end the process, and the end-to-end harness
# fails a test whose exporter printed one. Build trees: build-asan and
# build-tsan (SANITIZE_BUILD_PREFIX overrides "build").
set -euo pipefail
cd "$(dirname "$0")/.."

packaging/install-build-deps.sh --test
prefix="${SANITIZE_BUILD_PREFIX:-build}"
jobs="$(nproc)"

build() {  # build DIR SANITIZERS
  cmake -S . -B "$1" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSYSMETRICS_WERROR=ON \
    -DSYSMETRICS_SANITIZE="$2" >/dev/null
  cmake --build "$1" -j"$jobs"
}

echo "== AddressSanitizer + UndefinedBehaviorSanitizer: every test"
build "$prefix-asan" address,undefined
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions="$PWD/tests/lsan.supp":print_suppressions=0
ctest --test-dir "$prefix-asan" --output-on-failure -j"$jobs" -LE 'packaging|bench'

echo "== ThreadSanitizer: concurrency tests"
build "$prefix-tsan" thread
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:report_signal_unsafe=0
# GCC 12's ThreadSanitizer cannot map its shadow memory with the address
# space randomisation of recent kernels (vm.mmap_rnd_bits > 28): run the
# tests with randomisation off for these processes only.
setarch "$(uname -m)" -R \
  ctest --test-dir "$prefix-tsan" --output-on-failure -j"$jobs" -L concurrency \
   
echo "sanitizers: no reports"
