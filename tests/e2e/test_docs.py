"""The documents kept true by the code, and the other way round:
  - README's configuration table lists exactly the keys the binary accepts
    (asked from the binary itself: each section's "unknown key" error lists
    the valid ones, plugins' options included);
  - each key's type is the one the binary's error for a wrong value names,
    and each literal default is the shipped config's, whose defaults,
    uncommented, change nothing a scrape shows;
  - its flag column and flag paragraph list exactly the flags of --help;
  - its metric table lists exactly the families a default scrape serves,
    with their types and label names;
  - CHANGELOG.md's latest release names the SDK header's ABI version;
  - the Grafana dashboard follows the data source chosen at import, and
    the provisioning files under docs/grafana/provisioning satisfy it.
"""

import json
import os
import re
import shlex
import subprocess
import unittest

import yaml

import harness

README = os.path.join(harness.SOURCE_DIR, "README.md")
CHANGELOG = os.path.join(harness.SOURCE_DIR, "CHANGELOG.md")
SHIPPED = os.path.join(harness.SOURCE_DIR, "etc", "sysmetrics",
                       "sysmetrics.toml")


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
                        if k in ("enabled", "timeout_seconds", "sample_limit",
                                 "isolate", "memory_limit_mib"):
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

    # The type a README row names, and how the binary's error for a value
    # of the wrong type says it (core keys and plugin options word it
    # differently).
    TYPE_PROBES = {
        "string": ("1", ("must be a string", "must be of type string")),
        "integer": ('"x"', ("must be an integer", "must be of type integer")),
        "float": ('"x"', ("must be a number", "must be of type float")),
        "boolean": ('"x"', ("must be true or false",
                            "must be of type boolean")),
        "list of strings": ("1", ("must be of type array of strings",)),
    }

    def test_configuration_table_types_match_the_binary(self):
        for row in table_after(readme(), "| key | type | default | flag |"):
            key = ticked(row[0])[0].replace("collectors.NAME.",
                                            "collectors.cpu.")
            key = key.replace(".NAME", ".prometheus")
            self.assertIn(row[1], self.TYPE_PROBES, row)
            value, wants = self.TYPE_PROBES[row[1]]
            section, name = key.rsplit(".", 1)
            text = f"[{section}]\n"
            if section.startswith("collectors.") and name != "enabled":
                text += "enabled = true\n"  # options are checked when on
            rc, err = self.run_config(text + f"{name} = {value}\n")
            self.assertEqual(rc, 2, (key, err))
            self.assertIn(key, err)
            if key.startswith("web.basic_auth_users."):
                # A string, and more: the error says what kind.
                self.assertIn("must be a bcrypt hash", err)
                continue
            self.assertTrue(any(w in err for w in wants), (key, row[1], err))

    def test_configuration_defaults_match_the_shipped_config(self):
        """Each default the README gives as a literal is the commented-out
        line of the shipped sysmetrics.toml ("every option shown at its
        default"), and uncommenting all of them changes nothing a scrape
        shows: the same collectors, devices, interfaces and series."""
        rows = table_after(readme(), "| key | type | default | flag |")
        keys = {ticked(r[0])[0] for r in rows}
        literal = {}
        for row in rows:
            cell = row[2]
            # A value, not another key's name ("`scrape.sample_limit`").
            if re.fullmatch(r"`[^`]+`", cell) and ticked(cell)[0] not in keys:
                literal[ticked(row[0])[0]] = ticked(cell)[0]
        self.assertGreater(len(literal), 15)
        shipped = {}
        uncommented = []
        section, example = None, False
        with open(SHIPPED, encoding="utf-8") as f:
            for line in f:
                # A table, or a commented-out example table ([web.tls]
                # needs files: its lines are read, never uncommented).
                m = re.match(r"^(#?)\[([\w.]+)\]$", line.strip())
                if m:
                    section, example = m.group(2), m.group(1) == "#"
                    if not example:
                        uncommented.append(line)
                    continue
                m = re.match(r"^#(\w+) = (.*)$", line.rstrip("\n"))
                if m and section is not None:
                    key = f"{section}.{m.group(1)}"
                    shipped[key] = m.group(2)
                    if not example and (key in literal or
                                        key.endswith(".enabled")):
                        uncommented.append(line[1:])
        for key, value in literal.items():
            self.assertIn(key, shipped, key)
            self.assertEqual(shipped[key], value, key)
        # "true for cpu, memory, ...; false otherwise"
        enabled = {k.split(".")[1]: v for k, v in shipped.items()
                   if k.startswith("collectors.") and k.endswith(".enabled")}
        self.assertEqual(enabled, {
            p: "true" if p in harness.DEFAULT_COLLECTORS else "false"
            for p in sorted(f[:-3] for f in os.listdir(harness.PLUGIN_DIR)
                            if f.endswith(".so") and f != "tls.so")})
        # Every key the binary accepts but for the ones without a single
        # default (plugins.dir, the examples) is in the shipped file.
        self.assertGreater(len(uncommented), len(literal))
        path = os.path.join(self.tmp, "uncommented.toml")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(uncommented)
        rc, err = self.run_config_ok(path)
        self.assertEqual(rc, 0, err)
        procfs = harness.make_procfs(os.path.join(self.tmp, "proc"))

        def series(config):
            with harness.Exporter(config=config, procfs=procfs) as e:
                text = e.metrics()
            return sorted(line.rsplit(" ", 1)[0] for line in text.splitlines()
                          if line and not line.startswith("#")
                          and "scrape_duration" not in line
                          and "collect_seconds" not in line)

        self.assertEqual(series(path), series(os.devnull))

    def run_config_ok(self, path):
        r = harness.run("--check-config", "--config", path,
                        capture_output=True, text=True, timeout=30,
                        check=False)
        return r.returncode, r.stderr

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
        # The fixture, with what a default scrape of it lacks to show every
        # family: a real mount (its sizes), the rarer meminfo fields, and
        # PSI for interrupts.
        with open(os.path.join(harness.SOURCE_DIR, "plugins", "memory",
                               "testdata", "procfs", "meminfo"),
                  encoding="utf-8") as f:
            meminfo = f.read() + "HugePages_Rsvd: 0\nHugePages_Surp: 0\n"
        procfs = harness.make_procfs(os.path.join(self.tmp, "proc"), {
            "self/mountinfo": "22 1 8:1 / / rw,relatime - ext4 /dev/root rw\n",
            "meminfo": meminfo,
            "pressure/irq": "full avg10=0.00 avg60=0.00 avg300=0.00 "
                            "total=100\n"})
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
        # A row named with an upper-case word (sysmetrics_vmstat_NAME)
        # stands for every family its pattern matches; each must match one.
        patterns = {n: re.compile(re.sub(r"[A-Z]+", "[a-z0-9_]+", n) + "$")
                    for n in documented if re.search(r"[A-Z]", n)}
        for name in list(served):
            matched = [n for n, p in patterns.items() if p.match(name)]
            if name not in documented and matched:
                typ, labels = served.pop(name)
                served.setdefault(matched[0], (typ, set()))[1].update(labels)
        self.assertEqual(set(documented), set(served))
        for name, (typ, labels) in served.items():
            self.assertEqual(documented[name], (typ, labels), name)

    def test_node_name_table_is_the_binarys(self):
        r = harness.run("--node-name-table", check=True)
        block = re.search(r"<!-- node-name-table:begin -->\n(.*?)"
                          r"<!-- node-name-table:end -->", readme(), re.S)
        self.assertIsNotNone(block)
        self.assertEqual(
            block.group(1), r.stdout,
            "README's node_exporter table differs from the code's: replace "
            "it with the output of `sysmetrics --node-name-table`")

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

    def test_grafana_provisioning_matches_the_dashboard(self):
        grafana = os.path.join(harness.SOURCE_DIR, "docs", "grafana")
        with open(os.path.join(grafana, "sysmetrics.json"), encoding="utf-8") as f:
            d = json.load(f)
        prov = {}
        for kind in ("datasources", "dashboards"):
            with open(os.path.join(grafana, "provisioning", kind, "sysmetrics.yml"),
                      encoding="utf-8") as f:
                prov[kind] = yaml.safe_load(f)
            self.assertEqual(prov[kind]["apiVersion"], 1, kind)
        text = readme()

        # README's commands put each file where the other expects it: the
        # provisioning files in Grafana's directories, the dashboard in the
        # file provider's path.
        [provider] = prov["dashboards"]["providers"]
        self.assertEqual(provider["type"], "file")
        for src, dst in (
                ("provisioning/datasources/sysmetrics.yml",
                 "/etc/grafana/provisioning/datasources/sysmetrics.yml"),
                ("provisioning/dashboards/sysmetrics.yml",
                 "/etc/grafana/provisioning/dashboards/sysmetrics.yml"),
                ("sysmetrics.json",
                 provider["options"]["path"] + "/sysmetrics.json")):
            line = f"install -D -m 0644 docs/grafana/{src} {dst}"
            self.assertTrue(line + "\n" in text, "README lacks the line: " + line)

        # The provisioned data source is of the type the dashboard's data
        # source variable lists, and its scrape interval is README's.
        [source] = prov["datasources"]["datasources"]
        var = next(v for v in d["templating"]["list"] if v["type"] == "datasource")
        self.assertEqual(source["type"], var["query"])
        self.assertEqual(source["type"], d["__inputs"][0]["pluginId"])
        self.assertTrue(source["name"] and source["uid"] and source["url"])
        interval = re.search(r"<!-- scrape-config: plain -->\n```yaml\n.*?"
                             r"scrape_interval: (\S+)", text, re.S).group(1)
        self.assertEqual(source["jsonData"]["timeInterval"], interval)

        # Provisioning never fills in __inputs: every data source reference
        # must be the variable, and ${DS_...} may appear only as the
        # variable's saved value (which Grafana replaces when it matches no
        # data source).
        refs = []

        def walk(node):
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "datasource":
                        refs.append(value)
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(d)
        self.assertTrue(refs)
        want = {"type": source["type"], "uid": "${" + var["name"] + "}"}
        for ref in refs:
            self.assertEqual(ref, want)
        rest = dict(d, __inputs=[], templating={"list": [
            dict(v, current={}) for v in d["templating"]["list"]]})
        self.assertNotIn("${DS_", json.dumps(rest))

        # README's Grafana version is the one of the dashboard's schema.
        # Grafana 9.0 introduced schemaVersion 36, 9.1 37; re-exporting
        # from a newer Grafana raises it: update README and __requires.
        grafana_of_schema = {36: "9.0", 37: "9.1"}
        self.assertIn(d["schemaVersion"], grafana_of_schema)
        version = grafana_of_schema[d["schemaVersion"]]
        self.assertIn(f"It needs Grafana {version} or later.", text)
        requires = next(r for r in d["__requires"] if r["id"] == "grafana")
        self.assertEqual(requires["version"], version + ".0")
        self.assertEqual({p["type"] for p in d["panels"]}, {"timeseries", "row"})

    def test_installed_plugin_guide_links_only_installed_paths(self):
        """The guide is installed alone under /usr/share/doc/sysmetrics-dev:
        a relative link into the source tree would be dead there."""
        guide = os.path.join(harness.SOURCE_DIR, "docs", "plugin-guide.md")
        with open(guide, encoding="utf-8") as f:
            text = f.read()
        for target in re.findall(r"\]\(([^)]+)\)", text):
            self.assertRegex(target, r"^(https?://|#)",
                             "relative link in the installed guide: " + target)

    def test_plugin_guide_quick_try_runs_as_written(self):
        """The guide's quick try, with the filefd example built as the
        guide builds it (the SDK headers from the source tree rather than
        pkg-config), its ./build made absolute and its port a free one."""
        guide = os.path.join(harness.SOURCE_DIR, "docs", "plugin-guide.md")
        with open(guide, encoding="utf-8") as f:
            text = f.read()
        block = re.search(r"For a quick try without installing,.*?```sh\n(.*?)```",
                          text, re.S)
        self.assertIsNotNone(block, "no quick-try block in the guide")
        command = shlex.split(block.group(1).splitlines()[0])
        self.assertEqual(command[0], "sysmetrics")
        build = os.path.join(self.tmp, "build")
        os.makedirs(build)
        source = os.path.join(harness.SOURCE_DIR, "sdk", "examples",
                              "filefd_c", "filefd.c")
        subprocess.run(["cc", "-std=c99", "-O2", "-Wall", "-fvisibility=hidden",
                        "-shared", "-fPIC", "-Wl,-z,defs", "-I",
                        os.path.join(harness.SOURCE_DIR, "sdk", "include"),
                        "-o", os.path.join(build, "filefd.so"), source],
                       check=True)
        args = []
        rest = iter(command[1:])
        for arg in rest:
            if arg == "--listen":
                next(rest)  # the harness listens on a free port instead
            elif arg == "./build":
                args.append(build)
            else:
                args.append(arg)
        with harness.Exporter(*args, config=None) as e:
            s = harness.samples(e.metrics())
        self.assertEqual(s['sysmetrics_collector_success{collector="filefd"}'], "1")
        self.assertIn("sysmetrics_filefd_allocated", s)
        self.assertIn("sysmetrics_filefd_maximum", s)

    def test_changelog_names_the_abi_version(self):
        with open(CHANGELOG, encoding="utf-8") as f:
            text = f.read()
        first = re.search(r"^## .*$", text, re.M).group(0)
        self.assertIn(f"plugin ABI {harness.ABI}", first)


if __name__ == "__main__":
    unittest.main()
