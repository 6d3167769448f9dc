#!/usr/bin/env bash
# Installs what sealfs needs, builds it, starts a local cluster of three
# servers on loopback and mounts it. State lives under $SEALFS_HOME
# (default: .sealfs-local in the repository).
#
#   scripts/quickstart.sh          start (restarts a running local cluster)
#   scripts/quickstart.sh stop     unmount and stop the servers
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
HOME_DIR="${SEALFS_HOME:-$REPO/.sealfs-local}"
BUILD="$REPO/build"
MNT="$HOME_DIR/mnt"
BASE_PORT="${SEALFS_BASE_PORT:-7101}"

stop() {
  if mountpoint -q "$MNT" 2>/dev/null; then fusermount3 -u "$MNT" || umount -l "$MNT"; fi
  for f in "$HOME_DIR"/server-*.pid "$HOME_DIR"/mount.pid; do
    [[ -f "$f" ]] || continue
    pid="$(cat "$f")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$f"
  done
}

if [[ "${1:-}" == "stop" ]]; then
  stop
  echo "sealfs: local cluster stopped (state kept in $HOME_DIR)"
  exit 0
elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [stop]" >&2
  exit 2
fi

"$REPO/scripts/install-deps.sh"
cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j "$(nproc)"

stop
mkdir -p "$MNT"
CONFIG="$HOME_DIR/cluster.toml"
# The cluster secret, which sealfs-loader signs membership changes with.
[[ -f "$HOME_DIR/cluster.key" ]] || "$BUILD/bin/sealfs-loader" secret new "$HOME_DIR/cluster.key"
{
  echo "version = 1"
  echo "secret_file = \"cluster.key\""
  for id in 1 2 3; do
    cat <<TOML
[[server]]
id = $id
address = "127.0.0.1"
port = $((BASE_PORT + id - 1))
data_dir = "$HOME_DIR/server-$id"
TOML
  done
} >"$CONFIG"

for id in 1 2 3; do
  "$BUILD/bin/sealfs-server" --config "$CONFIG" --id "$id" >>"$HOME_DIR/server-$id.log" 2>&1 &
  echo $! >"$HOME_DIR/server-$id.pid"
done
# Wait until every server accepts connections.
for id in 1 2 3; do
  port=$((BASE_PORT + id - 1))
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$(cat "$HOME_DIR/server-$id.pid")" 2>/dev/null || {
      echo "sealfs: server $id failed to start; see $HOME_DIR/server-$id.log" >&2
      tail -5 "$HOME_DIR/server-$id.log" >&2
      exit 1
    }
    sleep 0.1
  done
done
"$BUILD/bin/sealfs-mount" --config "$CONFIG" "$MNT" --log-level info -f >>"$HOME_DIR/mount.log" 2>&1 &
echo $! >"$HOME_DIR/mount.pid"
for _ in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.1; done
mountpoint -q "$MNT" || { echo "sealfs: mount failed; see $HOME_DIR/mount.log" >&2; exit 1; }

cat <<MSG
sealfs: a 3-server cluster is running and mounted on $MNT
  cluster file: $CONFIG    logs: $HOME_DIR/*.log
  try:          echo hello > $MNT/greeting && ls -l $MNT && df -h $MNT
                $BUILD/bin/sealfs-loader status $CONFIG
  stop it:      $0 stop
MSG
