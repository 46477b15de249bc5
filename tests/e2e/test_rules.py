"""The shipped Prometheus rules (packaging/rules/):
  - promtool check rules accepts both files, and promtool test rules passes
    their unit tests (packaging/rules/tests/);
  - every alert has a unit test case where it fires and one where it does
    not, and every recording rule is tested;
  - README's alert table lists every alert, in the files' order;
  - every metric name the rules use is one sysmetrics serves (so renaming a
    metric breaks this test, not an operator's alerts);
  - a real Prometheus scraping sysmetrics loads every group, evaluates every
    rule with health "ok", and each recording rule has data for the target.
Needs prometheus (Debian package, which has promtool) and python3-yaml.
"""

import glob
import json
import os
import re
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import yaml

import harness

RULES_DIR = os.path.join(harness.SOURCE_DIR, "packaging", "rules")
RULE_FILES = [os.path.join(RULES_DIR, "sysmetrics-alerts.yml"),
              os.path.join(RULES_DIR, "sysmetrics-recording.yml")]
TEST_FILES = sorted(glob.glob(os.path.join(RULES_DIR, "tests", "*.yml")))
# Series Prometheus makes itself for each target, not served by sysmetrics.
PROMETHEUS_SERIES = {"up"}
PROMQL_WORDS = {"and", "or", "unless", "by", "without", "on", "ignoring",
                "group_left", "group_right", "bool", "offset"}
POLL_SECONDS = 120  # generous: a busy 2-core machine


def rules():
    """(rule dict) for every rule of both files."""
    out = []
    for path in RULE_FILES:
        with open(path, encoding="utf-8") as f:
            for group in yaml.safe_load(f)["groups"]:
                out.extend(group["rules"])
    return out


