#!/usr/bin/env bash
# Runs the integration suite (BUILD_DIR/bin/sealfs_integration_tests) inside the
# test VM on the project's patched kernel (vm-test/run), passing
# SEALFS_TEST_MOUNT_ARGS and the suite's other settings through.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

usage() {
  cat <<USAGE
usage: tests/vm/run-integration.sh [--debug] [--mem MIB] [--timeout SECONDS] BUILD_DIR [GTEST_ARG...]
Boots the test VM (vm-test/run: the patched Linux 6.12, KVM if it works on this
host, TCG otherwise) and runs BUILD_DIR/bin/sealfs_integration_tests in it as
root, in one process, with GTEST_ARG... (e.g. --gtest_filter='RenameTest.*').
Exits with the suite's status (124 if the VM timed out, 125 if it failed).
  --debug            the debug kernel (KASAN, lockdep, PROVE_RCU); much slower
  --mem MIB          guest memory (default 3072, 4096 with --debug); the
                     clusters' data lives in the guest's tmpfs /dev/shm
  --timeout SECONDS  kill the VM after this long (default 2400)
  -h, --help         show this help
Passed into the VM when set: SEALFS_TEST_MOUNT_ARGS (extra sealfs-mount
arguments), SEALFS_TEST_SEED, SEALFS_TEST_TMPDIR, SEALFS_TEST_LOCAL_DIR,
SEALFS_BIN_DIR (see tests/integration/README.md).
BUILD_DIR must not be under /tmp, /run or /dev/shm: the VM covers them with its
own tmpfs.
USAGE
}

# In the guest (vm-test/run runs this script again with --in-guest): prepare the
# environment the suite needs, then run it.
in_guest() {
  local build=$1
  shift
  [[ $(id -u) == 0 ]] || { echo "run-integration: needs root in the VM" >&2; exit 2; }
  [[ -c /dev/fuse ]] || { echo "run-integration: /dev/fuse is missing in the VM" >&2; exit 2; }
  [[ -u /usr/bin/fusermount3 ]] || { echo "run-integration: /usr/bin/fusermount3 is missing" >&2; exit 2; }
  [[ $(cat /sys/class/net/lo/operstate) != down ]] || ip link set lo up  # guest-init does it
  # guest-init's tmpfs gets the kernel's default, half the memory; the servers'
  # LevelDB and chunk files live there (SEALFS_TEST_TMPDIR, default /dev/shm).
  mount -o remount,size=90% /dev/shm
  echo "run-integration: kernel $(uname -r), $(nproc) CPUs, $(free -m | awk '/^Mem:/ {print $2}') MiB," \
    "/dev/shm $(df -m --output=size /dev/shm | tail -1 | tr -d ' ') MiB," \
    "SEALFS_TEST_MOUNT_ARGS='${SEALFS_TEST_MOUNT_ARGS:-}'"
  exec "$build/bin/sealfs_integration_tests" "$@"
}

if [[ ${1:-} == --in-guest ]]; then
  shift
  in_guest "$@"
fi

vm_args=()
mem=
timeout=2400
while (($#)); do
  case $1 in
    --debug) vm_args+=(--debug) ;;
    --mem) mem=$2; shift ;;
    --timeout) timeout=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "run-integration: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
(($#)) || { usage >&2; exit 2; }
[[ -n $mem ]] || { ((${#vm_args[@]})) && mem=4096 || mem=3072; }
build=$(cd "$1" && pwd) || exit 2
shift
[[ -x $build/bin/sealfs_integration_tests ]] ||
  { echo "run-integration: $build/bin/sealfs_integration_tests is not built" >&2; exit 2; }
case $build/ in
  /tmp/* | /run/* | /dev/shm/*)
    echo "run-integration: $build is hidden inside the VM, which mounts its own tmpfs on /tmp, /run and /dev/shm; use a build directory elsewhere" >&2
    exit 2
    ;;
esac

# The guest starts with a clean environment: hand the suite's settings over.
env_args=()
for var in SEALFS_TEST_MOUNT_ARGS SEALFS_TEST_SEED SEALFS_TEST_TMPDIR SEALFS_TEST_LOCAL_DIR SEALFS_BIN_DIR; do
  [[ -n ${!var+set} ]] && env_args+=("$var=${!var}")
done

exec "$root/vm-test/run" "${vm_args[@]}" --mem "$mem" --timeout "$timeout" -- \
  env "${env_args[@]}" "$here/run-integration.sh" --in-guest "$build" "$@"
