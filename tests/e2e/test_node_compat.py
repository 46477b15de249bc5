"""node_exporter side by side: on the same fixture trees, node_exporter 1.5
(Debian's prometheus-node-exporter, --path.procfs/--path.sysfs/--path.rootfs/
--path.udev.data) and sysmetrics with metric_names = "node" serve the same
families, label sets and values for the collectors sysmetrics replaces.

Every series node_exporter serves must be served by sysmetrics with the same
type and value, and every node_* series sysmetrics serves must be served by
node_exporter, except the deliberate differences in EXCEPTIONS, each with
its reason. An exception that no longer happens fails the test too, so the
list stays true. File system sizes come from statfs on directories of the
checkout, which other processes may write to while the test runs: those
values must lie between node_exporter's readings just before and just after
sysmetrics' scrape. Other values are equal up to float64 rounding in the
last bit (a relative 1e-15): node_exporter multiplies milliseconds by 0.001
where sysmetrics divides by 1000, and the two can differ there
(29676 ms is 29.676000000000002 s in node_exporter, 29.676 in sysmetrics).
"""

import math
import os
import re
import shutil
import socket
import subprocess
import time
import unittest
import urllib.request

import harness

TREES = os.path.join(harness.FIXTURES, "node")
NODE = shutil.which("prometheus-node-exporter")

# node_exporter's collectors, and sysmetrics' that replace them.
NODE_COLLECTORS = ("cpu", "meminfo", "diskstats", "netdev", "netclass",
                   "filesystem", "loadavg", "pressure", "stat", "vmstat")
SYSMETRICS_COLLECTORS = ("cpu", "memory", "disk", "network", "netclass",
                         "filesystem", "loadavg", "pressure", "stat", "vmstat")

# node_exporter's own metrics, not a collector's.
NODE_META = ("node_scrape_collector_", "node_exporter_build_info",
             "promhttp_", "go_", "process_")

# Families read from statfs: compared against node's readings around ours.
STATFS_MOVES = ("node_filesystem_free_bytes", "node_filesystem_avail_bytes",
                "node_filesystem_files_free")

