#!/usr/bin/env python3
"""Side-by-side load comparison of sysmetrics and node_exporter.

Starts both exporters on 127.0.0.1 pinned to one core, with matching
collectors: --set four (the default) compares the four original domains
(node_exporter's cpu, meminfo, diskstats and netdev against sysmetrics' cpu,
memory, disk and network); --set default compares sysmetrics' default set
against node_exporter's matching collectors (cpu, meminfo, diskstats,
netdev, netclass, filesystem, loadavg, pressure, stat, vmstat). Drives each with wrk pinned to another core, and prints one table:
CPU time per scrape (the exporter's utime+stime over the run divided by the
requests), throughput with 8 keep-alive connections, p99 latency with one
connection, resident memory after the load (RssAnon, RssFile), each with and
without gzip, and the ratio. With --floor-bench and nginx installed it also
measures the floor: reading and parsing the four /proc files (Google
Benchmark) plus a static-file HTTP response of the same size from nginx.
Every run is bounded in time; only processes this script started are ended.

Usage (from the repository, after building):
  tests/perf/compare.py --sysmetrics build/bin/sysmetrics \\
      --floor-bench build/tests/bench/sysmetrics_bench --duration 10
Needs: wrk, prometheus-node-exporter, taskset (util-linux); nginx optional.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


# Each set: (sysmetrics collectors, node_exporter collectors).
SETS = {
    "four": (("cpu", "memory", "disk", "network"),
             ("cpu", "meminfo", "diskstats", "netdev")),
    "default": (("cpu", "memory", "disk", "network", "netclass",
                 "filesystem", "loadavg", "pressure", "stat", "vmstat"),
                ("cpu", "meminfo", "diskstats", "netdev", "netclass",
                 "filesystem", "loadavg", "pressure", "stat", "vmstat")),
}
# sysmetrics' built-ins on by default; the others in a set are turned off.
ALL_SYSMETRICS = SETS["default"][0]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ticks(pid):
    """utime + stime of the whole process (all threads), in clock ticks."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss(pid):
    out = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(("RssAnon:", "RssFile:")):
                key, value, _ = line.split()
                out[key[:-1]] = int(value) / 1024  # MiB
    return out


def wait_http(url, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not answer")


def wrk(url, conns, seconds, cpu, gzip):
    cmd = ["taskset", "-c", str(cpu), "wrk", "-t1", f"-c{conns}",
           f"-d{seconds}s", "--latency", url]
    if gzip:
        cmd[-1:-1] = ["-H", "Accept-Encoding: gzip"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         timeout=seconds + 30).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock_errors = re.search(r"Socket errors: (.*)", out)
    if errors or sock_errors:
        raise SystemExit(f"wrk reported errors against {url}:\n{out}")
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 1e-3, "ms": 1, "s": 1000}[p99.group(2)]
    return requests, float(p99.group(1)) * scale, out


def measure(name, pid, url, args):
    """Returns {metric: value} for one exporter."""
    res = {}
    for gzip in (False, True):
        tag = "gzip" if gzip else "plain"
        wrk(url, 1, 1, args.client_cpu, gzip)  # warm-up
        t0 = cpu_ticks(pid)
        reqs, p99, _ = wrk(url, 1, args.duration, args.client_cpu, gzip)
        t1 = cpu_ticks(pid)
        res[f"cpu_us_{tag}"] = (t1 - t0) / CLK_TCK / reqs * 1e6
        res[f"p99_ms_{tag}"] = p99
        t0 = cpu_ticks(pid)
        reqs8, _, _ = wrk(url, 8, args.duration, args.client_cpu, gzip)
        t1 = cpu_ticks(pid)
        res[f"rps8_{tag}"] = reqs8 / args.duration
        res[f"cpu8_us_{tag}"] = (t1 - t0) / CLK_TCK / reqs8 * 1e6
        mem = rss(pid)
        res.setdefault("rss_trace", []).append(mem["RssAnon"] + mem["RssFile"])
    mem = rss(pid)
    res["rss_anon"] = mem["RssAnon"]
    res["rss_file"] = mem["RssFile"]
    res["rss_total"] = mem["RssAnon"] + mem["RssFile"]
    print(f"  measured {name}", file=sys.stderr)
    return res


