#!/usr/bin/env bash
# Installs every Debian 12 package sealfs needs to build, run and test.
# Safe to run repeatedly: it only calls apt-get when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git clang llvm
  libfuse3-dev fuse3 libleveldb-dev libsnappy-dev libasio-dev libgtest-dev libbenchmark-dev
  libcli11-dev libspdlog-dev libfmt-dev libxxhash-dev libtomlplusplus-dev libssl-dev
  libbpf-dev bpftool libelf-dev zlib1g-dev
  iproute2 procps psmisc util-linux
  # The kernel test VM (vm-test/): the kernel source, its build tools, QEMU.
  linux-source-6.12 flex bison bc dwarves cpio xz-utils
  qemu-system-x86 busybox-static
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
