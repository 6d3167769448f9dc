#!/bin/sh
# FUSE BPF hook tests.  Run inside the test VM (vm-test/test-suite does that
# through vm-test/run); on a kernel without the hook they skip (exit 77).
# Usage: tests/vm/test-hook.sh BUILD_DIR   (BUILD_DIR/tests/vm holds hookfs and
# the *.bpf.o programs).  Exit status: 0 all passed, 1 a test failed, 77 skipped.
set -u

usage() {
  echo "usage: tests/vm/test-hook.sh BUILD_DIR"
  echo "Runs the FUSE BPF hook tests against BUILD_DIR/tests/vm/{hookfs,*.bpf.o}."
  echo "Needs root and the patched kernel (vm-test/run); skips with exit 77 elsewhere."
}
case ${1:-} in
  -h | --help) usage; exit 0 ;;
  "") usage >&2; exit 2 ;;
esac
bin=$1/tests/vm
hookfs=$bin/hookfs

fails=0
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() {  # check DESCRIPTION COMMAND...: passes when COMMAND succeeds
  desc=$1
  shift
  if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
skip_all() { echo "SKIP: $1"; exit 77; }

[ "$(id -u)" = 0 ] || skip_all "needs root (mounts FUSE file systems, loads BPF)"
[ -x "$hookfs" ] || { echo "error: $hookfs not built" >&2; exit 2; }
[ -e /dev/fuse ] || skip_all "/dev/fuse is missing"
if ! bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null |
  grep -q "STRUCT 'fuse_bpf_ops'"; then
  skip_all "the running kernel ($(uname -r)) lacks the FUSE BPF hook (no struct fuse_bpf_ops in its BTF); run this through vm-test/run"
fi

work=$(mktemp -d /tmp/test-hook.XXXXXX)
chmod 755 "$work"  # the uid 1234 test must reach the mounts
pids=""
cleanup() {
  for m in "$work"/mnt/*; do
    grep -q " $m fuse" /proc/mounts && { fusermount3 -u "$m" 2>/dev/null || umount -l "$m"; }
  done
  for p in $pids; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
dmesg_start=$(dmesg | wc -l)

# start_fs NAME [BPF_OBJECT]: mounts hookfs on $work/mnt/NAME; sets $fs_pid.
start_fs() {
  mkdir -p "$work/mnt/$1"
  rm -f "$work/$1.stats"
  if [ $# -gt 1 ]; then
    "$hookfs" --bpf "$2" --stats "$work/$1.stats" "$work/mnt/$1" 2>"$work/$1.err" &
  else
    "$hookfs" --stats "$work/$1.stats" "$work/mnt/$1" 2>"$work/$1.err" &
  fi
  fs_pid=$!
  pids="$pids $fs_pid"
  for _ in $(seq 100); do
    grep -q "^bpf_attached" "$work/$1.stats" 2>/dev/null && return 0
    kill -0 "$fs_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "# hookfs $1 did not start: $(cat "$work/$1.err")"
  return 1
}

# count NAME KEY...: a counter from hookfs NAME's stats file
count() {
  f=$work/$1.stats
  shift
  awk -v k="$*" '{ v = $NF; $NF = ""; sub(/ $/, ""); if ($0 == k) print v }' "$f"
}

# stat_is PATH EXPECTED: `stat -c '%s %i %a %u %g %h' PATH` prints EXPECTED
stat_is() {
  got=$(stat -c '%s %i %a %u %g %h' "$1" 2>&1)
  [ "$got" = "$2" ] || { echo "# stat $1: got '$got', want '$2'"; return 1; }
}

# stat_fails PATH MESSAGE: stat PATH fails with the strerror text MESSAGE
stat_fails() {
  got=$(stat "$1" 2>&1) && { echo "# stat $1 succeeded"; return 1; }
  case $got in
    *"$2"*) return 0 ;;
    *) echo "# stat $1: got '$got', want '$2'"; return 1 ;;
  esac
}

dmesg_has() { dmesg | tail -n +"$dmesg_start" | grep -q -- "$1"; }

daemon_silent() {  # daemon_silent NAME: nothing unknown reached hookfs NAME
  [ "$(count "$1" lookup_other)" = 0 ] && [ "$(count "$1" getattr_other)" = 0 ]
}

start_fs a "$bin/hook_test.bpf.o" || exit 1
a_pid=$fs_pid
start_fs b || exit 1
A=$work/mnt/a
B=$work/mnt/b

# Answered LOOKUP and GETATTR never reach the daemon; stat sees the program's
# attributes.  Timeouts are zero, so each stat asks again.
for _ in 1 2 3; do stat "$A/bpf_file" >/dev/null; done
check "answered: stat sees the attributes the program returned" \
  stat_is "$A/bpf_file" "4242 1000 640 4321 8765 7"
check "answered: mtime, ctime and blocks are the program's too" \
  test "$(stat -c '%Y %Z %b' "$A/bpf_file")" = "1700000000 1700000000 9"
check "answered: no LOOKUP or GETATTR reached the daemon" daemon_silent a

check "forwarded: stat sees the daemon's attributes" stat_is "$A/fwd_file" "11 2 644 0 0 1"
check "forwarded: the daemon counted the LOOKUP" test "$(count a lookup fwd_file)" -ge 1
check "forwarded: the daemon counted the GETATTR" test "$(count a getattr fwd_file)" -ge 1

check "error: -EACCES from lookup reaches the caller" stat_fails "$A/eacces_file" "Permission denied"
check "error: the daemon never saw that LOOKUP" test "$(count a lookup eacces_file)" = 0
check "error: -EPERM from getattr reaches the caller" \
  stat_fails "$A/bpf_errattr" "Operation not permitted"

check "out of range: return 7 is refused and the daemon answers" \
  stat_is "$A/badret_file" "11 4 644 0 0 1"
check "out of range: the kernel logged the refusal" dmesg_has "returned 7 from lookup"
check "out of range: return -5000 is refused and the daemon answers" \
  stat_is "$A/badneg_file" "11 5 644 0 0 1"
check "out of range: the kernel logged -5000" dmesg_has "returned -5000 from lookup"
check "answered without a reply: refused, the daemon answers" \
  stat_is "$A/noreply_file" "11 6 644 0 0 1"

check "wrong size: bpf_fuse_reply_entry refuses sizeof-8 (program saw -EINVAL)" \
  stat_fails "$A/badsize_file" "Invalid or incomplete multibyte or wide character"
check "wrong size: nothing was answered from the short reply" \
  test "$(count a lookup badsize_file)" = 0
check "wrong size: bpf_fuse_reply_attr refuses sizeof-4 (program saw -EINVAL)" \
  stat_fails "$A/bpf_badattr" "Invalid or incomplete multibyte or wide character"

out=$(sh -c 'echo $$; exec stat -c "%s %u %g" "$1"' sh "$A/whoami" | tr '\n' ' ')
check "context: the program sees the caller's pid, uid and gid" \
  test "$out" = "$(echo "$out" | cut -d' ' -f1) $(echo "$out" | cut -d' ' -f1) 0 0 "
out=$(setpriv --reuid=1234 --regid=99 --clear-groups \
  sh -c 'echo $$; exec stat -c "%s %u %g" "$1"' sh "$A/whoami" | tr '\n' ' ')
check "context: uid 1234 gid 99 are seen as such" \
  test "$out" = "$(echo "$out" | cut -d' ' -f1) $(echo "$out" | cut -d' ' -f1) 1234 99 "

# RCU-walk: the program answers rcu_file and rcu_grown only when asked during
# RCU-walk revalidation.  The first stat creates the dentry through the daemon
# (ref-walk); the next ones are confirmed in RCU mode, never reaching it.
for _ in 1 2 3 4; do stat "$A/rcu_file" "$A/rcu_grown" >/dev/null; done
check "rcu-walk: confirmed dentries cost the daemon no LOOKUP" \
  test "$(count a lookup rcu_file) $(count a lookup rcu_grown)" = "1 1"
getattrs=$(count a getattr rcu_file)
check "rcu-walk: attributes needing no page cache work are applied" \
  stat_is "$A/rcu_file" "11 8 600 0 0 1"
check "rcu-walk: and serve for their validity without GETATTR" \
  test "$(count a getattr rcu_file)" = "$getattrs"
check "rcu-walk: a new size (page cache work) is not applied there" \
  stat_is "$A/rcu_grown" "11 9 644 0 0 1"

check "isolation: the other mount's LOOKUP goes to its daemon" \
  stat_fails "$B/bpf_file" "No such file or directory"
check "isolation: the other daemon counted it" test "$(count b lookup_other)" -ge 1
check "isolation: -EACCES of mount a does not apply to mount b" \
  stat_is "$B/eacces_file" "11 3 644 0 0 1"
check "still answered after all that" daemon_silent a

# FORGET: the daemon must be told to forget exactly the lookups it answered;
# the BPF-answered inode 1000 must not produce a FORGET.
echo 2 >/proc/sys/vm/drop_caches
forgets_ok() {
  want=$(($(count a lookup_total) - $(count a lookup_other)))
  for _ in $(seq 50); do
    [ "$(count a forget_total)" = "$want" ] && return 0
    sleep 0.1
  done
  echo "# forget_total $(count a forget_total), want $want"
  return 1
}
check "forget: FORGET counts match the daemon's own replies" forgets_ok

mkdir -p "$work/mnt/x"
check "verifier: a reply buffer smaller than its size is rejected at load" \
  sh -c '! "$1" --bpf "$2" "$3" 2>"$4" && grep -q "memory, len pair leads to invalid memory access" "$4"' \
  sh "$hookfs" "$bin/oversize.bpf.o" "$work/mnt/x" "$work/oversize.err"
check "verifier: other struct_ops types cannot call the hook's kfuncs" \
  sh -c '! bpftool struct_ops register "$1" >"$2" 2>&1 && grep -q "calling kernel function bpf_fuse_lookup_name is not allowed" "$2"' \
  sh "$bin/foreign.bpf.o" "$work/foreign.err"
check "attach: a second program on the same connection is refused" \
  sh -c '! "$1" --bpf "$2" --bpf "$3" "$4" 2>"$5" && grep -q "already attached to this connection" "$5"' \
  sh "$hookfs" "$bin/hook_test.bpf.o" "$bin/forward.bpf.o" "$work/mnt/x" "$work/second.err"

# Detach by closing the link: later requests go to the daemon.
kill -USR1 "$a_pid"
detached() {
  for _ in $(seq 50); do
    [ "$(count a bpf_attached)" = 0 ] && return 0
    sleep 0.1
  done
  return 1
}
check "detach: hookfs closed its link" detached
check "detach: LOOKUP goes to the daemon again" stat_fails "$A/bpf_file" "No such file or directory"
check "detach: the daemon counted it" test "$(count a lookup_other)" -ge 1
check "detach: -EACCES no longer applies" stat_is "$A/eacces_file" "11 3 644 0 0 1"
kill "$a_pid"
wait "$a_pid"

# Daemon killed with -9 while requests are in flight on both paths.
start_fs c "$bin/hook_test.bpf.o" || exit 1
c_pid=$fs_pid
C=$work/mnt/c
loops=""
for i in 1 2 3 4; do
  (while :; do stat "$C/bpf_file" "$C/fwd_file" >/dev/null 2>&1; done) &
  loops="$loops $!"
done
pids="$pids $loops"
sleep 2
kill -9 "$c_pid"
sleep 1
for p in $loops; do kill "$p"; done
wait $loops 2>/dev/null
check "kill -9: the dead daemon's mount reports ENOTCONN" \
  stat_fails "$C/bpf_file" "Transport endpoint is not connected"
fusermount3 -u "$C" 2>/dev/null || umount -l "$C"
start_fs c || exit 1
check "kill -9: a new daemon on the same path gets the LOOKUP" \
  stat_fails "$C/bpf_file" "No such file or directory"
check "kill -9: and counts it" test "$(count c lookup_other)" -ge 1
maps_gone() {
  for _ in $(seq 50); do
    bpftool map list | grep -q "struct_ops.*name hook_test_ops" || return 0
    sleep 0.1
  done
  return 1
}
check "kill -9: the dead daemon's struct_ops map was freed" maps_gone

splat=$("$(dirname "$0")/kernel-reports.sh" "$dmesg_start")
check "kernel: no BUG, WARNING, KASAN, lockdep or RCU report in dmesg" test -z "$splat"
[ -z "$splat" ] || echo "$splat" | sed 's/^/# /'

echo "1..$n"
[ "$fails" = 0 ] || { echo "FAIL: $fails of $n FUSE BPF hook tests failed"; exit 1; }
echo "PASS: $n FUSE BPF hook tests"
