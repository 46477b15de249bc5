#!/usr/bin/env bash
# A plugin written in C outside the source tree, compiled against the SDK
# headers alone (no other include path, nothing of the host linked), loads
# in the real binary and its metrics appear; a wrong-ABI plugin beside it is
# refused by file and reason while hello keeps working.
#
# Usage: test_out_of_tree.sh SYSMETRICS_BIN SOURCE_DIR TEST_PLUGIN_DIR
set -euo pipefail
bin=$1 src=$2 test_plugins=$3
work=$(mktemp -d /tmp/sysmetrics-oot.XXXXXX)
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$work/log" >&2 2>/dev/null || true; exit 1; }

cp "$src/tests/out_of_tree/hello.c" "$work/"
cc -std=c99 -pedantic -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden \
  -I"$src/sdk/include" -o "$work/hello.so" "$work/hello.c"
cp "$test_plugins/wrong_abi.so" "$work/"

"$bin" --listen 127.0.0.1:0 --config /dev/null --plugin-dir "$work" \
  --collector.hello --collector.wrong_abi --log-level info 2>"$work/log" &
pid=$!
port=""
for _ in $(seq 50); do
  port=$(sed -n 's/.*listening address=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/log")
  [[ -n "$port" ]] && break
  kill -0 "$pid" 2>/dev/null || fail "exporter exited at start"
  sleep 0.1
done
[[ -n "$port" ]] || fail "exporter did not start"

body=$(curl -sf "http://127.0.0.1:$port/metrics")
grep -qx 'sysmetrics_hello_info 1' <<<"$body" || fail "hello metric missing"
grep -qx 'sysmetrics_collector_success{collector="hello"} 1' <<<"$body" ||
  fail "hello not succeeding"
abi=$(sed -n 's/^#define SM_ABI_VERSION_\(MAJOR\|MINOR\) \([0-9]*\)$/\2/p' \
  "$src/sdk/include/sysmetrics/plugin.h" | paste -sd.)
grep -q "plugin refused file=$work/wrong_abi.so reason=\"built for plugin ABI 2.0, this host speaks ABI $abi" "$work/log" ||
  fail "wrong_abi not refused with file and both versions"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
[[ $status -eq 0 ]] || fail "exit status $status after SIGTERM"
echo PASS
