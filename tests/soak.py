#!/usr/bin/env python3
"""Soak: a bounded load run against the real binary on the real /proc.

Starts sysmetrics on a free 127.0.0.1 port with its default built-in plugins,
warms it up, then drives it with wrk in phases that alternate plain and
gzip responses and many keep-alive connections, plus a churn of short
connections between phases. Fails (exit 1) unless:
  - every request got a 2xx answer and wrk saw no socket errors;
  - resident memory after each phase stays within RSS_SLACK_MIB of the
    figure after warm-up (flat, not growing with requests);
  - the open file descriptors after each phase, once the clients have
    gone, equal those before any client connected.
Prints one line per phase. Bounded: the phases add up to --seconds.

Usage: tests/soak.py --binary build/bin/sysmetrics [--seconds 150]
Needs: wrk.
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

# How far resident memory may move after warm-up. Steady state allocates
# nothing per scrape (DESIGN.md); the slack covers malloc noise and scrape
# workers (up to one per connection, at most --max-requests) ending when idle
# and starting again, each touching its stack and buffers anew.
RSS_SLACK_MIB = 2.0
CONNECTIONS = 32  # below the default --max-requests (40): no 503 by design


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def wrk(url, seconds, gzip):
    cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    if gzip:
        cmd += ["-H", "Accept-Encoding: gzip"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True,
                         timeout=seconds + 60, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return requests, int(bad.group(1)) if bad else 0, errors.group(1) if errors else ""


def churn(port, n):
    """Opens and drops n connections, half of them after a scrape."""
    for i in range(n):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            if i % 2:
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
                          b"Connection: close\r\n\r\n")
                while s.recv(65536):
                    pass


def settle(pid, baseline_fds, timeout=5.0):
    """Waits for closed connections to be released; returns the fd count."""
    deadline = time.monotonic() + timeout
    fds = open_fds(pid)
    while fds > baseline_fds and time.monotonic() < deadline:
        time.sleep(0.1)
        fds = open_fds(pid)
    return fds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--seconds", type=int, default=150)
    args = ap.parse_args()

    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    with tempfile.TemporaryDirectory(prefix="sysmetrics-soak-") as tmp:
        config = os.path.join(tmp, "c.toml")
        open(config, "w", encoding="utf-8").close()
        log = open(os.path.join(tmp, "log"), "w+", encoding="utf-8")
        proc = subprocess.Popen([args.binary, "--config", config, "--listen",
                                 f"127.0.0.1:{port}"], stderr=log)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    urllib.request.urlopen(url, timeout=2).read()
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise
                    time.sleep(0.1)
            phase = max(5, (args.seconds - 20) // 6)
            failures = []
            # Descriptors with no client connected: listening socket, epoll,
            # the plugins' kept-open /proc files, logs.
            # The fewest over half a second: the readiness probe's own
            # connection may still be closing.
            base_fds = open_fds(proc.pid)
            for _ in range(10):
                time.sleep(0.05)
                base_fds = min(base_fds, open_fds(proc.pid))
            # Warm-up: both response kinds, so both buffers reach size.
            wrk(url, 10, False)
            wrk(url, 10, True)
            base_rss = rss_mib(proc.pid)
            settle(proc.pid, base_fds)
            print(f"after warm-up: rss {base_rss:.1f} MiB, {base_fds} fds "
                  f"(bound: rss <= {base_rss + RSS_SLACK_MIB:.1f} MiB, fds <= "
                  f"{base_fds})")
            total = 0
            for i in range(6):
                gzip = i % 2 == 1
                requests, bad, errors = wrk(url, phase, gzip)
                churn(port, 500)
                total += requests
                fds = settle(proc.pid, base_fds)
                now = rss_mib(proc.pid)
                print(f"phase {i + 1}: {'gzip ' if gzip else 'plain'} "
                      f"{requests} requests, {bad} non-2xx, socket errors "
                      f"[{errors or 'none'}], rss {now:.1f} MiB, {fds} fds")
                if bad:
                    failures.append(f"phase {i + 1}: {bad} non-2xx responses")
                if errors:
                    failures.append(f"phase {i + 1}: socket errors {errors}")
                if now > base_rss + RSS_SLACK_MIB:
                    failures.append(f"phase {i + 1}: rss {now:.1f} MiB grew "
                                    f"past {base_rss + RSS_SLACK_MIB:.1f}")
                if fds > base_fds:
                    failures.append(f"phase {i + 1}: {fds} fds open, "
                                    f"{base_fds} before the load")
            if proc.poll() is not None:
                failures.append(f"the exporter exited with {proc.returncode}")
            print(f"soak: {total} requests in {6 * phase} s")
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(20)
        if proc.returncode != 0:
            failures.append(f"exit status {proc.returncode} after SIGTERM")
        if failures:
            log.seek(0)
            print("soak FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
            print(log.read()[-4000:], file=sys.stderr)
            return 1
    print("soak: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
