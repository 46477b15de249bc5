#!/usr/bin/env bash
# Installs the Debian 12 packages sysmetrics needs: to build and run it
# (default), or also to run every test and check (--test). Skips apt when all
# are already installed. Must run as root (or with sudo available).
set -euo pipefail

build=(cmake make g++ pkg-config libpoco-dev libboost-dev libtoml11-dev
       libdeflate-dev libssl-dev libcrypt-dev
       libspdlog-dev doctest-dev libbenchmark-dev)
# locales: the glibc locale sources (de_DE) that scrape_test compiles with
# localedef to prove the serializer ignores a comma-decimal locale.
test=(prometheus python3 curl clang-format clang-tidy
      dpkg-dev rpm lintian fakeroot file adduser procps openssl wrk
      clang libclang-rt-14-dev util-linux python3-prometheus-client python3-yaml iproute2
      valgrind prometheus-node-exporter locales)

packages=("${build[@]}")
if [[ "${1:-}" == "--test" ]]; then
  packages+=("${test[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "ok installed" >/dev/null; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  sudo=(sudo)
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
