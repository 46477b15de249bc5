#!/usr/bin/env python3
"""Runs the shell commands of README.md's "Quick start" and "Installing from
the packages" sections exactly as written, and checks what they promise.
.ci/run calls it; it needs root (the commands install packages).

  1. The test command (the second quick-start block), as is.
  2. The run command (the first block), as is, in a network namespace of
     its own (so what it serves on 0.0.0.0:9101 is reachable from this test
     alone, through the namespace's loopback): waits for it to serve, then
     runs the README's `curl localhost:9101/metrics` there and checks the
     answer with promtool, and stops it.
  3. The packaging command from the install section's text, then its
     blocks in the build tree: `apt install ./sysmetrics_*.deb`, the
     drop-in that enables a plugin and `sysmetrics --check-config &&
     systemctl reload sysmetrics`, with a `systemctl` stand-in first on
     PATH when systemd is not running (CI containers), which records the
     call. Then it purges what it installed.

Usage: tests/readme_commands.py [--skip-test-command]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_TIMEOUT = 1800  # the run command builds from scratch first


def section(text, heading):
    start = text.index("\n## " + heading)
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else len(text)]


def blocks(text):
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", text, re.S)]


def run(cmd, cwd=ROOT, env=None, timeout=RUN_TIMEOUT):
    print(f"readme_commands: running in {os.path.relpath(cwd, ROOT) or '.'}:\n  {cmd}",
          flush=True)
    subprocess.run(["bash", "-euo", "pipefail", "-c", cmd], cwd=cwd, env=env,
                   check=True, timeout=timeout)


def run_in_netns(cmd, curl):
    """Runs cmd in the background in a fresh network namespace, waits for
    port 9101, runs curl there and checks its output with promtool."""
    script = f"""
set -euo pipefail
ip link set lo up
set -m  # the run command gets a process group of its own, to stop it whole
bash -c {shlex_quote(cmd)} &
pid=$!
for _ in $(seq 1 {RUN_TIMEOUT}); do
  if ! kill -0 "$pid" 2>/dev/null; then echo "the run command exited" >&2; exit 1; fi
  if (exec 3<>/dev/tcp/127.0.0.1/9101) 2>/dev/null; then break; fi
  sleep 1
done
status=0
{curl} > "$METRICS_OUT" || status=$?
kill -TERM -- -"$pid" 2>/dev/null || true
wait "$pid" || true
exit "$status"
"""
    with tempfile.NamedTemporaryFile(prefix="readme-metrics-", delete=False) as f:
        out = f.name
    try:
        env = dict(os.environ, METRICS_OUT=out)
        print(f"readme_commands: running in a network namespace:\n  {cmd}\n  {curl}",
              flush=True)
        subprocess.run(["unshare", "--net", "bash", "-c", script], cwd=ROOT,
                       env=env, check=True, timeout=RUN_TIMEOUT + 60)
        with open(out, "rb") as f:
            body = f.read()
        if b"sysmetrics_cpu_seconds_total" not in body:
            raise SystemExit("readme_commands: the run command's /metrics lacks CPU metrics")
        subprocess.run(["promtool", "check", "metrics"], input=body, check=True,
                       timeout=60)
        print(f"readme_commands: /metrics served {len(body)} bytes; promtool is content",
              flush=True)
    finally:
        os.unlink(out)


def shlex_quote(s):
    import shlex
    return shlex.quote(s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-test-command", action="store_true",
                    help="do not run the test command (the caller just did)")
    args = ap.parse_args()
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()

    quick = section(readme, "Quick start")
    run_cmd, test_cmd = blocks(quick)[:2]
    curl = re.search(r"Then `(curl [^`]+)`", quick).group(1)
    if not args.skip_test_command:
        run(test_cmd)
    else:
        print(f"readme_commands: the test command ran already:\n  {test_cmd}",
              flush=True)
    run_in_netns(run_cmd, curl)

    install = section(readme, "Installing from the packages")
    package_cmd = re.search(r"`(cmake --build build --target package)`",
                            install).group(1)
    run(package_cmd)
    stub_dir = tempfile.mkdtemp(prefix="readme-systemctl-")
    env = dict(os.environ)
    if not os.path.isdir("/run/systemd/system"):
        calls = os.path.join(stub_dir, "calls")
        with open(os.path.join(stub_dir, "systemctl"), "w", encoding="utf-8") as f:
            f.write(f'#!/bin/sh\necho "$@" >> {calls}\n')
        os.chmod(os.path.join(stub_dir, "systemctl"), 0o755)
        env["PATH"] = stub_dir + ":" + env["PATH"]
        print("readme_commands: no systemd here; systemctl is a stand-in that "
              "records its calls", flush=True)
    install_blocks = blocks(install)
    try:
        run(install_blocks[0], cwd=os.path.join(ROOT, "build"), env=env)
        for b in install_blocks[1:]:
            run(b, env=env)
        if "PATH" in env and env["PATH"].startswith(stub_dir):
            with open(os.path.join(stub_dir, "calls"), encoding="utf-8") as f:
                print("readme_commands: systemctl was called with: "
                      + f.read().strip(), flush=True)
    finally:
        for b in install_blocks[1:]:
            for path in re.findall(r"> (/etc/sysmetrics/conf\.d/\S+)", b):
                if os.path.exists(path):
                    os.unlink(path)
        subprocess.run(["dpkg", "--purge", "sysmetrics-dev", "sysmetrics"],
                       check=False, stdout=subprocess.DEVNULL)
        shutil.rmtree(stub_dir, ignore_errors=True)
    print("readme_commands: every README command ran as written", flush=True)


if __name__ == "__main__":
    sys.exit(main())
