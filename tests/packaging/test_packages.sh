#!/usr/bin/env bash
# Builds the .deb and .rpm packages from a fresh build tree, checks them
# (lintian, file lists, scripts), installs the .deb on this machine, runs the
# packaged exporter as its own user, builds both example plugins from the
# installed SDK only, enables them with a conf.d file, and purges.
#
# Usage: test_packages.sh SOURCE_DIR
# Needs root (it installs packages); CTest runs it alone (RUN_SERIAL).
set -euo pipefail
# Under pipefail, `producer | grep -q` fails at random: grep exits at the
# first match and the producer dies of SIGPIPE. Pipelines below end in
# `grep ... >/dev/null`, which reads everything.

src=$(cd "$1" && pwd)
work=$(mktemp -d /tmp/sysmetrics-pkg-test.XXXXXX)
pid=""
fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; fi
  rm -f /usr/lib/sysmetrics/uptime.so /usr/lib/sysmetrics/filefd.so \
    /etc/sysmetrics/conf.d/50-examples.toml
  if dpkg-query -W sysmetrics >/dev/null 2>&1; then
    dpkg --purge sysmetrics-dev sysmetrics >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

[[ $(id -u) -eq 0 ]] || fail "must run as root (installs packages)"
if dpkg-query -W -f='${Status}' sysmetrics 2>/dev/null | grep installed >/dev/null; then
  fail "a sysmetrics package is already installed; refusing to touch it"
fi

echo "== build packages"
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX=/usr -DBUILD_TESTING=OFF -DSYSMETRICS_WERROR=ON \
  >/dev/null
cmake --build "$work/build" -j"$(nproc)" >/dev/null
(cd "$work/build" && cpack -G "DEB;RPM" >/dev/null)
deb=$(ls "$work"/build/sysmetrics_*_amd64.deb)
devdeb=$(ls "$work"/build/sysmetrics-dev_*_all.deb)
rpm=$(ls "$work"/build/sysmetrics-[0-9]*.x86_64.rpm)
devrpm=$(ls "$work"/build/sysmetrics-dev-[0-9]*.noarch.rpm)

echo "== lintian (errors fail; warnings are listed in DESIGN.md)"
lintian --fail-on error --suppress-tags initial-upload-closes-no-bugs \
  "$deb" "$devdeb" 2>&1 | grep -v 'running with root privileges' || true
lintian --fail-on error "$deb" "$devdeb" >/dev/null 2>&1 ||
  fail "lintian reported errors"

echo "== control fields"
dpkg-deb -f "$deb" Depends | grep 'libpoconet' >/dev/null ||
  fail "Depends not computed from linked libraries"
dpkg-deb -f "$deb" Depends | grep 'adduser' >/dev/null || fail "Depends lacks adduser"
dpkg-deb -f "$deb" Version | grep -x '0.1.0-1' >/dev/null || fail "wrong version"
rpm -qp --qf '%{LICENSE}' "$rpm" | grep -x MIT >/dev/null || fail "rpm licence"
rpm -qpR "$rpm" | grep 'libPocoNet' >/dev/null || fail "rpm requires not computed"

echo "== the .rpm installs the same files as the .deb"
deb_files() { dpkg-deb -c "$1" | awk '$1 ~ /^-/ {print $6}' | sed 's|^\./|/|' | sort; }
rpm_files() { rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$1" |
  awk '$1 ~ /^-/ {print $2}' | sort; }
diff <(deb_files "$deb") <(rpm_files "$rpm") || fail "runtime file lists differ"
diff <(deb_files "$devdeb") <(rpm_files "$devrpm") || fail "dev file lists differ"
rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm" |
  grep '^cn* /etc/sysmetrics/sysmetrics.toml' >/dev/null ||
  fail "rpm config is not %config(noreplace)"
