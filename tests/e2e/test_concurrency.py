"""Concurrency under load, written to be run under ThreadSanitizer (and
AddressSanitizer) as well as plainly: concurrent scrapes over every plugin,
reloads during scrapes, shutdown during scrapes. The harness fails a test
whose exporter printed a sanitizer report."""

import os
import signal
import threading
import unittest

import harness

# Every test plugin that loads and collects, faulty ones included.
TEST_PLUGINS = ("slow", "bad_names", "hostile_log", "flood", "flood_families",
                "c_plugin", "throws", "collect_fails", "flaky")


class ConcurrencyTest(harness.TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.procfs = harness.make_procfs(os.path.join(self.tmp, "proc"))
        # The built-in plugins, textfile included, and the test plugins.
        self.plugins = harness.plugin_dir(
            os.path.join(self.tmp, "plugins"),
            names=harness.BUILTIN_PLUGINS + ("textfile",),
            test_plugins=TEST_PLUGINS)
        self.textfile_dir = os.path.join(self.tmp, "textfile")
        os.mkdir(self.textfile_dir)
        with open(os.path.join(self.textfile_dir, "job.prom"), "w",
                  encoding="utf-8") as f:
            f.write("# TYPE job_runs_total counter\njob_runs_total 3\n")

    def write_config(self, enabled=TEST_PLUGINS, extra=""):
        path = os.path.join(self.tmp, "c.toml")
        text = ("[scrape]\nsample_limit = 20000\n" + extra +
                "[collectors.textfile]\nenabled = true\n"
                f'directories = ["{self.textfile_dir}"]\n')
        for name in TEST_PLUGINS:
            on = "true" if name in enabled else "false"
            text += f"[collectors.{name}]\nenabled = {on}\n"
            if name == "slow":
                text += "sleep_ms = 20\n"
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def start_scrapers(self, e, n, failures, stop, done, gzip=False):
        """Starts n threads scraping e until stop is set; done counts the
        answered scrapes (a Counter), failures collects anything else."""
        headers = {"Accept-Encoding": "gzip"} if gzip else {}

        def loop():
            while not stop.is_set() and e.proc.poll() is None:
                try:
                    status = e.get(headers=headers, timeout=15)[0]
                    if status not in (200, 503):
                        failures.append(status)
                    done.add()
                except OSError as exc:
                    if not stop.is_set():
                        failures.append(repr(exc))

        threads = [threading.Thread(target=loop) for _ in range(n)]
        for t in threads:
            t.start()
        return threads

    def test_concurrent_scrapes_and_reloads(self):
        cfg = self.write_config()
        with harness.Exporter("--plugin-dir", self.plugins, "--procfs",
                              self.procfs, config=cfg) as e:
            failures = []
            stop = threading.Event()
            done = harness.Counter()
            threads = (self.start_scrapers(e, 6, failures, stop, done) +
                       self.start_scrapers(e, 2, failures, stop, done,
                                           gzip=True))
            try:
                # Each reload lands among scrapes: some are answered before
                # it, and the next waits until this one is done and more
                # have been answered after it.
                for i in range(6):
                    self.assertTrue(done.wait_for(done.value() + 16),
                                    "scrapes stopped being answered")
                    enabled = TEST_PLUGINS if i % 2 else TEST_PLUGINS[:3]
                    self.write_config(enabled)
                    e.send_signal(signal.SIGHUP)
                    self.assertTrue(
                        harness.wait_until(lambda n=i + 1: e.log_count(
                            "configuration reloaded") >= n),
                        "reload %d was not logged" % (i + 1))
                self.assertTrue(done.wait_for(done.value() + 16))
            finally:
                stop.set()
                for t in threads:
                    t.join(30)
            self.assertEqual(failures, [])
            harness.check_exposition(self, e.metrics())
            self.assertIsNone(e.proc.poll())

    def test_shutdown_during_scrapes(self):
        cfg = self.write_config()
        e = harness.Exporter("--plugin-dir", self.plugins, "--procfs",
                             self.procfs, config=cfg).start()
        try:
            failures = []
            stop = threading.Event()
            done = harness.Counter()
            threads = self.start_scrapers(e, 8, failures, stop, done)
            # SIGTERM while all eight keep scrapes in flight.
            self.assertTrue(done.wait_for(40), "no scrapes were answered")
            status = e.stop(signal.SIGTERM, timeout=20)
            stop.set()
            for t in threads:
                t.join(30)
            self.assertEqual(status, 0, "\n".join(e.log()[-20:]))
        finally:
            e.kill()


if __name__ == "__main__":
    unittest.main()
