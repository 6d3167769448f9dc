#!/usr/bin/env bash
# Benchmarks the --bpf client cache in the test VM (docs/benchmarks.md): boots
# the project's patched kernel (vm-test/run) and runs sealfs-cachebench there,
# which compares tmpfs, sealfs with kernel caching off, sealfs with the 1 s
# kernel cache and sealfs --bpf in one run.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

usage() {
  cat <<USAGE
usage: scripts/bench-bpf.sh [--build DIR] [--out FILE] [--mem MIB] [-- CACHEBENCH_ARG...]
Builds sealfs (unless --build names a build directory), boots the test VM and
runs DIR/bin/sealfs-cachebench in it; any arguments after -- go to it (see
sealfs-cachebench --help: --files, --tree-dirs, --tree-files, --seconds,
--rounds, --walks).
  --build DIR  use this build directory (default: build, built first)
  --out FILE   also write the output to FILE
  --mem MIB    guest memory (default 3072)
  -h, --help   show this help
USAGE
}

if [[ ${1:-} == --in-guest ]]; then
  build=$2
  shift 2
  mount -o remount,size=90% /dev/shm
  clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
  echo "bench-bpf: kernel $(uname -r), $(nproc) CPUs, $(free -m | awk '/^Mem:/ {print $2}') MiB," \
    "clocksource $clocksource"
  # TSC calibration can fail under TCG on a loaded host; jiffies make every
  # latency a multiple of 4 ms.
  [[ $clocksource == tsc* ]] ||
    echo "bench-bpf: warning: clocksource $clocksource, not the TSC: latencies are not usable; run again" >&2
  exec "$build/bin/sealfs-cachebench" --tmpfs /dev/shm "$@"
fi

build=
out=
mem=3072
while (($#)); do
  case $1 in
    --build) build=$2; shift ;;
    --out) out=$2; shift ;;
    --mem) mem=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    *) echo "bench-bpf: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [[ -z $build ]]; then
  build=$repo/build
  [[ -f $build/CMakeCache.txt ]] || cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j "$(nproc)" --target sealfs-cachebench sealfs-server sealfs-mount >/dev/null
fi
build=$(cd "$build" && pwd)
[[ -x $build/bin/sealfs-cachebench ]] || { echo "bench-bpf: $build/bin/sealfs-cachebench is not built" >&2; exit 2; }
case $build/ in
  /tmp/* | /run/* | /dev/shm/*)
    echo "bench-bpf: $build is hidden inside the VM (its own tmpfs on /tmp, /run, /dev/shm); use a build directory elsewhere" >&2
    exit 2
    ;;
esac
run() {
  echo "bench-bpf: host $(uname -r), $(nproc) CPUs,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  "$repo/vm-test/run" --mem "$mem" --timeout 3600 -- "$here/bench-bpf.sh" --in-guest "$build" "$@"
}
if [[ -n $out ]]; then
  run "$@" 2>&1 | tee "$out"
else
  run "$@"
fi
