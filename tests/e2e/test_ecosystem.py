"""Fitting the Prometheus ecosystem, against the real binary: content
negotiation (OpenMetrics 1.0 or text 0.0.4, each with and without gzip,
checked by promtool and by prometheus_client's strict OpenMetrics parser),
collect[]/exclude[] filtering, the landing page, and the textfile plugin
with good, bad, clashing and vanishing files.

Regenerate the OpenMetrics golden file after an intended output change with
  SYSMETRICS_UPDATE_GOLDEN=1 ctest -R e2e_ecosystem
and review the diff before committing it.
"""

import gzip
import os
import re
import time
import unittest

from prometheus_client.openmetrics.parser import \
    text_string_to_metric_families as parse_openmetrics

import harness

# What Prometheus 2.42 sends when it scrapes.
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,"
                     "application/openmetrics-text;version=0.0.1;q=0.75,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
TEXT = "text/plain; version=0.0.4; charset=utf-8"
GOLDEN_OM = os.path.join(harness.SOURCE_DIR, "tests", "golden", "small.om.txt")
VOLATILE = re.compile(r"^(sysmetrics_(scrape_duration_seconds|scrape_collect_seconds|"
                      r"build_info|plugin_info)|process_\w+)\b")


def normalise(text):
    return "".join(line + "\n" for line in text.splitlines()
                   if not VOLATILE.match(line))


def series_openmetrics(text):
    """{sample name and labels: value} from a strict OpenMetrics parse."""
    out = {}
    for family in parse_openmetrics(text):
        for s in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in s.labels.items())
            out[s.name + ("{" + labels + "}" if labels else "")] = s.value
    return out


