#!/bin/sh
# Measures what the FUSE BPF hook costs, inside the test VM:
#   vm-test/run -- tests/vm/bench-hook.sh BUILD_DIR [COUNT [ROUNDS]]
# Each round times COUNT stat() calls (tests/vm/statloop) per path:
#   plain      hookfs file, no program attached anywhere (static key off)
#   other      the same mount while another mount has a program (key on,
#              this connection has none)
#   forward    a mount whose attached program forwards every request
#   answered   a file the attached hook_test program answers in the kernel
#   tmpfs      a tmpfs file, the local upper bound
# hookfs uses zero timeouts, so each stat of a hookfs file is one LOOKUP and
# one GETATTR.  Prints per-round mean latencies and the median of each variant relative
# to plain.
set -eu

case ${1:-} in
  -h | --help | "")
    echo "usage: tests/vm/bench-hook.sh BUILD_DIR [COUNT [ROUNDS]]"
    echo "Times stat() on FUSE mounts with and without the FUSE BPF hook (run in the VM)."
    [ -n "${1:-}" ] || exit 2
    exit 0
    ;;
esac
bin=$1/tests/vm
count=${2:-20000}
rounds=${3:-7}
bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | grep -q "STRUCT 'fuse_bpf_ops'" ||
  { echo "SKIP: the running kernel lacks the FUSE BPF hook; run this through vm-test/run"; exit 77; }

work=$(mktemp -d /tmp/bench-hook.XXXXXX)
pids=""
cleanup() {
  for m in "$work"/p "$work"/q "$work"/r; do
    grep -q " $m fuse" /proc/mounts && fusermount3 -u "$m"
  done
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start() {  # start NAME [BPF_OBJECT]; sets $pid
  mkdir -p "$work/$1"
  if [ $# -gt 1 ]; then
    "$bin/hookfs" --bpf "$2" --stats "$work/$1.stats" "$work/$1" &
  else
    "$bin/hookfs" --stats "$work/$1.stats" "$work/$1" &
  fi
  pid=$!
  pids="$pids $pid"
  for _ in $(seq 100); do
    grep -q "^bpf_attached" "$work/$1.stats" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench-hook: hookfs $1 did not start" >&2
  exit 1
}
stop() {  # stop PID NAME
  kill "$1"
  wait "$1" || true
  rm -f "$work/$2.stats"
}
# mean ns per stat over the whole batch (a jiffies clock in the guest is fine)
mean() { "$bin/statloop" -n "$count" "$1" 2>/dev/null | cut -d' ' -f2; }

echo "local" >"$work/local_file"
start p
for round in $(seq "$rounds"); do
  plain1=$(mean "$work/p/fwd_file")
  start q "$bin/forward.bpf.o"
  q_pid=$pid
  start r "$bin/hook_test.bpf.o"
  r_pid=$pid
  other=$(mean "$work/p/fwd_file")
  forward=$(mean "$work/q/fwd_file")
  answered=$(mean "$work/r/bpf_file")
  tmpfs=$(mean "$work/local_file")
  stop "$q_pid" q
  stop "$r_pid" r
  # plain brackets the other variants: measured before and after them.
  plain=$(((plain1 + $(mean "$work/p/fwd_file")) / 2))
  echo "round $round mean_ns plain=$plain other=$other forward=$forward answered=$answered tmpfs=$tmpfs"
done | tee "$work/rounds"

median() {  # median of the values of KEY in the rounds
  sed -n "s/.* $1=\([0-9]*\).*/\1/p" "$work/rounds" | sort -n |
    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
base=$(median plain)
echo "median of the per-round means over $rounds rounds of $count stat() calls; ratio to plain:"
for k in plain other forward answered tmpfs; do
  m=$(median "$k")
  lo=$(sed -n "s/.* $k=\([0-9]*\).*/\1/p" "$work/rounds" | sort -n | head -1)
  hi=$(sed -n "s/.* $k=\([0-9]*\).*/\1/p" "$work/rounds" | sort -n | tail -1)
  awk -v k="$k" -v m="$m" -v b="$base" -v lo="$lo" -v hi="$hi" 'BEGIN {
    printf "  %-9s %8.1f us  %.3fx   (rounds %.1f..%.1f us)\n", k, m / 1000, m / b, lo / 1000, hi / 1000 }'
done
