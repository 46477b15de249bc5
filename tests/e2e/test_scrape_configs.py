"""README's Prometheus scrape configurations, run as printed against Debian's
real Prometheus (2.42) and sysmetrics on 127.0.0.1.

Each ```yaml block after a `<!-- scrape-config: NAME -->` marker is taken
exactly as printed; the test replaces only the documented placeholders, by
plain string replacement:
  - host1.example.org:9101 and host2.example.org:9101 become two exporters,
    127.0.0.1:PORT1 and localhost:PORT2 (two names, so that the instance
    relabelling gives two distinct values);
  - every path under /etc/prometheus/ is moved into the test's temp dir.
Then, for each configuration, sysmetrics runs with the matching [web]
settings (TLS with certificates made by openssl, a client CA, bcrypt users
from --hash-password), one Prometheus runs with the configuration, and the
test polls Prometheus' API until up == 1 for every target:
  - plain: up 1, and instance is the host name without the port;
  - tls: up 1 with the server certificate verified against ca_file;
  - mtls: up 1; the same job without cert_file/key_file gets up 0, and a
    Prometheus with them stays 1 meanwhile;
  - basic-auth: up 1 over TLS with the password file written as `echo` does
    (trailing newline); the same job with a wrong password gets up 0;
  - basic auth over plain HTTP works as README says (checked with a request);
  - file-sd: Prometheus reads the README's targets file, scrapes both
    targets (up 1) and takes instance from the file's labels.
Events only: polls have generous limits and nothing is timed. Needs
prometheus (Debian package) and openssl.
"""

import base64
import json
import os
import re
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

import harness

PASSWORD = "correct horse battery staple"
README = os.path.join(harness.SOURCE_DIR, "README.md")
HOSTS = ("host1.example.org:9101", "host2.example.org:9101")
# Where each placeholder host goes: two loopback names, one per exporter.
LOCAL_NAMES = ("127.0.0.1", "localhost")
CONFIG_DIR = "/etc/prometheus/"
UP_WAIT = 60  # seconds: a 15 s interval puts the first scrape within 15 s


