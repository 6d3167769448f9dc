#!/bin/sh
# Tests of sealfs's FUSE BPF cache (userspace/client/bpf_cache.*,
# bpf/sealfs_cache.bpf.c) through BUILD_DIR/tests/vm/bpf_cache_check.  Run
# inside the test VM (vm-test/test-suite does that through vm-test/run); on a
# kernel without the hook it skips (exit 77).
# Exit status: 0 all passed, 1 a test failed, 77 skipped, 2 usage or not built.
set -u

case ${1:-} in
  -h | --help)
    echo "usage: tests/vm/test-bpf-cache.sh BUILD_DIR"
    echo "Runs BUILD_DIR/tests/vm/bpf_cache_check (root, patched kernel, bpftool on PATH)."
    exit 0
    ;;
  "") echo "usage: tests/vm/test-bpf-cache.sh BUILD_DIR" >&2; exit 2 ;;
esac
check=$1/tests/vm/bpf_cache_check
if [ ! -x "$check" ]; then
  echo "SKIP: $check is not built (clang or bpftool were missing at configure time)"
  exit 77
fi
[ -e /dev/fuse ] || { echo "SKIP: /dev/fuse is missing"; exit 77; }
command -v bpftool >/dev/null || PATH=$PATH:/usr/sbin:/sbin
dmesg_start=$(($(dmesg | wc -l) + 1))
"$check"
status=$?
[ "$status" = 77 ] && exit 77
splat=$("$(dirname "$0")/kernel-reports.sh" "$dmesg_start")
if [ -n "$splat" ]; then
  echo "not ok - kernel: BUG, WARNING, KASAN, lockdep or RCU report in dmesg"
  echo "$splat" | sed 's/^/# /'
  exit 1
fi
echo "ok - kernel: no BUG, WARNING, KASAN, lockdep or RCU report in dmesg"
exit "$status"
