"""The documents kept true by the code, and the other way round:
  - README's configuration table lists exactly the keys the binary accepts
    (asked from the binary itself: each section's "unknown key" error lists
    the valid ones, plugins' options included);
  - its flag column and flag paragraph list exactly the flags of --help;
  - its metric table lists exactly the families a default scrape serves,
    with their types and label names;
  - CHANGELOG.md's latest release names the SDK header's ABI version;
  - the Grafana dashboard follows the data source chosen at import.
"""

import json
import os
import re
import unittest

import harness

README = os.path.join(harness.SOURCE_DIR, "README.md")
CHANGELOG = os.path.join(harness.SOURCE_DIR, "CHANGELOG.md")


def readme():
    with open(README, encoding="utf-8") as f:
        return f.read()


def table_after(text, header):
    """Rows (lists of cells) of the Markdown table whose header line starts
    with header."""
    lines = text.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        # Split on | not escaped as \|.
        cells = [c.strip().replace("\\|", "|")
                 for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        rows.append(cells)
    return rows


def ticked(cell):
    return re.findall(r"`([^`]+)`", cell)


class DocsTest(harness.TempDirTestCase):
    def run_config(self, text):
        path = os.path.join(self.tmp, "probe.toml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        r = harness.run("--check-config", "--config", path,
                           capture_output=True, text=True, timeout=30,
                           check=False)
        return r.returncode, r.stderr

    def valid(self, text, what="keys"):
        rc, err = self.run_config(text)
        self.assertEqual(rc, 2, err)
        m = re.search(r"valid " + what + r": ([\w, ]+)$", err, re.M)
        self.assertIsNotNone(m, err)
        return [k.strip() for k in m.group(1).split(",")]

    def code_keys(self):
        keys = set()
        plugins = sorted(f[:-3] for f in os.listdir(harness.PLUGIN_DIR)
                         if f.endswith(".so"))
        self.assertIn("cpu", plugins)
        for section in self.valid("[zzz_probe]\n", "sections"):
            if section == "collectors":
                for p in plugins:
                    for k in self.valid(f"[collectors.{p}]\nenabled = true\n"
                                        "zzz_probe = 1\n"):
                        if k in ("enabled", "timeout_seconds", "sample_limit"):
                            keys.add(f"collectors.NAME.{k}")
                        else:
                            keys.add(f"collectors.{p}.{k}")
            elif section == "web":
                for k in self.valid("[web]\nzzz_probe = 1\n"):
                    if k == "tls":
                        for t in self.valid("[web.tls]\nzzz_probe = 1\n"):
                            keys.add(f"web.tls.{t}")
                    elif k == "basic_auth_users":
                        keys.add("web.basic_auth_users.NAME")
                    else:
                        keys.add(f"web.{k}")
            else:
                for k in self.valid(f"[{section}]\nzzz_probe = 1\n"):
                    keys.add(f"{section}.{k}")
        return keys

    def test_configuration_table_matches_the_binary(self):
        rows = table_after(readme(), "| key | type | default | flag |")
        documented = {ticked(r[0])[0] for r in rows}
        self.assertEqual(documented, self.code_keys())
        for r in rows:
            self.assertEqual(len(r), 5, r)
            self.assertTrue(r[1] and r[2] and r[4], f"empty cell in {r}")

    def test_flags_match_help(self):
        r = harness.run("--help", capture_output=True,
                           text=True, timeout=10, check=True)
        in_help = set(re.findall(r"^\s+(--[\w.-]+)", r.stdout, re.M))
        text = readme()
        documented = set()
        for row in table_after(text, "| key | type | default | flag |"):
            documented |= {t.split(" ")[0] for t in ticked(row[3])}
        para = re.search(r"Flags that take no key:(.*?)\n\n", text, re.S)
        self.assertIsNotNone(para)
        documented |= {t.split(" ")[0] for t in ticked(para.group(1))
                       if t.startswith("--")}
        self.assertEqual(documented, in_help)

    def test_metric_table_matches_a_default_scrape(self):
        procfs = harness.make_procfs(os.path.join(self.tmp, "proc"))
        with harness.Exporter(procfs=procfs) as e:
            text = e.metrics()
        served = {}
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                _, _, name, typ = line.split(" ")
                served[name] = (typ, set())
            elif line and not line.startswith("#"):
                series = line.rsplit(" ", 1)[0]
                name = series.split("{")[0]
                labels = set(re.findall(r'([a-zA-Z_]\w*)="', series))
                served[name][1].update(labels)
        rows = table_after(readme(), "| name | type | labels | unit | source |")
        documented = {ticked(r[0])[0]: (r[1], set(ticked(r[2]))) for r in rows}
        self.assertEqual(set(documented), set(served))
        for name, (typ, labels) in served.items():
            self.assertEqual(documented[name], (typ, labels), name)

    def test_dashboard_uses_the_data_source_chosen_at_import(self):
        # Grafana's import asks for each __inputs entry and substitutes
        # ${NAME} wherever it appears; panels follow the datasource
        # variable, whose initial value must be that input, or the choice
        # made at import would be ignored.
        path = os.path.join(harness.SOURCE_DIR, "docs", "grafana", "sysmetrics.json")
        with open(path, encoding="utf-8") as f:
            raw = f.read()
        d = json.loads(raw)
        inputs = [i["name"] for i in d["__inputs"]]
        self.assertTrue(inputs)
        for name in inputs:
            self.assertIn("${" + name + "}", raw, name)
        var = next(v for v in d["templating"]["list"] if v["type"] == "datasource")
        self.assertEqual(var["current"]["value"], "${" + inputs[0] + "}")
        want = {"type": "prometheus", "uid": "${" + var["name"] + "}"}
        for v in d["templating"]["list"]:
            if v["type"] == "query":
                self.assertEqual(v["datasource"], want, v["name"])
        for p in d["panels"]:
            if p.get("type") == "row":
                continue
            self.assertEqual(p.get("datasource"), want, p["title"])
            for t in p.get("targets", []):
                self.assertIn(t.get("datasource", want), (want,), p["title"])

    def test_changelog_names_the_abi_version(self):
        with open(CHANGELOG, encoding="utf-8") as f:
            text = f.read()
        first = re.search(r"^## .*$", text, re.M).group(0)
        self.assertIn(f"plugin ABI {harness.ABI}", first)


if __name__ == "__main__":
    unittest.main()
