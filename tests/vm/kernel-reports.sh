#!/bin/sh
# Prints the kernel's reports of trouble (BUG, WARNING, KASAN, lockdep, RCU,
# Oops, refcount) in dmesg from line FIRST on (default 1); prints nothing when
# there are none.  Used by the tests in tests/vm after they ran.
dmesg | tail -n +"${1:-1}" |
  grep -E "BUG:|WARNING:|KASAN|possible recursive locking|circular locking|suspicious RCU|Oops|general protection|refcount_t"
exit 0