def floor(args, body_bytes):
    """CPU per request of the floor: read+parse the four files, plus nginx
    serving a static file of the same size."""
    out = {}
    if args.floor_bench:
        run = subprocess.run(
            ["taskset", "-c", str(args.server_cpu), args.floor_bench,
             "--benchmark_filter=BM_ReadParseFloor", "--benchmark_format=csv"],
            capture_output=True, text=True, check=True, timeout=120).stdout
        row = [l for l in run.splitlines() if l.startswith('"BM_ReadParseFloor')][0]
        cols = row.split(",")  # name,iterations,real_time,cpu_time,time_unit
        scale = {"ns": 1e-3, "us": 1, "ms": 1e3}[cols[4]]
        out["read_parse_us"] = float(cols[3]) * scale
    nginx = shutil.which("nginx")
    if nginx:
        with tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o755)  # nginx workers run as an unprivileged user
            port = free_port()
            with open(os.path.join(tmp, "metrics"), "wb") as f:
                f.write(b"x" * body_bytes)
            conf = os.path.join(tmp, "nginx.conf")
            with open(conf, "w", encoding="ascii") as f:
                f.write(f"daemon off; worker_processes 1; pid {tmp}/nginx.pid;\n"
                        f"error_log {tmp}/error.log;\n"
                        "events { worker_connections 64; }\n"
                        f"http {{ access_log off; server {{ listen 127.0.0.1:{port};"
                        f" root {tmp}; }} }}\n")
            proc = subprocess.Popen(["taskset", "-c", str(args.server_cpu), nginx,
                                     "-c", conf, "-p", tmp])
            try:
                url = f"http://127.0.0.1:{port}/metrics"
                wait_http(url)
                time.sleep(0.3)
                workers = subprocess.run(["pgrep", "-P", str(proc.pid)],
                                         capture_output=True, text=True).stdout.split()
                pids = [proc.pid] + [int(p) for p in workers]
                wrk(url, 1, 1, args.client_cpu, False)
                t0 = sum(cpu_ticks(p) for p in pids)
                reqs, _, _ = wrk(url, 1, args.duration, args.client_cpu, False)
                t1 = sum(cpu_ticks(p) for p in pids)
                out["static_http_us"] = (t1 - t0) / CLK_TCK / reqs * 1e6
            finally:
                proc.send_signal(signal.SIGQUIT)
                proc.wait(10)
    return out


def one_round(args, sm_cmd, ne_cmd):
    """Starts both exporters afresh, measures each, stops them. Returns
    (sysmetrics body bytes, node_exporter body bytes, results, results)."""
    procs = []
    try:
        sm_port, ne_port = free_port(), free_port()
        sm = subprocess.Popen(["taskset", "-c", str(args.server_cpu)]
                              + sm_cmd[:1] + ["--listen", f"127.0.0.1:{sm_port}"]
                              + sm_cmd[1:])
        procs.append(sm)
        ne = subprocess.Popen(["taskset", "-c", str(args.server_cpu)]
                              + ne_cmd[:1]
                              + [f"--web.listen-address=127.0.0.1:{ne_port}"]
                              + ne_cmd[1:], stderr=subprocess.DEVNULL)
        procs.append(ne)
        sm_url = f"http://127.0.0.1:{sm_port}/metrics"
        ne_url = f"http://127.0.0.1:{ne_port}/metrics"
        wait_http(sm_url)
        wait_http(ne_url)
        body = len(urllib.request.urlopen(sm_url).read())
        ne_body = len(urllib.request.urlopen(ne_url).read())
        r_sm = measure("sysmetrics", sm.pid, sm_url, args)
        r_ne = measure("node_exporter", ne.pid, ne_url, args)
        return body, ne_body, r_sm, r_ne
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(15)


