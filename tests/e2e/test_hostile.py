"""Hostile and broken clients against the real binary.

Each case is followed by a normal scrape that must be answered, with the
process alive: one bad client may cost its own connection, never the
service. Where the bad clients are still connected, the scrape must be
answered before the server dropped any of them (by the order of the log
lines), not merely once their deadlines freed the server. Each bad request gets a proper 4xx or a closed
connection.
"""

import gzip
import os
import random
import re
import resource
import select
import socket
import threading
import time
import unittest

import harness



def closed_by_peer(socks):
    """How many of socks the other end has closed (readable, at EOF)."""
    poller = select.poll()
    by_fd = {s.fileno(): s for s in socks}
    for fd in by_fd:
        poller.register(fd, select.POLLIN)
    closed = 0
    for fd, _ in poller.poll(0):
        try:
            if by_fd[fd].recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                closed += 1
        except ConnectionResetError:
            closed += 1
        except BlockingIOError:
            pass
    return closed


def read_all(sock, timeout=5.0, limit=1 << 20):
    """Reads until the peer closes or timeout; returns the bytes."""
    sock.settimeout(timeout)
    chunks = []
    size = 0
    try:
        while size < limit:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
            size += len(data)
    except (socket.timeout, ConnectionResetError):
        pass
    return b"".join(chunks)


def status_of(response):
    """The status code of the first response in raw bytes, or None."""
    if not response.startswith(b"HTTP/1.1 "):
        return None
    return int(response[9:12])


