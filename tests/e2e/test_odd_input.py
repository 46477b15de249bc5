"""Odd input costs one line, resources stay bounded (the failure model).

The real binary on fixture trees (tests/fixtures/trees): old and new kernel
layouts, lines longer than today's, odd names, one bad line among good ones,
empty and garbage files. Then: udev entries that change, vanish and
appear under a running exporter; more than 4,096 interface names with churn
(also under valgrind), a FIFO in place of a /proc file, a 50 MB file, a
collector that claims never to block and blocks, and a configuration
directory the service cannot read.

Expected series of the trees are golden files; regenerate with
  SYSMETRICS_UPDATE_GOLDEN=1 ctest -R e2e_odd_input
and read the diff before committing.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import unittest

import harness

TREES = os.path.join(harness.FIXTURES, "trees")
SANITIZED = os.environ.get("SYSMETRICS_SANITIZE", "") != ""
HOST_FAMILIES = harness.HOST_FAMILY_PREFIXES
# The configuration of a tree without a config.toml of its own: udev's
# database inside the tree. @TREE@ stands for
# the tree's copy; --sysfs is always <tree>/sysfs, so that neither the
# machine's /sys nor its /run/udev is ever read.
DEFAULT_CONFIG = """[collectors.disk]
udev_data_path = "@TREE@/udev"
"""


def collector_series(text):
    """The lines of the collectors' own series, sorted (no comments, no
    host families)."""
    return sorted(line for line in text.splitlines()
                  if line and not line.startswith("#")
                  and not line.startswith(HOST_FAMILIES))


def per_collector(samples, family):
    out = {}
    for series, value in samples.items():
        m = re.fullmatch(family + r'\{collector="([a-z0-9_]+)"\}', series)
        if m:
            out[m.group(1)] = float(value)
    return out


def wait_for_count(exporter, text, count, timeout=10.0):
    """The log lines holding text once there are count of them (or more), or
    what there is at the timeout: the log is read by another thread, so a
    line written before a response may be seen after it."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [l for l in exporter.log() if text in l]
        if len(lines) >= count or time.monotonic() >= deadline:
            return lines
        time.sleep(0.02)


def rss_kib(pid):
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def net_dev(names_and_ids):
    """A /proc/net/dev whose counter k of interface id is id * 100 + k."""
    lines = ["Inter-|   Receive                                                |  Transmit",
             " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed"]
    for name, ident in names_and_ids:
        lines.append(f"{name:>6}: " +
                     " ".join(str(ident * 100 + k) for k in range(16)))
    return "\n".join(lines) + "\n"