def readme_block(name):
    """The yaml block after README's `<!-- scrape-config: name -->`."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"<!-- scrape-config: " + re.escape(name) +
                  r" -->\n```yaml\n(.*?)```\n", text, re.S)
    if m is None:
        raise AssertionError(f"README has no scrape-config block {name}")
    return m.group(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    """One Prometheus process on 127.0.0.1, a random port, its own TSDB."""

    def __init__(self, root, config_text):
        os.makedirs(root)
        self.root = root
        self.config = os.path.join(root, "prometheus.yml")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(config_text)
        self.port = free_port()
        self.log = open(os.path.join(root, "prometheus.log"), "wb")
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file", self.config,
             "--storage.tsdb.path", os.path.join(root, "tsdb"),
             "--web.listen-address", f"127.0.0.1:{self.port}",
             "--storage.tsdb.retention.time", "1h"],
            stdout=self.log, stderr=subprocess.STDOUT)

    def log_text(self):
        with open(os.path.join(self.root, "prometheus.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def query(self, expr):
        url = (f"http://127.0.0.1:{self.port}/api/v1/query?" +
               urllib.parse.urlencode({"query": expr}))
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
        if body["status"] != "success":
            raise AssertionError(f"{expr}: {body}")
        return body["data"]["result"]

    def up(self):
        """{instance: up value as text} for job sysmetrics, or None while
        Prometheus is not answering yet."""
        try:
            return {r["metric"]["instance"]: r["value"][1]
                    for r in self.query('up{job="sysmetrics"}')}
        except OSError:
            return None

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class ScrapeConfigTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="sysmetrics-scrape-")
        cls.addClassCleanup(cls._tmp.cleanup)
        cls.tmp = cls._tmp.name
        # The operator's /etc/prometheus/, moved into the temp dir.
        cls.etc = os.path.join(cls.tmp, "etc", "prometheus") + "/"
        certs = os.path.join(cls.etc, "sysmetrics")
        os.makedirs(certs)
        harness.make_ca(certs, "ca")
        harness.make_cert(certs, "server", "ca", "DNS:localhost,IP:127.0.0.1")
        harness.make_ca(certs, "clientca")
        harness.make_cert(certs, "client", "clientca")
        # As README says an operator writes it: echo adds a newline.
        with open(os.path.join(certs, "password"), "w", encoding="utf-8") as f:
            f.write(PASSWORD + "\n")
        with open(os.path.join(certs, "wrong-password"), "w",
                  encoding="utf-8") as f:
            f.write("not the password\n")
        cls.hash = harness.run("--hash-password", input=PASSWORD + "\n",
                               check=True).stdout.strip()
        cls.plugins = harness.plugin_dir(os.path.join(cls.tmp, "plugins"))
        cls.procfs = harness.make_procfs(os.path.join(cls.tmp, "proc"))

        tls = (f'[web.tls]\ncert_file = "{certs}/server.crt"\n'
               f'key_file = "{certs}/server.key"\n')
        web = {
            "plain": "",
            "tls": tls,
            "mtls": tls + f'client_ca_file = "{certs}/clientca.crt"\n',
            "basic-auth": tls + f'[web.basic_auth_users]\nprometheus = "{cls.hash}"\n',
            "basic-auth-http": f'[web.basic_auth_users]\nprometheus = "{cls.hash}"\n',
            "file-sd": "",
        }
        # Two exporters per configuration, all started before any
        # Prometheus so the Prometheus instances run side by side.
        cls.exporters = {}
        for name, text in web.items():
            path = os.path.join(cls.tmp, f"{name}.toml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            cls.exporters[name] = []
            for _ in HOSTS:
                e = harness.Exporter("--plugin-dir", cls.plugins, "--procfs",
                                     cls.procfs, "--log-level", "debug",
                                     config=path)
                cls.addClassCleanup(e.close)
                cls.exporters[name].append(e.start())

        # The file_sd targets file, from README, where its job looks.
        targets = cls.substitute(readme_block("file-sd-targets"), "file-sd")
        os.makedirs(os.path.join(cls.etc, "file_sd"))
        with open(os.path.join(cls.etc, "file_sd", "sysmetrics-hosts.yml"),
                  "w", encoding="utf-8") as f:
            f.write(targets)

        cls.proms = {}
        for name in ("plain", "tls", "mtls", "basic-auth", "file-sd"):
            cls.start_prometheus(name, cls.substitute(readme_block(name), name))
        # Negative cases: the README job less the client certificate, and
        # with a wrong password.
        mtls = cls.substitute(readme_block("mtls"), "mtls")
        no_cert = re.sub(r"\n +(cert|key)_file: .*", "", mtls)
        assert no_cert != mtls and "cert_file" not in no_cert
        cls.start_prometheus("mtls-no-cert", no_cert, exporters="mtls")
        auth = cls.substitute(readme_block("basic-auth"), "basic-auth")
        wrong = auth.replace("/password\n", "/wrong-password\n")
        assert wrong != auth
        cls.start_prometheus("basic-auth-wrong", wrong, exporters="basic-auth")

    @classmethod
    def start_prometheus(cls, name, text, exporters=None):
        p = Prometheus(os.path.join(cls.tmp, "prometheus-" + name), text)
        cls.addClassCleanup(p.close)
        cls.proms[name] = (p, cls.exporters[exporters or name])

    @classmethod
    def substitute(cls, text, name):
        """text with the documented placeholders replaced: the hosts by
        this configuration's exporters, /etc/prometheus/ by the temp dir."""
        for host, local, e in zip(HOSTS, LOCAL_NAMES, cls.exporters[name]):
            text = text.replace(host, f"{local}:{e.port}")
        if re.search(r"example\.org:|/etc/(?!prometheus/)", text):
            raise AssertionError("a placeholder the test does not map:\n" + text)
        return text.replace(CONFIG_DIR, cls.etc)

    def wait_for_up(self, name, want):
        """Polls until up{job="sysmetrics"} is want ({instance: "1"|"0"})."""
        prom, _ = self.proms[name]
        deadline = time.monotonic() + UP_WAIT
        got = None
        while time.monotonic() < deadline:
            self.assertIsNone(prom.proc.poll(),
                              f"prometheus exited:\n{prom.log_text()}")
            got = prom.up()
            if got == want:
                return got
            time.sleep(0.5)
        self.fail(f"{name}: up is {got}, want {want}\n{prom.log_text()[-3000:]}")

    def ports(self, name):
        return [e.port for e in self.proms[name][1]]

    def test_plain_sets_instance_to_host_name(self):
        # The relabelling drops the port: instance is the host name alone.
        self.wait_for_up("plain", {local: "1" for local in LOCAL_NAMES})

    def test_tls_verifies_server_certificate(self):
        p1, p2 = self.ports("tls")
        self.wait_for_up("tls", {f"127.0.0.1:{p1}": "1", f"localhost:{p2}": "1"})

    def test_mutual_tls(self):
        p1, p2 = self.ports("mtls")
        self.wait_for_up("mtls", {f"127.0.0.1:{p1}": "1", f"localhost:{p2}": "1"})
        self.wait_for_up("mtls-no-cert",
                         {f"127.0.0.1:{p1}": "0", f"localhost:{p2}": "0"})
        # The refused handshakes cost the exporters nothing.
        self.assertEqual(self.proms["mtls"][0].up(),
                         {f"127.0.0.1:{p1}": "1", f"localhost:{p2}": "1"})

    def test_basic_auth_over_tls(self):
        p1, p2 = self.ports("basic-auth")
        self.wait_for_up("basic-auth",
                         {f"127.0.0.1:{p1}": "1", f"localhost:{p2}": "1"})
        self.wait_for_up("basic-auth-wrong",
                         {f"127.0.0.1:{p1}": "0", f"localhost:{p2}": "0"})

    def test_basic_auth_over_plain_http_works(self):
        # README says it works (and why not to use it): the exporter takes
        # the credentials without TLS.
        e = self.exporters["basic-auth-http"][0]
        status, headers, _ = e.get("/metrics")
        self.assertEqual(status, 401)
        self.assertIn("WWW-Authenticate", headers)
        token = base64.b64encode(f"prometheus:{PASSWORD}".encode()).decode()
        status, _, body = e.get("/metrics", {"Authorization": "Basic " + token})
        self.assertEqual(status, 200)
        self.assertIn(b"sysmetrics_build_info", body)

    def test_file_sd_targets_and_instance_labels(self):
        # instance comes from the targets file's labels, not the address.
        self.wait_for_up("file-sd", {"host1.example.org": "1",
                                     "host2.example.org": "1"})
        prom, exporters = self.proms["file-sd"]
        got = {r["metric"]["instance"] for r in
               prom.query('sysmetrics_build_info{job="sysmetrics"}')}
        self.assertEqual(got, {"host1.example.org", "host2.example.org"})
        self.assertEqual(len(exporters), 2)


if __name__ == "__main__":
    unittest.main()
