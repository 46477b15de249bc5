#!/usr/bin/env bash
# The README's test command: installs what is needed, builds in Release with
# warnings as errors, checks formatting (clang-format) and static analysis
# (clang-tidy), then runs every test with CTest. Exits non-zero on any
# failure. BUILD_DIR overrides the build directory (default build-ci).
set -euo pipefail
cd "$(dirname "$0")/.."

packaging/install-build-deps.sh --test

build="${BUILD_DIR:-build-ci}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSYSMETRICS_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)"

echo "== clang-format"
git ls-files -z '*.c' '*.h' '*.cpp' '*.hpp' |
  xargs -0 clang-format --dry-run -Werror

echo "== clang-tidy"
# Every file of the build (.clang-tidy adds -Wthread-safety, which checks
# the lock annotations); not tests/thread_safety/probe.cpp, which is no
# target's source but clang's own test input, compiled by its tests, nor
# tests/layering/probe.cpp, which half of its probe targets must fail to
# compile (core_layering builds them).
tidy_status=0
git ls-files -z '*.cpp' ':!:sdk/examples/*' ':!:tests/out_of_tree/*' ':!:tests/fuzz/*' \
    ':!:tests/thread_safety/*' ':!:tests/layering/*' |
  xargs -0 -n 4 -P "$(nproc)" clang-tidy -p "$build" --quiet \
    --extra-arg=-Wno-unknown-warning-option >"$build/clang-tidy.log" 2>&1 ||
  tidy_status=$?
if [[ $tidy_status -ne 0 ]] || grep -q -E 'error:|warning:' "$build/clang-tidy.log"; then
  grep -E -A3 'error:|warning:' "$build/clang-tidy.log" >&2 || cat "$build/clang-tidy.log" >&2
  echo "clang-tidy reported findings (see above)" >&2
  exit 1
fi

echo "== function size (core/, at most 80 lines a function)"
# Units a reader takes in at one sitting: every function of the host but
# its tests (doctest cases are functions too) stays within 80 lines.
size_status=0
git ls-files -z 'core/*.cpp' ':!:core/*_test.cpp' |
  xargs -0 -n 4 -P "$(nproc)" clang-tidy -p "$build" --quiet \
    --extra-arg=-Wno-unknown-warning-option \
    -checks='-*,readability-function-size' \
    -config='{CheckOptions: [{key: readability-function-size.LineThreshold, value: 80}]}' \
    >"$build/function-size.log" 2>&1 || size_status=$?
if [[ $size_status -ne 0 ]] || grep -q -E 'warning:' "$build/function-size.log"; then
  grep -E -A2 'warning:' "$build/function-size.log" >&2 || cat "$build/function-size.log" >&2
  echo "functions over 80 lines in core/ (see above): split them" >&2
  exit 1
fi

echo "== ctest"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)"
