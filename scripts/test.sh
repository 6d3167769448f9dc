#!/usr/bin/env bash
# Runs the whole sealfs test suite: installs what it needs, builds, runs the
# unit and integration tests, the integration tests once more with the servers'
# XDP fast path on (SEALFS_TEST_XDP=native), runs the unit and integration tests
# again built with AddressSanitizer and UndefinedBehaviorSanitizer, runs the
# kernel VM tests (vm-test/test-suite: the FUSE BPF hook on the project's
# patched kernel in QEMU; the kernel build is cached under
# ${SEALFS_CACHE:-~/.cache/sealfs}), and, beside the XDP, sanitizer and VM
# tests, the integration suite in the VM with every mount using --bpf.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
JOBS="$(nproc)"

"$REPO/scripts/install-deps.sh"

run_suite() {  # build-dir, extra cmake args...
  local build="$1"
  shift
  echo "=== sealfs: building in $build ($*)"
  cmake -S "$REPO" -B "$build" "$@" >/dev/null
  cmake --build "$build" -j "$JOBS"
  echo "=== sealfs: tests in $build"
  ctest --test-dir "$build" --output-on-failure -j 2 -L unit
  if ctest --test-dir "$build" -N -L integration | grep -q "Total Tests: [1-9]"; then
    ctest --test-dir "$build" --output-on-failure -L integration
  fi
}

run_suite "$REPO/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo

# The VM mounts its own tmpfs on /tmp, /run and /dev/shm, hiding a checkout
# there: run the VM tests from a copy of the sources outside them.
vm_src="$REPO"
case "$REPO" in
  /tmp/* | /run/* | /dev/shm/*)
    vm_src="${SEALFS_CACHE:-$HOME/.cache/sealfs}/vm-src"
    echo "=== sealfs: $REPO is hidden inside the VM; copying the sources to $vm_src"
    rm -rf "$vm_src"
    mkdir -p "$vm_src"
    (cd "$REPO" && git ls-files -z | xargs -0 cp --parents -t "$vm_src")
    cmake -S "$vm_src" -B "$vm_src/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$vm_src/build" -j "$JOBS"
    ;;
esac

# The whole integration suite again on the patched kernel, every mount with the
# BPF cache on; the --bpf tests (hits, coherence across mounts, the 100,000-
# operation stress) run only there. It takes about half an hour of one
# emulated CPU, so it runs in the background (its own process group, stopped
# if this script stops) while the sanitizer build and the hook tests run.
vm_bpf_log="$REPO/build/vm-integration-bpf.log"
echo "=== sealfs: integration tests in the VM, every mount with --bpf (in the background; log: $vm_bpf_log)"
SEALFS_TEST_MOUNT_ARGS=--bpf setsid "$vm_src/tests/vm/run-integration.sh" --timeout 3000 "$vm_src/build" \
  >"$vm_bpf_log" 2>&1 &
vm_bpf_pid=$!
trap 'kill -- "-$vm_bpf_pid" 2>/dev/null || true' EXIT

# The release build's integration suite again with the XDP fast path on: every cluster in
# network namespaces of its own, every server with its XDP program in native mode on its
# veth (SEALFS_TEST_XDP=generic runs it in generic mode). Only here, not in the sanitizer
# build, to keep the time down; it overlaps the VM run started above (about 4
# minutes on 2 cores; the plain suite takes about 2.5).
echo "=== sealfs: integration tests in $REPO/build with the XDP fast path (native mode)"
SEALFS_TEST_XDP=native ctest --test-dir "$REPO/build" --output-on-failure -L integration

run_suite "$REPO/build-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEALFS_SANITIZE=ON

echo "=== sealfs: kernel VM tests"
"$vm_src/vm-test/test-suite" "$vm_src/build"

echo "=== sealfs: waiting for the integration tests in the VM with --bpf"
vm_bpf_status=0
wait "$vm_bpf_pid" || vm_bpf_status=$?
trap - EXIT
cat "$vm_bpf_log"
if ((vm_bpf_status != 0)); then
  echo "=== sealfs: the integration tests in the VM with --bpf failed (status $vm_bpf_status)"
  exit "$vm_bpf_status"
fi
echo "=== sealfs: all tests passed"