# (tree, family, labels that select the series (a subset), what differs,
# why). "absent": node serves it, sysmetrics does not; "extra": sysmetrics
# serves it, node does not; "value": both serve it with different values.
EXCEPTIONS = [
    ("linux-6.1", "node_network_speed_bytes", {"device": "br0"}, "absent",
     "speed -1 (unknown, as for a bridge) is no series in sysmetrics; node "
     "serves -125000 (-1 Mbit/s in bytes)"),
    ("linux-6.1", "node_network_transmit_queue_length", {"device": "wlan0"},
     "absent",
     "a sysfs value that is not a number is reported as a skipped line and "
     "served as no series; node serves 0"),
    ("linux-3.10", "node_network_speed_bytes", {"device": "br0"}, "absent",
     "as in linux-6.1"),
    ("linux-3.10", "node_network_transmit_queue_length", {"device": "wlan0"},
     "absent", "as in linux-6.1"),
    ("linux-3.10", "node_filesystem_readonly", {"mountpoint": "/missing"},
     "extra", "as in linux-6.1"),
    ("linux-6.1", "node_filesystem_readonly", {"mountpoint": "/missing"},
     "extra",
     "a mount whose statfs fails is still read-only or not (mountinfo says "
     "which); node 1.5 serves only device_error for it (later versions "
     "serve readonly too)"),
]

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, frozenset(labels)): value} and {family: type}."""
    series, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            types[name] = typ
            continue
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        assert m, f"unparsable line: {line!r}"
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        series[(m.group(1), labels)] = float(m.group(3))
    return series, types


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NodeExporter:
    """prometheus-node-exporter on a fixture tree, on 127.0.0.1."""

    def __init__(self, tree):
        self.tree = tree
        self.proc = None
        # A free port can be taken by another test before node_exporter
        # binds it: then it exits, and a new port is tried.
        for _ in range(5):
            self.start(free_port())
            try:
                self.metrics()
                return
            except OSError:
                if self.proc.poll() is None:
                    raise
        raise AssertionError("node_exporter did not start: " +
                             self.proc.communicate(timeout=10)[1])

    def start(self, port):
        tree = self.tree
        self.url = f"http://127.0.0.1:{port}/metrics"
        args = [NODE, "--web.listen-address=" + self.url.split("/")[2],
                "--web.disable-exporter-metrics",
                "--collector.disable-defaults",
                "--no-collector.netdev.netlink", "--collector.stat.softirq",
                "--path.procfs=" + os.path.join(tree, "proc"),
                "--path.sysfs=" + os.path.join(tree, "sys"),
                "--path.rootfs=" + os.path.join(tree, "rootfs"),
                "--path.udev.data=" + os.path.join(tree, "udev", "data")]
        args += ["--collector." + c for c in NODE_COLLECTORS]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)

    def metrics(self):
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(self.url, timeout=5) as r:
                    return r.read().decode("utf-8")
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.05)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        _, err = self.proc.communicate(timeout=10)
        if "panic" in err:
            raise AssertionError("node_exporter panicked:\n" + err)


def sysmetrics_config(path, tree):
    lines = ['[server]', 'metric_names = "node"']
    for c in SYSMETRICS_COLLECTORS:
        lines += [f"[collectors.{c}]", "enabled = true"]
        if c == "disk":
            udev = os.path.join(tree, "udev", "data")
            lines.append(f'udev_data_path = "{udev}"')
        if c == "filesystem":
            lines.append(f'rootfs = "{os.path.join(tree, "rootfs")}"')
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def selected(exc, tree, name, labels):
    e_tree, family, select, _, _ = exc
    return (e_tree == tree and family == name
            and set(select.items()) <= set(labels))


class NodeCompatTest(harness.TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.assertIsNotNone(NODE, "prometheus-node-exporter is not installed "
                             "(packaging/install-build-deps.sh --test "
                             "installs it)")

    def copy_tree(self, tree_name):
        """The tree in a temporary folder, its proc/self/mountinfo naming
        mount points under the copy's rootfs: sysmetrics reads its own mount
        namespace, where a container sees the host's mounts below --rootfs,
        while node_exporter reads PID 1's (proc/1/mounts)."""
        tree = os.path.join(self.tmp, tree_name)
        shutil.copytree(os.path.join(TREES, tree_name), tree, symlinks=True)
        rootfs = os.path.join(tree, "rootfs").replace(" ", "\\040")
        path = os.path.join(tree, "proc", "self", "mountinfo")
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        with open(path, "w", encoding="utf-8") as f:
            for line in lines:
                fields = line.split(" ")
                fields[4] = rootfs + ("" if fields[4] == "/" else fields[4])
                f.write(" ".join(fields) + "\n")
        return tree

    def compare(self, tree_name):
        tree = self.copy_tree(tree_name)
        config = sysmetrics_config(os.path.join(self.tmp, "sm.toml"), tree)
        with NodeExporter(tree) as node, harness.Exporter(
                config=config, procfs=os.path.join(tree, "proc"),
                sysfs=os.path.join(tree, "sys")) as sm:
            # Free space moves while other tests write to the disk, and can
            # move back between node's two readings: read again (at most
            # five times) until sysmetrics' lies between them.
            for _ in range(5):
                before, node_types = parse(node.metrics())
                ours, our_types = parse(sm.metrics())
                after, _ = parse(node.metrics())
                if all(min(v, after.get(k, v)) <= ours.get(k, v)
                       <= max(v, after.get(k, v))
                       for k, v in before.items() if k[0] in STATFS_MOVES):
                    break
        used = set()
        problems = []

        def exception(name, labels, kind):
            for i, exc in enumerate(EXCEPTIONS):
                if exc[3] == kind and selected(exc, tree_name, name, labels):
                    used.add(i)
                    return True
            return False

        for (name, labels), value in sorted(before.items()):
            if name.startswith(NODE_META):
                continue
            key = (name, labels)
            if key not in ours:
                if not exception(name, labels, "absent"):
                    problems.append(f"missing: {name}{dict(labels)}")
                continue
            mine = ours[key]
            if name in STATFS_MOVES:
                lo = min(value, after.get(key, value))
                hi = max(value, after.get(key, value))
                ok = lo <= mine <= hi
            else:
                ok = math.isclose(mine, value, rel_tol=1e-15, abs_tol=0)
            if not ok and not exception(name, labels, "value"):
                problems.append(f"value: {name}{dict(labels)} node {value!r}"
                                f" sysmetrics {mine!r}")
        for (name, labels) in sorted(ours):
            if name.startswith("node_") and (name, labels) not in before:
                if not exception(name, labels, "extra"):
                    problems.append(f"extra: {name}{dict(labels)}")
        for family, typ in node_types.items():
            if family.startswith(NODE_META) or family not in our_types:
                continue
            if our_types[family] != typ:
                problems.append(f"type: {family} node {typ} sysmetrics "
                                f"{our_types[family]}")
        # Every collector succeeded; sysmetrics' own names stay.
        for c in SYSMETRICS_COLLECTORS:
            key = ("sysmetrics_collector_success",
                   frozenset({("collector", c)}))
            if ours.get(key) != 1:
                problems.append(f"collector {c} did not succeed")
        stale = [exc for i, exc in enumerate(EXCEPTIONS)
                 if exc[0] == tree_name and i not in used]
        for exc in stale:
            problems.append(f"exception no longer happens: {exc[1]} "
                            f"{exc[2]} ({exc[3]})")
        self.assertEqual(problems, [], "\n".join(problems))
        return before

    def test_linux_6_1(self):
        served = self.compare("linux-6.1")
        families = {name for name, _ in served}
        # The tree exercises every collector: a family of each is compared.
        for prefix in ("node_cpu_guest", "node_memory_HugePages_Total",
                       "node_disk_info", "node_disk_device_mapper_info",
                       "node_network_up", "node_network_receive_errs",
                       "node_filesystem_readonly", "node_load1",
                       "node_pressure_io_stalled", "node_intr_total",
                       "node_softirqs_total", "node_vmstat_oom_kill"):
            self.assertTrue(any(f.startswith(prefix) for f in families),
                            prefix)

    def test_linux_3_10(self):
        """A 3.10 kernel (RHEL 7): no MemAvailable, 14-field diskstats (no
        discard or flush), no PSI (node: success 0, sysmetrics: no families,
        success 1), no oom_kill, netclass without the carrier up/down
        counts, no isolated CPUs or thermal throttle counts, and an NVMe
        disk without a udev entry."""
        served = self.compare("linux-3.10")
        families = {name for name, _ in served}
        self.assertNotIn("node_memory_MemAvailable_bytes", families)
        self.assertNotIn("node_disk_discards_completed_total", families)
        self.assertFalse([f for f in families if f.startswith("node_pressure")])
        self.assertIn("node_memory_HardwareCorrupted_bytes", families)


if __name__ == "__main__":
    unittest.main()
