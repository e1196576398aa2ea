#!/usr/bin/env bash
# YARA on what changed, measured on the real Debian guest (bench_debian.sh's
# debootstrapped template) with the same rules on both sides of each ratio
# (bench/yara/malware.yar and examples/yara/secrets.yar). Same run:
#   1. a linked clone with a few dozen changed files (a malware file among
#      them): its delta scan with --yara against the same scan without
#      (median of RUNS each, alternated, each with a fresh state directory
#      so no kept report answers; target at most 1.2x);
#   2. every file of the guest's tree matched: vmdrift scan --dir --yara-all
#      (walk, hash and match, one read of each file) against yara -r -p N
#      over the same tree mounted read-only (match only); target: vmdrift
#      at least as fast;
#   3. for the record: scan --yara-all of the guest image itself (an
#      appliance launch and the whole walk included).
#   bash bench/bench_yara.sh     (root; a built ./build; bench_debian.sh's images)
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
eval "$(bash tests/guest/guestfish.sh --env)"
B=${BENCH_DIR:-/var/tmp/vmdrift-bench-debian}
VD=${VD:-$PWD/build/cli/vmdrift}
RUNS=${RUNS:-3}
JOBS=$(nproc)
[ -x "$VD" ] || { echo "bench: build vmdrift first" >&2; exit 2; }
[ -f "$B/tmpl.qcow2" ] && [ -d "$B/root" ] || { echo "bench: run bench/bench_debian.sh first" >&2; exit 2; }
command -v yara >/dev/null || { echo "bench: apt-get install yara" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench: needs root (a read-only bind mount)" >&2; exit 2; }
source bench/lib.sh
declare -A T M

W=$B/yara
BENCH_DIR=$W
MNT=$W/ro
umount "$MNT" 2>/dev/null || true
rm -rf "$W" && mkdir -p "$W/rules" "$MNT"
trap 'umount "$MNT" 2>/dev/null; true' EXIT
cp bench/yara/malware.yar examples/yara/secrets.yar "$W/rules/"
POL=$SRC/examples/policies/debian.yaml

echo "template: $(find "$B/root" -xdev -type f | wc -l) files, $(du -sm "$B/root" | cut -f1) MB; rules: $(grep -c '^rule' "$W"/rules/*.yar | paste -sd' ')"
echo "capture of the template image (once) ..."
"$VD" baseline capture -q --image "$B/tmpl.qcow2" -o "$W/tmpl.vdb" --policy "$POL" --accel tcg >/dev/null 2>"$W/capture.err" ||
  [ $? -le 1 ] || { cat "$W/capture.err"; exit 3; }

# the clone: a thin overlay, a few dozen files written as a guest would
qemu-img create -q -f qcow2 -b "$B/tmpl.qcow2" -F qcow2 "$W/clone.qcow2"
printf 'X5O!P%%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\n' >"$W/eicar"
{
  echo "write /etc/hostname \"web-07\\n\""
  echo "upload $W/eicar /usr/local/bin/update-helper"
  echo "upload /usr/bin/qemu-img /usr/local/bin/qemu-img"
  for f in /usr/bin/python3.11 /usr/bin/perl /usr/bin/gdb /usr/bin/vim.basic; do
    [ -f "$f" ] && echo "upload $f /opt/$(basename "$f")"
  done
  for i in $(seq 1 30); do echo "write /etc/app-$i.conf \"listen = $i\\n\""; done
  echo "write-append /etc/hosts \"10.0.0.7 db\\n\""
} | bash tests/guest/guestfish.sh -a "$W/clone.qcow2" -i

# a scan with a state directory of its own: never a kept report
cat >"$W/fresh" <<'SH'
#!/bin/bash
d=$(mktemp -d -p "$(dirname "$0")"); chmod 700 "$d"
"$@" --state-dir "$d"; rc=$?; rm -rf "$d"; exit $rc
SH
chmod +x "$W/fresh"
fresh() { "$W/fresh" "$@"; }
echo "1. delta scan of the clone, with and without --yara (median of $RUNS, alternated):"
declare -a a b
for i in $(seq "$RUNS"); do
  RUNS=1 run "delta" "$W/fresh" "$VD" scan --baseline "$W/tmpl.vdb" --image "$W/clone.qcow2" --policy "$POL" --accel tcg \
    --report "json:$W/plain.json"
  a+=("${T[delta]}")
  RUNS=1 run "delta --yara" "$W/fresh" "$VD" scan --baseline "$W/tmpl.vdb" --image "$W/clone.qcow2" --policy "$POL" \
    --accel tcg --yara "$W/rules" --report "json:$W/yara.json"
  b+=("${T[delta --yara]}")
done
med() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
T[delta]=$(med "${a[@]}")
T[delta_yara]=$(med "${b[@]}")
grep -q '"scan_mode":"delta"' "$W/yara.json" || { echo "bench: the clone's scan was no delta scan"; exit 3; }
grep -q '"change":"malware"' "$W/yara.json" || { echo "bench: the planted malware was not found"; exit 3; }
echo "   yara summary: $(grep '"event":"summary"' "$W/yara.json" | sed 's/.*"yara":\({[^}]*}\).*/\1/')"
echo "   drift events: without $(grep -c '"event":"drift"' "$W/plain.json"), with $(grep -c '"event":"drift"' "$W/yara.json")"

echo "2. every file of the tree, read-only bind mount of the debootstrapped root:"
mount --bind "$B/root" "$MNT" && mount -o remount,bind,ro "$MNT"
"$VD" baseline capture -q --dir "$MNT" -o "$W/tree.vdb" --policy "$POL" >/dev/null 2>&1 || [ $? -le 1 ]
cat "$MNT"/usr/bin/* >/dev/null 2>&1 || true # both sides from a warm page cache
run "vmdrift --yara-all" "$VD" scan --baseline "$W/tree.vdb" --dir "$MNT" --policy "$POL" --yara "$W/rules" --yara-all \
  --report "json:$W/all.json"
run "yara -r -p $JOBS" yara -r -N -w -p "$JOBS" -d filepath= -d filename= -d extension= "$W/rules/malware.yar" \
  "$W/rules/secrets.yar" "$MNT"
echo "   vmdrift: $(grep '"event":"summary"' "$W/all.json" | sed 's/.*"yara":\({[^}]*}\).*/\1/')"
echo "   matches: vmdrift $(grep -cE '"change":"(malware|secret)"' "$W/all.json"), yara $(yara -r -N -w -p "$JOBS" -d filepath= -d filename= -d extension= "$W/rules/malware.yar" "$W/rules/secrets.yar" "$MNT" 2>/dev/null | wc -l) (yara's filename externals are empty: its .netrc and .pgpass rules cannot match)"

echo "3. for the record: --yara-all of the guest image (appliance launch, whole walk):"
RUNS=1 run "image --yara-all" "$W/fresh" "$VD" scan --baseline "$W/tmpl.vdb" --image "$W/clone.qcow2" --policy "$POL" \
  --accel tcg --yara "$W/rules" --yara-all --full --report "json:$W/img-all.json"
echo "   $(grep '"event":"summary"' "$W/img-all.json" | sed 's/.*"yara":\({[^}]*}\).*/\1/')"

r2() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }'; }
echo "ratios:"
printf '  delta --yara / delta           : %s (target <= 1.2x)\n' "$(r2 "${T[delta_yara]}" "${T[delta]}")"
printf '  vmdrift --yara-all / yara -r   : %s (target <= 1.0x: vmdrift walks, hashes and matches in one read)\n' \
  "$(r2 "${T[vmdrift --yara-all]}" "${T[yara -r -p $JOBS]}")"
