"""The filesystem collector on the real binary.

A fixture mountinfo (under --procfs) naming real directories: sizes from
statfs, device_error for a missing mount point, valid exposition. Then the
hang-safety requirement: filesystem_hang (the same plugin, built so that
statfs never returns on a mount point ending in "/hang") loaded in place of
filesystem.so. Every scrape answers, the hung mount is reported with
device_error 1 and the others in full, it is logged as stuck once, and the
exporter's thread count stays bounded however many scrapes and reloads
come. And on one CPU, where one scrape starts at a time: scrapes that
arrive while the first is held on the scraping thread by a mount timeout
longer than their deadline are not queued behind it (the server's sweep
stops counting a job that held its place through a whole sweep while
others waited), they answer before it.
"""

import os
import shutil
import signal
import threading
import time

import harness

HANG_PLUGIN = os.path.join(harness.TEST_PLUGIN_DIR, "filesystem_hang",
                           "filesystem.so")


def thread_count(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


class FilesystemTest(harness.TempDirTestCase):

    def setUp(self):
        super().setUp()
        self.ok = os.path.join(self.tmp, "data")
        os.makedirs(self.ok)
        self.procfs = harness.make_procfs(os.path.join(self.tmp, "proc"))
        self.config = os.path.join(self.tmp, "sysmetrics.toml")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write("[collectors.filesystem]\nenabled = true\n"
                    "mount_timeout_seconds = 0.5\n")

    def write_mountinfo(self, mounts):
        """mounts: (mount point, fstype, source, options) tuples."""
        os.makedirs(os.path.join(self.procfs, "self"), exist_ok=True)
        with open(os.path.join(self.procfs, "self", "mountinfo"), "w",
                  encoding="utf-8") as f:
            for i, (point, fstype, source, options) in enumerate(mounts):
                f.write(f"{i + 20} 1 8:{i} / {point} {options} shared:1 - "
                        f"{fstype} {source} {options}\n")
            f.write("garbage line\n")

    def series(self, text, family, point):
        got = harness.samples(text)
        key = (f'{family}{{device="{self.devices[point]}",'
               f'mountpoint="{point}",fstype="ext4"}}')
        return got.get(key)

    def test_fixture_mounts(self):
        missing = os.path.join(self.tmp, "missing")
        self.devices = {self.ok: "/dev/sda1", missing: "/dev/sdb1"}
        self.write_mountinfo([(self.ok, "ext4", "/dev/sda1", "rw"),
                              (self.ok, "ext4", "/dev/sda1", "ro"),
                              (missing, "ext4", "/dev/sdb1", "rw"),
                              ("/proc", "proc", "proc", "rw")])
        plugins = harness.plugin_dir(os.path.join(self.tmp, "plugins"),
                                     names=("filesystem",))
        with harness.Exporter("--plugin-dir", plugins, config=self.config,
                              procfs=self.procfs) as e:
            text = e.metrics()
            harness.check_exposition(self, text)
            harness.promtool_check(self, text)
            got = harness.samples(text)
            self.assertEqual(
                got['sysmetrics_collector_success{collector="filesystem"}'],
                "1")
            self.assertEqual(got['sysmetrics_collector_skipped_lines_total'
                                 '{collector="filesystem"}'], "1")
            fam = "sysmetrics_filesystem_"
            self.assertGreater(float(self.series(text, fam + "size_bytes",
                                                 self.ok)), 0)
            for name in ("free_bytes", "available_bytes", "files",
                         "files_free"):
                self.assertIsNotNone(self.series(text, fam + name, self.ok))
            self.assertEqual(self.series(text, fam + "device_error", self.ok),
                             "0")
            # Two lines, one series: the later mount's ro.
            self.assertEqual(self.series(text, fam + "readonly", self.ok), "1")
            self.assertEqual(self.series(text, fam + "device_error", missing),
                             "1")
            self.assertEqual(self.series(text, fam + "readonly", missing), "0")
            self.assertIsNone(self.series(text, fam + "size_bytes", missing))
            self.assertNotIn('mountpoint="/proc"', text)

    def test_bad_options_fail_create(self):
        plugins = harness.plugin_dir(os.path.join(self.tmp, "plugins"),
                                     names=("filesystem",))
        for option, why in (
                ('fs_types_exclude = "("', "fs_types_exclude '(' is not a "
                 "valid regular expression"),
                ('mount_points_exclude = "[a"', "mount_points_exclude '[a' "
                 "is not a valid regular expression"),
                ("mount_timeout_seconds = 0.0", "mount_timeout_seconds must "
                 "be above 0 and at most 60, not 0"),
                ('rootfs = "host"', "rootfs 'host' is not an absolute path")):
            with open(self.config, "w", encoding="utf-8") as f:
                f.write(f"[collectors.filesystem]\nenabled = true\n{option}\n")
            res = harness.run("--check-config", "--config", self.config,
                              "--plugin-dir", plugins)
            self.assertEqual(res.returncode, 2, res.stderr)
            self.assertIn(why, res.stderr)

    def test_scrapes_pass_one_held_by_a_hung_mount(self):
        hang = os.path.join(self.tmp, "nfs", "hang")
        self.devices = {self.ok: "/dev/sda1", hang: "filer:/export"}
        self.write_mountinfo([(self.ok, "ext4", "/dev/sda1", "rw"),
                              (hang, "ext4", "filer:/export", "rw")])
        plugins = harness.plugin_dir(os.path.join(self.tmp, "plugins"))
        for name in os.listdir(plugins):
            if name.startswith("filesystem"):
                os.remove(os.path.join(plugins, name))
        shutil.copy(HANG_PLUGIN, plugins)
        with open(self.config, "w", encoding="utf-8") as f:
            f.write("[collectors.filesystem]\nenabled = true\n"
                    "mount_timeout_seconds = 8.0\n")
        # The exporter inherits one CPU: a running limit of one scrape.
        e = harness.Exporter("--plugin-dir", plugins, config=self.config,
                             procfs=self.procfs)
        cpus = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(cpus)})
        try:
            e.start()
        finally:
            os.sched_setaffinity(0, cpus)
        try:
            order = []
            answers = {}
            lock = threading.Lock()

            def scrape(i):
                # A deadline of 1.5 s (2 s less the 0.5 s margin).
                status, _, body = e.get(
                    headers={"X-Prometheus-Scrape-Timeout-Seconds": "2"},
                    timeout=60)
                with lock:
                    order.append(i)
                    answers[i] = (status, body.decode())

            idle = thread_count(e.proc.pid)
            first = threading.Thread(target=scrape, args=(0,))
            first.start()
            # Until the first scrape runs: it starts a thread (the statfs
            # worker or a pool thread; the pool's first worker exists from
            # start-up), and it is the only job, so the one held.
            deadline = time.monotonic() + 30
            while (thread_count(e.proc.pid) <= idle
                   and time.monotonic() < deadline):
                time.sleep(0.02)
            self.assertGreater(thread_count(e.proc.pid), idle)
            others = [threading.Thread(target=scrape, args=(i,))
                      for i in range(1, 5)]
            for t in others:
                t.start()
            for t in others + [first]:
                t.join(90)
            self.assertEqual(sorted(order), [0, 1, 2, 3, 4])
            # The first, held by its 8 s mount timeout, answers last.
            self.assertEqual(order[-1], 0, order)
            for i in range(1, 5):
                status, text = answers[i]
                self.assertEqual(status, 200, i)
                got = harness.samples(text)
                self.assertEqual(
                    got['sysmetrics_collector_success{collector="cpu"}'],
                    "1", i)
                harness.promtool_check(self, text)
            self.assertEqual(os.sched_getaffinity(e.proc.pid), {min(cpus)})
            self.assertEqual(e.stop(), 0, e.log())
        finally:
            e.close()

    def test_hung_mount_does_not_stall_scrapes(self):
        self.assertTrue(os.path.exists(HANG_PLUGIN), HANG_PLUGIN)
        hang = os.path.join(self.tmp, "nfs", "hang")
        self.devices = {self.ok: "/dev/sda1", hang: "filer:/export"}
        self.write_mountinfo([(self.ok, "ext4", "/dev/sda1", "rw"),
                              (hang, "ext4", "filer:/export", "rw")])
        plugins = harness.plugin_dir(os.path.join(self.tmp, "plugins"),
                                     names=())
        shutil.copy(HANG_PLUGIN, plugins)
        with harness.Exporter("--plugin-dir", plugins, config=self.config,
                              procfs=self.procfs) as e:
            fam = "sysmetrics_filesystem_"
            threads = []
            for i in range(20):
                # Within its deadline: a collect that ran past it would be
                # reported failed (success 0, checked below).
                text = e.metrics()
                threads.append(thread_count(e.proc.pid))
                self.assertEqual(
                    self.series(text, fam + "device_error", hang), "1", i)
                self.assertIsNone(self.series(text, fam + "size_bytes", hang))
                self.assertEqual(
                    self.series(text, fam + "device_error", self.ok), "0", i)
                self.assertIsNotNone(
                    self.series(text, fam + "size_bytes", self.ok), i)
                got = harness.samples(text)
                self.assertEqual(
                    got['sysmetrics_collector_success{collector="filesystem"}'],
                    "1", e.log())
            harness.check_exposition(self, text)
            harness.promtool_check(self, text)
            # One stuck thread, whatever the number of scrapes: a new call
            # per scrape would add a thread per scrape.
            self.assertLessEqual(max(threads) - threads[0], 2, threads)
            stuck = [l for l in e.log() if "has not returned" in l]
            self.assertEqual(len(stuck), 1, stuck)
            self.assertIn(hang, stuck[0])
            # A reload makes a new instance while the old one's call is
            # still stuck: the new one must not call (and block) again.
            for i in range(5):
                e.send_signal(signal.SIGHUP)
                deadline = time.monotonic() + 10
                while (sum("reloaded" in l for l in e.log()) <= i
                       and time.monotonic() < deadline):
                    time.sleep(0.02)
                text = e.metrics()
                self.assertEqual(harness.samples(text)[
                    'sysmetrics_collector_success{collector="filesystem"}'],
                    "1", i)
                self.assertEqual(
                    self.series(text, fam + "device_error", hang), "1", i)
                self.assertEqual(
                    self.series(text, fam + "device_error", self.ok), "0", i)
                threads.append(thread_count(e.proc.pid))
            self.assertEqual(sum("reloaded" in l for l in e.log()), 5)
            self.assertLessEqual(max(threads) - threads[0], 2, threads)
            self.assertEqual(
                len([l for l in e.log() if "has not returned" in l]), 1)
            # Shutdown does not wait for the stuck call.
            self.assertEqual(e.stop(), 0, e.log())
