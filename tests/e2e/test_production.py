"""What an on-call engineer relies on: failure isolation and self-metrics,
deadlines, JSON logs that survive hostile text, reload, limits, signals."""

import json
import os
import re
import shutil
import signal
import socket
import threading
import time
import unittest

import harness

BUILTIN = harness.BUILTIN_PLUGINS


class ProductionTest(harness.TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.procfs = harness.make_procfs(os.path.join(self.tmp, "proc"))
        self.plugins = harness.plugin_dir(os.path.join(self.tmp, "plugins"))

    def add_plugin(self, name):
        shutil.copy(os.path.join(harness.TEST_PLUGIN_DIR, name + ".so"),
                    self.plugins)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def exporter(self, *args, **kw):
        kw.setdefault("procfs", self.procfs)
        return harness.Exporter("--plugin-dir", self.plugins, *args, **kw)

    def test_malformed_file_error_counter_rises_per_scrape(self):
        procfs = harness.make_procfs(os.path.join(self.tmp, "bad"),
                                     {"meminfo": "MemTotal: lots kB\n"})
        with self.exporter(procfs=procfs) as e:
            for i in (1, 2, 3):
                s = harness.samples(e.metrics())
                self.assertEqual(s['sysmetrics_collector_success{collector="memory"}'], "0")
                self.assertEqual(s['sysmetrics_collector_errors_total{collector="memory"}'], str(i))
                for c in ("cpu", "disk", "network"):
                    self.assertEqual(s[f'sysmetrics_collector_success{{collector="{c}"}}'], "1")
                    self.assertEqual(s[f'sysmetrics_collector_errors_total{{collector="{c}"}}'], "0")
                self.assertEqual(s["sysmetrics_cpus_online"], "2")
            # The log reaches the harness through a reader thread: wait
            # for the third scrape's failure line, which comes after every
            # line the three scrapes logged before it.
            deadline = time.monotonic() + 60
            errors = []
            while len(errors) < 3 and time.monotonic() < deadline:
                log = e.log()
                errors = [l for l in log
                          if "collector failed collector=memory " in l]
                if len(errors) < 3:
                    time.sleep(0.02)
            self.assertEqual(len(errors), 3, errors)
            self.assertIn("meminfo: no 'Key: value' line could be read", errors[0])
            skipped = [l for l in log if "line skipped" in l]
            self.assertEqual(len(skipped), 1, skipped)  # once, not per scrape
            self.assertIn("line=1 reason=\"MemTotal: value 'lots' is not a number\"",
                          skipped[0])

    def test_process_metrics_agree_with_proc(self):
        """process_* as client_golang serves them, read around one scrape
        from /proc/PID/stat, status, fd and limits."""
        tick = os.sysconf("SC_CLK_TCK")
        page = os.sysconf("SC_PAGESIZE")
        with open("/proc/stat", encoding="ascii") as f:
            btime = next(int(l.split()[1]) for l in f if l.startswith("btime "))

        def stat(pid):
            with open(f"/proc/{pid}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return {"cpu": (int(fields[11]) + int(fields[12])) / tick,
                    "start": btime + int(fields[19]) / tick,
                    "vsize": int(fields[20]), "rss": int(fields[21]) * page}

        def status_kib(pid, key):
            with open(f"/proc/{pid}/status", encoding="ascii") as f:
                line = next(l for l in f if l.startswith(key + ":"))
            return int(line.split()[1]) * 1024

        with self.exporter() as e:
            pid = e.proc.pid
            e.metrics()  # the first scrape sets up what later ones reuse
            before, rss_before = stat(pid), status_kib(pid, "VmRSS")
            fds_before = len(os.listdir(f"/proc/{pid}/fd"))
            text = e.metrics()
            after, rss_after = stat(pid), status_kib(pid, "VmRSS")
            fds_after = len(os.listdir(f"/proc/{pid}/fd"))
            with open(f"/proc/{pid}/limits", encoding="ascii") as f:
                max_fds = next(l for l in f if l.startswith("Max open files"))
        harness.check_exposition(self, text)
        s = {k: float(v) for k, v in harness.samples(text).items()
             if k.startswith("process_")}
        self.assertEqual(sorted(s), sorted([
            "process_cpu_seconds_total", "process_open_fds", "process_max_fds",
            "process_virtual_memory_bytes", "process_resident_memory_bytes",
            "process_start_time_seconds"]))
        self.assertIn("# TYPE process_cpu_seconds_total counter", text)
        self.assertLessEqual(before["cpu"], s["process_cpu_seconds_total"])
        self.assertLessEqual(s["process_cpu_seconds_total"], after["cpu"])
        self.assertAlmostEqual(s["process_start_time_seconds"], before["start"],
                               places=6)
        self.assertEqual(s["process_max_fds"], float(max_fds.split()[3]))
        # The scrape's own connection and listing descriptor come and go.
        self.assertGreaterEqual(s["process_open_fds"], min(fds_before, fds_after) - 2)
        self.assertLessEqual(s["process_open_fds"], max(fds_before, fds_after) + 2)
        # Memory moves a little while the scrape allocates: within 1 MiB of
        # the readings around it, in bytes (not pages or KiB).
        low = min(before["rss"], after["rss"], rss_before, rss_after) - (1 << 20)
        high = max(before["rss"], after["rss"], rss_before, rss_after) + (1 << 20)
        self.assertTrue(low <= s["process_resident_memory_bytes"] <= high,
                        (low, s["process_resident_memory_bytes"], high))
        low = min(before["vsize"], after["vsize"]) - (64 << 20)
        high = max(before["vsize"], after["vsize"]) + (64 << 20)
        self.assertTrue(low <= s["process_virtual_memory_bytes"] <= high,
                        (low, s["process_virtual_memory_bytes"], high))

    def test_self_metrics(self):
        with self.exporter() as e:
            text = e.metrics()
        s = harness.samples(text)
        for c in BUILTIN:
            self.assertGreater(float(s[f'sysmetrics_scrape_duration_seconds{{collector="{c}"}}']), 0)
        self.assertGreater(float(s["sysmetrics_scrape_collect_seconds"]), 0)
        build = [k for k in s if k.startswith("sysmetrics_build_info{")]
        self.assertEqual(len(build), 1)
        self.assertRegex(build[0], r'version="[^"]+",compiler="[^"]+",abi="' +
                         re.escape(harness.ABI) + '"')
        info = [k for k in s if k.startswith("sysmetrics_plugin_info{")]
        self.assertEqual(len(info), 4)
        self.assertIn(f'file="{self.plugins}/cpu.so"', "".join(info))
        harness.promtool_check(self, text)

    def test_deadline_from_prometheus_header_and_no_second_start(self):
        # slow cannot finish while the hold file exists: a scrape that
        # answers meanwhile gave up on it at a deadline, and its reported
        # time is the budget it was given, whatever the machine's load.
        self.add_plugin("slow")
        hold = os.path.join(self.tmp, "hold")
        with open(hold, "w", encoding="utf-8") as f:
            f.write("x")
        # In the exporter's process: a late run is left to finish (an
        # isolated one is killed at its deadline; test_odd_input).
        config = self.write("slow.toml",
                            "[collectors.slow]\nenabled = true\n"
                            "isolate = false\nsleep_ms = 0\n"
                            f'hold_while = "{hold}"\n')
        duration = 'sysmetrics_scrape_duration_seconds{collector="slow"}'
        with self.exporter(config=config) as e:
            # Prometheus announces 1 s: the budget is 0.5 s (1 s less the
            # margin, never under half), not the 10 s default.
            status, _, body = e.get(headers={"X-Prometheus-Scrape-Timeout-Seconds": "1"},
                                    timeout=60)
            self.assertEqual(status, 200)
            s = harness.samples(body.decode())
            self.assertEqual(s['sysmetrics_collector_success{collector="slow"}'], "0")
            self.assertEqual(s['sysmetrics_collector_success{collector="cpu"}'], "1")
            self.assertGreater(float(s[duration]), 0)
            self.assertLessEqual(float(s[duration]), 0.5)
            # Still running: reported failed, neither waited for (its time
            # is 0) nor started again.
            s = harness.samples(e.get(headers={"X-Prometheus-Scrape-Timeout-Seconds": "1"},
                                      timeout=60)[2].decode())
            self.assertEqual(s['sysmetrics_collector_success{collector="slow"}'], "0")
            self.assertEqual(s[duration], "0")
            self.assertNotIn("sysmetrics_slow_calls", s)
            # The log reaches the harness through a reader thread.
            self.assertTrue(e.wait_for_log("still running from an earlier scrape"))
            # Released, the first call returns; until it has, scrapes find
            # it still running and call nothing.
            os.remove(hold)
            for _ in range(600):
                s = harness.samples(e.get(headers={"X-Prometheus-Scrape-Timeout-Seconds": "10"})[2].decode())
                if s['sysmetrics_collector_success{collector="slow"}'] == "1":
                    break
                time.sleep(0.1)
            self.assertEqual(s['sysmetrics_collector_success{collector="slow"}'], "1")
            self.assertEqual(s["sysmetrics_slow_calls"], "2")  # never twice at once

    def test_enabled_plugins_that_cannot_start_are_reported_failed(self):
        # Each way an enabled plugin can fail to start costs its own
        # collector, visibly: success 0 in every scrape, the reason on /.
        for p in ("wrong_abi", "create_fails"):
            self.add_plugin(p)
        with self.exporter("--collector.wrong_abi",
                           "--collector.create_fails") as e:
            for _ in range(2):
                text = e.metrics()
                harness.promtool_check(self, text)
                s = harness.samples(text)
                self.assertEqual(s['sysmetrics_collector_success{collector="wrong_abi"}'], "0")
                self.assertEqual(s['sysmetrics_collector_success{collector="create_fails"}'], "0")
                self.assertEqual(s['sysmetrics_collector_success{collector="cpu"}'], "1")
            # Asked for by name, the others are not reported.
            status, _, body = e.get("/metrics?collect[]=cpu")
            self.assertEqual(status, 200)
            self.assertNotIn('collector="wrong_abi"', body.decode())
            status, _, page = e.get("/")
            page = page.decode()
            self.assertIn("wrong_abi.so</td><td><span class=\"failed\">not loaded</span>: "
                          "built for plugin ABI", page)
            self.assertIn("create_fails.so</td><td><span class=\"failed\">not loaded</span>: "
                          "create failed", page)
            log = "\n".join(e.log())
            self.assertRegex(log, r"plugin refused file=\S+wrong_abi\.so reason=.* "
                                  r"collector=wrong_abi")

    def test_per_collector_timeout_from_config(self):
        # Held, slow cannot finish: the scrape answers because its 0.2 s
        # timeout passed, and reports that budget, not the scrape's 10 s.
        self.add_plugin("slow")
        hold = os.path.join(self.tmp, "hold")
        with open(hold, "w", encoding="utf-8") as f:
            f.write("x")
        cfg = self.write("c.toml", "[collectors.slow]\nenabled = true\n"
                                   "timeout_seconds = 0.2\nsleep_ms = 0\n"
                                   f'hold_while = "{hold}"\n')
        try:
            with self.exporter(config=cfg) as e:
                s = harness.samples(e.get(timeout=60)[2].decode())
                self.assertEqual(s['sysmetrics_collector_success{collector="slow"}'], "0")
                took = float(s['sysmetrics_scrape_duration_seconds{collector="slow"}'])
                self.assertGreater(took, 0)
                self.assertLessEqual(took, 0.2)
                os.remove(hold)  # lets the run end before the exporter stops
        finally:
            if os.path.exists(hold):
                os.remove(hold)

    def test_cpp_exception_is_isolated(self):
        self.add_plugin("throws")
        with self.exporter("--collector.throws") as e:
            for _ in range(3):
                s = harness.samples(e.metrics())
                self.assertEqual(s['sysmetrics_collector_success{collector="throws"}'], "0")
                self.assertEqual(s['sysmetrics_collector_success{collector="cpu"}'], "1")
            self.assertIsNone(e.proc.poll())
            self.assertTrue(e.wait_for_log('collector=throws error="boom from C++"'))

    def test_json_logs_parse_line_by_line_with_hostile_text(self):
        for p in ("hostile_log", "bad_names", "wrong_abi"):
            self.add_plugin(p)
        with self.exporter("--log-format", "json", "--log-level", "debug",
                           "--collector.hostile_log", "--collector.bad_names",
                           "--collector.wrong_abi") as e:
            e.metrics()
            e.get('/nope"quoted"')
            self.assertTrue(e.wait_for_log("nope"))
            lines = e.log()
        records = []
        for line in lines:
            self.assertTrue(line.endswith("\n"))
            rec = json.loads(line)  # exactly one JSON object per line
            for key in ("ts", "level", "msg"):
                self.assertIn(key, rec)
            records.append(rec)
        hostile = [r for r in records if r.get("collector") == "hostile_log"
                   and r["level"] == "warning"]
        self.assertEqual(len(hostile), 1)
        self.assertIn('quote" backslash\\ newline\nforged=1 {"json":true}',
                      hostile[0]["msg"])
        self.assertIn("\u00ff\u00fe", hostile[0]["msg"])  # stray bytes kept visible
        failed = [r for r in records if r["msg"] == "collector failed"
                  and r["collector"] == "hostile_log"]
        self.assertIn('error with "quotes"\nand', failed[0]["error"])
        refused = [r for r in records if r["msg"] == "plugin refused"]
        self.assertTrue(refused[0]["file"].endswith("wrong_abi.so"))
        self.assertTrue(any(r["msg"] == "listening" for r in records))

    def test_sighup_changes_plugins_without_a_failed_scrape(self):
        self.add_plugin("c_plugin")
        cfg = self.write("c.toml", "[collectors.c_plugin]\nenabled = true\n")
        with self.exporter(config=cfg) as e:
            self.assertIn("sysmetrics_c_plugin_answer", e.metrics())
            failures = []
            stop = threading.Event()
            done = harness.Counter()

            def scrape_loop():
                while not stop.is_set():
                    try:
                        if e.get()[0] != 200:
                            failures.append("status")
                        done.add()
                    except OSError as exc:
                        failures.append(repr(exc))

            threads = [threading.Thread(target=scrape_loop) for _ in range(4)]
            for t in threads:
                t.start()
            # Each step lands among answered scrapes: some before it, some
            # after it.
            self.assertTrue(done.wait_for(8))
            self.write("c.toml", "[collectors.c_plugin]\nenabled = false\n"
                                 "[collectors.cpu]\nenabled = false\n")
            e.send_signal(signal.SIGHUP)
            self.assertTrue(e.wait_for_log("configuration reloaded"))
            self.assertTrue(done.wait_for(done.value() + 8))
            # A broken configuration keeps the running one.
            self.write("c.toml", "[collectors.cpu]\nenabled = maybe\n")
            e.send_signal(signal.SIGHUP)
            self.assertTrue(e.wait_for_log("reload failed; keeping the running"))
            self.assertTrue(done.wait_for(done.value() + 8))
            stop.set()
            for t in threads:
                t.join(10)
            self.assertEqual(failures, [])
            text = e.metrics()
            self.assertNotIn("sysmetrics_c_plugin_answer", text)
            self.assertNotIn("sysmetrics_cpu_seconds_total", text)
            self.assertIn("sysmetrics_memory_total_bytes", text)
            self.assertIsNone(e.proc.poll())

    def test_plugins_cannot_take_a_builtins_series(self):
        """aaa_steal (its file sorts before cpu.so) and cpus (cpu's
        sysmetrics_cpus_online lies in its namespace) emit 999 under cpu's,
        c_plugin's, the host's and a foreign name, added by a reload: cpu's
        value is served all along and only the offenders are charged."""
        for name in ("aaa_steal", "cpus", "c_plugin"):
            self.add_plugin(name)
        cfg = self.write("steal.toml", "[collectors.c_plugin]\nenabled = true\n")
        owners = BUILTIN + ("c_plugin",)
        with self.exporter(config=cfg) as e:
            self.assertEqual(harness.samples(e.metrics())["sysmetrics_cpus_online"], "2")
            self.write("steal.toml", "[collectors.c_plugin]\nenabled = true\n"
                                     "[collectors.aaa_steal]\nenabled = true\n"
                                     "[collectors.cpus]\nenabled = true\n")
            e.send_signal(signal.SIGHUP)
            self.assertTrue(e.wait_for_log("configuration reloaded"))
            for i in (1, 2, 3):
                text = e.metrics()
                s = harness.samples(text)
                self.assertEqual(s["sysmetrics_cpus_online"], "2")
                self.assertEqual(s['sysmetrics_c_plugin_answer{greeting="hello"}'], "42")
                self.assertNotIn("999", s.values())
                self.assertFalse([k for k in s if k.startswith("node_load1")])
                for c in owners + ("aaa_steal", "cpus"):
                    self.assertEqual(s[f'sysmetrics_collector_success{{collector="{c}"}}'], "1")
                for c in owners:
                    self.assertEqual(
                        s[f'sysmetrics_collector_refused_families_total{{collector="{c}"}}'], "0")
                for c in ("aaa_steal", "cpus"):
                    self.assertEqual(
                        s[f'sysmetrics_collector_refused_families_total{{collector="{c}"}}'],
                        str(4 * i))
            harness.promtool_check(self, text)
            blamed = [l for l in e.log()
                      if "metric family refused" in l or "metric family dropped" in l]
            self.assertTrue(any("collector=aaa_steal family=sysmetrics_cpus_online" in l
                                for l in blamed), blamed)
            self.assertTrue(any("collector=cpus family=sysmetrics_cpus_online" in l
                                for l in blamed), blamed)
            self.assertFalse([l for l in blamed
                              if re.search(r"collector=(cpu|c_plugin) ", l)], blamed)

    def test_sighup_says_which_changes_need_a_restart(self):
        cfg = self.write("r.toml", "[server]\nmax_requests = 40\n")
        with self.exporter(config=cfg) as e:
            self.write("r.toml", "[server]\nmax_requests = 7\n")
            e.send_signal(signal.SIGHUP)
            self.assertTrue(e.wait_for_log("configuration reloaded"))
            self.assertTrue(any("server.max_requests" in l and "need a restart" in l
                                for l in e.log()), e.log())

    def test_idle_connections_do_not_delay_a_scrape(self):
        with self.exporter() as e:
            idle = []
            try:
                for i in range(200):
                    s = socket.create_connection(("127.0.0.1", e.port), timeout=5)
                    if i % 2:
                        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # never finished
                    idle.append(s)
                # Answered while every idle connection is still open: the
                # server neither waited for them to time out nor closed
                # them to make room.
                status = e.get(timeout=60)[0]
                self.assertEqual(status, 200)
                for s in idle:
                    s.setblocking(False)
                    try:
                        self.assertNotEqual(s.recv(1, socket.MSG_PEEK), b"",
                                            "an idle connection was closed")
                    except BlockingIOError:
                        pass  # open, nothing to read: still idle
            finally:
                for s in idle:
                    s.close()

    def test_max_requests_refuses_the_excess_at_once(self):
        # slow is held until every refusal has arrived: the n scrapes
        # admitted cannot finish before that, so a refusal that arrives was
        # given at once, not after queueing for a free slot (which would
        # come only after the release, 60 s later at the latest: a failure).
        self.add_plugin("slow")
        hold = os.path.join(self.tmp, "hold")
        with open(hold, "w", encoding="utf-8") as f:
            f.write("x")
        cfg = self.write("c.toml", "[collectors.slow]\nenabled = true\n"
                                   f'sleep_ms = 0\nhold_while = "{hold}"\n')
        n = 4
        excess = 10
        try:
            with self.exporter("--max-requests", str(n), config=cfg) as e:
                results = []
                changed = threading.Condition()

                def one():
                    status = e.get(headers={"X-Prometheus-Scrape-Timeout-Seconds": "60"},
                                   timeout=90)[0]
                    with changed:
                        results.append(status)
                        changed.notify_all()

                threads = [threading.Thread(target=one) for _ in range(n + excess)]
                for t in threads:
                    t.start()
                with changed:
                    refused = changed.wait_for(
                        lambda: len(results) >= excess, timeout=60)
                    self.assertTrue(refused, f"answers while held: {results}")
                    self.assertEqual(sorted(results), [503] * excess)
                os.remove(hold)
                for t in threads:
                    t.join(90)
                    self.assertFalse(t.is_alive(), "a scrape hung")
            self.assertEqual(sorted(results), [200] * n + [503] * excess)
        finally:
            if os.path.exists(hold):
                os.remove(hold)

    def test_second_signal_during_drain_exits_at_once(self):
        # slow is held for the whole test: a drain that waited for the
        # scrape in flight would answer it (at its 20 s deadline) before
        # exiting. Exiting at once means the scrape is never answered.
        self.add_plugin("slow")
        hold = os.path.join(self.tmp, "hold")
        with open(hold, "w", encoding="utf-8") as f:
            f.write("x")
        cfg = self.write("c.toml", "[collectors.slow]\nenabled = true\n"
                                   f'sleep_ms = 0\nhold_while = "{hold}"\n')
        e = self.exporter(config=cfg).start()
        answers = []
        try:
            def in_flight():
                try:
                    answers.append(e.get(headers={"X-Prometheus-Scrape-Timeout-Seconds": "20"},
                                         timeout=60)[0])
                except OSError:
                    pass  # the exporter exits under it

            scrape = threading.Thread(target=in_flight, daemon=True)
            scrape.start()
            self.assertTrue(e.wait_for_log("slow: holding", timeout=60))
            e.send_signal(signal.SIGTERM)
            self.assertTrue(e.wait_for_log("shutdown began"))
            e.send_signal(signal.SIGTERM)
            status = e.proc.wait(60)
            self.assertNotEqual(status, 0)
            scrape.join(60)
            self.assertFalse(scrape.is_alive(), "the scrape outlived the exporter")
            self.assertEqual(answers, [], "the drain answered the held scrape")
            # The process has exited, but the thread reading its stderr
            # may not have read the last lines yet: wait for the line.
            self.assertTrue(e.wait_for_log("second signal during shutdown"))
        finally:
            e.kill()
            if os.path.exists(hold):
                os.remove(hold)


if __name__ == "__main__":
    unittest.main()
