"""Crash containment. In the exporter's own process (isolate = false), a
fatal signal inside a plugin call writes one log line naming the
collector, the call and the signal, and the process then dies of that
signal as it would have (so systemd sees the real cause); the line is
written from the signal handler, in the configured log format. Isolated in
a helper process (the default for plugins not shipped with sysmetrics), a
crash, an abort or a leak costs that collector only: the exporter serves
on, names the offender in the log and the self-metrics, and restarts the
helper."""

import json
import os
import signal
import time
import unittest

import harness


def crash_env():
    """The environment for an exporter that is meant to crash: under
    AddressSanitizer (tests/sanitize.sh), ASan's own SEGV report would
    follow ours (the handler hands the signal on); these tests are about
    ours."""
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":handle_segv=0"
    return env


class CrashTest(harness.TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.procfs = harness.make_procfs(os.path.join(self.tmp, "proc"))
        self.plugins = harness.plugin_dir(os.path.join(self.tmp, "plugins"))

    def config(self, plugin, isolate=None, extra=""):
        """A configuration enabling plugin, isolated or not (None: the
        default)."""
        path = os.path.join(self.tmp, "sysmetrics.toml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"[collectors.{plugin}]\nenabled = true\n")
            if isolate is not None:
                f.write(f"isolate = {'true' if isolate else 'false'}\n")
            f.write(extra)
        return path

    def crash(self, plugin, *args):
        """Starts the exporter with plugin enabled in its own process,
        scrapes once, and returns (exit status, crash log lines)."""
        harness.plugin_dir(self.plugins, names=(), test_plugins=(plugin,))
        e = harness.Exporter("--plugin-dir", self.plugins, *args,
                             config=self.config(plugin, isolate=False),
                             procfs=self.procfs, env=crash_env()).start()
        try:
            with self.assertRaises((ConnectionError, OSError)):
                e.get()
            status = e.proc.wait(10)
        finally:
            e.kill()
        lines = [l for l in e.log() if "plugin crashed" in l]
        return status, lines

    def test_null_dereference_in_collect_is_named(self):
        status, lines = self.crash("crashes")
        self.assertEqual(status, -signal.SIGSEGV)
        self.assertEqual(len(lines), 1, lines)
        line = lines[0]
        self.assertRegex(line, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z error ")
        for part in ("collector=crashes", "call=collect", "signal=SIGSEGV",
                     "file=" + os.path.join(self.plugins, "crashes.so")):
            self.assertIn(part, line)

    def test_abort_in_collect_is_named(self):
        status, lines = self.crash("aborts")
        self.assertEqual(status, -signal.SIGABRT)
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("collector=aborts", lines[0])
        self.assertIn("signal=SIGABRT", lines[0])

    def test_json_log_line(self):
        status, lines = self.crash("crashes", "--log-format", "json")
        self.assertEqual(status, -signal.SIGSEGV)
        self.assertEqual(len(lines), 1, lines)
        record = json.loads(lines[0])
        self.assertEqual(record["level"], "error")
        self.assertEqual(record["collector"], "crashes")
        self.assertEqual(record["call"], "collect")
        self.assertEqual(record["signal"], "SIGSEGV")
        self.assertTrue(record["file"].endswith("/crashes.so"))

    def test_signals_outside_plugins_are_not_blamed_on_one(self):
        # A crash that is not in a plugin call (here a SIGSEGV sent from
        # outside) dies the same way, with no plugin named.
        e = harness.Exporter("--plugin-dir", self.plugins,
                             procfs=self.procfs, env=crash_env()).start()
        try:
            e.metrics()
            e.send_signal(signal.SIGSEGV)
            status = e.proc.wait(10)
        finally:
            e.kill()
        self.assertEqual(status, -signal.SIGSEGV)
        self.assertFalse([l for l in e.log() if "plugin crashed" in l])


class IsolatedCrashTest(harness.TempDirTestCase):
    """The same broken plugins, isolated (the default for them): each
    costs only itself."""

    def setUp(self):
        super().setUp()
        self.procfs = harness.make_procfs(os.path.join(self.tmp, "proc"))
        self.plugins = harness.plugin_dir(os.path.join(self.tmp, "plugins"))

    def start(self, plugin, extra=""):
        harness.plugin_dir(self.plugins, names=(), test_plugins=(plugin,))
        path = os.path.join(self.tmp, "sysmetrics.toml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"[collectors.{plugin}]\nenabled = true\n{extra}")
        return harness.Exporter("--plugin-dir", self.plugins, config=path,
                                procfs=self.procfs, env=crash_env())

    def assert_contained(self, e, plugin, what):
        """Scrapes until the helper has been restarted at least once; every
        scrape answers, fails only plugin, and serves the built-ins."""
        restarts = f'sysmetrics_collector_restarts_total{{collector="{plugin}"}}'
        reference = None
        for _ in range(200):
            got = harness.samples(e.metrics())
            self.assertEqual(
                got[f'sysmetrics_collector_success{{collector="{plugin}"}}'],
                "0")
            for c in harness.BUILTIN_PLUGINS:
                self.assertEqual(
                    got[f'sysmetrics_collector_success{{collector="{c}"}}'],
                    "1", c)
            # The built-ins' series, by name, are the same every scrape.
            names = sorted(k for k in got if not k.startswith(
                ("sysmetrics_collector_", "sysmetrics_scrape_")))
            if reference is None:
                reference = names
            self.assertEqual(names, reference)
            if float(got[restarts]) >= 1:
                break
            time.sleep(0.05)
        self.assertGreaterEqual(float(got[restarts]), 1)
        failed = [l for l in e.log() if "plugin helper failed" in l]
        self.assertTrue(failed, e.log()[-10:])
        self.assertIn(f"collector={plugin}", failed[0])
        self.assertIn(what, failed[0])
        self.assertFalse([l for l in e.log() if "plugin crashed" in l])
        self.assertIsNone(e.proc.poll())

    def test_null_dereference(self):
        with self.start("crashes") as e:
            self.assert_contained(
                e, "crashes",
                "the helper process was killed by signal 11 (SIGSEGV) in "
                "collect()")

    def test_abort(self):
        with self.start("aborts") as e:
            self.assert_contained(
                e, "aborts",
                "the helper process was killed by signal 6 (SIGABRT) in "
                "collect()")

    def test_leak_is_bounded_by_the_memory_limit(self):
        with self.start("leaks", "memory_limit_mib = 64\n") as e:
            restarts = 'sysmetrics_collector_restarts_total{collector="leaks"}'
            for _ in range(50):
                got = harness.samples(e.metrics())
                self.assertEqual(got['sysmetrics_collector_success'
                                     '{collector="leaks"}'], "1")
                if float(got[restarts]) >= 2:
                    break
            self.assertGreaterEqual(float(got[restarts]), 2)
            # Each helper starts from nothing: what it holds is at most
            # what it leaked since its own start.
            self.assertLessEqual(
                float(got["sysmetrics_leaks_held_bytes"]), 64 << 20)
            over = [l for l in e.log() if "more memory than its limit" in l]
            self.assertTrue(over)
            self.assertIn("collector=leaks", over[0])


if __name__ == "__main__":
    unittest.main()
