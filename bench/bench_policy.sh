#!/usr/bin/env bash
# What a 200-rule policy costs a scan: the same 75,000+-file tree scanned
# under a policy with no rules and under one with 200 rules (globs with and
# without literal prefixes, excludes, every kind), measured in the same run,
# alternating, median of $RUNS. Target: at most +10%.
#
# Tree: bench_dir.sh's (a copy of /usr/share, /usr/include, /usr/lib/gcc).
#   bash bench/bench_policy.sh        (needs a built ./build)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-/var/tmp/vmdrift-bench}
RUNS=${RUNS:-7}
VD=${VD:-$PWD/build/cli/vmdrift}
[ -x "$VD" ] || { echo "bench: build vmdrift first" >&2; exit 2; }
tree=$BENCH_DIR/tree
mkdir -p "$BENCH_DIR"
if [ ! -f "$BENCH_DIR/.tree-ok" ]; then
  echo "building the tree in $tree ..."
  rm -rf "$tree" && mkdir -p "$tree/usr/lib"
  cp -a /usr/share /usr/include "$tree/usr/"
  cp -a /usr/lib/gcc "$tree/usr/lib/"
  touch "$BENCH_DIR/.tree-ok"
fi
entries=$(find "$tree" | wc -l)
echo "tree: $entries entries"

p0=$BENCH_DIR/policy-0.yaml
p200=$BENCH_DIR/policy-200.yaml
printf 'version: 1\nrules: []\n' >"$p0"
{
  echo "version: 1"
  echo "rules:"
  kinds=(watch volatile growing ignore per-clone)
  dirs=$(cd "$tree" && find usr -mindepth 2 -maxdepth 3 -type d | sort | head -150)
  i=0
  # 150 rules on real directories that exist in the tree, spread over it, in
  # sorted order, so most paths are checked against many rules before one matches
  for d in $dirs; do
    k=${kinds[$((i % 5))]}
    echo "  - name: r$i"
    echo "    paths: [\"/$d/**/*.h\", \"/$d/*.[ch]*\", \"/$d/**/doc*/**\"]"
    echo "    exclude: [\"/$d/**/*.orig\"]"
    echo "    kind: $k"
    [ "$k" = per-clone ] && echo "    mode: \"0644\""
    [ "$k" = watch ] && echo "    attrs: perms+content-mtime"
    echo "    severity: $( [ $((i % 2)) = 0 ] && echo medium || echo high)"
    i=$((i + 1))
  done
  # 40 rules with no literal prefix: every path goes through the full glob
  for j in $(seq 0 39); do
    echo "  - name: anywhere$j"
    echo "    paths: [\"/**/*.bak$j\", \"/**/core.$j\"]"
    echo "    severity: low"
    i=$((i + 1))
  done
  # the rest: literal paths that do not exist
  while [ "$i" -lt 200 ]; do
    echo "  - {name: lit$i, paths: [/etc/nonexistent-$i, /opt/app$i/**], severity: high}"
    i=$((i + 1))
  done
} >"$p200"
"$VD" policy check "$p200" | head -1

echo "capturing ..."
"$VD" baseline capture --dir "$tree" -o "$BENCH_DIR/p.vdb" --policy "$p0" -q
find "$tree" -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true

# Each run: wall time, and (VMDRIFT_DEBUG) the time of the compare phase,
# where the rules are applied. The end-to-end difference is within the noise
# of a walk of this tree on this machine (+-0.1 s), so the phase is reported
# too: it is the policy's cost itself.
t0=() t200=() c0=() c200=()
for _ in $(seq "$RUNS"); do
  for p in 0 200; do
    pol=$BENCH_DIR/policy-$p.yaml
    /usr/bin/time -f "%e" -o "$BENCH_DIR/time.out" env VMDRIFT_DEBUG=1 "$VD" scan --baseline "$BENCH_DIR/p.vdb" \
      --dir "$tree" --policy "$pol" --report json:/dev/null 2>"$BENCH_DIR/debug.out" || [ $? -le 1 ]
    t=$(cat "$BENCH_DIR/time.out")
    c=$(awk '/source walked/ { gsub(/s\]/, "", $2); w = $2 } /compared:/ { gsub(/s\]/, "", $2); print $2 - w }' \
      "$BENCH_DIR/debug.out")
    if [ "$p" = 0 ]; then t0+=("$t"); c0+=("$c"); else t200+=("$t"); c200+=("$c"); fi
  done
done
med() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
m0=$(med "${t0[@]}")
m200=$(med "${t200[@]}")
mc0=$(med "${c0[@]}")
mc200=$(med "${c200[@]}")
echo "scan, no rules:   ${t0[*]}  -> median $m0 s (compare phase $mc0 s)"
echo "scan, 200 rules:  ${t200[*]}  -> median $m200 s (compare phase $mc200 s)"
awk -v a="$m0" -v b="$m200" -v x="$mc0" -v y="$mc200" 'BEGIN {
  printf "end to end: %+.1f%%; the rules themselves (compare phase): %+.3f s = %+.1f%% of the scan (target: at most +10%%)\n",
         (b / a - 1) * 100, y - x, (y - x) / a * 100 }'
