"""Crash containment. In the exporter's own process (isolate = false), a
fatal signal inside a plugin call writes one log line naming the
collector, the call and the signal, and the process then dies of that
signal as it would have (so systemd sees the real cause); the line is
written from the signal handler, in the configured log format. The crash
also writes a quarantine record in the state directory, and the next start
does not load that plugin (reported failed, with the reason) until its
file changes or the record is removed. Isolated in a helper process (the
default for plugins not shipped with sysmetrics), a crash, an abort or a
leak costs that collector only: the exporter serves on, names the offender
in the log and the self-metrics, and restarts the helper."""

import json
import os
import shutil
import signal
import threading
import time
import unittest

import harness


def crash_env():
    """The environment for an exporter or helper that is meant to crash:
    under AddressSanitizer or ThreadSanitizer (tests/sanitize.sh), the
    sanitizer's own SEGV report would follow ours (the handler hands the
    signal on) or end a helper with its own exit status; these tests are
    about ours."""
    env = dict(os.environ)
    for name in ("ASAN_OPTIONS", "TSAN_OPTIONS"):
        env[name] = env.get(name, "") + ":handle_segv=0"
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
        # The landing page says where each collector runs.
        page = e.get("/")[2].decode()
        self.assertRegex(page, rf"<tr><td>{plugin}</td>.*<td>helper "
                               r"process, [1-9]\d* restarts</td></tr>")
        self.assertRegex(page, r"<tr><td>cpu</td>.*<td>the exporter</td>"
                               r"</tr>")

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

    def helpers(self):
        """Pids of the helper processes serving plugins in this test's
        directory."""
        pids = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if (b"--plugin-host" in argv and
                    any(a.startswith(self.plugins.encode()) for a in argv)):
                pids.append(int(pid))
        return pids

    def test_helpers_do_not_outlive_the_exporter(self):
        # A helper stuck in plugin code never reads its pipe again: when
        # the exporter dies (here SIGKILL, no clean-up at all), the kernel
        # ends it too.
        block = os.path.join(self.tmp, "block")
        open(block, "w", encoding="utf-8").close()
        e = self.start("blocks_inline",
                       f"block_while = \"{block}\"\n").start()
        try:
            self.assertEqual(len(self.helpers()), 1)
            t = threading.Thread(target=lambda: e.get(
                headers={"X-Prometheus-Scrape-Timeout-Seconds": "60"},
                timeout=60), daemon=True)
            t.start()
            self.assertTrue(e.wait_for_log("blocks_inline: blocking"))
            e.proc.kill()
            e.proc.wait(10)
        finally:
            e.kill()
            os.remove(block)
        for _ in range(500):
            if not self.helpers():
                break
            time.sleep(0.02)
        self.assertEqual(self.helpers(), [])

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
# Families the exporter reports about itself, which differ between runs
# (durations) or by which collectors are enabled.
_SELF_PREFIXES = harness.HOST_FAMILY_PREFIXES