scripts=$(rpm -qp --scripts "$rpm")
grep -q 'useradd -r' <<<"$scripts" || fail "rpm %pre does not create the user"
grep -q 'systemctl' <<<"$scripts" || fail "rpm scripts do not handle the unit"
rpm -qlp "$rpm" | grep -x /lib/systemd/system/sysmetrics.service >/dev/null ||
  fail "rpm lacks the unit"
rpm -qp --qf '[%{FILEUSERNAME} %{FILENAMES}\n]' "$rpm" |
  grep -x 'sysmetrics /var/lib/sysmetrics/quarantine' >/dev/null ||
  fail "rpm quarantine directory not owned by the service user"
dpkg-deb -c "$deb" | grep ' ./var/lib/sysmetrics/quarantine/$' >/dev/null ||
  fail "deb lacks the quarantine directory"

echo "== install the .deb (no systemd here: scripts must cope)"
dpkg -i "$deb" "$devdeb" >/dev/null
getent passwd sysmetrics >/dev/null || fail "system user not created"
[[ -f /etc/sysmetrics/sysmetrics.toml && -d /etc/sysmetrics/conf.d ]] ||
  fail "config not installed"
grep -qx /etc/sysmetrics/sysmetrics.toml /var/lib/dpkg/info/sysmetrics.conffiles ||
  fail "config is not a conffile"
[[ -d /var/lib/sysmetrics/textfile ]] || fail "textfile directory not created"
[[ $(stat -c %U:%G /var/lib/sysmetrics/quarantine) == sysmetrics:sysmetrics ]] ||
  fail "quarantine directory not owned by the service user"
[[ -f /usr/libexec/sysmetrics/tls.so ]] || fail "TLS module not installed"
for p in cpu memory disk network netclass filesystem textfile loadavg pressure \
  stat vmstat; do
  [[ -f /usr/lib/sysmetrics/$p.so ]] || fail "built-in plugin $p.so not installed"
done
[[ ! -e /usr/lib/sysmetrics/filesystem_hang ]] || fail "a test plugin was installed"
unit=/lib/systemd/system/sysmetrics.service
for key in User=sysmetrics NoNewPrivileges=yes ProtectSystem=strict \
  PrivateTmp=yes ProtectHome=read-only RestrictAddressFamilies= \
  Restart=on-failure ExecReload= EnvironmentFile=-/etc/default/sysmetrics \
  "StateDirectory=sysmetrics sysmetrics/quarantine"; do
  grep -q "^$key" "$unit" || fail "unit lacks $key"
done
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify "$unit" || fail "systemd-analyze verify: unit problems"
fi
dpkg-deb -c "$deb" | grep ' ./usr/share/man/man1/sysmetrics.1.gz$' >/dev/null ||
  fail "man page not in the package"
for f in sysmetrics-alerts.yml sysmetrics-recording.yml tests/exporter.yml; do
  dpkg-deb -c "$deb" | grep " ./usr/share/sysmetrics/rules/$f\$" >/dev/null ||
    fail "rules/$f not in the .deb"
  rpm -qlp "$rpm" | grep -x "/usr/share/sysmetrics/rules/$f" >/dev/null ||
    fail "rules/$f not in the .rpm"
