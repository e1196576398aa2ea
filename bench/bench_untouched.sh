#!/usr/bin/env bash
# Issue 33's "an untouched guest in milliseconds": N thin linked clones of a
# small template (tests/guest/mkimage.sh), nothing written to any of them.
# Same run, for the vmdrift under test and a reference build (VD_REF, e.g.
# an earlier commit's build/cli/vmdrift), each in a state directory of its
# own:
#   1. capture the template's baseline (one appliance launch);
#   2. a first fleet run (each clone a twin of the template: one scan per
#      worker, the others its findings);
#   3. the second fleet run, timed: every guest its own kept report, no
#      appliance; wall time divided by N, and the qemu-img processes it ran.
#   VD_REF=/path/to/old/vmdrift bash bench/bench_untouched.sh   (N: BENCH_CLONES, default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
VD=${VD:-$PWD/build/cli/vmdrift}
REF=${VD_REF:-}
N=${BENCH_CLONES:-200}
[ -x "$VD" ] || { echo "bench: build vmdrift first" >&2; exit 2; }
W=${BENCH_DIR:-/var/tmp/vmdrift-bench-untouched}
rm -rf "$W" && mkdir -p "$W/clones"
cd "$W"
bash "$SRC/tests/guest/mkimage.sh" "$W/tmpl.img" 2000
for i in $(seq -w 1 "$N"); do qemu-img create -q -f qcow2 -b "$W/tmpl.img" -F raw "clones/c$i.qcow2"; done
cat >fleet.yaml <<EOT
defaults: {baseline: $W/tmpl.vdb}
guests:
  - {name: "g-*", images_glob: "$W/clones/*.qcow2"}
templates: [$W/tmpl.img]
EOT
now() { date +%s%N; }
# one tool's run: capture, a first fleet run, the timed second one
run() { # name vmdrift
  local name=$1 vd=$2 st=$W/state-$1
  rm -rf "$st" && mkdir -m 700 "$st"
  [ -f /var/lib/vmdrift/accel ] && cp /var/lib/vmdrift/accel "$st/" # what this host's KVM does, known
  "$vd" baseline capture -q --image "$W/tmpl.img" --state-dir "$st" -o "$W/tmpl-$name.vdb" 2>>err || [ $? -eq 1 ]
  cp "$W/tmpl-$name.vdb" "$W/tmpl.vdb"
  "$vd" fleet --inventory fleet.yaml --state-dir "$st" --report json:"$W/first-$name.json" --progress never \
    2>>err || true
  local t0 t1 procs
  t0=$(now)
  strace -f -qq -e trace=execve -o "$W/exec-$name.txt" \
    "$vd" fleet --inventory fleet.yaml --state-dir "$st" --report json:"$W/second-$name.json" --progress never \
    2>>err || true
  t1=$(now)
  procs=$(grep 'execve("[^"]*qemu-img"' "$W/exec-$name.txt" | grep -c '= 0$' || true) # started, not PATH lookups
  kept=$(grep '"event":"summary"' "second-$name.json" | grep -c '"unchanged_since"' || true)
  # the untraced time: strace slows every process it follows
  t0=$(now)
  "$vd" fleet --inventory fleet.yaml --state-dir "$st" --report json:"$W/third-$name.json" --progress never \
    2>>err || true
  t1=$(now)
  awk -v n="$N" -v ms=$(((t1 - t0) / 1000000)) -v p="$procs" -v k="$kept" -v name="$name" \
    'BEGIN { printf "  %-10s %7.2f s for %d untouched guests: %6.1f ms a guest, %d kept reports, %d qemu-img runs (%.1f a guest)\n", name, ms / 1000, n, ms / n, k, p, p / n }'
}
echo "$N untouched linked clones of a $(du -h tmpl.img | cut -f1) template ($(nproc) CPUs; fleet --jobs default)"
run vmdrift "$VD"
[ -n "$REF" ] && run reference "$REF"
echo "(target, issue 33: at most 20 ms a guest)"