class QuarantineTest(harness.TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.procfs = harness.make_procfs(os.path.join(self.tmp, "proc"))
        self.plugins = harness.plugin_dir(os.path.join(self.tmp, "plugins"),
                                          test_plugins=("crashes", "aborts"))
        self.state = os.path.join(self.tmp, "state")
        os.mkdir(self.state)
        self.record = os.path.join(self.state, "quarantine", "crashes")
        # In the exporter's process: only there can a plugin crash it.
        self.config = os.path.join(self.tmp, "in-process.toml")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write("[collectors.crashes]\nisolate = false\n"
                    "[collectors.aborts]\nisolate = false\n")

    def exporter(self, *args, state_dir=None):
        return harness.Exporter("--plugin-dir", self.plugins, *args,
                                config=self.config,
                                procfs=self.procfs, env=crash_env(),
                                state_dir=state_dir or self.state)

    def crash(self, plugin="crashes"):
        """Starts with plugin enabled and scrapes: the process dies of it.
        Returns the exporter's log."""
        e = self.exporter("--collector." + plugin).start()
        try:
            self.assertIn("plugin loaded collector=" + plugin,
                          "".join(e.log()))
            with self.assertRaises((ConnectionError, OSError)):
                e.get()
            self.assertLess(e.proc.wait(10), 0)
        finally:
            e.kill()
        return e.log()

    def read_record(self, plugin="crashes"):
        with open(os.path.join(self.state, "quarantine", plugin),
                  encoding="utf-8") as f:
            return dict(line.split("=", 1) for line in f.read().splitlines())

    def builtin_series(self, text):
        return {k: v for k, v in harness.samples(text).items()
                if not k.startswith(_SELF_PREFIXES)}

    def assert_quarantined(self, e, plugin="crashes", how="SIGSEGV in collect"):
        """Checks that e serves with plugin reported failed as quarantined,
        in the metrics, on / and in the log; returns the metrics text."""
        text = e.metrics()
        harness.check_exposition(self, text)
        s = harness.samples(text)
        self.assertEqual(s[f'sysmetrics_collector_success{{collector="{plugin}"}}'], "0")
        self.assertEqual(s['sysmetrics_collector_success{collector="cpu"}'], "1")
        record = os.path.join(self.state, "quarantine", plugin)
        reason = (f"quarantined: crashed the exporter ({how}) at ")
        hint = ("; fix or replace the plugin file, or remove " + record +
                " to try it again")
        _, _, page = e.get("/")
        page = page.decode()
        self.assertIn(f"{plugin}.so</td><td><span class=\"failed\">not loaded"
                      f"</span>: {reason}", page)
        self.assertIn(hint, page)
        refused = [l for l in e.log() if "plugin refused" in l]
        self.assertEqual(len(refused), 1, e.log())
        self.assertIn(f"collector={plugin}", refused[0])
        self.assertIn(reason, refused[0])
        self.assertIn(hint, refused[0])
        self.assertFalse([l for l in e.log()
                          if f"plugin loaded collector={plugin}" in l])
        return text

    def test_a_crash_quarantines_the_plugin_until_its_file_changes(self):
        with self.exporter() as baseline:
            builtins = self.builtin_series(baseline.metrics())
        self.assertIn("sysmetrics_cpus_online", "".join(builtins))

        # The crash writes the record, with the file's identity.
        log = self.crash()
        self.assertEqual(len([l for l in log if "plugin crashed" in l]), 1)
        rec = self.read_record()
        st = os.stat(os.path.join(self.plugins, "crashes.so"))
        self.assertEqual(rec["format"], "sysmetrics-quarantine-1")
        self.assertEqual(rec["collector"], "crashes")
        self.assertEqual(rec["file"], os.path.join(self.plugins, "crashes.so"))
        self.assertEqual((int(rec["device"]), int(rec["inode"]),
                          int(rec["size"]), int(rec["mtime_ns"])),
                         (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
        self.assertEqual((rec["call"], rec["signal"]), ("collect", "SIGSEGV"))
        self.assertRegex(rec["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

        # The next start serves: crashes is reported failed, the built-in
        # collectors' series are those of a run without it. Twice: no
        # restart loop.
        for _ in range(2):
            with self.exporter("--collector.crashes") as e:
                text = self.assert_quarantined(e)
                self.assertIn(rec["time"], "".join(e.log()))
                text = self.assert_quarantined(e)  # every scrape
            self.assertEqual(self.builtin_series(text), builtins)

        # Touched (a new mtime): the record is removed and the plugin loads.
        os.utime(os.path.join(self.plugins, "crashes.so"),
                 ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        with self.exporter("--collector.crashes") as e:
            # Not its collect(): that would crash again.
            e.get("/metrics?collect[]=cpu")
            log = "".join(e.log())
        self.assertIn("quarantine lifted", log)
        self.assertIn("plugin loaded collector=crashes", log)
        self.assertNotIn("plugin refused", log)
        self.assertFalse(os.path.exists(self.record))

        # It crashes again, and is quarantined again; then replaced by a
        # copy (a new inode, the same size and mtime): lifted again.
        self.crash()
        with self.exporter("--collector.crashes") as e:
            self.assert_quarantined(e)
        so = os.path.join(self.plugins, "crashes.so")
        shutil.copy2(so, so + ".new")
        os.replace(so + ".new", so)
        with self.exporter("--collector.crashes") as e:
            e.get("/metrics?collect[]=cpu")
            log = "".join(e.log())
        self.assertIn("quarantine lifted", log)
        self.assertIn("plugin loaded collector=crashes", log)
        self.assertFalse(os.path.exists(self.record))

    def test_removing_the_record_lets_the_plugin_load(self):
        self.crash()
        os.unlink(self.record)
        with self.exporter("--collector.crashes") as e:
            e.get("/metrics?collect[]=cpu")
            log = "".join(e.log())
        self.assertIn("plugin loaded collector=crashes", log)
        self.assertNotIn("quarantine", log)

    def test_abort_is_quarantined(self):
        self.crash("aborts")
        self.assertEqual(self.read_record("aborts")["signal"], "SIGABRT")
        with self.exporter("--collector.aborts") as e:
            self.assert_quarantined(e, "aborts", "SIGABRT in collect")

    def test_check_config_and_help_plugins_report_it_and_write_nothing(self):
        self.crash()
        with open(self.record, "rb") as f:
            before = f.read()
        args = ("--config", self.config, "--plugin-dir", self.plugins,
                "--state-dir", self.state, "--collector.crashes")
        res = harness.run(*args, "--check-config", env=crash_env())
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertRegex(res.stdout, r"(?m)^crashes: refused \(\S+crashes\.so\): "
                                     r"quarantined: crashed the exporter "
                                     r"\(SIGSEGV in collect\)")
        self.assertRegex(res.stdout, r"(?m)^cpu: loaded ")
        res = harness.run(*args, "--help-plugins", env=crash_env())
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertRegex(res.stdout, r"(?m)^crashes: cannot be loaded: "
                                     r"quarantined: crashed the exporter")
        self.assertIn("aborts 0.0.1", res.stdout)  # the others are listed
        # Neither changed the record; a stale one is left for a start.
        with open(self.record, "rb") as f:
            self.assertEqual(f.read(), before)
        os.utime(os.path.join(self.plugins, "crashes.so"), ns=(1, 2))
        res = harness.run(*args, "--check-config", env=crash_env())
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertTrue(os.path.exists(self.record))
        # Nor do they create the quarantine directory.
        fresh = os.path.join(self.tmp, "fresh")
        os.mkdir(fresh)
        harness.run("--config", os.devnull, "--plugin-dir", self.plugins,
                    "--state-dir", fresh, "--check-config")
        self.assertEqual(os.listdir(fresh), [])

    def test_without_a_usable_state_directory_quarantine_is_off(self):
        missing = os.path.join(self.tmp, "missing")
        e = self.exporter("--collector.crashes", state_dir=missing).start()
        try:
            off = [l for l in e.log() if "quarantine is off" in l]
            self.assertEqual(len(off), 1, e.log())
            self.assertIn(" warning ", off[0])
            self.assertIn(missing, off[0])
            with self.assertRaises((ConnectionError, OSError)):
                e.get()
            self.assertEqual(e.proc.wait(10), -signal.SIGSEGV)
        finally:
            e.kill()
        self.assertEqual(len([l for l in e.log() if "plugin crashed" in l]), 1)
        self.assertFalse(os.path.exists(missing))

    def test_a_bad_state_dir_is_a_configuration_error(self):
        cfg = os.path.join(self.tmp, "c.toml")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("[plugins]\nstate_dir = \"var/lib\"\n")
        for extra in ([], ["--check-config"]):
            res = harness.run("--config", cfg, "--listen", "127.0.0.1:0",
                              *extra)
            self.assertEqual(res.returncode, 2, res.stderr)
            self.assertIn(cfg + ":2: plugins.state_dir must be an absolute "
                          "path", res.stderr)
        res = harness.run("--config", os.devnull, "--state-dir", "rel",
                          "--check-config")
        self.assertEqual(res.returncode, 2, res.stderr)
        self.assertIn("--state-dir must be an absolute path", res.stderr)


if __name__ == "__main__":
    unittest.main()
