#!/usr/bin/env bash
# Run every libFuzzer target for SECONDS (default 60) each, growing the
# corpora in tests/fuzz/corpus (which the test suite replays). Needs clang.
#   bash scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
CC=clang cmake -S . -B build-fuzz -DVD_FUZZ=ON -DVD_TESTS=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_manifest fuzz_xattrs fuzz_idmap fuzz_baseline fuzz_policy fuzz_config fuzz_imageinfo fuzz_version fuzz_hive fuzz_ntsd fuzz_mask >/dev/null
for t in manifest xattrs idmap baseline policy config imageinfo version hive ntsd mask; do
  echo "== fuzz_$t for ${secs}s"
  mkdir -p "build-fuzz/new-$t"
  "build-fuzz/tests/fuzz_$t" -max_total_time="$secs" -max_len=65536 -print_final_stats=1 \
    "build-fuzz/new-$t" "tests/fuzz/corpus/$t" 2>&1 | grep -E "^(#[0-9]+ *DONE|stat::number_of_executed_units|stat::peak_rss|==[0-9]+==ERROR|SUMMARY)" || true
  # keep a minimal set of new inputs that add coverage
  "build-fuzz/tests/fuzz_$t" -merge=1 "tests/fuzz/corpus/$t" "build-fuzz/new-$t" >/dev/null 2>&1 || true
done
