"""Issue 17's "Done when": a set of deliberately broken plugins, enabled
together beside the built-ins, each cost only themselves. The process
survives all of them (each isolated in its helper process, the default for
plugins not shipped with sysmetrics), every offender is the one named in
the log and the self-metrics, and the built-ins' series are exactly those
of an exporter without them, every scrape."""

import os
import re
import unittest

import harness
from test_crash import crash_env

# Plugin -> what the log must say about it, naming it.
BROKEN = {
    # dereferences NULL in collect()
    "crashes": r"plugin helper failed collector=crashes what=\"the helper "
               r"process was killed by signal 11 \(SIGSEGV\) in collect\(\)\"",
    # abort() in collect()
    "aborts": r"plugin helper failed collector=aborts what=\"the helper "
              r"process was killed by signal 6 \(SIGABRT\) in collect\(\)\"",
    # claims SM_PLUGIN_NONBLOCKING, then blocks
    "blocks_inline": r"plugin helper failed collector=blocks_inline "
                     r"what=\"collect\(\) did not return by its deadline",
    # 16 MiB more every collect
    "leaks": r"plugin helper uses more memory than its limit; it is "
             r"killed and a new one starts for the next scrape "
             r"collector=leaks",
    # built for another ABI major
    "wrong_abi": r"plugin refused file=\S+/wrong_abi\.so reason=\"built "
                 r"for plugin ABI 2\.0, this host speaks ABI 1\.\d+.*"
                 r"collector=wrong_abi",
    # an option whose type is 99
    "bad_option_type": r"plugin refused file=\S+/bad_option_type\.so "
                       r"reason=.*collector=bad_option_type",
    # no entry symbol: fails to load
    "no_entry": r"plugin refused file=\S+/no_entry\.so reason=\"no entry "
                r"symbol.*collector=no_entry",
    # create() fails
    "create_fails": r"plugin refused file=\S+/create_fails\.so "
                    r"reason=\"create failed.*collector=create_fails",
    # emits a built-in's name (cpu's sysmetrics_cpus_online), another
    # plugin's, the host's and a foreign one, with 999; sorts before cpu
    "aaa_steal": r"metric family refused: the collector does not own its "
                 r"name collector=aaa_steal family=sysmetrics_cpus_online",
    # the same, named so that cpu's name is in its own namespace
    "cpus": r"(metric family refused: the collector does not own its name "
            r"collector=cpus family=sysmetrics_cpus_online|metric family "
            r"dropped.*collector=cpus family=sysmetrics_cpus_online)",
    # emits one series twice
    "repeats_series": r"plugin output refused collector=repeats_series "
                      r"reason=\"duplicate series",
}

# Their collect succeeds; what they emitted wrongly is refused and counted.
SUCCEED = {"leaks", "aaa_steal", "cpus", "repeats_series"}
REFUSED_FAMILIES = {"aaa_steal": 4, "cpus": 4}


def builtin_series(text):
    """The series of the built-in collectors, with their values: all but
    the host's own (which differ: timings, the broken collectors)."""
    return {k: v for k, v in harness.samples(text).items()
            if not k.startswith(harness.HOST_FAMILY_PREFIXES + (
                "sysmetrics_leaks_", "sysmetrics_blocks_",
                "sysmetrics_aaa_steal_", "sysmetrics_cpus_",
                "sysmetrics_repeats_series"))
            or k.startswith("sysmetrics_cpus_online")}


class BrokenPluginsTest(harness.TempDirTestCase):

    def test_each_costs_only_itself(self):
        procfs = harness.make_procfs(os.path.join(self.tmp, "proc"))
        plugins = harness.plugin_dir(os.path.join(self.tmp, "plugins"),
                                     test_plugins=tuple(BROKEN))
        block = os.path.join(self.tmp, "block")
        open(block, "w", encoding="utf-8").close()  # blocks_inline blocks
        extra = {"blocks_inline": f"block_while = \"{block}\"\n",
                 "leaks": "memory_limit_mib = 64\n"}
        config = os.path.join(self.tmp, "sysmetrics.toml")
        with open(config, "w", encoding="utf-8") as f:
            f.write("[scrape]\ndefault_timeout_seconds = 1.0\n")
            for p in BROKEN:
                f.write(f"[collectors.{p}]\nenabled = true\n"
                        + extra.get(p, ""))

        reference_dir = harness.plugin_dir(os.path.join(self.tmp, "ref"))
        with harness.Exporter("--plugin-dir", reference_dir,
                              procfs=procfs) as ref:
            reference = builtin_series(ref.metrics())
        self.assertIn("sysmetrics_cpus_online", reference)

        with harness.Exporter("--plugin-dir", plugins, config=config,
                              procfs=procfs, env=crash_env()) as e:
            for _ in range(8):
                body = e.metrics()
                harness.promtool_check(self, body)
                got = harness.samples(body)
                self.assertEqual(builtin_series(body), reference)
                for c in harness.BUILTIN_PLUGINS:
                    self.assertEqual(got['sysmetrics_collector_success'
                                         f'{{collector="{c}"}}'], "1", c)
                for p in BROKEN:
                    want = "1" if p in SUCCEED else "0"
                    self.assertEqual(got['sysmetrics_collector_success'
                                         f'{{collector="{p}"}}'], want, p)
                for p, n in REFUSED_FAMILIES.items():
                    self.assertGreaterEqual(
                        float(got['sysmetrics_collector_refused_families_'
                                  f'total{{collector="{p}"}}']), n, p)
                for c in harness.BUILTIN_PLUGINS:
                    self.assertEqual(
                        got['sysmetrics_collector_refused_families_total'
                            f'{{collector="{c}"}}'], "0", c)
                # The refusals were told to the plugins (SM_ERR_INVALID).
                self.assertEqual(got['sysmetrics_repeats_series_status'
                                     '{sample="repeat"}'], "5")
                self.assertEqual(got['sysmetrics_repeats_series_status'
                                     '{sample="other"}'], "0")
            self.assertIsNone(e.proc.poll(), "the exporter died")
            log = "\n".join(e.log())
            for p, pattern in BROKEN.items():
                self.assertRegex(log, pattern, p)
            # Nothing is blamed on a collector that did nothing wrong.
            for c in harness.BUILTIN_PLUGINS:
                self.assertNotRegex(
                    log, rf"(error|warn) .*collector={c}\b", c)
            status, _, page = e.get("/")
            page = page.decode()
            for p in ("wrong_abi", "bad_option_type", "no_entry",
                      "create_fails"):
                self.assertRegex(page, re.escape(p) + r"\.so</td><td><span "
                                 r"class=\"failed\">not loaded</span>: ")
            os.remove(block)
            self.assertEqual(e.stop(timeout=15), 0)


if __name__ == "__main__":
    unittest.main()
