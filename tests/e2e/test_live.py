"""Live values on the build machine: each scraped value lies between the
/proc values read just before and just after the scrape (counters move
forward; gauges move both ways, so memory gets both readings as bounds),
and memory agrees with free(1)."""

import os
import re
import subprocess
import unittest

import harness


def meminfo():
    out = {}
    with open("/proc/meminfo", encoding="ascii") as f:
        for line in f:
            key, rest = line.split(":", 1)
            fields = rest.split()
            if len(fields) == 2 and fields[1] == "kB":
                out[key] = int(fields[0]) * 1024
    return out


def diskstats():
    out = {}
    with open("/proc/diskstats", encoding="ascii") as f:
        for line in f:
            fields = line.split()
            out[fields[2]] = [int(x) for x in fields[3:]]
    return out


def netdev():
    out = {}
    with open("/proc/net/dev", encoding="ascii") as f:
        for line in f.readlines()[2:]:
            name, rest = line.split(":", 1)
            out[name.strip()] = [int(x) for x in rest.split()]
    return out


LABEL = re.compile(r'^(\w+)\{(\w+)="([^"]*)"\}$')


class LiveTest(unittest.TestCase):
    def setUp(self):
        # The real /proc, the default excludes; --config /dev/null keeps any
        # installed configuration out of it.
        self.e = harness.Exporter().start()

    def tearDown(self):
        self.e.close()

    def between(self, name, got, before, after):
        lo, hi = min(before, after), max(before, after)
        self.assertTrue(lo <= got <= hi, f"{name}: {got} not in [{lo}, {hi}]")

    def test_memory(self):
        before = meminfo()
        s = harness.samples(self.e.metrics())
        after = meminfo()
        keys = {"total": "MemTotal", "free": "MemFree",
                "available": "MemAvailable", "buffers": "Buffers",
                "cached": "Cached", "swap_total": "SwapTotal",
                "swap_free": "SwapFree"}
        for metric, key in keys.items():
            got = float(s[f"sysmetrics_memory_{metric}_bytes"])
            self.between(metric, got, before[key], after[key])
        self.assertEqual(float(s["sysmetrics_memory_total_bytes"]), before["MemTotal"])
        # free -b -w: Mem: total used free shared buffers cache available
        free = subprocess.run(["free", "-b", "-w"], capture_output=True,
                              text=True, check=True).stdout.splitlines()
        mem = [int(x) for x in free[1].split()[1:]]
        swap = [int(x) for x in free[2].split()[1:]]
        self.assertEqual(float(s["sysmetrics_memory_total_bytes"]), mem[0])
        self.assertEqual(float(s["sysmetrics_memory_swap_total_bytes"]), swap[0])
        slack = 64 * 1024 * 1024  # the system moves between the two reads
        for metric, value in (("free", mem[2]), ("buffers", mem[4]),
                              ("swap_free", swap[2])):
            got = float(s[f"sysmetrics_memory_{metric}_bytes"])
            self.assertLessEqual(abs(got - value), slack, metric)

    def test_disk_and_network_counters(self):
        disks_before, net_before = diskstats(), netdev()
        s = harness.samples(self.e.metrics())
        disks_after, net_after = diskstats(), netdev()
        checked = 0
        # Scale as the exporter does (x 512, / 1000), so doubles match exactly.
        disk_fields = {"reads_completed_total": (0, lambda v: v),
                       "read_bytes_total": (2, lambda v: v * 512),
                       "writes_completed_total": (4, lambda v: v),
                       "written_bytes_total": (6, lambda v: v * 512),
                       "io_time_seconds_total": (9, lambda v: v / 1000)}
        net_fields = {"receive_bytes_total": 0, "receive_packets_total": 1,
                      "transmit_bytes_total": 8, "transmit_packets_total": 9}
        for series, value in s.items():
            m = LABEL.match(series)
            if not m:
                continue
            name, label, who = m.groups()
            if label == "device" and name.startswith("sysmetrics_disk_"):
                field = name[len("sysmetrics_disk_"):]
                if field in disk_fields:
                    i, scale = disk_fields[field]
                    self.between(series, float(value),
                                 scale(disks_before[who][i]),
                                 scale(disks_after[who][i]))
                    checked += 1
            elif label == "interface":
                field = name[len("sysmetrics_network_"):]
                if field in net_fields:
                    i = net_fields[field]
                    self.between(series, float(value), net_before[who][i],
                                 net_after[who][i])
                    checked += 1
        self.assertGreater(checked, 0)
        # Default excludes hold on the live machine (netclass, which
        # excludes nothing, aside).
        self.assertNotIn('interface="lo"', "".join(
            k for k in s if k.startswith("sysmetrics_network_")
            and k[len("sysmetrics_network_"):].split("{")[0] in net_fields))
        self.assertFalse(any('device="loop' in k or 'device="dm-' in k for k in s))

    def test_promtool_on_a_live_scrape(self):
        text = self.e.metrics()
        harness.check_exposition(self, text)
        harness.promtool_check(self, text)


if __name__ == "__main__":
    unittest.main()