class HostileClientTest(harness.TempDirTestCase):
    @classmethod
    def setUpClass(cls):
        # The test opens more sockets than the default soft limit of 1,024.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = min(hard, 8192)
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

    def setUp(self):
        super().setUp()
        procfs = harness.make_procfs(os.path.join(self.tmp, "proc"))
        plugins = harness.plugin_dir(os.path.join(self.tmp, "plugins"))
        self.e = harness.Exporter("--plugin-dir", plugins, "--procfs", procfs,
                                  "--log-level", "debug").start()

    def tearDown(self):
        try:
            self.assertIsNone(self.e.proc.poll(), "the exporter died")
        finally:
            self.e.close()
            super().tearDown()

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.e.port), timeout=5)

    def raw(self, payload, timeout=5.0):
        """Sends payload on a fresh connection; returns what came back."""
        with self.connect() as s:
            try:
                s.sendall(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered and closed before we finished
            return read_all(s, timeout)

    def assert_serves(self, before=None):
        """A normal scrape is answered 200 and the process is alive. With
        before (a log message): the server logged the scrape's request line
        before any line with that message."""
        with self.connect() as s:
            port = s.getsockname()[1]
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
            response = read_all(s, timeout=60, limit=64 << 20)
        self.assertEqual(status_of(response), 200, response[:200])
        self.assertIn(b"sysmetrics_cpu_seconds_total", response)
        self.assertIsNone(self.e.proc.poll())
        if before is None:
            return
        ours = f"client=127.0.0.1:{port}"
        # The log reaches the harness through a reader thread.
        deadline = time.monotonic() + 60
        mine = None
        while mine is None and time.monotonic() < deadline:
            log = self.e.log()
            mine = next((i for i, l in enumerate(log) if ours in l.split()), None)
            if mine is None:
                time.sleep(0.02)
        self.assertIsNotNone(mine, f"no request line for {ours}")
        early = [l for l in log[:mine] if before in l]
        self.assertEqual(early, [], f"the scrape was served only after {before!r}")

    def wait_until_quiet(self, quiet=0.3, limit=10.0):
        """Waits until the exporter has logged nothing for quiet seconds
        (it runs at debug level: a line per request), at most limit."""
        start = time.monotonic()
        count, changed = len(self.e.log()), start
        while time.monotonic() - start < limit:
            time.sleep(0.05)
            now = len(self.e.log())
            if now != count:
                count, changed = now, time.monotonic()
            elif time.monotonic() - changed >= quiet:
                return

    def open_fds(self):
        return len(os.listdir(f"/proc/{self.e.proc.pid}/fd"))

    def test_headers_one_byte_at_a_time(self):
        # 300 slowloris connections, more than there are scrape workers:
        # they cost no thread, so a scrape is served at once, and each is
        # closed when its request head has not arrived after the I/O
        # timeout (3 s) however many bytes trickle in.
        # Long enough to trickle for over 75 s: longer than the test waits
        # for them to be closed, so only a deadline on the whole request
        # head closes them, not a timeout on silence.
        request = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1500
        socks = [self.connect() for _ in range(300)]
        stop = threading.Event()

        def trickle():
            i = 0
            while not stop.is_set() and i < len(request):
                for s in socks:
                    try:
                        s.send(request[i:i + 1])
                    except OSError:
                        pass
                i += 1
                time.sleep(0.05)

        t = threading.Thread(target=trickle)
        t.start()
        try:
            # Served while the 300 are still connected, not once they
            # were dropped at their deadline.
            self.assert_serves(before="request not received in time")
            # All of them closed by the server while still trickling.
            deadline = time.monotonic() + 60
            closed = 0
            for s in socks:
                s.settimeout(max(0.1, deadline - time.monotonic()))
                try:
                    if s.recv(1024) == b"":
                        closed += 1
                except ConnectionResetError:
                    closed += 1
                except socket.timeout:
                    pass
            self.assertEqual(closed, len(socks))
        finally:
            stop.set()
            t.join()
            for s in socks:
                s.close()
        self.assertTrue(self.e.wait_for_log("request not received in time"))
        self.assert_serves()

    def test_one_megabyte_header(self):
        payload = (b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " +
                   b"b" * (1 << 20) + b"\r\n\r\n")
        response = self.raw(payload)
        self.assertEqual(status_of(response), 431, response[:200])
        self.assertIn(b"Connection: close", response)
        self.assert_serves()

    def test_many_header_fields(self):
        fields = b"".join(b"X-F%d: v\r\n" % i for i in range(200))
        response = self.raw(b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + fields +
                            b"\r\n")
        self.assertEqual(status_of(response), 431, response[:200])
        self.assert_serves()

    def test_64k_url(self):
        payload = (b"GET /metrics?" + b"a" * (64 * 1024) +
                   b" HTTP/1.1\r\nHost: x\r\n\r\n")
        response = self.raw(payload)
        self.assertEqual(status_of(response), 414, response[:200])
        self.assert_serves()

    def test_malformed_requests_and_garbage(self):
        cases = {
            b"GARBAGE\r\n\r\n": 400,
            b"GET\r\n\r\n": 400,
            b"GET /metrics\r\n\r\n": 400,
            b"GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n": 400,
            b"GET /metrics HTTP/1.1 extra\r\nHost: x\r\n\r\n": 400,
            b"GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n": 505,
            b"GET /metrics HTTP/1.x\r\nHost: x\r\n\r\n": 400,
            b"GET /metrics FTP/1.1\r\nHost: x\r\n\r\n": 400,
            b"GET metrics HTTP/1.1\r\nHost: x\r\n\r\n": 400,
            b"GET /met\x00rics HTTP/1.1\r\nHost: x\r\n\r\n": 400,
            b"GET /metrics HTTP/1.1\r\n\r\n": 400,  # no Host
            b"GET /metrics HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n": 400,
            b"GET /metrics HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n": 400,
            b"GET /metrics HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n": 400,
            b"GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n": 400,
            b"GET /metrics HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n": 400,
            b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n":
                400,
            (b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n"): 400,
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03": 400,  # TLS hello
            bytes(range(256)): 400,
        }
        for payload, want in cases.items():
            with self.subTest(payload=payload[:60]):
                response = self.raw(payload)
                self.assertEqual(status_of(response), want, response[:200])
                self.assertIn(b"Connection: close", response)
        # Random binary garbage: a 4xx or a closed connection, never more.
        rng = random.Random(7)
        for _ in range(50):
            payload = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4096)))
            response = self.raw(payload, timeout=5)
            self.assertTrue(response == b"" or 400 <= status_of(response) < 500,
                            response[:200])
        self.assert_serves()

    def test_unsupported_methods(self):
        for method in ("POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH",
                       "CONNECT", "PROPFIND", "FOO"):
            with self.subTest(method=method):
                status, headers, _ = self.e.request(method, "/metrics")
                self.assertEqual(status, 405)
                self.assertEqual(headers.get("Allow"), "GET, HEAD")
                status, _, _ = self.e.request(method, "/nope")
                self.assertEqual(status, 404)
        # A body is never read: the answer closes the connection.
        response = self.raw(b"POST /metrics HTTP/1.1\r\nHost: x\r\n"
                            b"Content-Length: 5\r\n\r\nhello")
        self.assertEqual(status_of(response), 405)
        self.assertIn(b"Connection: close", response)
        self.assert_serves()

    def test_path_tricks(self):
        for path in ("/metrics/../metrics", "/../metrics", "/%2e%2e/etc/passwd",
                     "/metrics%00", "/metrics%2f", "/%2fmetrics", "//metrics",
                     "/metrics/", "/METRICS", "/health/..", "/..%2f..%2fetc",
                     "/metrics;x", "/%6detrics"):
            with self.subTest(path=path):
                status, _, body = self.e.get(path)
                self.assertEqual(status, 404, path)
                self.assertEqual(body, b"404 not found\n")
        # absolute-form targets name the same resources
        response = self.raw(b"GET http://localhost/health HTTP/1.1\r\nHost: x\r\n"
                            b"Connection: close\r\n\r\n")
        self.assertEqual(status_of(response), 200)
        self.assert_serves()

    def test_client_that_never_reads(self):
        # Pipelines 2,000 scrapes and reads nothing: the responses fill the
        # socket buffers, the server stops writing, and drops the
        # connection once it has made no progress for the I/O timeout.
        s = self.connect()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            request = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
            s.settimeout(1)
            sent = 0
            try:
                for _ in range(2000):
                    s.sendall(request)
                    sent += 1
            except (socket.timeout, BrokenPipeError, ConnectionResetError):
                pass
            self.assertGreater(sent, 10)
            # Served while the stalled client still holds its connection.
            self.assert_serves(before="client stopped reading")
            self.assertTrue(self.e.wait_for_log("client stopped reading", 10),
                            "\n".join(self.e.log()[-20:]))
            self.assert_serves()
        finally:
            s.close()

    def test_thousands_of_connections_opened_and_dropped(self):
        self.assert_serves()
        time.sleep(0.2)
        before = self.open_fds()
        for i in range(3000):
            s = self.connect()
            if i % 3 == 1:
                s.send(b"GET /metrics HTTP/1.1\r\nHo")  # half a request
            elif i % 3 == 2:
                # close with a reset instead of a FIN
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
        self.assert_serves()
        # Every dropped connection's descriptor is released.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.open_fds() > before:
            time.sleep(0.1)
        self.assertLessEqual(self.open_fds(), before)

    def test_more_idle_connections_than_the_limit(self):
        # 1,100 idle connections, beyond the 1,024 the server keeps: the
        # oldest idle ones are closed to make room, and Prometheus' scrape
        # is served.
        socks = []
        try:
            for _ in range(1100):
                socks.append(self.connect())
            # The server took them all in: the 76 beyond its room were made
            # by closing as many of the oldest.
            self.assertTrue(
                harness.wait_until(lambda: closed_by_peer(socks) >= 1100 - 1024),
                f"{closed_by_peer(socks)} connections closed by the server")
            self.assert_serves()
            self.assertLessEqual(self.open_fds(), 1024 + 64)
        finally:
            for s in socks:
                s.close()
        self.assert_serves()

    def test_clients_that_never_read_cannot_fill_every_slot(self):
        # More clients than server.max_connections (here 32, so that the
        # responses they hold fit in memory; max_requests 8), each
        # pipelining scrapes and
        # reading nothing: the server holds a response it cannot send on
        # every connection. Those connections are not exempt from eviction:
        # the one that has waited longest for its reader makes room, and
        # Prometheus' scrape is served within a second.
        self.e.close()
        cfg = os.path.join(self.tmp, "c.toml")
        with open(cfg, "w", encoding="utf-8") as f:
            # Scrapes in flight are never evicted: at most 8 of the 32.
            f.write("[server]\nmax_connections = 32\nmax_requests = 8\n")
        self.e = harness.Exporter("--plugin-dir", os.path.join(self.tmp, "plugins"),
                                  "--procfs", os.path.join(self.tmp, "proc"),
                                  "--log-level", "debug", config=cfg).start()
        socks = []
        # Enough pipelined scrapes to fill the kernel's buffers both ways.
        request = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 400
        try:
            for _ in range(40):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.settimeout(5)
                s.connect(("127.0.0.1", self.e.port))
                s.setblocking(False)
                try:
                    s.send(request)
                except (BlockingIOError, ConnectionResetError, BrokenPipeError):
                    pass
                socks.append(s)
                time.sleep(0.01)
            # Until the pipelined scrapes stop (every response is stuck
            # behind a full buffer): before that, the server is merely busy
            # with real scrapes and 503 is the right answer. Slow builds
            # (sanitizers) take longer to get there.
            self.wait_until_quiet()
            for _ in range(3):
                self.assert_serves()
            self.assertLessEqual(self.open_fds(), 32 + 64)
        finally:
            for s in socks:
                s.close()
        self.assert_serves()

    def test_pipelined_requests_are_answered_in_order(self):
        payload = (b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                   b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                   b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                   b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        response = self.raw(payload)
        statuses = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", response)]
        self.assertEqual(statuses, [200, 200, 200, 404])
        self.assert_serves()

    def test_slow_reader_gets_every_response_whole(self):
        # Pipelined scrapes, plain and gzip, to a client with a small
        # receive buffer that waits before it reads: the server's writes
        # stop part-way through a head or a body, the rest waits in the
        # server, and every response must still arrive whole and in order.
        # Enough of them to pass the server's largest send buffer (4 MiB,
        # net.ipv4.tcp_wmem) and the client's receive buffer.
        with self.connect() as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
            one = len(read_all(s))
        n = min(2000, (6 << 20) // one + 10)
        requests = b"".join(
            b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
            + (b"Accept-Encoding: gzip\r\n" if i % 3 == 2 else b"")
            + (b"Connection: close\r\n" if i == n - 1 else b"")
            + b"\r\n" for i in range(n))
        with socket.socket() as s:
            # Before connect: the window it advertises depends on it.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(5)
            s.connect(("127.0.0.1", self.e.port))
            s.sendall(requests)
            time.sleep(0.5)  # the server meets full buffers meanwhile
            response = read_all(s, timeout=30, limit=64 << 20)
        bodies = []
        while response:
            head, sep, rest = response.partition(b"\r\n\r\n")
            self.assertTrue(sep, response[:200])
            self.assertEqual(status_of(head), 200, head)
            length = int(re.search(rb"\r\nContent-Length: (\d+)", head).group(1))
            self.assertGreaterEqual(len(rest), length)
            body = rest[:length]
            if b"Content-Encoding: gzip" in head:
                body = gzip.decompress(body)
            bodies.append(body)
            response = rest[length:]
        self.assertEqual(len(bodies), n)
        for body in bodies:
            self.assertTrue(body.startswith(b"# HELP "), body[:100])
            self.assertTrue(body.endswith(b"\n"), body[-100:])
            self.assertIn(b"sysmetrics_cpu_seconds_total", body)
        self.assert_serves()

    def test_http10_closes_unless_keep_alive(self):
        response = self.raw(b"GET /health HTTP/1.0\r\n\r\n")
        self.assertEqual(status_of(response), 200)
        self.assertIn(b"Connection: close", response)
        self.assertTrue(response.endswith(b"ok\n"))


if __name__ == "__main__":
    unittest.main()
