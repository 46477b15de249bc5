#!/usr/bin/env bash
# Fuzzes every libFuzzer target for a bounded time: builds the whole project
# with clang, coverage and ASan+UBSan in its own build directory, checks the
# serializer's oracle (strict_parse_test), replays the checked-in crash
# regressions, then runs each target on a corpus seeded from the
# repository's fixtures, up to nproc targets at once. Exits non-zero if a
# regression still fails or a target crashed, leaked, hung, ran out of
# memory, broke an invariant or a sanitizer reported, and says where the
# input that did it is.
#
# Usage: tests/fuzz/run.sh [SECONDS_PER_TARGET]
#   SECONDS_PER_TARGET  fuzzing time per target (default $FUZZ_SECONDS, 60)
#   FUZZ_BUILD_DIR      build directory (default build-fuzz)
#   FUZZ_JOBS           targets fuzzed at once (default nproc)
#   FUZZ_TARGETS        space-separated subset of the targets (default all)
# The corpora in $FUZZ_BUILD_DIR/fuzz/corpus are kept from run to run, so
# coverage accumulates; delete them to start over from the seeds.
set -euo pipefail

started=$(date +%s)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

seconds="${1:-${FUZZ_SECONDS:-60}}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "run.sh: SECONDS_PER_TARGET must be a positive integer, not '$seconds'" >&2
  exit 2
fi
build="${FUZZ_BUILD_DIR:-build-fuzz}"
jobs="${FUZZ_JOBS:-$(nproc)}"
all_targets=(fuzz_proc_stat fuzz_meminfo fuzz_diskstats fuzz_net_dev
             fuzz_loadavg fuzz_psi fuzz_kernel_stat fuzz_vmstat fuzz_link_dump fuzz_textfile fuzz_config fuzz_http_request fuzz_serializer
             fuzz_wire)
read -r -a targets <<<"${FUZZ_TARGETS:-${all_targets[*]}}"
for t in "${targets[@]}"; do
  if [[ " ${all_targets[*]} " != *" $t "* ]]; then
    echo "run.sh: unknown target '$t' (known: ${all_targets[*]})" >&2
    exit 2
  fi
done

for tool in clang clang++ cmake; do
  if ! command -v "$tool" >/dev/null; then
    echo "run.sh: $tool not found (Debian: apt-get install clang-14" \
         "libclang-rt-14-dev cmake, plus the project's build dependencies)" >&2
    exit 2
  fi
done

