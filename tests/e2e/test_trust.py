"""Plugin loading is a trust boundary: a plugin file or directory another
user could write to is refused with a log line saying why; the other
plugins and the process carry on."""

import os
import unittest

import harness


class TrustTest(harness.TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.procfs = harness.make_procfs(os.path.join(self.tmp, "proc"))
        # A private parent, so only what each test loosens is loose.
        os.chmod(self.tmp, 0o755)
        self.plugins = harness.plugin_dir(os.path.join(self.tmp, "plugins"))
        os.chmod(self.plugins, 0o755)

    def config(self, text=""):
        path = os.path.join(self.tmp, "c.toml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def run_with(self, config=None):
        """Starts the exporter, scrapes once; returns (metrics text, log)."""
        with harness.Exporter("--plugin-dir", self.plugins, "--procfs",
                              self.procfs, config=config or self.config()) as e:
            text = e.metrics()
            return text, "\n".join(e.log())

    def plugin(self, name):
        return os.path.join(self.plugins, name + ".so")

    def assert_refused(self, log, name, reason):
        lines = [l for l in log.splitlines()
                 if "plugin refused" in l and f"{name}.so" in l]
        self.assertTrue(lines, log)
        self.assertIn(reason, lines[0])

    def test_world_writable_file_is_refused_alone(self):
        os.chmod(self.plugin("disk"), 0o777)
        text, log = self.run_with()
        self.assert_refused(log, "disk", "is writable by everyone (mode 0777)")
        self.assertIn(self.plugin("disk"), log)
        self.assertNotIn("sysmetrics_disk_", text)
        self.assertIn("sysmetrics_cpu_seconds_total", text)
        self.assertIn("sysmetrics_memory_total_bytes", text)

    def test_group_writable_directory_taints_every_plugin(self):
        os.chmod(self.plugins, 0o775)
        text, log = self.run_with()
        for name in harness.BUILTIN_PLUGINS:
            self.assert_refused(log, name, "is writable by its group (mode 0775)")
        self.assertNotIn("sysmetrics_cpu_seconds_total", text)
        self.assertIn("sysmetrics_build_info", text)  # still serving

    def test_file_owned_by_another_user(self):
        os.chown(self.plugin("network"), 12345, -1)
        text, log = self.run_with()
        self.assert_refused(log, "network", "is owned by uid 12345")
        self.assertNotIn("sysmetrics_network_", text)
        self.assertIn("sysmetrics_cpu_seconds_total", text)

    def test_writable_parent_directory(self):
        # Anyone could rename the plugin directory away and put another in
        # its place, unless the parent has the sticky bit (as /tmp does).
        os.chmod(self.tmp, 0o777)
        _, log = self.run_with()
        self.assert_refused(log, "cpu", "is writable by everyone (mode 0777)")
        os.chmod(self.tmp, 0o1777)
        text, log = self.run_with()
        self.assertNotIn("plugin refused", log)
        self.assertIn("sysmetrics_cpu_seconds_total", text)

    def test_symlink_to_an_unsafe_file(self):
        loose = os.path.join(self.tmp, "loose")
        os.makedirs(loose)
        os.chmod(loose, 0o777)
        os.rename(self.plugin("memory"), os.path.join(loose, "memory.so"))
        os.symlink(os.path.join(loose, "memory.so"), self.plugin("memory"))
        text, log = self.run_with()
        self.assert_refused(log, "memory", "loose is writable by everyone")
        self.assertNotIn("sysmetrics_memory_", text)

    def test_plugins_are_loaded_by_their_resolved_path(self):
        # The plugin directory named through a link that anyone can replace
        # (its directory is world-writable): what is checked and loaded is
        # the directory it resolved to, never the link, so swapping the
        # link after the check cannot slip another file in.
        loose = os.path.join(self.tmp, "loose")
        os.makedirs(loose)
        os.chmod(loose, 0o777)
        link = os.path.join(loose, "plugins")
        os.symlink(self.plugins, link)
        with harness.Exporter("--plugin-dir", link, "--procfs", self.procfs,
                              config=self.config()) as e:
            text = e.metrics()
            log = "\n".join(e.log())
        self.assertNotIn("plugin refused", log)
        self.assertIn("sysmetrics_cpu_seconds_total", text)
        loaded = [l for l in log.splitlines() if "plugin loaded" in l]
        self.assertEqual(len(loaded), len(harness.BUILTIN_PLUGINS), log)
        for line in loaded:
            self.assertIn(self.plugins + "/", line)
            self.assertNotIn(link, line)

    def test_check_config_names_file_and_reason(self):
        # A start would run without cpu and report it failed: the check
        # says so, with the same reason, and exits 1 (the configuration
        # itself is valid).
        os.chmod(self.plugin("cpu"), 0o666)
        res = harness.run("--config", self.config(),
                              "--plugin-dir", self.plugins, "--check-config",
                             capture_output=True, text=True, timeout=30,
                             check=False)
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertIn("cpu: refused (" + self.plugin("cpu") + "): not trusted: " +
                      self.plugin("cpu") + " is writable by everyone (mode 0666)",
                      res.stdout)
        self.assertRegex(res.stdout, r"(?m)^memory: loaded ")
        self.assertIn("would be reported failed (sysmetrics_collector_success "
                      "0): cpu\n", res.stderr)

    def test_development_override(self):
        os.chmod(self.plugins, 0o777)
        text, log = self.run_with(self.config("[plugins]\ncheck_permissions = false\n"))
        self.assertNotIn("plugin refused", log)
        self.assertIn("plugin permission checks are off", log)
        self.assertIn("sysmetrics_cpu_seconds_total", text)


if __name__ == "__main__":
    unittest.main()
