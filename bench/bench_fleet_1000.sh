#!/usr/bin/env bash
# Issue 15's fleet-scale target: 1,000 thin linked clones (qemu-img
# overlays) of the real Debian template (bench_debian.sh's tmpl.qcow2),
# audited by one `vmdrift fleet` run after 50 of them were written to since
# the last run. Same run:
#   1. capture the template's baseline (it records the template image's
#      identity: delta scans and twins need it);
#   2. the first fleet run over the 1,000 fresh clones (clones with nothing
#      written above the template are its twins: one is scanned per worker,
#      the others get its findings);
#   3. 50 clones written to (a file and a mode each, one guestfish session);
#   4. the fleet run again: the time, the launches, and which guests report
#      drift (exactly the 50, each its own change).
#   bash bench/bench_fleet_1000.sh   (needs a built ./build and bench_debian.sh's images; about 15 min)
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
eval "$(bash tests/guest/guestfish.sh --env)"
B=${BENCH_DIR:-/var/tmp/vmdrift-bench-debian}
VD=${VD:-$PWD/build/cli/vmdrift}
N=${BENCH_CLONES:-1000}
C=${BENCH_CHANGED:-50}
[ -x "$VD" ] || { echo "bench: build vmdrift first" >&2; exit 2; }
[ -f "$B/tmpl.qcow2" ] || { echo "bench: run bench/bench_debian.sh first" >&2; exit 2; }
W=$B/fleet1000
rm -rf "$W" && mkdir -p "$W/clones" && mkdir -m 700 "$W/state"
cd "$W"
echo "== capture the template's baseline" >&2
"$VD" baseline capture --image "$B/tmpl.qcow2" --out "$W/tmpl.vdb" >/dev/null 2>>err || [ $? -eq 1 ] # 1: the template breaks its policy
echo "== $N clones" >&2
for i in $(seq -w 1 $N); do qemu-img create -q -f qcow2 -b "$B/tmpl.qcow2" -F qcow2 "clones/c$i.qcow2"; done
cat >fleet.yaml <<EOT
defaults: {baseline: $W/tmpl.vdb}
guests:
  - {name: "g-*", images_glob: "$W/clones/*.qcow2"}
templates: [$B/tmpl.qcow2]
EOT
"$VD" fleet check fleet.yaml >/dev/null
now() { date +%s%N; }
launches() { grep '"event":"summary"' "$1" | grep -c '"appliance":{"started":"launched"' || true; }
fleet() { # out.json
  local s; s=$(now)
  "$VD" fleet --inventory fleet.yaml --state-dir "$W/state" --report json:"$1" --progress never 2>>err || true
  echo $((($(now) - s) / 1000000))
}
echo "== first fleet run" >&2
first_ms=$(fleet first.json)
tail -1 err >&2
# 50 clones spread over the fleet, each written differently, in one session
mapfile -t all < <(ls clones | sort)
step=$((N / C))
pick=()
for k in $(seq 0 $((C - 1))); do pick+=("${all[$((k * step + 3))]}"); done
dev() { local i=$1 s=""; i=$((i + 1)); while [ $i -gt 0 ]; do i=$((i - 1)); s=$(printf "\\$(printf %o $((97 + i % 26)))")$s; i=$((i / 26)); done; echo "/dev/sd$s"; }
{
  echo run
  for k in "${!pick[@]}"; do
    echo "mount $(dev "$k")2 /"
    echo "write /etc/motd \"changed ${pick[$k]}\\n\""
    echo "chmod 0$((4700 + k % 8)) /usr/bin/env"
    echo "umount /"
  done
} >write.gf
args=()
for p in "${pick[@]}"; do args+=(-a "clones/$p"); done
bash "$SRC/tests/guest/guestfish.sh" "${args[@]}" <write.gf
printf "g-%s\n" "${pick[@]%.qcow2}" | sort >changed.txt
echo "== second fleet run ($C of $N written to)" >&2
second_ms=$(fleet second.json)
tail -1 err >&2
grep '"event":"drift"' second.json | grep -o '"guest":"[^"]*"' | sort -u | sed 's/"guest":"//; s/"//' >drifted.txt
modes=$(grep '"event":"summary"' second.json | grep -o '"scan_mode":"[a-z]*"' | sort | uniq -c | tr -s ' ' | tr '\n' ';')
kept=$(grep '"event":"summary"' second.json | grep -c '"unchanged_since"' || true)
walks=$(grep '"event":"summary"' second.json | grep -o '"walk":"[a-z-]*"' | sort | uniq -c | tr -s ' ' | tr '\n' ';')
echo "$N linked clones of the Debian template ($(nproc) CPUs, no KVM; fleet --jobs default)"
awk -v ms="$first_ms" -v n="$(launches first.json)" -v t="$(grep '"event":"summary"' first.json | grep -c '"identical_to_template":true' || true)" \
  'BEGIN { printf "  first run, all fresh:            %7.1f s  %d appliance launches, %d twins\n", ms / 1000, n, t }'
awk -v ms="$second_ms" -v n="$(launches second.json)" -v k="$kept" -v c="$C" \
  'BEGIN { printf "  second run, %d written to:       %7.1f s  %d appliance launches, %d kept reports (issue 33 target: 240 s)\n", c, ms / 1000, n, k }'
echo "  second run's scan modes: $modes delta walks: $walks"
if cmp -s changed.txt drifted.txt; then
  echo "  drift reported by exactly the $(wc -l <changed.txt) guests written to"
else
  echo "  WARNING: drift reported by $(wc -l <drifted.txt) guests, $(wc -l <changed.txt) written to:"
  diff changed.txt drifted.txt | head -10
fi