class NegotiationTest(harness.TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.procfs = harness.make_procfs(os.path.join(self.tmp, "proc"))

    def scrape(self, e, accept=None, gzipped=False):
        headers = {}
        if accept is not None:
            headers["Accept"] = accept
        if gzipped:
            headers["Accept-Encoding"] = "gzip"
        status, h, body = e.get("/metrics", headers=headers)
        self.assertEqual(status, 200)
        self.assertEqual(h.get("Content-Encoding") == "gzip", gzipped)
        if gzipped:
            body = gzip.decompress(body)
        return h["Content-Type"], body.decode("utf-8")

    def test_both_formats_with_and_without_gzip(self):
        with harness.Exporter(procfs=self.procfs) as e:
            for gzipped in (False, True):
                with self.subTest(gzip=gzipped):
                    ctype, om = self.scrape(e, PROMETHEUS_ACCEPT, gzipped)
                    self.assertEqual(ctype, OPENMETRICS)
                    self.assertTrue(om.endswith("# EOF\n"))
                    self.assertEqual(om.count("# EOF"), 1)
                    om_series = series_openmetrics(om)  # raises if invalid
                    ctype, text = self.scrape(e, None, gzipped)
                    self.assertEqual(ctype, TEXT)
                    self.assertNotIn("# EOF", text)
                    harness.check_exposition(self, text)
                    harness.promtool_check(self, text)
                    # The same series in both (values of the host's timing
                    # metrics aside).
                    text_series = {k: float(v) for k, v in
                                   harness.samples(text).items()}
                    self.assertEqual(set(om_series), set(text_series))
                    for k, v in text_series.items():
                        if not VOLATILE.match(k):
                            self.assertEqual(om_series[k], v, k)

    def test_openmetrics_families_units_and_types(self):
        with harness.Exporter(procfs=self.procfs) as e:
            _, om = self.scrape(e, "application/openmetrics-text")
            lines = om.splitlines()
            self.assertIn("# TYPE sysmetrics_cpu_seconds counter", lines)
            self.assertIn("# UNIT sysmetrics_cpu_seconds seconds", lines)
            self.assertIn("# TYPE sysmetrics_collector_errors counter", lines)
            self.assertIn("# UNIT sysmetrics_memory_total_bytes bytes", lines)
            self.assertTrue(any(l.startswith("sysmetrics_cpu_seconds_total{")
                                for l in lines))
            families = {f.name: f for f in parse_openmetrics(om)}
            self.assertEqual(families["sysmetrics_cpu_seconds"].type, "counter")
            self.assertEqual(families["sysmetrics_cpu_seconds"].unit, "seconds")

    def test_accept_headers_that_keep_text(self):
        with harness.Exporter(procfs=self.procfs) as e:
            for accept in ("*/*", "text/plain", "text/html,*/*;q=0.8",
                           "application/openmetrics-text;version=2.0.0",
                           "application/openmetrics-text;q=0.4,text/plain;q=0.5",
                           "garbage;;=,"):
                with self.subTest(accept=accept):
                    self.assertEqual(self.scrape(e, accept)[0], TEXT)
            # HEAD answers with the negotiated type too.
            status, h, body = e.request("HEAD", "/metrics",
                                        {"Accept": PROMETHEUS_ACCEPT})
            self.assertEqual((status, h["Content-Type"], body),
                             (200, OPENMETRICS, b""))

    def test_golden_openmetrics(self):
        with harness.Exporter(procfs=self.procfs) as e:
            _, om = self.scrape(e, PROMETHEUS_ACCEPT)
        got = normalise(om)
        if os.environ.get("SYSMETRICS_UPDATE_GOLDEN") == "1":
            with open(GOLDEN_OM, "w", encoding="utf-8") as f:
                f.write(got)
        with open(GOLDEN_OM, encoding="utf-8") as f:
            self.assertEqual(got, f.read())


class FilterTest(harness.TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.procfs = harness.make_procfs(os.path.join(self.tmp, "proc"))

    def families(self, text):
        return {l.split(" ")[2] for l in text.splitlines()
                if l.startswith("# TYPE ")}

    def test_collect_and_exclude(self):
        with harness.Exporter(procfs=self.procfs) as e:
            status, _, body = e.get("/metrics?collect[]=cpu&collect[]=memory")
            self.assertEqual(status, 200)
            text = body.decode()
            harness.promtool_check(self, text)
            fams = self.families(text)
            self.assertIn("sysmetrics_cpu_seconds_total", fams)
            self.assertIn("sysmetrics_memory_total_bytes", fams)
            self.assertFalse(any(f.startswith(("sysmetrics_disk_",
                                               "sysmetrics_network_"))
                                 for f in fams))
            success = {k: v for k, v in harness.samples(text).items()
                       if k.startswith("sysmetrics_collector_success")}
            self.assertEqual(success, {
                'sysmetrics_collector_success{collector="cpu"}': "1",
                'sysmetrics_collector_success{collector="memory"}': "1"})
            # Encoded brackets, as some clients send them, and exclude[].
            status, _, body = e.get("/metrics?exclude%5B%5D=cpu")
            self.assertEqual(status, 200)
            fams = self.families(body.decode())
            self.assertNotIn("sysmetrics_cpu_seconds_total", fams)
            self.assertIn("sysmetrics_disk_read_bytes_total", fams)
            # OpenMetrics and a filter together.
            status, h, body = e.get("/metrics?collect[]=disk",
                                    {"Accept": PROMETHEUS_ACCEPT})
            self.assertEqual((status, h["Content-Type"]), (200, OPENMETRICS))
            names = {n.split("{")[0] for n in series_openmetrics(body.decode())}
            self.assertFalse(any(n.startswith("sysmetrics_cpu") for n in names))

    def test_invalid_names_get_400_with_the_valid_ones(self):
        with harness.Exporter(procfs=self.procfs) as e:
            for query, reason in (
                    ("collect[]=gpu", "unknown collector 'gpu' in collect[]"),
                    ("collect[]=", "empty collector name in collect[]"),
                    ("collect[]=cpu&exclude[]=disk", "cannot be combined"),
                    ("collect[]=%zz", "malformed percent-encoding")):
                with self.subTest(query=query):
                    status, _, body = e.get("/metrics?" + query)
                    self.assertEqual(status, 400)
                    self.assertIn(reason, body.decode())
                    if "unknown" in reason:
                        names = ", ".join(sorted(harness.DEFAULT_COLLECTORS))
                        self.assertIn("valid names: " + names, body.decode())
            # textfile.so is there but off by default: said so, with the fix.
            status, _, body = e.get("/metrics?collect[]=textfile")
            self.assertEqual(status, 400)
            self.assertIn("collector 'textfile' in collect[] is disabled: "
                          "enable it with `[collectors.textfile] enabled = "
                          "true` in the configuration (or "
                          "--collector.textfile) and reload", body.decode())
            status, _, body = e.get("/metrics?exclude[]=textfile")
            self.assertEqual(status, 200)
            self.assertIn("sysmetrics_cpu_seconds_total", body.decode())
            # The connection and the exporter carry on.
            self.assertIn("sysmetrics_cpu_seconds_total", e.metrics())


class LandingPageTest(harness.TempDirTestCase):
    def test_lists_plugins_with_status(self):
        procfs = harness.make_procfs(os.path.join(self.tmp, "proc"),
                                     {"meminfo": "MemTotal: lots kB\n"})
        with harness.Exporter(procfs=procfs) as e:
            status, h, body = e.get("/")
            page = body.decode()
            self.assertEqual(status, 200)
            self.assertEqual(h["Content-Type"], "text/html; charset=utf-8")
            self.assertIn("not scraped yet", page)
            text = e.metrics()
            page = e.get("/")[2].decode()
            # The build version, as sysmetrics_build_info reports it.
            version = re.search(r'sysmetrics_build_info\{[^}]*version="([^"]+)"',
                                text).group(1)
            self.assertIn(f"version {version}, plugin ABI {harness.ABI}", page)
            for name in harness.BUILTIN_PLUGINS:
                self.assertIn(f"<td>{name}</td>", page)
            self.assertIn(f"plugin ABI {harness.ABI}", page)
            self.assertIn('<a href="/metrics">', page)
            self.assertIn('<a href="/health">', page)
            self.assertRegex(page, r"<td>cpu</td><td>[0-9.]+</td><td>"
                                   + re.escape(harness.ABI) + r"</td>")
            self.assertIn('<span class="ok">ok</span>', page)
            # The failing collector shows why, HTML-escaped.
            self.assertIn('<span class="failed">failed</span>', page)
            self.assertIn("meminfo", page)
            self.assertNotIn("<script", page)
            self.assertNotIn("http://", page)  # no external assets
            self.assertNotIn("https://", page)


class TextfileTest(harness.TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.procfs = harness.make_procfs(os.path.join(self.tmp, "proc"))
        self.plugins = harness.plugin_dir(
            os.path.join(self.tmp, "plugins"),
            names=harness.BUILTIN_PLUGINS + ("textfile",))
        self.dir = os.path.join(self.tmp, "textfile")
        os.mkdir(self.dir)
        self.config = os.path.join(self.tmp, "sysmetrics.toml")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write('[collectors.textfile]\nenabled = true\n'
                    f'directories = ["{self.dir}"]\n')

    def write(self, name, text):
        # As the README tells scripts to: write aside, then rename.
        tmp = os.path.join(self.dir, "." + name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.rename(tmp, os.path.join(self.dir, name))

    def exporter(self):
        return harness.Exporter("--plugin-dir", self.plugins,
                                config=self.config, procfs=self.procfs)

    def test_good_bad_clashing_and_vanishing_files(self):
        self.write("backup.prom",
                   "# HELP backup_last_success_timestamp_seconds Last backup.\n"
                   "# TYPE backup_last_success_timestamp_seconds gauge\n"
                   'backup_last_success_timestamp_seconds{job="db"} 1.7e9\n'
                   "# TYPE backup_runs_total counter\n"
                   "backup_runs_total 42\n")
        self.write("more.prom",  # the same family, more series
                   "# TYPE backup_last_success_timestamp_seconds gauge\n"
                   'backup_last_success_timestamp_seconds{job="files"} 1.6e9\n')
        self.write("broken.prom", "ok_metric 1\nbad metric name 2\n")
        self.write("stamped.prom", "with_time 1 1700000000000\n")
        self.write("clash.prom",  # a family the cpu plugin exports
                   "# TYPE clash_extra gauge\nclash_extra 1\n"
                   "# TYPE sysmetrics_cpus_online gauge\n"
                   "sysmetrics_cpus_online 999\n")
        os.mkfifo(os.path.join(self.dir, "fifo.prom"))  # never written
        os.symlink(os.path.join(self.dir, "gone"),
                   os.path.join(self.dir, "dangling.prom"))
        self.write("conflict.prom",  # backup_runs_total as another type
                   "# TYPE backup_runs_total gauge\nbackup_runs_total 1\n")
        self.write("suffix.prom",  # "backup_runs_total" in OpenMetrics
                   "# TYPE backup_runs counter\nbackup_runs 7\n")
        self.write("ignored.txt", "not_read 1\n")
        with self.exporter() as e:
            text = e.metrics()
            harness.check_exposition(self, text)
            harness.promtool_check(self, text)
            s = harness.samples(text)
            self.assertEqual(
                float(s['backup_last_success_timestamp_seconds{job="db"}']),
                1.7e9)
            self.assertEqual(
                float(s['backup_last_success_timestamp_seconds{job="files"}']),
                1.6e9)
            self.assertEqual(s["backup_runs_total"], "42")
            self.assertNotIn("ok_metric", s)  # a bad file costs all of it
            self.assertNotIn("with_time", s)
            self.assertNotIn("not_read", s)
            # The exporter's namespace is not the file's: the cpu plugin's
            # family stays, the file is refused whole.
            self.assertNotEqual(s["sysmetrics_cpus_online"], "999")
            self.assertNotIn("clash_extra", s)
            self.assertEqual(s["sysmetrics_textfile_scrape_error"], "1")
            self.assertEqual(s['sysmetrics_collector_success{collector="textfile"}'], "1")
            mtimes = {k for k in s if k.startswith("sysmetrics_textfile_mtime_seconds")}
            self.assertEqual(mtimes, {
                f'sysmetrics_textfile_mtime_seconds{{file="{self.dir}/{n}"}}'
                for n in ("backup.prom", "more.prom")})
            want = os.stat(os.path.join(self.dir, "backup.prom")).st_mtime
            got = float(s[f'sysmetrics_textfile_mtime_seconds{{file="{self.dir}/backup.prom"}}'])
            self.assertAlmostEqual(got, want, places=3)
            log = "\n".join(e.log())
            self.assertIn(f"{self.dir}/broken.prom:2: invalid value 'metric' for 'bad'", log)
            self.assertIn(f"{self.dir}/stamped.prom:1: samples with timestamps", log)
            self.assertIn(f"{self.dir}/conflict.prom: line 1: 'backup_runs_total' is a "
                          f"gauge here but a counter in {self.dir}/backup.prom", log)
            self.assertIn(f"{self.dir}/clash.prom: line 3: 'sysmetrics_cpus_online': "
                          "names starting with sysmetrics_ belong to the exporter", log)
            self.assertNotIn("backup_runs", s)
            self.assertIn(f"{self.dir}/suffix.prom: line 1: counter 'backup_runs' "
                          "clashes with counter 'backup_runs_total' in "
                          f"{self.dir}/backup.prom: both would expose the name "
                          "'backup_runs'", log)
            self.assertIn(f"{self.dir}/fifo.prom: not a regular file", log)
            self.assertIn(f"{self.dir}/dangling.prom: a symbolic link to a file "
                          "that does not exist", log)
            # Both formats carry the textfile families.
            status, _, body = e.get("/metrics", {"Accept": PROMETHEUS_ACCEPT})
            om = series_openmetrics(body.decode())
            self.assertEqual(om["backup_runs_total"], 42)

            # Fix the bad files, remove one good file: the next scrape
            # follows, with no error.
            for name in ("broken.prom", "stamped.prom", "clash.prom",
                         "conflict.prom", "more.prom", "fifo.prom",
                         "dangling.prom", "suffix.prom"):
                os.unlink(os.path.join(self.dir, name))
            s = harness.samples(e.metrics())
            self.assertEqual(s["sysmetrics_textfile_scrape_error"], "0")
            self.assertNotIn('backup_last_success_timestamp_seconds{job="files"}', s)
            self.assertEqual(
                [k for k in s if k.startswith("sysmetrics_textfile_mtime")],
                [f'sysmetrics_textfile_mtime_seconds{{file="{self.dir}/backup.prom"}}'])

    def scrape_while(self, step, scrapes):
        """Scrapes while another thread calls step(i) for i = 0, 1, ...;
        every scrape must succeed with the error gauge at 0. Returns the
        exporter's log."""
        import threading
        stop = threading.Event()

        def loop():
            i = 0
            while not stop.is_set():
                step(i)
                i += 1

        step(0)
        t = threading.Thread(target=loop)
        with self.exporter() as e:
            t.start()
            try:
                for _ in range(scrapes):
                    s = harness.samples(e.metrics())
                    self.assertEqual(s["sysmetrics_textfile_scrape_error"], "0")
                    self.assertEqual(
                        s['sysmetrics_collector_success{collector="textfile"}'], "1")
            finally:
                stop.set()
                t.join()
            return e.log()

    def test_files_replaced_while_scraping(self):
        # A writer replacing its file in a loop (write aside, rename) never
        # makes a scrape fail or report an error.
        self.scrape_while(lambda i: self.write(
            "job.prom", f"# TYPE job_runs_total counter\njob_runs_total {i}\n"), 50)

    def test_files_deleted_while_scraping(self):
        # A writer that deletes its file, then puts it back: a scrape lists
        # the file and finds it gone (or absent) at will. A vanished file is
        # simply not there this time: never an error, never a failure.
        path = os.path.join(self.dir, "job.prom")

        def step(i):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            self.write("job.prom", f"# TYPE job_runs_total counter\njob_runs_total {i}\n")

        log = self.scrape_while(step, 100)
        self.assertFalse([l for l in log if "textfile /" in l], log)

    def test_missing_directory_is_an_error_not_a_failure(self):
        os.rmdir(self.dir)
        with self.exporter() as e:
            s = harness.samples(e.metrics())
            self.assertEqual(s["sysmetrics_textfile_scrape_error"], "1")
            self.assertEqual(s['sysmetrics_collector_success{collector="textfile"}'], "1")
            self.assertTrue(e.wait_for_log("cannot read directory"))

    def test_relative_directory_is_a_config_error(self):
        with open(self.config, "w", encoding="utf-8") as f:
            f.write('[collectors.textfile]\nenabled = true\ndirectories = ["rel"]\n')
        e = self.exporter()
        with self.assertRaises(AssertionError):
            e.start()
        self.assertIn("'rel' is not an absolute path", "\n".join(e.log()))


if __name__ == "__main__":
    unittest.main()
