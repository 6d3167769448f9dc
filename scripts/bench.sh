#!/usr/bin/env bash
# Benchmarks sealfs against the local file system in one run (docs/benchmarks.md).
#
# Starts three sealfs servers on loopback (free ports, state in a temporary
# directory), mounts the cluster with the kernel attribute cache off, and runs
# sealfs-fsbench on the mount and on a local directory of the same disk,
# phase group by phase group, then sealfs-rpcbench against the root server.
# With --million it then creates 1,000,000 files on the mount and reports the
# resident memory (VmRSS) of each server and of the client.
# Everything it started is stopped, by pid, on exit; crashes and failed
# benchmarks are logged, listed in incidents.txt, and make the exit status 1.
set -euo pipefail

usage() {
  cat <<EOF
usage: $0 [options]
  --million          also create 1,000,000 files (1,000 directories, 32 threads)
                     and report each server's and the client's VmRSS
  --files N          files per metadata run (default 10000)
  --threads LIST     thread counts of the metadata runs (default 1,8,32)
  --size SIZE        data file size (default 1G)
  --random-reads N   4 KiB random reads (default 10000)
  --requests N       requests per RPC measurement (default 100000)
  --base DIR         where the temporary directory goes (default \${TMPDIR:-/tmp})
  --bin DIR          use the sealfs binaries in DIR instead of building build/bin
                     (to compare two builds in one session)
  --out DIR          keep the JSON lines, summary and logs here (default: inside
                     the temporary directory, removed at exit)
  -h, --help         this text
EOF
}

million=0
files=10000
threads=1,8,32
size=1G
random_reads=10000
requests=100000
base=${TMPDIR:-/tmp}
bin=
out=
while [[ $# -gt 0 ]]; do
  case $1 in
    --million) million=1 ;;
    --files) files=$2; shift ;;
    --threads) threads=$2; shift ;;
    --size) size=$2; shift ;;
    --random-reads) random_reads=$2; shift ;;
    --requests) requests=$2; shift ;;
    --base) base=$2; shift ;;
    --bin) bin=$2; shift ;;
    --out) out=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

repo=$(cd "$(dirname "$0")/.." && pwd)

