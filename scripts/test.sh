#!/usr/bin/env bash
# Runs the whole sealfs test suite: installs what it needs, builds, runs the
# unit and integration tests, then runs them again built with AddressSanitizer
# and UndefinedBehaviorSanitizer.
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
run_suite "$REPO/build-asan" -DCMAKE_BUILD_TYPE=Debug -DSEALFS_SANITIZE=ON
echo "=== sealfs: all tests passed"
