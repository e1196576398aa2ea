#!/usr/bin/env bash
# A million files in bounded memory (issue 33, item 1): vmdrift capture and
# scan against AIDE --init and --check on the same tree in the same run,
# wall time and peak RSS of each; and vmdrift's scan holding both lists
# (VMDRIFT_STREAM=0, how every scan ran before streaming) for the ratio.
#
# Tree: $BENCH_DIR/million, 1,000 directories of 1,000 small files, built
# once. AIDE: sha256 and the attributes vmdrift records, num_workers=2.
#
#   bash bench/bench_million.sh        (needs aide, a built ./build; RUNS=1 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-/var/tmp/vmdrift-bench}
RUNS=${RUNS:-1}
VD=${VD:-$PWD/build/cli/vmdrift}
[ -x "$VD" ] || { echo "bench: build vmdrift first (cmake -S . -B build && cmake --build build)" >&2; exit 2; }
command -v aide >/dev/null || { echo "bench: aide is not installed (scripts/setup.sh)" >&2; exit 2; }

tree=$BENCH_DIR/million
mkdir -p "$BENCH_DIR"
if [ ! -f "$BENCH_DIR/.million-ok" ]; then
  echo "building $tree (1,000 x 1,000 files) ..."
  rm -rf "$tree"
  python3 - "$tree" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(1000):
    dp = os.path.join(root, 'd%04d' % d)
    os.makedirs(dp, exist_ok=True)
    for f in range(1000):
        fd = os.open(os.path.join(dp, 'f%04d' % f), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, b'%d %d\n' % (d, f))
        os.close(fd)
PY
  touch "$BENCH_DIR/.million-ok"
fi
echo "tree: $(find "$tree" | wc -l) entries"

cat >"$BENCH_DIR/aide-million.conf" <<CONF
database_in=file:$BENCH_DIR/aide-million.db
database_out=file:$BENCH_DIR/aide-million.db.new
gzip_dbout=no
num_workers=2
report_url=file:$BENCH_DIR/aide-million.report
VDR = p+i+n+u+g+s+m+c+l+sha256+xattrs+ftype
$tree VDR
CONF

echo "warming the page cache ..."
find "$tree" -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true

declare -A T M
# shellcheck source=bench/lib.sh
. bench/lib.sh

echo "timing ($RUNS run(s) each, median):"
run "aide --init"              aide --init -c "$BENCH_DIR/aide-million.conf"
mv "$BENCH_DIR/aide-million.db.new" "$BENCH_DIR/aide-million.db"
run "aide --check"             aide --check -c "$BENCH_DIR/aide-million.conf"
run "vmdrift capture"          "$VD" baseline capture -q --dir "$tree" -o "$BENCH_DIR/million.vdb"
run "vmdrift scan"             "$VD" scan --baseline "$BENCH_DIR/million.vdb" --dir "$tree" --report json:/dev/null
run "vmdrift scan (both lists)" env VMDRIFT_STREAM=0 "$VD" scan --baseline "$BENCH_DIR/million.vdb" --dir "$tree" --report json:/dev/null

echo
echo "targets: capture and scan at most 150 MB (153600 KiB), no slower than before"
printf '  capture: %s KiB peak; %s faster than aide --init (%s KiB)\n' "${M[vmdrift capture]}" \
  "$(ratio "${T[aide --init]}" "${T[vmdrift capture]}")" "${M[aide --init]}"
printf '  scan:    %s KiB peak; %s faster than aide --check (%s KiB)\n' "${M[vmdrift scan]}" \
  "$(ratio "${T[aide --check]}" "${T[vmdrift scan]}")" "${M[aide --check]}"
printf '  scan holding both lists: %s KiB, %s s (streaming: %s of its memory, %s its speed)\n' \
  "${M[vmdrift scan (both lists)]}" "${T[vmdrift scan (both lists)]}" \
  "$(awk -v a="${M[vmdrift scan]}" -v b="${M[vmdrift scan (both lists)]}" 'BEGIN { printf "%.0f%%", 100 * a / b }')" \
  "$(ratio "${T[vmdrift scan (both lists)]}" "${T[vmdrift scan]}")"