done
# As the README tells operators to check them, where installed.
promtool check rules /usr/share/sysmetrics/rules/*.yml >/dev/null ||
  fail "promtool check rules failed on the installed rules"
promtool test rules /usr/share/sysmetrics/rules/tests/*.yml >/dev/null ||
  fail "promtool test rules failed on the installed rules"
/usr/bin/sysmetrics --check-config >/dev/null || fail "--check-config failed"
# HTTPS: the installed binary accepts the installed (stripped) TLS module,
# whose build id must have survived packaging.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$work/tls.key" -out "$work/tls.crt" -days 2 -subj /CN=localhost \
  >/dev/null 2>&1 || fail "openssl could not make a test certificate"
printf '[web.tls]\ncert_file = "%s"\nkey_file = "%s"\n' \
  "$work/tls.crt" "$work/tls.key" >"$work/tls.toml"
/usr/bin/sysmetrics --config "$work/tls.toml" --check-config >/dev/null ||
  fail "--check-config with [web.tls] failed (the installed TLS module refused?)"

# Starts the packaged binary as the service user with the packaged config on
# a free loopback port; sets $pid and $port.
start() {
  local log="$work/exporter.log"
  # setpriv execs (runuser would fork and stand between us and the
  # exporter's signals and exit status).
  setpriv --reuid=sysmetrics --regid=sysmetrics --init-groups \
    /usr/bin/sysmetrics --listen 127.0.0.1:0 >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do
    port=$(sed -n 's/.*listening address=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
    [[ -n "$port" ]] && return 0
    sleep 0.1
  done
  cat "$log" >&2
  fail "exporter did not start"
}
stop() {
  kill -TERM "$pid"
  wait "$pid" || fail "exporter exited non-zero"
  pid=""
}

echo "== run the packaged exporter"
start
body=$(curl -sf "http://127.0.0.1:$port/metrics")
for c in cpu memory disk network; do
  grep -qx "sysmetrics_collector_success{collector=\"$c\"} 1" <<<"$body" ||
    fail "collector $c not succeeding in the packaged exporter"
done
stop
! grep 'quarantine is off' "$work/exporter.log" ||
  fail "quarantine is off in the packaged exporter"

echo "== build the examples from the installed SDK only"
cp -r /usr/share/doc/sysmetrics-dev/examples "$work/examples"
cmake -S "$work/examples/uptime_cpp" -B "$work/examples/uptime_cpp/build" \
  >/dev/null
cmake --build "$work/examples/uptime_cpp/build" >/dev/null
make -s -C "$work/examples/filefd_c" >/dev/null
install -m 0644 "$work/examples/uptime_cpp/build/uptime.so" /usr/lib/sysmetrics/
install -m 0644 "$work/examples/filefd_c/filefd.so" /usr/lib/sysmetrics/
cat >/etc/sysmetrics/conf.d/50-examples.toml <<'TOML'
[collectors.uptime]
enabled = true

[collectors.filefd]
enabled = true
maximum = true
TOML
start
body=$(curl -sf "http://127.0.0.1:$port/metrics")
for m in sysmetrics_uptime_seconds sysmetrics_filefd_allocated sysmetrics_filefd_maximum; do
  grep -q "^$m " <<<"$body" || fail "example metric $m missing"
done
for c in uptime filefd; do
  grep -qx "sysmetrics_collector_success{collector=\"$c\"} 1" <<<"$body" ||
    fail "example collector $c not succeeding"
done
stop

echo "== an edited conffile survives reinstalling"
echo '# operator edit' >>/etc/sysmetrics/sysmetrics.toml
dpkg -i "$deb" >/dev/null
grep -q '# operator edit' /etc/sysmetrics/sysmetrics.toml ||
  fail "edited config overwritten"

echo "== purge removes what the packages created"
rm -f /usr/lib/sysmetrics/uptime.so /usr/lib/sysmetrics/filefd.so \
  /etc/sysmetrics/conf.d/50-examples.toml
# A quarantine record (as a crash would leave) goes with the purge.
echo 'format=sysmetrics-quarantine-1' >/var/lib/sysmetrics/quarantine/example
dpkg --purge sysmetrics-dev sysmetrics >/dev/null
for path in /usr/bin/sysmetrics /usr/lib/sysmetrics /etc/sysmetrics \
  /etc/default/sysmetrics /lib/systemd/system/sysmetrics.service \
  /usr/include/sysmetrics /usr/share/cmake/sysmetrics-sdk \
  /usr/share/pkgconfig/sysmetrics-sdk.pc /usr/share/doc/sysmetrics \
  /usr/libexec/sysmetrics /usr/share/sysmetrics /var/lib/sysmetrics; do
  [[ ! -e "$path" ]] || fail "$path left after purge"
done
echo "PASS"
