"""The real binary over HTTP on a fixture procfs: status codes, headers,
families, values, a golden file, promtool.

Regenerate the golden file after an intended output change with
  SYSMETRICS_UPDATE_GOLDEN=1 ctest -R e2e_http
and review the diff before committing it.
"""

import gzip
import os
import re
import unittest

import harness

GOLDEN = os.path.join(harness.SOURCE_DIR, "tests", "golden", "small.prom")
# Lines whose values differ between runs and machines.
VOLATILE = re.compile(r"^(sysmetrics_(scrape_duration_seconds|scrape_collect_seconds|"
                      r"build_info|plugin_info)|process_\w+)\b")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def normalise(text):
    return "".join(line + "\n" for line in text.splitlines()
                   if not VOLATILE.match(line))


class HttpTest(harness.TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.procfs = harness.make_procfs(os.path.join(self.tmp, "proc"))

    def test_endpoints_and_status_codes(self):
        with harness.Exporter(procfs=self.procfs) as e:
            status, headers, body = e.get("/metrics")
            self.assertEqual(status, 200)
            self.assertEqual(headers["Content-Type"], CONTENT_TYPE)
            self.assertEqual(int(headers["Content-Length"]), len(body))
            status, _, body = e.get("/health")
            self.assertEqual((status, body), (200, b"ok\n"))
            status, headers, body = e.get("/")
            self.assertEqual(status, 200)
            self.assertIn("text/html", headers["Content-Type"])
            self.assertIn(b'href="/metrics"', body)
            self.assertEqual(e.get("/nope")[0], 404)
            self.assertEqual(e.get("/metrics/")[0], 404)
            status, headers, _ = e.request("POST", "/metrics", body=b"x")
            self.assertEqual(status, 405)
            self.assertEqual(headers["Allow"], "GET, HEAD")
            self.assertEqual(e.request("DELETE", "/health")[0], 405)
            status, headers, body = e.request("HEAD", "/metrics")
            self.assertEqual((status, body), (200, b""))
            self.assertGreater(int(headers["Content-Length"]), 1000)

    def test_values_families_and_promtool(self):
        with harness.Exporter(procfs=self.procfs) as e:
            text = e.metrics()
        harness.check_exposition(self, text)
        harness.promtool_check(self, text)
        s = harness.samples(text)
        # /proc/stat ticks are USER_HZ = 100 on Linux.
        want = {"0": [15000, 200, 4000, 200000, 600, 0, 150, 50],
                "1": [15000, 300, 4000, 200000, 600, 0, 150, 50]}
        modes = ["user", "nice", "system", "idle", "iowait", "irq", "softirq",
                 "steal"]
        for cpu, ticks in want.items():
            for mode, t in zip(modes, ticks):
                key = f'sysmetrics_cpu_seconds_total{{cpu="{cpu}",mode="{mode}"}}'
                self.assertEqual(float(s[key]), t / 100, key)
        self.assertEqual(s["sysmetrics_cpus_online"], "2")
        # guest and guest_nice (columns 9 and 10) are their own family, not
        # modes of sysmetrics_cpu_seconds_total.
        for cpu in want:
            self.assertNotIn(
                f'sysmetrics_cpu_seconds_total{{cpu="{cpu}",mode="guest"}}', s)
            for mode in ("user", "nice"):
                key = (f'sysmetrics_cpu_guest_seconds_total'
                       f'{{cpu="{cpu}",mode="{mode}"}}')
                self.assertEqual(float(s[key]), 0.0, key)
        for c in harness.DEFAULT_COLLECTORS:
            self.assertEqual(s[f'sysmetrics_collector_success{{collector="{c}"}}'], "1")
        for line in text.splitlines():
            if line.startswith("# TYPE sysmetrics_cpu_seconds_total"):
                self.assertEqual(line, "# TYPE sysmetrics_cpu_seconds_total counter")

    def test_offline_cpus_keep_their_numbers(self):
        stat = ("cpu 1 1 1 1 1 1 1 1\n" +
                "".join(f"cpu{n} {n * 100} 0 0 0 0 0 0 0\n" for n in (0, 1, 3, 6)))
        procfs = harness.make_procfs(os.path.join(self.tmp, "gaps"),
                                     {"stat": stat})
        with harness.Exporter(procfs=procfs) as e:
            s = harness.samples(e.metrics())
        cpus = sorted({re.search(r'cpu="(\d+)"', k).group(1) for k in s
                       if k.startswith("sysmetrics_cpu_seconds_total")})
        self.assertEqual(cpus, ["0", "1", "3", "6"])
        self.assertEqual(float(s['sysmetrics_cpu_seconds_total{cpu="6",mode="user"}']), 6.0)
        self.assertEqual(s["sysmetrics_cpus_online"], "4")

    def test_malformed_file_fails_only_its_collector(self):
        bad = "cpu 1 2 3 4\ncpu0 1 2 x3 4 5 6 7 8\n"
        procfs = harness.make_procfs(os.path.join(self.tmp, "bad"), {"stat": bad})
        with harness.Exporter(procfs=procfs) as e:
            status, _, body = e.get()
            text = body.decode()
            self.assertEqual(status, 200)
            s = harness.samples(text)
            self.assertEqual(s['sysmetrics_collector_success{collector="cpu"}'], "0")
            self.assertFalse(any(k.startswith("sysmetrics_cpu_seconds") for k in s))
            for c in ("memory", "disk", "network"):
                self.assertEqual(s[f'sysmetrics_collector_success{{collector="{c}"}}'], "1")
            self.assertTrue(e.wait_for_log("collector failed"))
            errors = [l for l in e.log() if "collector failed" in l]
            self.assertIn("collector=cpu", errors[0])
            # The only cpuN line is unreadable: that line is skipped and
            # logged, and with nothing left the collector fails.
            self.assertIn("stat: no per-CPU (cpuN) line could be read",
                          errors[0])
            skipped = [l for l in e.log() if "line skipped" in l]
            self.assertEqual(len(skipped), 1, skipped)
            self.assertIn("line=2 reason=\"cpu0: field 3 'x3' is not a number\"",
                          skipped[0])
            harness.promtool_check(self, text)

    def test_gzip_when_accepted(self):
        with harness.Exporter(procfs=self.procfs) as e:
            status, headers, body = e.get(headers={"Accept-Encoding": "gzip"})
            self.assertEqual(status, 200)
            self.assertEqual(headers["Content-Encoding"], "gzip")
            self.assertEqual(headers["Vary"], "Accept, Accept-Encoding")
            self.assertEqual(int(headers["Content-Length"]), len(body))
            text = gzip.decompress(body).decode()
            harness.check_exposition(self, text)
            harness.promtool_check(self, text)
            self.assertEqual(normalise(text), normalise(e.metrics()))
            for value in ("identity", "gzip;q=0", ""):
                _, headers, body = e.get(headers={"Accept-Encoding": value})
                self.assertNotIn("Content-Encoding", headers)
                self.assertTrue(body.startswith(b"# HELP"))
            _, headers, body = e.request("HEAD", "/metrics",
                                         headers={"Accept-Encoding": "gzip"})
            self.assertEqual(body, b"")
            self.assertEqual(headers["Content-Encoding"], "gzip")

    def test_golden(self):
        with harness.Exporter(procfs=self.procfs) as e:
            got = normalise(e.metrics())
        if os.environ.get("SYSMETRICS_UPDATE_GOLDEN") == "1":
            with open(GOLDEN, "w", encoding="utf-8") as f:
                f.write(got)
        with open(GOLDEN, encoding="utf-8") as f:
            self.assertEqual(got, f.read())

    def test_request_log_lines(self):
        with harness.Exporter("--log-level", "debug", procfs=self.procfs) as e:
            e.get("/metrics")
            e.get("/nope")
            self.assertTrue(e.wait_for_log("path=/nope"))
            lines = [l for l in e.log() if " debug request " in l]
        self.assertEqual(len(lines), 2)
        scrape = lines[0]
        for field in ("method=GET", "path=/metrics", "status=200", "latency_ms=",
                      "client=127.0.0.1:", "collect_ms=", "collectors="):
            self.assertIn(field, scrape)
        self.assertIn("status=404", lines[1])


if __name__ == "__main__":
    unittest.main()