log() { echo "bench.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# ---- build -----------------------------------------------------------------
if [[ -z $bin ]]; then
  bin=$repo/build/bin
  if [[ ! -f $repo/build/CMakeCache.txt ]]; then
    cmake -S "$repo" -B "$repo/build" >/dev/null
  fi
  cmake --build "$repo/build" -j2 >/dev/null || die "build failed: run cmake --build $repo/build"
fi
for b in sealfs-server sealfs-mount sealfs-fsbench sealfs-rpcbench; do
  [[ -x $bin/$b ]] || die "$bin/$b is missing after the build"
done

# ---- cleanup of everything started here ------------------------------------
tmp=$(mktemp -d "$base/sealfs-bench.XXXXXX")
[[ -n $out ]] || out=$tmp/results
mkdir -p "$out"
rm -f "$out/incidents.txt" "$out/mount.log"  # from an earlier run into the same --out
mnt=$tmp/mnt
server_pids=()
mount_pid=

stop_pid() {  # stop_pid PID: SIGTERM, then SIGKILL after 10 s
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "pid $pid ignored SIGTERM for 10 s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  set +e
  if mountpoint -q "$mnt" 2>/dev/null; then
    fusermount3 -u "$mnt" || { sleep 1; fusermount3 -u "$mnt"; } || fusermount3 -uz "$mnt"
  fi
  local i status
  if [[ -n $mount_pid ]]; then
    # Unmounted, it exits by itself; SIGTERM only if it does not within 10 s
    # (sent at once, it caught the daemon exiting with its handlers removed).
    for _ in $(seq 100); do
      kill -0 "$mount_pid" 2>/dev/null || break
      sleep 0.1
    done
    stop_pid "$mount_pid"
    status=0
    wait "$mount_pid" 2>/dev/null || status=$?
    if [[ $status != 0 ]]; then
      log "WARNING: sealfs-mount exited with status $status after unmount; see $out/mount.log"
      echo "sealfs-mount exited with status $status after unmount" >>"$out/incidents.txt"
    fi
  fi
  for i in "${!server_pids[@]}"; do
    stop_pid "${server_pids[i]}"
    status=0
    wait "${server_pids[i]}" 2>/dev/null || status=$?
    if [[ $status != 0 ]]; then
      log "WARNING: server $((i + 1)) exited with status $status when stopped; see $out/server$((i + 1)).log"
      echo "server $((i + 1)) exited with status $status on SIGTERM" >>"$out/incidents.txt"
    fi
  done
  if [[ -s $out/incidents.txt ]]; then
    log "incidents (the exit status is 1):"
    cat "$out/incidents.txt" >&2
    [[ $rc == 0 ]] && rc=1
  fi
  rm -rf "$tmp"
  [[ $out == "$tmp"/* ]] || log "results kept in $out"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- cluster ---------------------------------------------------------------
port_in_use() { [[ -n $(ss -Htln "sport = :$1") ]]; }
pick_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 40000))
    if ! port_in_use "$p" && [[ " ${ports[*]:-} " != *" $p "* ]]; then
      echo "$p"
      return
    fi
  done
  die "no free TCP port found on loopback"
}

ports=()
config=$tmp/cluster.toml
{
  echo "version = 1"
  for id in 1 2 3; do
    ports+=("$(pick_port)")
    printf '\n[[server]]\nid = %d\naddress = "127.0.0.1"\nport = %d\ndata_dir = "%s"\n' \
      "$id" "${ports[-1]}" "$tmp/server$id"
  done
} >"$config"

for id in 1 2 3; do
  "$bin/sealfs-server" --config "$config" --id "$id" --log-level warn \
    >"$out/server$id.log" 2>&1 &
  server_pids+=($!)
done
for i in 0 1 2; do
  for _ in $(seq 100); do
    port_in_use "${ports[i]}" && break
    kill -0 "${server_pids[i]}" 2>/dev/null || die "server $((i + 1)) exited; see $out/server$((i + 1)).log"
    sleep 0.1
  done
  port_in_use "${ports[i]}" || die "server $((i + 1)) does not listen on port ${ports[i]} after 10 s"
done

mkdir -p "$mnt" "$tmp/local"
# sealfs-mount sometimes crashes before mounting (SIGSEGV while its start-up
# probe tears down, see docs/benchmarks.md); that is reported and retried.
start_mount() {
  "$bin/sealfs-mount" --config "$config" "$mnt" -f --attr-timeout 0 >>"$out/mount.log" 2>&1 &
  mount_pid=$!
  for _ in $(seq 100); do
    mountpoint -q "$mnt" && return 0
    kill -0 "$mount_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$mount_pid" 2>/dev/null; then
    die "$mnt is not mounted after 10 s; see $out/mount.log"
  fi
  local rc=0
  wait "$mount_pid" || rc=$?
  mount_pid=
  log "WARNING: sealfs-mount exited with status $rc before mounting; see $out/mount.log"
  echo "sealfs-mount exited with status $rc before mounting" >>"$out/incidents.txt"
  return 1
}
for attempt in 1 2 3 4 5; do
  start_mount && break
  [[ $attempt == 5 ]] && die "sealfs-mount failed to start five times"
done

# ---- the machine -------------------------------------------------------------
json=$out/results.jsonl
: >"$json"
dev=$(df --output=source "$tmp" | tail -1)
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "binaries: $bin"
  echo "cpus: $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "memory: $(free -g | awk '/^Mem:/ {print $2}') GiB"
  echo "disk: $dev ($(df -h --output=fstype,size "$tmp" | tail -1 | xargs)), rotational=$(lsblk -dno ROTA "$dev" 2>/dev/null | xargs || echo unknown)"
  echo "kernel: $(uname -r)"
  echo "running as uid $(id -u) (system page cache dropped between write and read: $([[ $(id -u) == 0 ]] && echo yes || echo no))"
} | tee "$out/machine.txt" >&2

# ---- benchmarks --------------------------------------------------------------
fsbench() {  # fsbench LABEL DIR ARGS...
  local label=$1 dir=$2
  shift 2
  log "sealfs-fsbench on $label ($dir) $*"
  "$bin/sealfs-fsbench" "$dir" --label "$label" --json "$json" "$@" >&2 || {
    log "WARNING: sealfs-fsbench on $label failed ($*); continuing"
    echo "sealfs-fsbench on $label failed: $*" >>"$out/incidents.txt"
    failed=1
  }
}
failed=0
meta_args=(--phases meta --files "$files" --threads "$threads")
data_args=(--phases data --size "$size" --block 1M --random-reads "$random_reads")
fsbench sealfs "$mnt" "${meta_args[@]}"
fsbench local "$tmp/local" "${meta_args[@]}"
fsbench sealfs "$mnt" "${data_args[@]}"
fsbench local "$tmp/local" "${data_args[@]}"

log "sealfs-rpcbench against server 1"
"$bin/sealfs-rpcbench" --config "$config" --server 1 --requests "$requests" --inflight 1,32 \
  --label "server 1" --json "$json" >&2 || {
  echo "sealfs-rpcbench failed" >>"$out/incidents.txt"
  failed=1
}

# ---- memory after a million files ------------------------------------------
vmrss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
if [[ $million == 1 ]]; then
  fsbench sealfs "$mnt" --create-only --files 1000000 --spread-dirs 1000 --threads 32
  for i in 0 1 2; do
    printf '{"tool":"bench.sh","target":"server %d","phase":"vmrss_after_1M_files","kib":%d}\n' \
      $((i + 1)) "$(vmrss_kib "${server_pids[i]}")" >>"$json"
  done
  printf '{"tool":"bench.sh","target":"client","phase":"vmrss_after_1M_files","kib":%d}\n' \
    "$(vmrss_kib "$mount_pid")" >>"$json"
  du -sh "$tmp"/server? >&2
fi

# ---- summary -------------------------------------------------------------------
"$repo/scripts/bench_summary.sh" "$json" | tee "$out/summary.md"
exit "$failed"
