#!/usr/bin/env bash
# A fleet of eight guests: linked clones of the real Debian template
# (bench_debian.sh's tmpl.qcow2, 7,859 files), each with its own drift.
# Same run:
#   1. eight `vmdrift scan --full`, one after another (the first audit);
#   2. one `vmdrift fleet --full` over an inventory of the eight (--jobs default);
#   3. `vmdrift fleet` again, nothing changed (each guest's kept report);
#   4. `vmdrift fleet` after two of the eight were written to.
# Prints wall times, ratios, and the appliance launches of each (a scan that
# repeats a kept report launches none).
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
{
  echo "defaults: {baseline: $B/tmpl.vdb}"
  echo "guests:"
  for i in $(seq 1 $N); do echo "  - {name: g$i, images: [$F/g$i.qcow2]}"; done
  echo "templates: [$B/tmpl.qcow2]"
} >fleet.yaml
now() { date +%s%N; }
# appliance launches: scans that did not repeat a kept report
launches() { grep '"event":"summary"' "$1" | grep '"guest":"g' | grep -vc '"unchanged_since"' || true; }
fleet() { # out.json extra-options...
  local out=$1; shift
  "$VD" fleet --inventory fleet.yaml --state-dir "$F/state" --report json:"$out" --progress never "$@" 2>>fleet.err || true
}
s=$(now)
: >seq.json
for i in $(seq 1 $N); do
  "$VD" scan --full --baseline "$B/tmpl.vdb" --image "$F/g$i.qcow2" --allow-backing "$B/tmpl.qcow2" \
    --state-dir "$F/state-seq" --guest "g$i" --report json >>seq.json || true
done
seq_ms=$((($(now) - s) / 1000000))
s=$(now); fleet full.json --full; full_ms=$((($(now) - s) / 1000000))
s=$(now); fleet same.json; same_ms=$((($(now) - s) / 1000000))
for i in 3 6; do qemu-io -f qcow2 -c "write -P 90 65536 512" "g$i.qcow2" >/dev/null; done
s=$(now); fleet two.json; two_ms=$((($(now) - s) / 1000000))
jobs=$(awk '/MemAvailable/ { m = int($2 / 1572864) } END { c = '"$(nproc)"'; print (m < c ? (m ? m : 1) : c) }' /proc/meminfo)
row() { awk -v w="$1" -v ms="$2" -v n="$3" -v ref="$seq_ms" 'BEGIN { printf "  %-44s %7.1f s  %5.2fx  %d launches\n", w, ms / 1000, ref / ms, n }'; }
echo "eight linked clones of the Debian template ($(nproc) CPUs, no KVM; fleet --jobs default = $jobs); ratio: the sequential scans' time over each"
row "8 x vmdrift scan --full, one after another" "$seq_ms" "$(launches seq.json)"
row "vmdrift fleet --full (first audit)" "$full_ms" "$(launches full.json)"
row "vmdrift fleet, nothing changed" "$same_ms" "$(launches same.json)"
row "vmdrift fleet, 2 of 8 written to" "$two_ms" "$(launches two.json)"
cmp <(grep '"event":"drift"' full.json | sed 's/"scan_id":"[^"]*"//' | sort) \
    <(grep '"event":"drift"' same.json | sed 's/"scan_id":"[^"]*"//' | sort) >/dev/null &&
  echo "  the unchanged run's events are the full run's, event for event ($(grep -c '"event":"drift"' full.json) events)" ||
  echo "  WARNING: the unchanged run's events differ from the full run's"
