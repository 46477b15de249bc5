"""Crash containment, first layer: a fatal signal inside a plugin call
writes one log line naming the collector, the call and the signal, and the
process then dies of that signal as it would have (so systemd sees the real
cause). The line is written from the signal handler, in the configured log
format."""

import json
import os
import signal
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

    def crash(self, plugin, *args):
        """Starts the exporter with plugin enabled, scrapes once, and
        returns (exit status, crash log lines)."""
        harness.plugin_dir(self.plugins, names=(), test_plugins=(plugin,))
        e = harness.Exporter("--plugin-dir", self.plugins,
                             "--collector." + plugin, *args,
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


if __name__ == "__main__":
    unittest.main()
