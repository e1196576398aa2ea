#!/usr/bin/env bash
# A fleet of eight guests: linked clones of the real Debian template
# (bench_debian.sh's tmpl.qcow2, 7,859 files), each with its own drift.
# Same run: eight `vmdrift scan` one after another, against one
# `vmdrift fleet` over an inventory of the eight (--jobs default, and 1).
# Prints wall times, the ratio, and the appliance launches of each.
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
launches() { grep -c '"event":"summary"' "$1" || true; }
s=$(date +%s%N)
: >seq.json
for i in $(seq 1 $N); do
  "$VD" scan --baseline "$B/tmpl.vdb" --image "$F/g$i.qcow2" --allow-backing "$B/tmpl.qcow2" --state-dir "$F/state" \
    --guest "g$i" --report json >>seq.json || true
done
seq_ms=$((($(date +%s%N) - s) / 1000000))
s=$(date +%s%N)
"$VD" fleet --inventory fleet.yaml --state-dir "$F/state" --report json:fleet.json --progress never 2>fleet.err || true
fleet_ms=$((($(date +%s%N) - s) / 1000000))
s=$(date +%s%N)
"$VD" fleet --inventory fleet.yaml --state-dir "$F/state" --report json:fleet1.json --jobs 1 --progress never 2>fleet1.err || true
fleet1_ms=$((($(date +%s%N) - s) / 1000000))
jobs=$(awk '/MemAvailable/ { m = int($2 / 1572864) } END { c = '"$(nproc)"'; print (m < c ? (m ? m : 1) : c) }' /proc/meminfo)
echo "eight linked clones of the Debian template ($(nproc) CPUs; fleet --jobs default = $jobs)"
row() { awk -v w="$1" -v ms="$2" -v n="$3" 'BEGIN { printf "  %-36s %8.1f s   %d appliance launches\n", w, ms / 1000, n }'; }
row "8 x vmdrift scan, one after another" "$seq_ms" "$(launches seq.json)"
row "vmdrift fleet (--jobs $jobs)" "$fleet_ms" "$(grep -c '"event":"summary","scan_id":"[^"]*","guest":"g' fleet.json || true)"
row "vmdrift fleet --jobs 1" "$fleet1_ms" "$(grep -c '"event":"summary","scan_id":"[^"]*","guest":"g' fleet1.json || true)"
awk -v a="$seq_ms" -v b="$fleet_ms" -v c="$fleet1_ms" 'BEGIN { printf "  ratio sequential / fleet: %.2fx (target 3x: %s); sequential / fleet --jobs 1: %.2fx\n", a / b, (a / b >= 3 ? "met" : "NOT met"), a / c }'
echo "  drift per guest (fleet): $(grep -o 'g[0-9]: [a-z]* ([0-9]* events' fleet.err | tr '\n' ' ')"
