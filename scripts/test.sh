#!/usr/bin/env bash
# Install dependencies, build with -Werror, run every test; then the same
# suite under AddressSanitizer + UndefinedBehaviorSanitizer.
#   bash scripts/test.sh            all tests, both builds
#   VD_FAST=1 bash scripts/test.sh  the unit tier only (ctest -L unit), one build
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
jobs=$(nproc)

echo "== build (warnings are errors)"
# One state directory for both builds' appliance tests (what they learn about
# this host's KVM is learned once); each appliance test runs in one build
# (tests/CMakeLists.txt, VD_GUEST_SPLIT).
state="$PWD/build/test-state"
split=ON
[ -n "${VD_FAST:-}" ] && split=OFF
cmake -S . -B build -DVD_WERROR=ON -DVD_TESTS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVD_GUEST_SPLIT=$split \
      -DVD_TEST_STATE="$state" >/dev/null
cmake --build build -j"$jobs"

label=()
[ -n "${VD_FAST:-}" ] && label=(-L unit)

echo "== tests"
(cd build && ctest -j2 --no-tests=error --output-on-failure "${label[@]}")

if [ -z "${VD_FAST:-}" ]; then
  echo "== tests under ASan + UBSan"
  cmake -S . -B build-asan -DVD_WERROR=ON -DVD_TESTS=ON -DVD_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
      -DVD_TEST_STATE="$state" >/dev/null
  cmake --build build-asan -j"$jobs"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 ctest -j2 --no-tests=error --output-on-failure)
fi
