"""Configuration end to end: the file, conf.d drop-ins, flags, exit statuses
and messages, --check-config, --help and --version, the shipped config."""

import json
import os
import re
import shutil
import unittest

import harness

BUILTIN = harness.DEFAULT_COLLECTORS
FAMILY = {"cpu": "sysmetrics_cpu_seconds_total",
          "memory": "sysmetrics_memory_total_bytes",
          "disk": "sysmetrics_disk_reads_completed_total",
          "network": "sysmetrics_network_receive_bytes_total",
          "netclass": "sysmetrics_network_up",
          # The fixture's only mount is left out: the collector's own line.
          "filesystem": 'sysmetrics_scrape_duration_seconds{collector="filesystem"}',
          "loadavg": "sysmetrics_load1",
          "pressure": "sysmetrics_pressure_cpu_waiting_seconds_total",
          "stat": "sysmetrics_context_switches_total",
          "vmstat": "sysmetrics_vmstat_pgfault"}
SHIPPED = os.path.join(harness.SOURCE_DIR, "etc", "sysmetrics", "sysmetrics.toml")


def run(*args, timeout=20):
    return harness.run(*args, capture_output=True, text=True,
                          timeout=timeout, check=False)


class ConfigTest(harness.TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.procfs = harness.make_procfs(os.path.join(self.tmp, "proc"))

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_help_plugins_lists_options_types_defaults_and_help(self):
        plugins = harness.plugin_dir(os.path.join(self.tmp, "plugins"),
                                     test_plugins=("c_plugin",))
        r = run("--config", os.devnull, "--plugin-dir", plugins,
                "--help-plugins")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout
        for name in harness.BUILTIN_PLUGINS:
            self.assertRegex(out, r"(?m)^" + name +
                             r" \S+ \(plugin ABI \d+\.\d+, enabled\)$")
        self.assertIn("c_plugin 1.2.3 (plugin ABI", out)
        self.assertIn(", disabled)", out)
        # Every option of the C test plugin: key, type, default, help.
        for line in ('answer (integer, default 42)', '        An integer.',
                     'greeting (string, default "hello")',
                     'loud (boolean, default false)',
                     'ratio (float, default 0.5)',
                     'items (array of strings, default ["a", "b"])'):
            self.assertIn(line, out)
        self.assertIn('exclude_pattern (string, default "^(loop|ram|dm-)")',
                      out)
        self.assertIn("file: " + os.path.join(plugins, "disk.so"), out)

    def test_help_plugins_names_a_plugin_that_cannot_load(self):
        plugins = harness.plugin_dir(os.path.join(self.tmp, "plugins"),
                                     test_plugins=("wrong_abi",))
        r = run("--config", os.devnull, "--plugin-dir", plugins,
                "--help-plugins")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stdout, r"(?m)^wrong_abi: cannot be loaded: .*ABI")
        self.assertIn("cpu 0.1.0", r.stdout)  # the others are still listed
        self.assertIn("cannot be loaded", r.stderr)

    def enabled_collectors(self, exporter):
        s = harness.samples(exporter.metrics())
        return sorted(k.split('"')[1] for k in s
                      if k.startswith("sysmetrics_collector_success{"))

    def test_each_plugin_disabled_in_turn_by_file_and_by_flag(self):
        for name in BUILTIN:
            others = sorted(set(BUILTIN) - {name})
            cfg = self.write(f"{name}.toml",
                             f"[collectors.{name}]\nenabled = false\n")
            with harness.Exporter(config=cfg, procfs=self.procfs) as e:
                self.assertEqual(self.enabled_collectors(e), others)
                self.assertNotIn(FAMILY[name], e.metrics())
            with harness.Exporter(f"--no-collector.{name}",
                                  procfs=self.procfs) as e:
                self.assertEqual(self.enabled_collectors(e), others)
                text = e.metrics()
                self.assertNotIn(FAMILY[name], text)
                for other in others:
                    self.assertIn(FAMILY[other], text)

    def test_flags_override_the_file(self):
        cfg = self.write("c.toml", "[collectors.cpu]\nenabled = false\n"
                                   "[paths]\nprocfs = \"/nonexistent\"\n")
        with harness.Exporter("--collector.cpu", config=cfg,
                              procfs=self.procfs) as e:
            self.assertEqual(self.enabled_collectors(e), sorted(BUILTIN))
            s = harness.samples(e.metrics())
            self.assertEqual(s["sysmetrics_cpus_online"], "2")  # our procfs

    def test_plugin_options_from_the_file(self):
        cfg = self.write("c.toml", "[collectors.disk]\n"
                                   "exclude_pattern = \"^(sd|md)\"\n"
                                   "[collectors.network]\n"
                                   "exclude_pattern = \"\"\n")
        with harness.Exporter(config=cfg, procfs=self.procfs) as e:
            text = e.metrics()
        self.assertIn('device="loop0"', text)
        self.assertNotIn('device="sda"', text)
        self.assertNotIn('device="md127"', text)
        self.assertIn('device="nvme0n1"', text)
        self.assertIn('interface="lo"', text)  # empty pattern: nothing excluded

    def test_dropins_in_name_order_enable_a_plugin(self):
        plugin_dir = os.path.join(self.tmp, "plugins")
        os.makedirs(plugin_dir)
        for name in BUILTIN:
            shutil.copy(os.path.join(harness.PLUGIN_DIR, name + ".so"), plugin_dir)
        shutil.copy(os.path.join(harness.TEST_PLUGIN_DIR, "c_plugin.so"),
                    plugin_dir)
        main = self.write("etc/sysmetrics.toml",
                          f"[plugins]\ndir = \"{plugin_dir}\"\n")
        self.write("etc/conf.d/10-c.toml",
                   "[collectors.c_plugin]\nenabled = true\nanswer = 1\n")
        self.write("etc/conf.d/20-c.toml", "[collectors.c_plugin]\nanswer = 2\n")
        with harness.Exporter(config=main, procfs=self.procfs) as e:
            s = harness.samples(e.metrics())
        self.assertEqual(s['sysmetrics_c_plugin_answer{greeting="hello"}'], "2")

    def test_errors_exit_2_with_file_line_and_fix(self):
        cases = {
            "[server]\nlisten = 9101\n":
                ":2: server.listen must be a string, not an integer",
            "[sever]\n": ":1: unknown section [sever]",
            "[collectors.disk]\nexclude_patern = \"x\"\n":
                ":2: unknown key 'exclude_patern' in [collectors.disk]; "
                "valid keys: enabled, timeout_seconds, sample_limit, "
                "isolate, memory_limit_mib, exclude_pattern",
            "[collectors.disk]\nexclude_pattern = 5\n":
                ":2: collectors.disk.exclude_pattern must be of type string, "
                "not an integer",
            "[collectors.nosuch]\nenabled = true\n":
                ":1: unknown collector 'nosuch': no nosuch.so in",
            "[collectors.cpu]\nenabled = \"yes\"\n":
                ":2: collectors.cpu.enabled must be true or false",
            "[server\n": ":1: TOML syntax error",
        }
        for text, want in cases.items():
            cfg = self.write("bad.toml", text)
            for extra in ([], ["--check-config"]):
                res = run("--config", cfg, "--listen", "127.0.0.1:0", *extra)
                self.assertEqual(res.returncode, 2, (text, res.stderr))
                self.assertIn(cfg + want, res.stderr, text)

    def test_bad_regex_is_a_configuration_error(self):
        cfg = self.write("re.toml", "[collectors.disk]\n\nexclude_pattern = \"(\"\n")
        res = run("--config", cfg, "--check-config")
        self.assertEqual(res.returncode, 2, res.stderr)
        self.assertIn("collector 'disk': create failed", res.stderr)
        self.assertIn("exclude_pattern '(' is not a valid regular expression",
                      res.stderr)
        self.assertIn("options set at " + cfg + ":3", res.stderr)

    def test_missing_config_named_by_flag(self):
        res = run("--config", os.path.join(self.tmp, "none.toml"))
        self.assertEqual(res.returncode, 2)
        self.assertIn("none.toml: configuration file not found", res.stderr)

    def test_check_config_good(self):
        res = run("--config", os.devnull, "--check-config")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn(f"configuration OK: {len(BUILTIN)} collector(s) "
                      f"enabled: {', '.join(sorted(BUILTIN))}", res.stdout)

    def test_check_config_reports_what_a_start_reports(self):
        # One setup with plugins that cannot start: the check and a real
        # start name the same collectors as failed, for the same reasons.
        plugins = harness.plugin_dir(
            os.path.join(self.tmp, "plugins"),
            test_plugins=("wrong_abi", "create_fails", "c_plugin"))
        args = ("--plugin-dir", plugins, "--collector.wrong_abi",
                "--collector.create_fails", "--collector.c_plugin")
        res = run("--config", os.devnull, *args, "--check-config")
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertIn("configuration OK: 7 collector(s) enabled: c_plugin, "
                      "cpu, create_fails, disk, memory, network, wrong_abi\n",
                      res.stdout)
        verdicts = dict(re.findall(r"(?m)^(\w+): (loaded|refused) ",
                                   res.stdout))
        self.assertEqual(verdicts, {
            "c_plugin": "loaded", "cpu": "loaded", "disk": "loaded",
            "memory": "loaded", "network": "loaded",
            "wrong_abi": "refused", "create_fails": "refused"})
        checked = dict(re.findall(r"(?m)^(\w+): refused \(\S+\): (.*)$",
                                  res.stdout))
        self.assertIn("would be reported failed (sysmetrics_collector_success"
                      " 0): create_fails, wrong_abi", res.stderr)

        with harness.Exporter(*args, "--log-format", "json",
                              procfs=self.procfs) as e:
            s = harness.samples(e.metrics())
            _, _, page = e.get("/")
            log = e.log()
        started = {}
        for line in log:
            record = json.loads(line)
            if record["msg"] == "plugin refused":
                started[record["collector"]] = record["reason"]
        self.assertEqual(started, checked)
        self.assertEqual(set(started), {"wrong_abi", "create_fails"})
        for name, reason in started.items():
            self.assertIn(reason, page.decode())
        failed = {k for k, v in s.items()
                  if k.startswith("sysmetrics_collector_success") and v == "0"}
        self.assertEqual(failed, {f'sysmetrics_collector_success{{collector="{n}"}}'
                                  for n in checked})

    def test_shipped_config_is_valid_and_at_defaults(self):
        res = run("--config", SHIPPED, "--check-config")
        self.assertEqual(res.returncode, 0, res.stderr)
        with harness.Exporter(config=SHIPPED, procfs=self.procfs) as shipped, \
                harness.Exporter(procfs=self.procfs) as defaults:
            self.assertEqual(self.enabled_collectors(shipped),
                             self.enabled_collectors(defaults))

    def test_usage_errors(self):
        for args, want in ((["--nope"], "unknown flag --nope"),
                           (["--listen"], "--listen needs a value"),
                           (["--log-level", "loud"],
                            '--log-level: "loud" is not a log level'),
                           (["--max-requests", "0"], "--max-requests must be")):
            res = run("--config", os.devnull, *args)
            self.assertEqual(res.returncode, 2, args)
            self.assertIn(want, res.stderr)

    def test_help_and_version(self):
        res = run("--help")
        self.assertEqual(res.returncode, 0)
        for flag in ("--listen", "--config", "--plugin-dir", "--procfs",
                     "--sysfs", "--log-format", "--log-level", "--max-requests",
                     "--collector.NAME", "--no-collector.NAME", "--check-config",
                     "--help", "--version"):
            self.assertIn(flag, res.stdout)
        res = run("--version")
        self.assertEqual(res.returncode, 0)
        self.assertRegex(res.stdout, r"^sysmetrics \S+ \(plugin ABI " +
                         re.escape(harness.ABI) + r"\)\n$")

    def test_listen_address_in_use(self):
        with harness.Exporter(procfs=self.procfs) as e:
            res = run("--config", os.devnull, "--listen", f"127.0.0.1:{e.port}")
        self.assertEqual(res.returncode, 1)
        self.assertIn("Address already in use", res.stderr)


if __name__ == "__main__":
    unittest.main()
