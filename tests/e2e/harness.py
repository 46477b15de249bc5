"""Runs the real sysmetrics binary for end-to-end tests.

Paths come from the environment CTest sets: SYSMETRICS_BIN (the binary),
SYSMETRICS_SOURCE_DIR (the source tree) and SYSMETRICS_TEST_PLUGIN_DIR (the
test-only plugins). Every exporter listens on 127.0.0.1 port 0 and its bound
port is read from its log; tests end only the processes they started.
"""

import http.client
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

BIN = os.environ["SYSMETRICS_BIN"]
SOURCE_DIR = os.environ["SYSMETRICS_SOURCE_DIR"]
TEST_PLUGIN_DIR = os.environ.get("SYSMETRICS_TEST_PLUGIN_DIR", "")
PLUGIN_DIR = os.path.join(os.path.dirname(os.path.dirname(BIN)), "lib",
                          "sysmetrics")
FIXTURES = os.path.join(SOURCE_DIR, "tests", "fixtures")


def _abi_version():
    with open(os.path.join(SOURCE_DIR, "sdk", "include", "sysmetrics",
                           "plugin.h"), encoding="utf-8") as f:
        text = f.read()
    major = re.search(r"#define SM_ABI_VERSION_MAJOR (\d+)", text).group(1)
    minor = re.search(r"#define SM_ABI_VERSION_MINOR (\d+)", text).group(1)
    return f"{major}.{minor}"


# The plugin ABI version this source tree speaks, e.g. "1.1".
ABI = _abi_version()
# "listening address=127.0.0.1:PORT" (text) or "...":"listening","address":
# "127.0.0.1:PORT" (JSON).
_LISTENING = re.compile(r'listening.*address["=:]+"?[0-9.]+:([0-9]+)')


def make_procfs(root, overrides=None):
    """Builds a fixture procfs tree in root from the plugins' fixtures.

    overrides maps a relative path ("stat", "net/dev") to its content, or to
    None to leave the file out.
    """
    plugins = os.path.join(SOURCE_DIR, "plugins")
    own = os.path.join(FIXTURES, "procfs")
    files = {
        "stat": os.path.join(own, "stat"),
        "loadavg": os.path.join(own, "loadavg"),
        "vmstat": os.path.join(own, "vmstat"),
        "pressure/cpu": os.path.join(own, "pressure", "cpu"),
        "pressure/io": os.path.join(own, "pressure", "io"),
        "pressure/memory": os.path.join(own, "pressure", "memory"),
        # Only a mount the filesystem collector leaves out (proc): statvfs
        # of a real mount would make values change from run to run.
        "self/mountinfo": os.path.join(own, "self", "mountinfo"),
        "meminfo": os.path.join(plugins, "memory", "testdata", "procfs",
                                "meminfo"),
        "diskstats": os.path.join(plugins, "disk", "testdata", "procfs",
                                  "diskstats"),
        "net/dev": os.path.join(plugins, "network", "testdata", "procfs",
                                "net", "dev"),
    }
    overrides = overrides or {}
    for rel, src in files.items():
        dst = os.path.join(root, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if rel in overrides:
            if overrides[rel] is not None:
                with open(dst, "w", encoding="utf-8") as f:
                    f.write(overrides[rel])
        else:
            shutil.copyfile(src, dst)
    for rel, text in overrides.items():  # files the fixture does not have
        if rel not in files and text is not None:
            dst = os.path.join(root, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, "w", encoding="utf-8") as f:
                f.write(text)
    return root


# The families the exporter serves about itself (name prefixes): values
# that differ between scrapes and runs (timings, counts, the process).
HOST_FAMILY_PREFIXES = ("sysmetrics_collector_", "sysmetrics_scrape_",
                        "sysmetrics_build_info", "sysmetrics_plugin_info",
                        "process_")
BUILTIN_PLUGINS = ("cpu", "memory", "disk", "network")
# The collectors enabled when the configuration says nothing (core/app/app.cpp,
# DefaultEnabledCollectors).
DEFAULT_COLLECTORS = ("cpu", "memory", "disk", "network", "netclass",
                      "filesystem", "loadavg", "pressure", "stat", "vmstat")


def plugin_dir(root, names=BUILTIN_PLUGINS, test_plugins=()):
    """Makes root a plugin directory holding copies of the built plugins
    names and the test-only plugins test_plugins; returns root."""
    os.makedirs(root, exist_ok=True)
    for name in names:
        shutil.copy(os.path.join(PLUGIN_DIR, name + ".so"), root)
    for name in test_plugins:
        shutil.copy(os.path.join(TEST_PLUGIN_DIR, name + ".so"), root)
    return root


# What AddressSanitizer, LeakSanitizer, UndefinedBehaviorSanitizer and
# ThreadSanitizer print when they find something.
_SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                    "WARNING: ThreadSanitizer", "runtime error: ")