def median_of(results):
    """Each figure's median over the rounds (the RSS trace of the middle
    round by total)."""
    out = {}
    for key in results[0]:
        if key == "rss_trace":
            continue
        out[key] = statistics.median(r[key] for r in results)
    by_rss = sorted(results, key=lambda r: r["rss_total"])
    out["rss_trace"] = by_rss[len(by_rss) // 2]["rss_trace"]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sysmetrics", default="build/bin/sysmetrics")
    ap.add_argument("--node-exporter", default="prometheus-node-exporter")
    ap.add_argument("--floor-bench", default=None,
                    help="sysmetrics_bench binary, for the read+parse floor")
    ap.add_argument("--duration", type=int, default=10, help="seconds per run")
    ap.add_argument("--rounds", type=int, default=1,
                    help="repeat everything this often, each exporter "
                         "started afresh, the two in turn; every figure is "
                         "the median over the rounds (a single 5 s run of "
                         "either moves by 10-15%% on a shared VM)")
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--client-cpu", type=int, default=1)
    ap.add_argument("--set", choices=sorted(SETS), default="four",
                    help="which collectors both exporters run")
    ap.add_argument("--metric-names", choices=("sysmetrics", "node"),
                    default="sysmetrics", help="sysmetrics' metric names")
    ap.add_argument("--without", action="append", default=[],
                    metavar="COLLECTOR",
                    help="leave this sysmetrics collector (and node_exporter's "
                         "match) out of the set; may be repeated")
    args = ap.parse_args()
    sm_collectors, ne_collectors = SETS[args.set]
    kept = [i for i, c in enumerate(sm_collectors) if c not in args.without]
    sm_collectors = tuple(sm_collectors[i] for i in kept)
    ne_collectors = tuple(ne_collectors[i] for i in kept)

    sm_cmd = ([args.sysmetrics, "--config", os.devnull, "--log-level", "warn",
               "--metric-names", args.metric_names]
              + [f"--collector.{c}" for c in sm_collectors]
              + [f"--no-collector.{c}" for c in ALL_SYSMETRICS
                 if c not in sm_collectors])
    ne_cmd = ([args.node_exporter, "--collector.disable-defaults"]
              + [f"--collector.{c}" for c in ne_collectors])
    rounds_sm, rounds_ne = [], []
    for _ in range(args.rounds):
        body, ne_body, r_sm, r_ne = one_round(args, sm_cmd, ne_cmd)
        rounds_sm.append(r_sm)
        rounds_ne.append(r_ne)
    r_sm, r_ne = median_of(rounds_sm), median_of(rounds_ne)
    fl = floor(args, body)

    def row(label, key, fmt, target):
        a, b = r_sm[key], r_ne[key]
        ratio = b / a if a else float("inf")
        print(f"| {label} | {a:{fmt}} | {b:{fmt}} | {ratio:.1f}x | {target} |")

    print(f"\nset: {args.set} (sysmetrics {', '.join(sm_collectors)}; "
          f"node_exporter {', '.join(ne_collectors)}); sysmetrics names: "
          f"{args.metric_names}")
    print(f"\nmachine: {os.cpu_count()} CPUs, {os.uname().release}; "
          f"server on CPU {args.server_cpu}, wrk on CPU {args.client_cpu}; "
          f"{args.duration} s per run, median of {args.rounds} round(s); bodies: sysmetrics {body} B, "
          f"node_exporter {ne_body} B (uncompressed)\n")
    print("| figure | sysmetrics | node_exporter | node_exporter / sysmetrics | target |")
    print("|---|---|---|---|---|")
    row("CPU per scrape, 1 conn (µs)", "cpu_us_plain", ".1f", ">= 10x")
    row("CPU per scrape, 1 conn, gzip (µs)", "cpu_us_gzip", ".1f", ">= 10x")
    row("CPU per scrape, 8 conns (µs)", "cpu8_us_plain", ".1f", "")
    row("CPU per scrape, 8 conns, gzip (µs)", "cpu8_us_gzip", ".1f", "")
    for key, label in (("rps8_plain", "throughput, 8 conns (req/s)"),
                       ("rps8_gzip", "throughput, 8 conns, gzip (req/s)")):
        a, b = r_sm[key], r_ne[key]
        print(f"| {label} | {a:.0f} | {b:.0f} | {a / b:.1f}x (sysmetrics / node_exporter) | >= 10x |")
    row("p99 latency, 1 conn (ms)", "p99_ms_plain", ".3f", ">= 5x")
    row("p99 latency, 1 conn, gzip (ms)", "p99_ms_gzip", ".3f", ">= 5x")
    row("RssAnon after load (MiB)", "rss_anon", ".1f", ">= 4x")
    row("RssFile after load (MiB)", "rss_file", ".1f", "")
    row("Rss total after load (MiB)", "rss_total", ".1f", ">= 2x")
    print(f"\nRSS total after each phase (MiB): sysmetrics "
          f"{[round(x, 1) for x in r_sm['rss_trace']]}, node_exporter "
          f"{[round(x, 1) for x in r_ne['rss_trace']]}")
    if "read_parse_us" in fl and "static_http_us" in fl:
        total = fl["read_parse_us"] + fl["static_http_us"]
        print(f"floor: read+parse of the four files {fl['read_parse_us']:.1f} µs "
              f"+ nginx static response of {body} B {fl['static_http_us']:.1f} µs "
              f"= {total:.1f} µs; sysmetrics plain is "
              f"{r_sm['cpu_us_plain'] / total:.2f}x the floor (target <= 3x)")
    elif fl:
        print(f"floor (partial): {fl}")


if __name__ == "__main__":
    main()