def metric_names(expr):
    """The metric names a PromQL expression selects: identifiers left once
    strings, label matchers, ranges and label lists are taken out, that are
    neither function calls nor keywords."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)",
                  " ", expr)
    names = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?", expr):
        if not m.group(2) and m.group(1) not in PROMQL_WORDS:
            names.add(m.group(1))
    return names


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def served_names(exporter):
    return {series.split("{", 1)[0]
            for series in harness.samples(exporter.metrics())}


class RulesTest(harness.TempDirTestCase):
    def promtool(self, *args):
        res = subprocess.run(["promtool", *args], capture_output=True,
                             text=True, timeout=120, check=False)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)

    def test_promtool_check_and_unit_tests(self):
        self.promtool("check", "rules", *RULE_FILES)
        self.assertTrue(TEST_FILES)
        self.promtool("test", "rules", *TEST_FILES)

    def test_every_rule_has_unit_tests(self):
        firing, quiet, exprs = set(), set(), []
        for path in TEST_FILES:
            with open(path, encoding="utf-8") as f:
                for case in yaml.safe_load(f)["tests"]:
                    for t in case.get("alert_rule_test", []):
                        (firing if t.get("exp_alerts") else quiet).add(t["alertname"])
                    exprs += [t["expr"] for t in case.get("promql_expr_test", [])]
        for rule in rules():
            if "alert" in rule:
                with self.subTest(alert=rule["alert"]):
                    self.assertIn(rule["alert"], firing, "no case where it fires")
                    self.assertIn(rule["alert"], quiet, "no case where it does not")
                    for key in ("summary", "description", "runbook"):
                        self.assertIn(key, rule["annotations"])
                    self.assertIn(rule["labels"]["severity"], ("warning", "critical"))
            else:
                with self.subTest(record=rule["record"]):
                    self.assertTrue(any(rule["record"] in e for e in exprs),
                                    "no promql_expr_test")

    def test_readme_lists_every_alert(self):
        with open(os.path.join(harness.SOURCE_DIR, "README.md"),
                  encoding="utf-8") as f:
            text = f.read()
        section = text.split("\n## Alerting and recording rules\n", 1)[1]
        section = section.split("\n## ", 1)[0]
        listed = re.findall(r"^\| `(\w+)` \|", section, re.M)
        self.assertEqual(listed, [r["alert"] for r in rules() if "alert" in r])

    def test_rule_metrics_are_served(self):
        # The real /proc serves the file systems of this machine; a fixture
        # /proc serves what this machine's kernel may lack (PSI, swap).
        with harness.Exporter() as real:
            names = served_names(real)
        fixture = harness.make_procfs(os.path.join(self.tmp, "proc"))
        with harness.Exporter(procfs=fixture) as fake:
            names |= served_names(fake)
        for rule in rules():
            for name in metric_names(rule["expr"]) - PROMETHEUS_SERIES:
                with self.subTest(rule=rule.get("alert") or rule["record"]):
                    self.assertTrue(name in names, f"{name} is not served")

    def test_rules_in_real_prometheus(self):
        prom = None
        prom_log = open(os.path.join(self.tmp, "prometheus.log"), "wb")
        try:
            with harness.Exporter() as exporter:
                target = f"127.0.0.1:{exporter.port}"
                port = free_port()
                config = os.path.join(self.tmp, "prometheus.yml")
                with open(config, "w", encoding="utf-8") as f:
                    yaml.safe_dump({
                        "global": {"scrape_interval": "1s",
                                   "scrape_timeout": "1s",
                                   "evaluation_interval": "1s"},
                        "rule_files": RULE_FILES,
                        "scrape_configs": [{
                            "job_name": "sysmetrics",
                            "static_configs": [{"targets": [target]}]}],
                    }, f)
                prom = subprocess.Popen(
                    ["prometheus", "--config.file", config,
                     "--storage.tsdb.path", os.path.join(self.tmp, "tsdb"),
                     "--web.listen-address", f"127.0.0.1:{port}",
                     "--storage.tsdb.retention.time", "1h"],
                    stdout=prom_log, stderr=subprocess.STDOUT)
                api = Api(self, port, prom)
                api.wait_until(lambda: api.get("/-/ready") is not None,
                               "prometheus ready")
                self.check_groups(api)
                self.check_recordings(api, target)
        finally:
            if prom is not None:
                harness.stop_process(prom)
            prom_log.close()

    def check_groups(self, api):
        """Every group of both files loaded, and every rule evaluated
        without error."""
        want = set()
        for path in RULE_FILES:
            with open(path, encoding="utf-8") as f:
                want |= {(path, g["name"], len(g["rules"]))
                         for g in yaml.safe_load(f)["groups"]}

        def evaluated():
            groups = api.get("/api/v1/rules")["data"]["groups"]
            got = {(g["file"], g["name"], len(g["rules"])) for g in groups}
            return got == want and all(
                r["health"] == "ok" and not r["lastEvaluation"].startswith("0001")
                for g in groups for r in g["rules"])
        api.wait_until(evaluated, "every rule evaluated with health ok")

    def check_recordings(self, api, target):
        for rule in rules():
            if "record" not in rule:
                continue
            expr = f'{rule["record"]}{{instance="{target}"}}'
            api.wait_until(lambda e=expr: api.query(e), f"data for {expr}")


class Api:
    """Polls a Prometheus HTTP API until a condition holds."""

    def __init__(self, test, port, proc):
        self.test, self.port, self.proc = test, port, proc
        self.last = None

    def get(self, path, **params):
        url = f"http://127.0.0.1:{self.port}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                body = r.read()
        except OSError:
            return None
        self.last = body
        return json.loads(body) if path.startswith("/api/") else body

    def query(self, expr):
        r = self.get("/api/v1/query", query=expr)
        return r["data"]["result"] if r else []

    def wait_until(self, condition, what):
        deadline = time.monotonic() + POLL_SECONDS
        while not condition():
            self.test.assertIsNone(self.proc.poll(), "prometheus exited")
            self.test.assertLess(time.monotonic(), deadline,
                                 f"no {what}; last answer: {self.last!r:.2000}")
            time.sleep(0.5)
