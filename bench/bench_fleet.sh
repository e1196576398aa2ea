#!/usr/bin/env bash
# A fleet of eight guests: linked clones of the real Debian template
# (bench_debian.sh's tmpl.qcow2, 7,859 files), each with its own drift.
# The template's baseline is captured again first (it records the template
# image's identity, for delta scans). Same run:
#   1. eight `vmdrift scan`, one after another (the first audit, by hand);
#   2. `vmdrift fleet` over an inventory of the eight (the first audit:
#      --jobs default, guests sharing appliances);
#   3. the same with --guests-per-appliance 1 (an appliance per guest);
#   4. `vmdrift fleet` again, nothing changed (each guest's kept report);
#   5. `vmdrift fleet` after two of the eight were written to.
# Prints wall times, ratios, and the appliance launches of each (from each
# report's "appliance" field), and checks that the fleet's events are the
# single scans' event for event.
#   bash bench/bench_fleet.sh        (needs a built ./build and bench_debian.sh's images)
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
eval "$(bash tests/guest/guestfish.sh --env)"
B=${BENCH_DIR:-/var/tmp/vmdrift-bench-debian}
VD=${VD:-$PWD/build/cli/vmdrift}
N=8
[ -x "$VD" ] || { echo "bench: build vmdrift first" >&2; exit 2; }
[ -f "$B/tmpl.qcow2" ] && [ -f "$B/tmpl.vdb" ] || { echo "bench: run bench/bench_debian.sh first" >&2; exit 2; }
F=$B/fleet
rm -rf "$F" && mkdir -p "$F/state" && chmod 700 "$F/state"
cd "$F"
args=()
letters=(a b c d e f g h)
for i in $(seq 1 $N); do
  qemu-img create -q -f qcow2 -b "$B/tmpl.qcow2" -F qcow2 "g$i.qcow2"
  args+=(-a "g$i.qcow2")
done
# each clone's own drift, written in one appliance (by device: the clones share UUIDs)
{
  echo run
  for i in $(seq 1 $N); do
    d=/dev/sd${letters[$((i - 1))]}2
    echo "mount $d /"
    echo "write /etc/motd \"guest $i\\n\""
    [ $((i % 2)) -eq 0 ] && echo "write /etc/cron.d/job-$i \"* * * * * root /tmp/x$i\\n\""
    [ $((i % 3)) -eq 0 ] && echo "chmod 04755 /usr/bin/env"
    [ $((i % 4)) -eq 0 ] && echo "upload /bin/true /usr/sbin/.hidden-$i"
    echo "umount /"
  done
} | bash "$SRC/tests/guest/guestfish.sh" "${args[@]}"
echo "== capture the template's baseline" >&2
POL=$SRC/examples/policies/debian.yaml
"$VD" baseline capture --image "$B/tmpl.qcow2" --policy "$POL" --out "$F/tmpl.vdb" >/dev/null 2>>fleet.err || [ $? -eq 1 ] # 1: the template breaks its policy
{
  echo "defaults: {baseline: $F/tmpl.vdb, policy: $POL}"
  echo "guests:"
  for i in $(seq 1 $N); do echo "  - {name: g$i, images: [$F/g$i.qcow2]}"; done
  echo "templates: [$B/tmpl.qcow2]"
} >fleet.yaml
now() { date +%s%N; }
launches() { grep '"event":"summary"' "$1" | grep '"guest":"g' | grep -c '"appliance":{"started":"launched"' || true; }
events() { grep '"event":"drift"' "$1" | sed 's/"scan_id":"[^"]*"//' | sort; }
fleet() { # out.json state-dir extra-options...
  local out=$1 st=$2; shift 2
  mkdir -p -m 700 "$st"
  "$VD" fleet --inventory fleet.yaml --state-dir "$st" --report json:"$out" --progress never "$@" 2>>fleet.err || true
  tail -1 fleet.err >&2
}
echo "== 8 x vmdrift scan" >&2
s=$(now)
: >seq.json
for i in $(seq 1 $N); do
  "$VD" scan --baseline "$F/tmpl.vdb" --policy "$POL" --image "$F/g$i.qcow2" --allow-backing "$B/tmpl.qcow2" \
    --state-dir "$F/state-seq" --guest "g$i" --report json >>seq.json 2>>fleet.err || true
done
seq_ms=$((($(now) - s) / 1000000))
echo "== fleet" >&2
s=$(now); fleet first.json "$F/state"; first_ms=$((($(now) - s) / 1000000))
echo "== fleet --guests-per-appliance 1" >&2
s=$(now); fleet one.json "$F/state-one" --guests-per-appliance 1; one_ms=$((($(now) - s) / 1000000))
echo "== fleet, unchanged" >&2
s=$(now); fleet same.json "$F/state"; same_ms=$((($(now) - s) / 1000000))
for i in 3 6; do qemu-io -f qcow2 -c "write -P 90 65536 512" "g$i.qcow2" >/dev/null; done
echo "== fleet, 2 written to" >&2
s=$(now); fleet two.json "$F/state"; two_ms=$((($(now) - s) / 1000000))
jobs=$(awk '/MemAvailable/ { m = int($2 / 1572864) } END { c = '"$(nproc)"'; print (m < c ? (m ? m : 1) : c) }' /proc/meminfo)
row() { awk -v w="$1" -v ms="$2" -v n="$3" -v ref="$seq_ms" 'BEGIN { printf "  %-50s %7.1f s  %5.2fx  %d launches\n", w, ms / 1000, ref / ms, n }'; }
echo "eight linked clones of the Debian template ($(nproc) CPUs, no KVM; fleet --jobs default = $jobs); ratio: the sequential scans' time over each"
row "8 x vmdrift scan, one after another" "$seq_ms" "$(launches seq.json)"
row "vmdrift fleet (first audit)" "$first_ms" "$(launches first.json)"
row "vmdrift fleet --guests-per-appliance 1 (first audit)" "$one_ms" "$(launches one.json)"
row "vmdrift fleet, nothing changed" "$same_ms" "$(launches same.json)"
row "vmdrift fleet, 2 of 8 written to" "$two_ms" "$(launches two.json)"
echo "  scan modes (first audit): $(grep -o '"scan_mode":"[a-z]*"' first.json | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
n_ev=$(events seq.json | wc -l)
for r in first one same; do
  cmp <(events seq.json) <(events $r.json) >/dev/null &&
    echo "  $r.json: the single scans' $n_ev events, event for event" ||
    echo "  WARNING: $r.json's events differ from the single scans'"
done