echo "== configure $build (clang, libFuzzer, ASan, UBSan)"
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"
flags+=" -fno-omit-frame-pointer -g -O1"
generator=()
if [[ ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null; then
  generator=(-G Ninja)
fi
# Build type Fuzz has no flags of its own: the ones above are all, and
# without -DNDEBUG assertions stay on. Warnings stay warnings: the project's
# -Werror set is tuned for the release compilers.
mkdir -p "$build"
cmake -S . -B "$build" "${generator[@]}" \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=Fuzz \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
  -DSYSMETRICS_FUZZ=ON -DSYSMETRICS_WERROR=OFF >"$build/configure.log" 2>&1 || {
  cat "$build/configure.log" >&2
  exit 1
}

echo "== build"
cmake --build "$build" --target fuzz -j"$(nproc)"
bin="$build/tests/fuzz"

work="$build/fuzz"
rm -rf "$work/tmp"
mkdir -p "$work/logs" "$work/tmp"
# fuzz_config writes its input to files under TMPDIR; a crash leaves them
# here (emptied on every run) rather than in /tmp.
TMPDIR="$(cd "$work/tmp" && pwd)"
export TMPDIR

# Leaks, UB and memory errors all abort (UBSan would otherwise print and
# go on); the caller's own options come last and so win.
symbolizer="$(command -v llvm-symbolizer || true)"
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:symbolize=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:report_error_type=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
if [[ -n "$symbolizer" ]]; then export ASAN_SYMBOLIZER_PATH="$symbolizer"; fi

echo "== strict parser self-test"
"$bin/strict_parse_test" core/scrape/testdata/*.prom core/scrape/testdata/*.om.txt \
  tests/golden/*.prom tests/golden/*.om.txt

echo "== seeds from the fixtures"
# Fixture files for each /proc parser, by file name, wherever they are.
seed_files() {
  case "$1" in
    fuzz_proc_stat) find plugins/*/testdata tests/fixtures -type f -name stat ;;
    fuzz_meminfo) find plugins/*/testdata tests/fixtures -type f -name meminfo ;;
    fuzz_diskstats) find plugins/*/testdata tests/fixtures -type f -name diskstats ;;
    fuzz_net_dev) find plugins/*/testdata tests/fixtures -type f -path '*/net/dev' ;;
    fuzz_loadavg) find plugins/*/testdata tests/fixtures -type f -name loadavg ;;
    fuzz_psi) find plugins/*/testdata tests/fixtures -type f -path '*/pressure/*' ;;
    fuzz_kernel_stat) find plugins/*/testdata tests/fixtures -type f -name stat ;;
    fuzz_vmstat) find plugins/*/testdata tests/fixtures -type f -name vmstat ;;
    fuzz_textfile) find core/scrape/testdata tests/golden -type f -name '*.prom' ;;
  esac 2>/dev/null | sort
}
rm -rf "$work/seeds"
for t in "${targets[@]}"; do
  dir="$work/seeds/$t"
  mkdir -p "$dir"
  case "$t" in
    fuzz_config)
      # The shipped files: as they are, with every commented-out default
      # set, and that with a drop-in; and the plugin option types
      # ResolveOptions checks. Comment lines are dropped but for the first
      # few: toml11 reads comments a byte at a time, slowly, and the
      # fuzzer runs each seed's length over and over.
      n=0
      for f in etc/sysmetrics/*.toml etc/sysmetrics/conf.d/*.toml; do
        [[ -f "$f" ]] || continue
        n=$((n + 1))
        head -n 8 "$f" >"$dir/etc-$n-comments.toml"
        grep -v -E '^(#|$)' "$f" >"$dir/etc-$n.toml" || true
        sed -E 's/^#([a-z_]+ *=)/\1/' "$f" | grep -v -E '^(#|$)' \
          >"$dir/etc-$n-set.toml" || true
        { cat "$dir/etc-$n-set.toml"
          printf '#%%dropin\n[collectors.cpu]\nenabled = false\n'
        } >"$dir/etc-$n-dropin.toml"
      done
      printf '%s\n' '[collectors.fuzz]' 'enabled = true' 'flag = true' \
        'count = 3' 'ratio = 0.5' 'name = "x"' 'devices = ["a", "b"]' \
        'timeout_seconds = 2.5' 'sample_limit = 10' >"$dir/options.toml"
      printf '%s\n' '[collectors.fuzz]' 'count = 1.5' '#%dropin' \
        '[collectors.fuzz]' 'count = 2' 'unknown = 1' >"$dir/override.toml"
      ;;
    fuzz_http_request)
      # What Prometheus, curl and a browser send, and the edges.
      printf 'GET /metrics HTTP/1.1\r\nHost: localhost:9101\r\nUser-Agent: Prometheus/2.42.0\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\nAccept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n' >"$dir/prometheus"
      printf 'GET /metrics?collect[]=cpu HTTP/1.1\r\nHost: x\r\nAuthorization: Basic cHJvbWV0aGV1czpwdw==\r\nConnection: close\r\n\r\n' >"$dir/auth"
      printf 'HEAD http://h:9101/health HTTP/1.0\nConnection: keep-alive\n\n' >"$dir/http10"
      printf 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello' >"$dir/body"
      printf '\r\nOPTIONS * HTTP/1.1\r\nHost: x\r\nX:  a\tb \r\n\r\nGET / HTTP/1.1\r\n' >"$dir/pipelined"
      ;;
    fuzz_serializer)
      "$bin/fuzz_serializer_seeds" "$dir" core/scrape/testdata/*.prom \
        tests/golden/*.prom >/dev/null
      ;;
    *)
      n=0
      while IFS= read -r f; do
        n=$((n + 1))
        cp "$f" "$dir/fixture-$n"
      done < <(seed_files "$t")
      # Shapes from other kernels (tests/fuzz/seeds/TARGET), and this
      # machine's own file.
      if [[ -d "tests/fuzz/seeds/$t" ]]; then
        cp tests/fuzz/seeds/"$t"/* "$dir/"
      fi
      live=""
      case "$t" in
        fuzz_proc_stat) live=/proc/stat ;;
        fuzz_meminfo) live=/proc/meminfo ;;
        fuzz_diskstats) live=/proc/diskstats ;;
        fuzz_net_dev) live=/proc/net/dev ;;
        fuzz_loadavg) live=/proc/loadavg ;;
        fuzz_psi) live=/proc/pressure/io ;;
        fuzz_kernel_stat) live=/proc/stat ;;
        fuzz_vmstat) live=/proc/vmstat ;;
      esac
      if [[ -n "$live" && -r "$live" ]]; then cat "$live" >"$dir/this-host"; fi
      ;;
  esac
  count=$(find "$dir" -type f | wc -l)
  if [[ "$count" -eq 0 ]]; then
    echo "   $t: no fixtures found, starting from an empty corpus" >&2
  fi
  echo "   $t: $count seeds"
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
  cp -rf "$dir/." "$work/corpus/$t/"
done

failed=()
echo "== regressions (tests/fuzz/regressions)"
for t in "${targets[@]}"; do
  cases=()
  for f in "$here/regressions/$t"/*; do
    [[ -f "$f" && "$(basename "$f")" != README* ]] && cases+=("$f")
  done
  if [[ ${#cases[@]} -eq 0 ]]; then
    echo "   $t: none"
    continue
  fi
  # One file at a time: libFuzzer stops at the first failing input, and
  # every case that still fails should be named.
  log="$work/logs/$t.regressions.log"
  : >"$log"
  still=()
  for f in "${cases[@]}"; do
    # In a subshell that waits (the "exit"), bash's "Aborted" notice goes
    # to the log too.
    if ! ("$bin/$t" -timeout=20 "$f"; exit $?) >>"$log" 2>&1; then
      still+=("$(basename "$f")")
    fi
  done
  if [[ ${#still[@]} -eq 0 ]]; then
    echo "   $t: ${#cases[@]} replayed, all pass"
  else
    echo "   $t: ${#still[@]} of ${#cases[@]} still fail: ${still[*]}" >&2
    echo "     log: $log" >&2
    grep -E "^SUMMARY:|invariant violated" "$log" | sort | uniq -c |
      sed 's/^/     /' >&2 || true
    failed+=("$t (regressions)")
  fi
done

# One target: fuzz for $seconds on its own corpus copy; the exit status goes
# to a file (the job's own status is lost among parallel jobs).
fuzz_one() {
  local t="$1"
  local dict=()
  [[ -f "$here/$t.dict" ]] && dict=(-dict="$here/$t.dict")
  # -timeout: an input running 20 s is a hang; the outer timeout covers a
  # fuzzer stuck outside any input.
  local rc=0
  (timeout --signal=KILL $((seconds + 300)) \
    "$bin/$t" -max_total_time="$seconds" -detect_leaks=1 -timeout=20 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/$t/" \
    "${dict[@]}" "$work/corpus/$t"; exit $?) >"$work/logs/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$work/logs/$t.rc"
}

echo "== fuzzing ${#targets[@]} targets for ${seconds}s each, $jobs at a time"
running=0
for t in "${targets[@]}"; do
  rm -f "$work/logs/$t.rc"
  if [[ $running -ge $jobs ]]; then
    wait -n || true
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
wait || true

# Summary: one line per target from libFuzzer's last status line and final
# stats, then what failed and how to keep it.
kept=()
printf '%-16s %-22s %10s %7s %8s %7s\n' target outcome runs cov ft corpus
for t in "${targets[@]}"; do
  log="$work/logs/$t.log"
  rc=$(cat "$work/logs/$t.rc" 2>/dev/null || echo 255)
  status=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  [[ -n "$runs" ]] || runs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$status")
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$status")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$status")
  corp=$(sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$status")
  outcome=ok
  if [[ "$rc" != 0 ]]; then
    if grep -q 'ERROR: LeakSanitizer' "$log"; then outcome="FAILED: leak"
    elif grep -q 'ERROR: AddressSanitizer' "$log"; then outcome="FAILED: asan"
    elif grep -q 'runtime error:' "$log"; then outcome="FAILED: ubsan"
    elif grep -q 'fuzz invariant violated' "$log"; then outcome="FAILED: invariant"
    elif grep -q 'ERROR: libFuzzer: timeout' "$log"; then outcome="FAILED: timeout"
    elif grep -q 'out-of-memory' "$log"; then outcome="FAILED: out of memory"
    elif grep -q 'ERROR: libFuzzer' "$log"; then outcome="FAILED: crash"
    else outcome="FAILED: exit $rc"
    fi
    failed+=("$t")
    artifact=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n 1)
    kept+=("$t|$artifact|$log")
  fi
  printf '%-16s %-22s %10s %7s %8s %7s\n' "$t" "$outcome" "${runs:--}" \
    "${cov:--}" "${ft:--}" "${corp:--}"
done

for k in "${kept[@]}"; do
  IFS='|' read -r t artifact log <<<"$k"
  echo >&2
  echo "$t failed; log: $log" >&2
  grep -E "invariant violated|ERROR:|runtime error:|SUMMARY:" "$log" |
    head -n 5 >&2 || true
  if [[ -n "$artifact" ]]; then
    echo "  input: $artifact" >&2
    echo "  reproduce: $bin/$t $artifact" >&2
    echo "  keep it as a regression case (README.md):" >&2
    echo "    cp $artifact tests/fuzz/regressions/$t/" >&2
  fi
done

elapsed=$(($(date +%s) - started))
if [[ ${#failed[@]} -ne 0 ]]; then
  echo "run.sh: FAILED: ${failed[*]} (${elapsed}s)" >&2
  exit 1
fi
echo "run.sh: all ${#targets[@]} targets passed (${elapsed}s)"