def check_output_for_sanitizers(text):
    """Fails if text (a process's stderr) holds a sanitizer report."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if any(m in line for m in _SANITIZER_MARKS):
            raise AssertionError("sanitizer report:\n" +
                                 "\n".join(lines[i:i + 40]))


def run(*args, **kwargs):
    """Runs the exporter binary to completion (--check-config,
    --hash-password, ...): subprocess.run with text output captured, and
    its stderr checked for sanitizer reports."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 60)
    kwargs.setdefault("check", False)
    res = subprocess.run([BIN, *args], **kwargs)  # pylint: disable=subprocess-run-check
    if isinstance(res.stderr, str):
        check_output_for_sanitizers(res.stderr)
    return res


class Exporter:
    """One sysmetrics process; use as a context manager."""

    def __init__(self, *args, config=os.devnull, procfs=None, env=None,
                 state_dir=None, sysfs=None):
        # --config /dev/null by default: a test must not read a packaged
        # /etc/sysmetrics/sysmetrics.toml that may exist on the machine.
        self.args = [BIN, "--listen", "127.0.0.1:0"]
        if config is not None:
            self.args += ["--config", config]
        # Nor read or write the machine's /var/lib/sysmetrics: quarantine
        # records go to state_dir, else to a directory of this exporter's
        # own, removed when it is.
        self._own_state_dir = None
        if state_dir is None:
            state_dir = self._own_state_dir = tempfile.mkdtemp(
                prefix="sysmetrics-state-")
        self.args += ["--state-dir", state_dir]
        if procfs is not None:
            # A fixture /proc comes with a fixture /sys and udev database,
            # so that nothing of the build machine shows.
            self.args += ["--procfs", procfs,
                          "--sysfs", sysfs or os.path.join(FIXTURES, "sysfs"),
                          "--udev-data", os.path.join(FIXTURES, "udev", "data")]
        elif sysfs is not None:
            self.args += ["--sysfs", sysfs]
        self.args += list(args)
        self.env = env
        self.proc = None
        self.port = None
        self.lines = []
        self._lock = threading.Lock()
        self._reader = None

    def start(self, timeout=5.0):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=self.env)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log():
                match = _LISTENING.search(line)
                if match:
                    self.port = int(match.group(1))
                    return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.kill()
        raise AssertionError("exporter did not start: " + "\n".join(self.log()))

    def _read(self):
        for raw in self.proc.stderr:
            with self._lock:
                self.lines.append(raw.decode("utf-8", "backslashreplace"))

    def log(self):
        with self._lock:
            return list(self.lines)

    def wait_for_log(self, text, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.log()):
                return True
            time.sleep(0.02)
        return False

    def log_count(self, text):
        """How many log lines so far contain text."""
        return sum(text in line for line in self.log())

    def request(self, method, path, headers=None, timeout=10.0, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def get(self, path="/metrics", headers=None, timeout=10.0):
        return self.request("GET", path, headers, timeout)

    def metrics(self):
        status, _, body = self.get()
        if status != 200:
            raise AssertionError(f"/metrics answered {status}")
        return body.decode("utf-8")

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        """Sends sig and returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self.kill()

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self._reader is not None:
            self._reader.join(2)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        if self._own_state_dir is not None:
            shutil.rmtree(self._own_state_dir, ignore_errors=True)
        self.check_sanitizers()

    def check_sanitizers(self):
        """Fails if the exporter printed a sanitizer report: the suite also
        runs built with ASan+UBSan and TSan (tests/sanitize.sh)."""
        for i, line in enumerate(self.log()):
            if any(m in line for m in _SANITIZER_MARKS):
                raise AssertionError("sanitizer report:\n" +
                                     "".join(self.log()[i:i + 40]))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Stops the exporter as systemd would (SIGTERM, then SIGKILL after
        15 s) and checks its log for sanitizer reports. Not a plain kill:
        LeakSanitizer reports at exit, so a killed process would hide leaks
        from the sanitizer runs."""
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(15)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            self.kill()


class Counter:
    """A count several threads add to and one waits on."""

    def __init__(self):
        self._cond = threading.Condition()
        self._n = 0

    def add(self):
        with self._cond:
            self._n += 1
            self._cond.notify_all()

    def value(self):
        with self._cond:
            return self._n

    def wait_for(self, n, timeout=60.0):
        """Whether the count reached n within timeout seconds."""
        with self._cond:
            return self._cond.wait_for(lambda: self._n >= n, timeout)


def wait_until(predicate, timeout=30.0):
    """Whether predicate() became true within timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


# Certificates for the TLS tests: a CA and certificates it signs, made
# with openssl in directory d (EC P-256, valid two days).
def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   capture_output=True, timeout=60)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f"{name}.key",
            "-out", f"{name}.crt", "-days", "2", "-subj", f"/CN={name}", cwd=d)


def make_cert(d, name, ca, san=None):
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj",
            f"/CN={name}", cwd=d)
    args = ["x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey",
            f"{ca}.key", "-CAcreateserial", "-out", f"{name}.crt", "-days", "2"]
    if san:
        with open(os.path.join(d, f"{name}.ext"), "w", encoding="utf-8") as f:
            f.write(f"subjectAltName={san}\n")
        args += ["-extfile", f"{name}.ext"]
    openssl(*args, cwd=d)


def stop_process(proc):
    """Ends a process this test started (TERM, then KILL after 15 s) and
    reaps it."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def samples(text):
    """Parses exposition text into {series: value} (value as text)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, value = line.rsplit(" ", 1)
        out[series] = value
    return out


def check_exposition(test, text):
    """Strict checks promtool 2.42 does not make: one HELP and one TYPE per
    family, before its samples and contiguous; no duplicate series; a final
    newline; valid UTF-8 (text is already decoded)."""
    test.assertTrue(text.endswith("\n"), "body must end with a newline")
    seen_families = set()
    current = None
    series_seen = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            test.assertNotIn(name, seen_families, f"family {name} split or repeated")
            seen_families.add(name)
            current = name
        elif line.startswith("# TYPE "):
            test.assertEqual(line.split(" ")[2], current, line)
        elif line:
            series = line.rsplit(" ", 1)[0]
            name = series.split("{", 1)[0]
            test.assertTrue(current is not None and name.startswith(current), line)
            test.assertNotIn(series, series_seen, f"duplicate series {series}")
            series_seen.add(series)


def promtool_check(test, text):
    promtool = shutil.which("promtool")
    test.assertIsNotNone(promtool, "promtool (Debian package prometheus) is required")
    res = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                         capture_output=True, timeout=30, check=False)
    test.assertEqual((res.returncode, res.stdout + res.stderr), (0, b""))


class TempDirTestCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="sysmetrics-e2e-")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()