class FixtureTreeTest(harness.TempDirTestCase):
    """Every tree: success and skipped lines per collector as expected, the
    good lines exported, each bad line logged once per reload."""

    def check_tree(self, name):
        tree = os.path.join(self.tmp, name)
        # symlinks: class/net/<interface> are links, as in a real /sys.
        shutil.copytree(os.path.join(TREES, name), tree, symlinks=True,
                        ignore=shutil.ignore_patterns("expected.*",
                                                      "config.toml"))
        with open(os.path.join(TREES, name, "expected.json"),
                  encoding="utf-8") as f:
            expected = json.load(f)
        template = DEFAULT_CONFIG
        own = os.path.join(TREES, name, "config.toml")
        if os.path.exists(own):
            with open(own, encoding="utf-8") as f:
                template = f.read()
        config = os.path.join(self.tmp, name + ".toml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(template.replace("@TREE@", tree))
        with harness.Exporter(config=config, procfs=tree,
                              sysfs=os.path.join(tree, "sysfs")) as e:
            text = e.metrics()
            harness.check_exposition(self, text)
            harness.promtool_check(self, text)
            got = harness.samples(text)
            success = per_collector(got, "sysmetrics_collector_success")
            skipped = per_collector(
                got, "sysmetrics_collector_skipped_lines_total")
            for collector, want in expected.items():
                self.assertEqual(success.get(collector),
                                 want["success"], (name, collector, e.log()))
                self.assertEqual(skipped.get(collector),
                                 want["skipped_lines"], (name, collector))
            if expected.get("netclass", {}).get("success") == 0:
                # No class/net in the tree: the collect fails naming it.
                self.assertTrue(e.wait_for_log(
                    os.path.join(tree, "sysfs", "class", "net") +
                    ": No such file or directory"), e.log())
            total = sum(w["skipped_lines"] for w in expected.values())
            logged = wait_for_count(e, "line skipped", total)
            self.assertEqual(len(logged), total, logged)
            for line in logged:
                self.assertRegex(line, r"file=\S+ line=[0-9]+ reason=")

            golden = os.path.join(TREES, name, "expected.prom")
            series = "\n".join(collector_series(text)) + "\n"
            if os.environ.get("SYSMETRICS_UPDATE_GOLDEN") == "1":
                with open(golden, "w", encoding="utf-8") as f:
                    f.write(series)
            with open(golden, encoding="utf-8") as f:
                self.assertEqual(series, f.read(), name)

            # Counted on every scrape, logged once per line per instance.
            got = harness.samples(e.metrics())
            skipped = per_collector(
                got, "sysmetrics_collector_skipped_lines_total")
            for collector, want in expected.items():
                self.assertEqual(skipped.get(collector),
                                 2 * want["skipped_lines"], collector)
            self.assertEqual(
                len(wait_for_count(e, "line skipped", total + 1, 0.5)), total)
            # A reload starts over: logged once more, counted from zero.
            e.send_signal(signal.SIGHUP)
            self.assertTrue(e.wait_for_log("reloaded"), e.log())
            got = harness.samples(e.metrics())
            skipped = per_collector(
                got, "sysmetrics_collector_skipped_lines_total")
            for collector, want in expected.items():
                self.assertEqual(skipped.get(collector),
                                 want["skipped_lines"], collector)
            self.assertEqual(
                len(wait_for_count(e, "line skipped", 2 * total)), 2 * total)

    def test_linux_2_6(self):
        self.check_tree("linux-2.6")

    def test_linux_6_x(self):
        self.check_tree("linux-6.x")

    def test_future(self):
        self.check_tree("future")

    def test_odd_names(self):
        self.check_tree("odd-names")

    def test_broken_lines(self):
        self.check_tree("broken-lines")

    def test_empty(self):
        self.check_tree("empty")

    def test_garbage(self):
        self.check_tree("garbage")

    def test_every_tree_is_tested(self):
        tested = {n[5:].replace("_", "-").replace("linux-2-6", "linux-2.6")
                  .replace("linux-6-x", "linux-6.x")
                  for n in dir(self) if n.startswith("test_")
                  and n != "test_every_tree_is_tested"}
        trees = {n for n in os.listdir(TREES)
                 if os.path.isdir(os.path.join(TREES, n))}
        self.assertEqual(trees, tested)


class UdevChangeTest(harness.TempDirTestCase):
    """disk.so reads a udev file again only when it changed: a file udev
    replaces (rename over it), removes or creates shows on the next scrape,
    and so does a device-mapper rename seen through sysfs."""

    def info(self, e, family, device):
        got = harness.samples(e.metrics())
        self.assertEqual(got['sysmetrics_collector_success{collector="disk"}'],
                         "1")
        return sorted(k for k in got
                      if k.startswith(family + '{device="' + device + '"'))

    def test_changes_show_on_the_next_scrape(self):
        procfs = harness.make_procfs(os.path.join(self.tmp, "procfs"))
        udev = os.path.join(self.tmp, "udev")
        os.makedirs(udev)
        sysfs = os.path.join(self.tmp, "sys")
        dm = os.path.join(sysfs, "block", "dm-0", "dm")
        os.makedirs(dm)
        with open(os.path.join(dm, "name"), "w", encoding="utf-8") as f:
            f.write("vg0-root\n")
        config = os.path.join(self.tmp, "sysmetrics.toml")
        with open(config, "w", encoding="utf-8") as f:
            f.write("[collectors.disk]\nexclude_pattern = \"^loop\"\n"
                    f"udev_data_path = \"{udev}\"\n")
        sda = os.path.join(udev, "b8:0")

        def write_sda(model):
            with open(sda + ".tmp", "w", encoding="utf-8") as f:
                f.write(f"S:disk/by-id/x\nE:ID_MODEL={model}\nE:ID_ATA=1\n"
                        "E:ID_ATA_ROTATION_RATE_RPM=7200\n")
            os.replace(sda + ".tmp", sda)

        with harness.Exporter("--sysfs", sysfs, config=config,
                              procfs=procfs) as e:
            [line] = self.info(e, "sysmetrics_disk_info", "sda")
            self.assertIn('model=""', line)
            write_sda("First")
            [line] = self.info(e, "sysmetrics_disk_info", "sda")
            self.assertIn('model="First"', line)
            self.assertEqual(self.info(
                e, "sysmetrics_disk_ata_rotation_rate_rpm", "sda"),
                ['sysmetrics_disk_ata_rotation_rate_rpm{device="sda"}'])
            write_sda("Second")
            [line] = self.info(e, "sysmetrics_disk_info", "sda")
            self.assertIn('model="Second"', line)
            os.remove(sda)
            [line] = self.info(e, "sysmetrics_disk_info", "sda")
            self.assertIn('model=""', line)
            self.assertEqual(self.info(
                e, "sysmetrics_disk_ata_rotation_rate_rpm", "sda"), [])
            # No udev entry for dm-0: name from sysfs, renamed meanwhile.
            [line] = self.info(e, "sysmetrics_disk_device_mapper_info",
                               "dm-0")
            self.assertIn('name="vg0-root"', line)
            with open(os.path.join(dm, "name"), "w", encoding="utf-8") as f:
                f.write("vg0-new\n")
            [line] = self.info(e, "sysmetrics_disk_device_mapper_info",
                               "dm-0")
            self.assertIn('name="vg0-new",uuid="",vg_name=""', line)
            # udev's entry, once there, wins over sysfs.
            with open(os.path.join(udev, "b253:0"), "w",
                      encoding="utf-8") as f:
                f.write("E:DM_NAME=vg0-root\nE:DM_VG_NAME=vg0\n"
                        "E:DM_LV_NAME=root\n")
            [line] = self.info(e, "sysmetrics_disk_device_mapper_info",
                               "dm-0")
            self.assertIn('name="vg0-root",uuid="",vg_name="vg0",'
                          'lv_name="root"', line)
            # The whole database gone (the directory too): no error.
            shutil.rmtree(udev)
            [line] = self.info(e, "sysmetrics_disk_info", "sda")
            self.assertIn('model=""', line)
            [line] = self.info(e, "sysmetrics_disk_device_mapper_info",
                               "dm-0")
            self.assertIn('name="vg0-new"', line)


class CpuSysfsTest(harness.TempDirTestCase):
    """cpu's sysfs inputs: the thermal_throttle option, and an isolated file
    that is bad or that changes while the exporter runs."""

    def setUp(self):
        super().setUp()
        self.tree = os.path.join(self.tmp, "linux-6.x")
        shutil.copytree(os.path.join(TREES, "linux-6.x"), self.tree,
                        ignore=shutil.ignore_patterns("expected.*"))
        self.sysfs = os.path.join(self.tree, "sysfs")
        self.isolated = os.path.join(self.sysfs, "devices", "system", "cpu",
                                     "isolated")

    def exporter(self, config_text=""):
        config = os.path.join(self.tmp, "sysmetrics.toml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(config_text)
        return harness.Exporter(config=config, procfs=self.tree,
                                sysfs=self.sysfs)

    def test_throttle_counts_follow_cpu_hotplug(self):
        """The cpu directory is listed again when the online CPUs change:
        cpu1 going offline (its line and thermal_throttle gone) and cpu3
        gaining a count move core 1's count to cpu3's on the next scrape."""
        cpu_dir = os.path.join(self.sysfs, "devices", "system", "cpu")
        core1 = 'sysmetrics_cpu_core_throttles_total{package="0",core="1"}'
        with self.exporter() as e:
            self.assertEqual(harness.samples(e.metrics())[core1], "7")
            stat = os.path.join(self.tree, "stat")
            with open(stat, encoding="utf-8") as f:
                lines = [l for l in f if not l.startswith("cpu1 ")]
            with open(stat, "w", encoding="utf-8") as f:
                f.writelines(lines)
            shutil.rmtree(os.path.join(cpu_dir, "cpu1", "thermal_throttle"))
            throttle = os.path.join(cpu_dir, "cpu3", "thermal_throttle")
            os.mkdir(throttle)
            for name, value in (("core_throttle_count", "9"),
                                ("package_throttle_count", "12")):
                with open(os.path.join(throttle, name), "w",
                          encoding="utf-8") as f:
                    f.write(value + "\n")
            got = harness.samples(e.metrics())
        self.assertEqual(got[core1], "9")
        self.assertEqual(got["sysmetrics_cpus_online"], "3")

    def test_thermal_throttle_off(self):
        with self.exporter("[collectors.cpu]\nthermal_throttle = false\n") as e:
            got = harness.samples(e.metrics())
        self.assertFalse([k for k in got if "throttles_total" in k])
        self.assertEqual(got['sysmetrics_cpu_isolated{cpu="3"}'], "1")
        self.assertEqual(
            got['sysmetrics_collector_success{collector="cpu"}'], "1")

    def test_isolated_read_at_start_and_on_reload(self):
        with self.exporter() as e:
            self.assertEqual(
                harness.samples(e.metrics())['sysmetrics_cpu_isolated{cpu="2"}'],
                "1")
            with open(self.isolated, "w", encoding="utf-8") as f:
                f.write("0\n")
            got = harness.samples(e.metrics())
            self.assertIn('sysmetrics_cpu_isolated{cpu="2"}', got)
            self.assertNotIn('sysmetrics_cpu_isolated{cpu="0"}', got)
            e.send_signal(signal.SIGHUP)
            self.assertTrue(e.wait_for_log("reloaded"), e.log())
            got = harness.samples(e.metrics())
            self.assertEqual(got['sysmetrics_cpu_isolated{cpu="0"}'], "1")
            self.assertNotIn('sysmetrics_cpu_isolated{cpu="2"}', got)

    def test_bad_or_missing_isolated_file(self):
        with open(self.isolated, "w", encoding="utf-8") as f:
            f.write("3-1\n")
        with self.exporter() as e:
            got = harness.samples(e.metrics())
            self.assertFalse([k for k in got if "cpu_isolated" in k])
            self.assertEqual(
                got['sysmetrics_collector_success{collector="cpu"}'], "1")
            self.assertTrue(e.wait_for_log("'3-1' is not a CPU or a range"),
                            e.log())
        os.remove(self.isolated)
        with self.exporter() as e:
            got = harness.samples(e.metrics())
            self.assertFalse([k for k in got if "cpu_isolated" in k])
            self.assertEqual(
                got['sysmetrics_collector_success{collector="cpu"}'], "1")
            self.assertFalse([l for l in e.log() if "cpu/isolated" in l])


class ManyNamesTest(harness.TempDirTestCase):
    """More interfaces than the name filter's 4,096 bound, and names that
    churn over scrapes: every value under its own interface's name."""

    def run_scrapes(self, wrapper=()):
        procfs = harness.make_procfs(os.path.join(self.tmp, "procfs"))
        dev = os.path.join(procfs, "net", "dev")
        stable = [(f"eth{i}", i) for i in range(4500)]
        config = os.path.join(self.tmp, "sysmetrics.toml")
        with open(config, "w", encoding="utf-8") as f:
            f.write("[collectors.network]\nexclude_pattern = \"^veth\"\n")
        e = harness.Exporter(config=config, procfs=procfs)
        e.args = list(wrapper) + e.args
        for scrape in range(6):
            # 4,500 stable names, 1,000 that live for one scrape only, and
            # 500 excluded ones that churn too (excluded names are cached).
            churn = [(f"c{scrape}x{j}", 100000 + scrape * 1000 + j)
                     for j in range(1000)]
            gone = [(f"veth{scrape}x{j}", 200000 + j) for j in range(500)]
            with open(dev + ".new", "w", encoding="utf-8") as f:
                f.write(net_dev(stable + churn + gone))
            os.replace(dev + ".new", dev)
            if scrape == 0:
                e.start(timeout=60)
            _, _, body = e.get(timeout=120)
            got = harness.samples(body.decode())
            rx = {}
            for series, value in got.items():
                m = re.fullmatch(
                    r'sysmetrics_network_receive_bytes_total'
                    r'\{interface="([^"]+)"\}', series)
                if m:
                    rx[m.group(1)] = int(float(value))
            want = {name: ident * 100 for name, ident in stable + churn}
            self.assertEqual(rx, want, f"scrape {scrape}")
            self.assertEqual(
                got['sysmetrics_collector_success{collector="network"}'], "1")
        self.assertFalse([l for l in e.log() if "duplicate" in l])
        return e

    def test_labels_right_over_churn(self):
        e = self.run_scrapes()
        self.assertEqual(e.stop(), 0)
        e.kill()

    @unittest.skipIf(SANITIZED, "valgrind cannot run a sanitized binary; "
                     "the sanitized run of test_labels_right_over_churn "
                     "covers it there")
    def test_labels_right_over_churn_under_valgrind(self):
        valgrind = shutil.which("valgrind")
        self.assertIsNotNone(valgrind, "valgrind is required "
                             "(packaging/install-build-deps.sh --test)")
        e = self.run_scrapes([valgrind, "--error-exitcode=99",
                              "--leak-check=no", "--track-origins=no",
                              "--quiet"])
        self.assertEqual(e.stop(timeout=60), 0)
        e.kill()
        errors = [l for l in e.log() if l.startswith("==")]
        self.assertEqual(errors, [])


class BlockingFileTest(harness.TempDirTestCase):
    """A FIFO in place of /proc/stat costs cpu for the scrapes it is there,
    nothing else; the next scrape after it is gone is whole again."""

    def test_fifo_costs_one_collector(self):
        procfs = harness.make_procfs(os.path.join(self.tmp, "procfs"))
        stat = os.path.join(procfs, "stat")
        saved = os.path.join(self.tmp, "stat.saved")
        shutil.move(stat, saved)
        os.mkfifo(stat)
        with harness.Exporter(procfs=procfs) as e:
            got = harness.samples(e.metrics())
            self.assertEqual(
                got['sysmetrics_collector_success{collector="cpu"}'], "0")
            for c in ("memory", "disk", "network"):
                self.assertEqual(
                    got[f'sysmetrics_collector_success{{collector="{c}"}}'],
                    "1", c)
            self.assertTrue(e.wait_for_log("not a regular file"), e.log())
            os.remove(stat)
            shutil.copy(saved, stat)
            got = harness.samples(e.metrics())
            for c in ("cpu", "memory", "disk", "network"):
                self.assertEqual(
                    got[f'sysmetrics_collector_success{{collector="{c}"}}'],
                    "1", c)
            self.assertEqual(e.stop(timeout=15), 0)


class LargeFileTest(harness.TempDirTestCase):
    """A 50 MB file is refused with a clear error, and memory taken by
    large files is given back once they are normal again."""

    def test_memory_returns_after_large_files(self):
        procfs = harness.make_procfs(os.path.join(self.tmp, "procfs"))
        dev = os.path.join(procfs, "net", "dev")
        disk = os.path.join(procfs, "diskstats")
        with open(dev, encoding="utf-8") as f:
            small_dev = f.read()
        with open(disk, encoding="utf-8") as f:
            small_disk = f.read()
        with harness.Exporter(procfs=procfs) as e:
            for _ in range(5):
                e.metrics()
            start = rss_kib(e.proc.pid)
            # 6,000 interfaces, all exported.
            with open(dev, "w", encoding="utf-8") as f:
                f.write(net_dev([(f"eth{i}", i) for i in range(6000)]))
            for _ in range(2):
                got = harness.samples(e.metrics())
                self.assertEqual(got[
                    'sysmetrics_network_receive_bytes_total{interface="eth5999"}'],
                    "599900")
            # 50 MB of valid diskstats lines: above the read limit.
            line = "   8       0 sd{:07d} " + " ".join(["1"] * 17) + "\n"
            with open(disk, "w", encoding="utf-8") as f:
                i = 0
                while f.tell() < 50_000_000:
                    f.write(line.format(i))
                    i += 1
            got = harness.samples(e.metrics())
            self.assertEqual(
                got['sysmetrics_collector_success{collector="disk"}'], "0")
            self.assertTrue(
                e.wait_for_log("larger than the 16 MiB read limit"),
                e.log()[-5:])
            with open(dev, "w", encoding="utf-8") as f:
                f.write(small_dev)
            with open(disk, "w", encoding="utf-8") as f:
                f.write(small_disk)
            for _ in range(5):
                got = harness.samples(e.metrics())
            self.assertEqual(
                got['sysmetrics_collector_success{collector="disk"}'], "1")
            end = rss_kib(e.proc.pid)
            if not SANITIZED:  # ASan keeps freed memory in quarantine
                self.assertLessEqual(end - start, 2048,
                                     f"RSS {start} KiB -> {end} KiB")


class BlockingInlineTest(harness.TempDirTestCase):
    """A third-party plugin that claims never to block and blocks: the
    claim is trusted only from the built-ins, so it never runs on the
    scraping thread and costs only itself; the message says what really
    happened; SIGTERM is not held past the drain bound."""

    def start(self, isolate):
        plugins = harness.plugin_dir(os.path.join(self.tmp, "plugins"),
                                     test_plugins=("blocks_inline",))
        self.block = os.path.join(self.tmp, "block")
        config = os.path.join(self.tmp, "sysmetrics.toml")
        with open(config, "w", encoding="utf-8") as f:
            f.write("[plugins]\ncheck_permissions = false\n"
                    "[scrape]\ndefault_timeout_seconds = 1.0\n"
                    "[collectors.blocks_inline]\nenabled = true\n"
                    f"isolate = {'true' if isolate else 'false'}\n"
                    f"block_while = \"{self.block}\"\n")
        procfs = harness.make_procfs(os.path.join(self.tmp, "procfs"))
        return harness.Exporter("--plugin-dir", plugins, config=config,
                                procfs=procfs)

    def success(self, got, name="blocks_inline"):
        return got[f'sysmetrics_collector_success{{collector="{name}"}}']

    def until_success(self, e):
        """Scrapes until blocks_inline succeeds again (bounded)."""
        for _ in range(200):
            got = harness.samples(e.metrics())
            if self.success(got) == "1":
                break
            time.sleep(0.05)
        self.assertEqual(self.success(got), "1")
        return got

    def assert_others_fine(self, got):
        for c in ("cpu", "memory", "disk", "network"):
            self.assertEqual(self.success(got, c), "1", c)

    def test_in_process(self):
        with self.start(isolate=False) as e:
            got = harness.samples(e.metrics())
            self.assertEqual(self.success(got), "1")
            open(self.block, "w", encoding="utf-8").close()
            # The scrape that starts the blocking run answers at its
            # deadline: the run is on the pool, not on this thread.
            status, _, body = e.get(timeout=60)
            self.assertEqual(status, 200)
            got = harness.samples(body.decode())
            self.assertEqual(self.success(got), "0")
            self.assert_others_fine(got)
            self.assertTrue(e.wait_for_log("did not finish before its "
                                           "deadline"), e.log()[-5:])
            got = harness.samples(e.metrics())
            self.assertEqual(self.success(got), "0")
            self.assertTrue(e.wait_for_log("still running from an earlier "
                                           "scrape"), e.log()[-5:])
            self.assertFalse(any("overstayed" in l for l in e.log()))
            os.remove(self.block)  # the cause is gone
            got = self.until_success(e)
            # Blocked again at SIGTERM: the exit does not wait for it
            # beyond the 10 s drain bound.
            open(self.block, "w", encoding="utf-8").close()
            e.metrics()
            self.assertEqual(e.stop(timeout=15), 0)
            self.assertTrue(any("exiting without unloading" in l
                                for l in e.log()), e.log()[-5:])

    def test_isolated(self):
        with self.start(isolate=True) as e:
            got = harness.samples(e.metrics())
            self.assertEqual(self.success(got), "1")
            self.assertEqual(got['sysmetrics_collector_restarts_total'
                                 '{collector="blocks_inline"}'], "0")
            open(self.block, "w", encoding="utf-8").close()
            got = harness.samples(e.metrics())
            self.assertEqual(self.success(got), "0")
            self.assert_others_fine(got)
            self.assertTrue(e.wait_for_log(
                "collect() did not return by its deadline; the helper "
                "process was killed"), e.log()[-5:])
            os.remove(self.block)
            # A new helper starts after the back-off, and works.
            got = self.until_success(e)
            self.assertEqual(got['sysmetrics_collector_restarts_total'
                                 '{collector="blocks_inline"}'], "1")
            self.assertTrue(e.wait_for_log("plugin helper restarted"))
            # Blocked at SIGTERM: the helper is killed, not waited for.
            open(self.block, "w", encoding="utf-8").close()
            e.metrics()
            self.assertEqual(e.stop(timeout=15), 0)


class UnreadableConfigTest(harness.TempDirTestCase):
    """A drop-in directory the service cannot read is an error that names
    it, never skipped."""

    def run_as_nobody(self, *args):
        cmd = [harness.BIN, *args]
        if os.geteuid() == 0:  # root reads everything: drop to nobody
            cmd = ["setpriv", "--reuid=65534", "--regid=65534",
                   "--clear-groups", *cmd]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                             check=False)
        harness.check_output_for_sanitizers(res.stderr)
        return res

    def test_unreadable_conf_d(self):
        os.chmod(self.tmp, 0o755)
        config = os.path.join(self.tmp, "sysmetrics.toml")
        with open(config, "w", encoding="utf-8") as f:
            f.write("[server]\nlisten = \"127.0.0.1:0\"\n")
        os.chmod(config, 0o644)
        dropins = os.path.join(self.tmp, "conf.d")
        os.mkdir(dropins, 0o700)
        with open(os.path.join(dropins, "10-a.toml"), "w",
                  encoding="utf-8") as f:
            f.write("[collectors.textfile]\nenabled = true\n")
        os.chmod(dropins, 0o700)
        if os.geteuid() != 0:
            os.chmod(dropins, 0o000)
        else:
            os.chown(dropins, 0, 0)
        try:
            for args in (["--config", config, "--check-config"],
                         ["--config", config]):
                res = self.run_as_nobody(*args)
                self.assertEqual(res.returncode, 2, res.stderr)
                self.assertIn(
                    f"{dropins}: cannot read the drop-in directory: "
                    "Permission denied (EACCES)", res.stderr)
                self.assertNotIn("configuration OK", res.stdout)
        finally:
            os.chmod(dropins, 0o755)

    def test_unreadable_drop_in(self):
        os.chmod(self.tmp, 0o755)
        config = os.path.join(self.tmp, "sysmetrics.toml")
        with open(config, "w", encoding="utf-8") as f:
            f.write("")
        os.chmod(config, 0o644)
        dropins = os.path.join(self.tmp, "conf.d")
        os.mkdir(dropins)
        os.chmod(dropins, 0o755)
        dropin = os.path.join(dropins, "10-a.toml")
        with open(dropin, "w", encoding="utf-8") as f:
            f.write("[collectors.textfile]\nenabled = true\n")
        os.chmod(dropin, 0o600 if os.geteuid() == 0 else 0o000)
        res = self.run_as_nobody("--config", config, "--check-config")
        self.assertEqual(res.returncode, 2, res.stderr)
        self.assertIn(f"{dropin}: cannot read: Permission denied (EACCES)",
                      res.stderr)


if __name__ == "__main__":
    unittest.main()
