#!/usr/bin/env bash
# vmdrift vs AIDE 0.18 on one directory tree, measured in the same run.
#
# Tree: a copy of /usr/share, /usr/include and /usr/lib/gcc (>= 75,000 entries, >= 1 GB),
# built once under $BENCH_DIR. Page cache is warmed first so that both tools
# are measured on the same (cached) I/O; each command runs $RUNS times and the
# median wall time is used. Peak RSS is the maximum over the runs.
#
# AIDE: sha256, num_workers=2, attributes p+i+n+u+g+s+m+c+l+xattrs+ftype
# (the ones vmdrift records). vmdrift: default xxh3-128, and sha256 too.
#
#   bash bench/bench_dir.sh            (needs: scripts/setup.sh, a built ./build)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-/var/tmp/vmdrift-bench}
RUNS=${RUNS:-3}
VD=${VD:-$PWD/build/cli/vmdrift}
[ -x "$VD" ] || { echo "bench: build vmdrift first (cmake -S . -B build && cmake --build build)" >&2; exit 2; }
command -v aide >/dev/null || { echo "bench: aide is not installed (scripts/setup.sh)" >&2; exit 2; }

tree=$BENCH_DIR/tree
mkdir -p "$BENCH_DIR"
if [ ! -f "$BENCH_DIR/.tree-ok" ]; then
  echo "building the tree in $tree ..."
  rm -rf "$tree" && mkdir -p "$tree/usr"
  mkdir -p "$tree/usr/lib"
  cp -a /usr/share /usr/include "$tree/usr/"
  cp -a /usr/lib/gcc "$tree/usr/lib/"
  touch "$BENCH_DIR/.tree-ok"
fi
entries=$(find "$tree" | wc -l)
bytes=$(du -sb "$tree" | cut -f1)
echo "tree: $entries entries, $((bytes / 1000000)) MB"
[ "$entries" -ge 75000 ] && [ "$bytes" -ge 1000000000 ] || echo "WARNING: tree below 75,000 entries / 1 GB"

cat >"$BENCH_DIR/aide.conf" <<CONF
database_in=file:$BENCH_DIR/aide.db
database_out=file:$BENCH_DIR/aide.db.new
gzip_dbout=no
num_workers=2
report_url=file:$BENCH_DIR/aide.report
VDR = p+i+n+u+g+s+m+c+l+sha256+xattrs+ftype
$tree VDR
CONF

echo "warming the page cache ..."
find "$tree" -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true

declare -A T M
# shellcheck source=bench/lib.sh
. bench/lib.sh

echo "timing ($RUNS runs each, median):"
run "aide --init"       aide --init -c "$BENCH_DIR/aide.conf"
mv "$BENCH_DIR/aide.db.new" "$BENCH_DIR/aide.db"
run "aide --check"      aide --check -c "$BENCH_DIR/aide.conf"
run "vmdrift capture"   "$VD" baseline capture -q --dir "$tree" -o "$BENCH_DIR/x.vdb"
run "vmdrift scan"      "$VD" scan --baseline "$BENCH_DIR/x.vdb" --dir "$tree" --report json:/dev/null
run "vmdrift capture sha256" "$VD" baseline capture -q --hash sha256 --dir "$tree" -o "$BENCH_DIR/s.vdb"
run "vmdrift scan sha256"    "$VD" scan --baseline "$BENCH_DIR/s.vdb" --dir "$tree" --report json:/dev/null

echo
echo "ratios (AIDE time / vmdrift time; target >= 4x with no higher peak RSS):"
printf '  capture vs aide --init : %s  (RSS %s vs %s KiB)\n' "$(ratio "${T[aide --init]}" "${T[vmdrift capture]}")" "${M[vmdrift capture]}" "${M[aide --init]}"
printf '  scan    vs aide --check: %s  (RSS %s vs %s KiB)\n' "$(ratio "${T[aide --check]}" "${T[vmdrift scan]}")" "${M[vmdrift scan]}" "${M[aide --check]}"
printf '  capture sha256 vs init : %s\n' "$(ratio "${T[aide --init]}" "${T[vmdrift capture sha256]}")"
printf '  scan sha256 vs check   : %s\n' "$(ratio "${T[aide --check]}" "${T[vmdrift scan sha256]}")"
