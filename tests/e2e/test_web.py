"""TLS, mutual TLS and basic authentication ([web]), with certificates this
test makes with openssl and requests made with curl, as an operator would."""

import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import harness

PASSWORD = "correct horse battery staple"

# Where the binary looks for its TLS module, as in the build tree:
# bin/sysmetrics and libexec/sysmetrics/tls.so.
TLS_MODULE = os.path.join(os.path.dirname(os.path.dirname(harness.BIN)),
                          "libexec", "sysmetrics", "tls.so")
# A build id as core/CMakeLists.txt generates it: the version and 32 hex
# digits, a string in the binary and in the module.
BUILD_ID = re.compile(rb"[0-9]+\.[0-9]+\.[0-9]+\+[0-9a-f]{32}")


class WebTest(harness.TempDirTestCase):
    @classmethod
    def setUpClass(cls):
        cls._certs = tempfile.TemporaryDirectory(prefix="sysmetrics-tls-")
        d = cls.certs = cls._certs.name
        harness.make_ca(d, "ca")
        harness.make_cert(d, "server", "ca", "DNS:localhost,IP:127.0.0.1")
        harness.make_ca(d, "clientca")
        harness.make_cert(d, "client", "clientca")
        harness.make_ca(d, "otherca")
        harness.make_cert(d, "stranger", "otherca")
        res = harness.run("--hash-password",
                             input=PASSWORD + "\n", capture_output=True,
                             text=True, timeout=30, check=True)
        cls.hash = res.stdout.strip()
        with open(os.path.join(d, "server.key"), encoding="utf-8") as f:
            cls.key_pem = f.read()

    @classmethod
    def tearDownClass(cls):
        cls._certs.cleanup()

    def setUp(self):
        super().setUp()
        self.procfs = harness.make_procfs(os.path.join(self.tmp, "proc"))
        self.plugins = harness.plugin_dir(os.path.join(self.tmp, "plugins"))

    def cert(self, name):
        return os.path.join(self.certs, name)

    def config(self, text, name="c.toml"):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def tls_section(self, extra=""):
        return (f'[web.tls]\ncert_file = "{self.cert("server.crt")}"\n'
                f'key_file = "{self.cert("server.key")}"\n{extra}')

    def exporter(self, config, *args):
        return harness.Exporter("--plugin-dir", self.plugins, "--procfs",
                                self.procfs, "--log-level", "debug",
                                "--log-format", "json", *args, config=config)

    def curl(self, e, path="/metrics", *args, scheme="https"):
        """Returns (HTTP status or 0 on a failed connection, headers+body)."""
        res = subprocess.run(
            ["curl", "-sS", "--max-time", "10", "-i", "-w",
             "\n%{http_code}", "--cacert", self.cert("ca.crt"), *args,
             f"{scheme}://localhost:{e.port}{path}"],
            capture_output=True, timeout=30, check=False)
        out = res.stdout.decode("utf-8", "replace")
        code = int(out.rsplit("\n", 1)[1]) if res.returncode == 0 else 0
        return code, out

    def test_tls(self):
        with self.exporter(self.config(self.tls_section())) as e:
            code, out = self.curl(e)
            self.assertEqual(code, 200, out)
            self.assertIn("sysmetrics_cpu_seconds_total", out)
            code, out = self.curl(e, "/metrics", "--compressed")
            self.assertEqual(code, 200, out)
            self.assertIn("sysmetrics_memory_total_bytes", out)
            # Plain HTTP to the TLS port fails that connection only.
            code, _ = self.curl(e, "/health", scheme="http")
            self.assertEqual(code, 0)
            # TLS 1.1 is refused; 1.2 and 1.3 are served. The client is
            # openssl at security level 0, so that it does offer TLS 1.1 (curl
            # on OpenSSL 3 would refuse it itself and prove nothing).
            res = subprocess.run(
                ["openssl", "s_client", "-connect", f"127.0.0.1:{e.port}",
                 "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
                input=b"", capture_output=True, timeout=30, check=False)
            self.assertNotEqual(res.returncode, 0, res.stdout)
            self.assertIn(b"Cipher is (NONE)", res.stdout)  # no session
            res = subprocess.run(
                ["openssl", "s_client", "-connect", f"127.0.0.1:{e.port}",
                 "-tls1_2", "-cipher", "DEFAULT@SECLEVEL=0"],
                input=b"", capture_output=True, timeout=30, check=False)
            self.assertIn(b"Protocol  : TLSv1.2", res.stdout)
            code, _ = self.curl(e, "/health", "--tls-max", "1.2")
            self.assertEqual(code, 200)
            code, _ = self.curl(e, "/health", "--tlsv1.3")
            self.assertEqual(code, 200)
            self.assertIsNone(e.proc.poll())

    def test_min_version_tls13(self):
        cfg = self.config(self.tls_section('min_version = "TLS13"\n'))
        with self.exporter(cfg) as e:
            code, _ = self.curl(e, "/health", "--tls-max", "1.2")
            self.assertEqual(code, 0)
            code, _ = self.curl(e, "/health", "--tlsv1.3")
            self.assertEqual(code, 200)

    def test_mutual_tls(self):
        cfg = self.config(self.tls_section(
            f'client_ca_file = "{self.cert("clientca.crt")}"\n'))
        with self.exporter(cfg) as e:
            code, _ = self.curl(e)
            self.assertEqual(code, 0, "no client certificate must be refused")
            code, _ = self.curl(e, "/metrics", "--cert", self.cert("stranger.crt"),
                                "--key", self.cert("stranger.key"))
            self.assertEqual(code, 0, "a certificate from another CA must be refused")
            code, out = self.curl(e, "/metrics", "--cert", self.cert("client.crt"),
                                  "--key", self.cert("client.key"))
            self.assertEqual(code, 200, out)
            self.assertIsNone(e.proc.poll())

    def auth_config(self, health_open=False):
        return self.config(
            f"[web]\nhealth_without_auth = {str(health_open).lower()}\n" +
            self.tls_section() +
            f'[web.basic_auth_users]\nprometheus = "{self.hash}"\n')

    def test_basic_auth(self):
        with self.exporter(self.auth_config()) as e:
            good = ["-u", f"prometheus:{PASSWORD}"]
            for path in ("/metrics", "/", "/health", "/nope"):
                with self.subTest(path=path):
                    code, out = self.curl(e, path)
                    self.assertEqual(code, 401, out)
                    self.assertIn('WWW-Authenticate: Basic realm="sysmetrics"', out)
            for creds in ("prometheus:wrong", "nobody:" + PASSWORD, "prometheus:",
                          "prometheus"):
                with self.subTest(creds=creds):
                    code, _ = self.curl(e, "/metrics", "-u", creds)
                    self.assertEqual(code, 401)
            code, out = self.curl(e, "/metrics", "-H", "Authorization: Bearer x")
            self.assertEqual(code, 401)
            code, out = self.curl(e, "/metrics", "-H", "Authorization: Basic !!!")
            self.assertEqual(code, 401)
            for _ in range(2):  # the second from the cache
                code, out = self.curl(e, "/metrics", *good)
                self.assertEqual(code, 200, out)
                self.assertIn("sysmetrics_cpu_seconds_total", out)
            self.assertEqual(self.curl(e, "/health", *good)[0], 200)
            self.assertEqual(self.curl(e, "/nope", *good)[0], 404)
            self.check_no_secrets(e)

    def test_wrong_passwords_cannot_starve_scrapes(self):
        # Every distinct wrong password costs a bcrypt check (tens of ms of
        # CPU). A flood of them, more than --max-requests at once, must
        # leave room for Prometheus, whose verdict is cached: at most a few
        # checks run at once, and the rest are refused at once.
        import threading
        good = "Basic " + base64.b64encode(f"prometheus:{PASSWORD}".encode()).decode()
        cfg = self.config(f'[web.basic_auth_users]\nprometheus = "{self.hash}"\n')
        with self.exporter(cfg, "--max-requests", "4") as e:
            self.assertEqual(e.get("/metrics", {"Authorization": good})[0], 200)
            stop = threading.Event()
            statuses = []

            def attacker(n):
                i = 0
                while not stop.is_set():
                    bad = base64.b64encode(f"prometheus:wrong-{n}-{i}".encode()).decode()
                    try:
                        statuses.append(e.get("/metrics", {"Authorization": "Basic " + bad})[0])
                    except OSError:
                        pass
                    i += 1

            threads = [threading.Thread(target=attacker, args=(n,)) for n in range(12)]
            for t in threads:
                t.start()
            try:
                # The flood is on once checks are refused for being too many.
                deadline = time.monotonic() + 60
                while 503 not in statuses and time.monotonic() < deadline:
                    time.sleep(0.01)
                self.assertIn(503, statuses, "the flood never filled the checks")
                refused_before = statuses.count(503)
                # Prometheus is served (not refused: a starved scrape gets
                # 503 at once, there is no queue) in every one of 20 scrapes
                # while the flood goes on ...
                for _ in range(20):
                    status, _, body = e.get("/metrics", {"Authorization": good},
                                            timeout=60)
                    self.assertEqual(status, 200, body[:200])
                # ... and it went on: checks were refused meanwhile.
                self.assertGreater(statuses.count(503), refused_before)
            finally:
                stop.set()
                for t in threads:
                    t.join()
            self.assertIn(401, statuses)
            self.assertIn(503, statuses)  # refused, not queued
            self.assertNotIn(200, statuses)

    def test_hostile_clients_over_tls(self):
        # The TLS port takes what the plain one does: garbage instead of a
        # handshake, plain HTTP, a handshake and then a 1 MB header, a
        # connection that never speaks; each costs its own connection only.
        with self.exporter(self.config(self.tls_section())) as e:
            for junk in (os.urandom(4096), b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
                         b"\x16\x03\x01\xff\xff" + b"\x00" * 70000):
                s = socket.create_connection(("127.0.0.1", e.port), timeout=10)
                try:
                    try:
                        s.sendall(junk)
                        s.recv(1024)
                    except OSError:
                        pass
                finally:
                    s.close()
                self.assertEqual(self.curl(e, "/health")[0], 200)
            idle = socket.create_connection(("127.0.0.1", e.port), timeout=10)
            try:
                code, out = self.curl(e, "/metrics", "-H", "X-Big: " + "a" * 60000)
                self.assertEqual(code, 431, out[:300])
                self.assertEqual(self.curl(e, "/metrics")[0], 200)
            finally:
                idle.close()
            self.assertIsNone(e.proc.poll())

    def test_health_without_auth(self):
        with self.exporter(self.auth_config(health_open=True)) as e:
            self.assertEqual(self.curl(e, "/health")[0], 200)
            self.assertEqual(self.curl(e, "/metrics")[0], 401)
            self.assertEqual(self.curl(e, "/")[0], 401)

    def check_no_secrets(self, e):
        """Neither logs nor metrics show a password, hash or key."""
        code, body = self.curl(e, "/metrics", "-u", f"prometheus:{PASSWORD}")
        self.assertEqual(code, 200)
        token = base64.b64encode(f"prometheus:{PASSWORD}".encode()).decode()
        key_body = "".join(l for l in self.key_pem.splitlines()
                           if not l.startswith("-----"))
        logs = "\n".join(e.log())
        # Slices from the middle and the end: the start of a PKCS#8 key is
        # the same header for every P-256 key.
        middle = len(key_body) // 2
        for secret in (PASSWORD, self.hash, self.hash[-31:], token,
                       key_body[middle - 20:middle + 20], key_body[-40:]):
            self.assertNotIn(secret, logs)
            self.assertNotIn(secret, body)

    def test_reload_changes_users(self):
        cfg = self.auth_config()
        with self.exporter(cfg) as e:
            self.assertEqual(self.curl(e, "/metrics", "-u", f"prometheus:{PASSWORD}")[0],
                             200)
            new_hash = harness.run("--hash-password",
                                      input="s3cond\n", capture_output=True,
                                      text=True, timeout=30, check=True).stdout.strip()
            self.config(self.tls_section() +
                        f'[web.basic_auth_users]\nops = "{new_hash}"\n')
            e.send_signal(signal.SIGHUP)
            self.assertTrue(e.wait_for_log("configuration reloaded"))
            self.assertEqual(self.curl(e, "/metrics", "-u", f"prometheus:{PASSWORD}")[0],
                             401)
            self.assertEqual(self.curl(e, "/metrics", "-u", "ops:s3cond")[0], 200)

    def test_slow_handshake_is_dropped(self):
        # A ClientHello that keeps trickling in, a byte every 0.2 s (its
        # 512-byte record would take 100 s), is dropped: the handshake has
        # one deadline, not one per read. A server that timed out only
        # silence would keep it open past the test's 60 s and fail it.
        with self.exporter(self.config(self.tls_section())) as e:
            s = socket.create_connection(("127.0.0.1", e.port), timeout=10)
            try:
                record = b"\x16\x03\x01\x02\x00" + b"\x00" * 0x200
                dropped = False
                for i in range(300):  # 60 s
                    try:
                        s.send(record[i:i + 1])
                        s.setblocking(False)
                        try:
                            dropped = s.recv(1024) == b""
                        except BlockingIOError:
                            pass  # open, nothing said
                        finally:
                            s.setblocking(True)
                    except (BrokenPipeError, ConnectionResetError):
                        dropped = True
                    if dropped:
                        break
                    time.sleep(0.2)
                self.assertTrue(dropped, "a trickling handshake was kept 60 s")
            finally:
                s.close()
            self.assertEqual(self.curl(e, "/health")[0], 200)

    def tree_with_module(self, module):
        """Copies the binary into tmp/tree/bin with module (bytes) where it
        looks for its TLS module; returns (binary, module path)."""
        rel = os.path.relpath(TLS_MODULE, os.path.dirname(harness.BIN))
        bin_dir = os.path.join(self.tmp, "tree", "bin")
        os.makedirs(bin_dir)
        binary = shutil.copy2(harness.BIN, bin_dir)
        path = os.path.realpath(os.path.join(bin_dir, rel))
        if module is not None:
            os.makedirs(os.path.dirname(path))
            with open(path, "wb") as f:
                f.write(module)
        return binary, path

    def start_copy(self, binary, config):
        """Runs binary as the tests run the exporter until it exits or
        says it listens; returns (exit status or None, stderr so far)."""
        e = self.exporter(config)
        e.args[0] = binary
        try:
            e.start()
            return None, "".join(e.log())
        except AssertionError:
            return e.proc.returncode, "".join(e.log())
        finally:
            e.close()

    def test_module_from_another_build_is_refused(self):
        with open(TLS_MODULE, "rb") as f:
            module = f.read()
        with open(harness.BIN, "rb") as f:
            ids = set(BUILD_ID.findall(f.read()))
        found = BUILD_ID.findall(module)
        self.assertEqual(len(found), 1, found)
        this_build = found[0]
        self.assertEqual(ids, {this_build}, "binary and module disagree")
        # Another build of the same version: another token, same length.
        version, token = this_build.split(b"+")
        other = version + b"+" + bytes(reversed(token))
        if other == this_build:
            other = version + b"+" + b"0" * 32
        binary, path = self.tree_with_module(module.replace(this_build, other))
        cfg = self.config(self.tls_section())
        want = (f"c.toml:1: [web.tls]: the TLS module {path} is from build "
                f"'{other.decode()}', not this exporter's "
                f"'{this_build.decode()}'; reinstall the package")
        res = subprocess.run([binary, "--config", cfg, "--plugin-dir",
                              self.plugins, "--check-config"],
                             capture_output=True, text=True, timeout=60,
                             check=False)
        harness.check_output_for_sanitizers(res.stderr)
        self.assertEqual(res.returncode, 2, res.stderr)
        self.assertIn(want, res.stderr)
        # Nor does the exporter start, with TLS or without.
        status, log = self.start_copy(binary, cfg)
        self.assertEqual(status, 2, log)
        self.assertIn(want, log)

    def test_module_of_this_build_loads_from_a_copy(self):
        # The same tree as above with the module unchanged serves HTTPS, so
        # the refusal above is the build id's doing.
        with open(TLS_MODULE, "rb") as f:
            binary, _ = self.tree_with_module(f.read())
        e = self.exporter(self.config(self.tls_section()))
        e.args[0] = binary
        with e:
            self.assertEqual(self.curl(e, "/health")[0], 200)

    def test_module_that_cannot_be_used(self):
        # Permission checks off, so that the loader itself meets a missing
        # file, and its reason (dlerror) reaches the message.
        cfg = self.config("[plugins]\ncheck_permissions = false\n" +
                          self.tls_section())
        binary, path = self.tree_with_module(None)
        status, log = self.start_copy(binary, cfg)
        self.assertEqual(status, 2, log)
        self.assertIn(f"[web.tls]: cannot load the TLS module {path}: {path}: "
                      "cannot open shared object file: No such file or "
                      "directory (it is installed with the exporter; HTTPS "
                      "needs it)", log)
        # A shared object that is not the TLS module.
        os.makedirs(os.path.dirname(path))
        shutil.copy(os.path.join(harness.PLUGIN_DIR, "cpu.so"), path)
        status, log = self.start_copy(binary, cfg)
        self.assertEqual(status, 2, log)
        self.assertIn(f"[web.tls]: the TLS module {path} lacks its entry "
                      "points", log)

    def config_error(self, text):
        cfg = self.config(text)
        res = harness.run("--config", cfg, "--plugin-dir",
                              self.plugins, "--check-config",
                             capture_output=True, text=True, timeout=30,
                             check=False)
        self.assertEqual(res.returncode, 2, res.stdout + res.stderr)
        return res.stderr

    def test_config_errors(self):
        err = self.config_error(f'[web.tls]\ncert_file = "{self.cert("server.crt")}"\n')
        self.assertIn("c.toml:1: [web.tls] needs both cert_file and key_file", err)
        err = self.config_error('[web.tls]\ncert_file = "/nonexistent.crt"\n'
                                'key_file = "/nonexistent.key"\n')
        self.assertIn("c.toml:1: [web.tls]: certificate /nonexistent.crt: "
                      "No such file or directory", err)
        # A key that does not belong to the certificate.
        err = self.config_error(
            f'[web.tls]\ncert_file = "{self.cert("server.crt")}"\n'
            f'key_file = "{self.cert("client.key")}"\n')
        self.assertIn("c.toml:1: [web.tls]: cannot load certificate", err)
        err = self.config_error(self.tls_section('min_version = "TLS10"\n'))
        self.assertIn('c.toml:4: web.tls.min_version must be "TLS12" or "TLS13"', err)
        err = self.config_error('[web.basic_auth_users]\nalice = "plaintext-secret"\n')
        self.assertIn("c.toml:2: web.basic_auth_users.alice must be a bcrypt hash", err)
        self.assertNotIn("plaintext-secret", err)
        err = self.config_error("[web]\nusers = 1\n")
        self.assertIn("c.toml:2: unknown key 'users' in [web]", err)


if __name__ == "__main__":
    unittest.main()
