#!/usr/bin/env bash
# vmdrift on guest images vs the libguestfs reference tools, in one run.
#
# big image: a Debian-like root with a copy of /usr/share (>= 50,000 files).
# small image: the same skeleton with ~5,000 files, for virt-diff (one
# guestfs_checksum call per file per image makes it too slow for the big one).
#
# Timed (wall seconds, one run each: every command launches its own appliance):
#   launch      guestfish --ro -i exit           appliance launch + inspection + mounts
#   capture     vmdrift baseline capture          (walker strategy, default)
#   scan        vmdrift scan                      (walker; files of 4 KiB or more hashed on the host)
#   scan-appl   vmdrift scan --hash-in appliance  (every file hashed in the appliance: the scan before host hashing)
#   scan-quick  vmdrift scan --quick
#   scan-api    vmdrift scan --strategy api       (lstatnslist/lxattrlist/readlinklist + pread, host hashing)
#   tar-out     guestfish -i tar-out / - | wc -c  (strategy b's floor: the stream alone, no parse, no hash)
#   checksums   guestfish -i checksums-out sha256 /
#   virt-diff   virt-diff --checksum=sha256 (small image, template vs clone)
#
#   bash bench/bench_guest.sh        (after a build; BENCH_DIR to relocate, SKIP_SLOW=1 skips api/tar/virt-diff)
set -euo pipefail
cd "$(dirname "$0")/.."
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
# a host whose KVM aborts qemu: everything here (vmdrift and guestfish alike) under emulation
eval "$(bash tests/guest/guestfish.sh --env)"
BENCH_DIR=${BENCH_DIR:-/var/tmp/vmdrift-bench-guest}
VD=${VD:-$PWD/build/cli/vmdrift}
[ -x "$VD" ] || { echo "bench: build vmdrift first" >&2; exit 2; }
mkdir -p "$BENCH_DIR"
cd "$BENCH_DIR"

mkimg() { # name extra-files source-dirs...
  local name=$1 n=$2; shift 2
  [ -f "$name.ok" ] && return
  bash "$OLDPWD/tests/guest/mkimage.sh" "$name.img" 10
  rm -f "$name.img"
  local root=$name.img.root
  mkdir -p "$root/usr/share/bulk"
  for d in "$@"; do cp -a "$d" "$root/usr/share/bulk/"; done
  local mb=$(( $(du -sm "$root" | cut -f1) * 13 / 10 + 64 ))
  truncate -s "$((mb + 40))M" "$name.img"
  printf 'label: dos\nstart=2048, size=65536, type=83\nstart=67584, type=83\n' | sfdisk -q "$name.img"
  mke2fs -q -F -t ext4 -b 4096 -U 7e0a5b8e-6c2d-4b8e-9d35-2f1b0e6a0b01 -d "$name.img.boot" -E offset=$((2048 * 512)) "$name.img" 32M
  mke2fs -q -F -t ext4 -b 4096 -U 3c1f7d52-95b4-4e0e-8c7a-0d2f5e9b7a11 -d "$root" -E offset=$((67584 * 512)) "$name.img" "${mb}M"
  touch "$name.ok"
}
echo "building images in $BENCH_DIR ..."
mkimg big 0 /usr/share
mkimg small 0 /usr/share/zoneinfo /usr/share/perl /usr/share/man/man3 /usr/share/i18n /usr/share/man/man8
for n in big small; do
  printf '  %-6s %7d files, %5d MB\n' "$n" "$(find "$n.img.root" "$n.img.boot" -type f | wc -l)" "$(du -sm "$n.img.root" | cut -f1)"
done
# Clones: qcow2 overlays with a few changes, as a drifted guest would have.
for n in big small; do
  rm -f "$n-clone.qcow2"
  qemu-img create -q -f qcow2 -b "$n.img" -F raw "$n-clone.qcow2"
  guestfish -a "$n-clone.qcow2" -i <<'GF'
write /etc/ssh/sshd_config "PermitRootLogin yes\n"
chmod 04755 /bin/cat
upload /bin/true /usr/sbin/.hidden
GF
done

declare -A T
t() { # name cmd...
  local name=$1; shift
  local s e
  s=$(date +%s.%N)
  "$@" >"$name.out" 2>"$name.err" || { rc=$?; [ "$rc" -le 1 ] || { echo "$name failed ($rc)"; cat "$name.err"; exit 3; }; }
  e=$(date +%s.%N)
  T[$name]=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f", e - s }')
  printf '  %-22s %7s s\n' "$name" "${T[$name]}"
}
echo "timing (one run each):"
t launch            guestfish --ro -a big.img -i exit
t capture           "$VD" baseline capture -q --image big.img -o big.vdb
t scan              "$VD" scan --baseline big.vdb --image big-clone.qcow2 --report json:scan.json
t scan-appl         "$VD" scan --baseline big.vdb --image big-clone.qcow2 --report json:appl.json --hash-in appliance
t scan-quick        "$VD" scan --baseline big.vdb --image big-clone.qcow2 --quick --report json:quick.json
t checksums         guestfish --ro -a big.img -i checksums-out sha256 / /dev/null
if [ -z "${SKIP_SLOW:-}" ]; then
  t scan-api        "$VD" scan --baseline big.vdb --image big-clone.qcow2 --strategy api --report json:api.json
  t tar-out         sh -c 'guestfish --ro -a big.img -i tar-out / - | wc -c'
  t small-capture   "$VD" baseline capture -q --image small.img -o small.vdb
  t small-scan      "$VD" scan --baseline small.vdb --image small-clone.qcow2 --report json:small.json
  t virt-diff       virt-diff --checksum=sha256 -a small.img -A small-clone.qcow2
fi
r() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }'; }
echo
echo "drift found: scan $(grep -c '"event":"drift"' scan.json), appl $(grep -c '"event":"drift"' appl.json), quick $(grep -c '"event":"drift"' quick.json)"
phases() { grep '"event":"summary"' "$1" | sed 's/.*"phases_ms":\({[^}]*}\).*/\1/'; }
echo "phases (ms): scan      $(phases scan.json)"
echo "             scan-appl $(phases appl.json)"
echo "hashing: $(grep '"event":"summary"' scan.json | sed 's/.*"hashing":\({.*}\)}$/\1/')"
want=$(find big.img.root big.img.boot -xdev -type f -size +4095c -printf '%s %b\n' | awk '{ a = $1; b = $2 * 512; s += (b < a ? b : a) } END { print s }')
printf 'host bytes read: %s; data of the files of 4 KiB or more: %s\n' \
  "$(grep '"event":"summary"' scan.json | sed 's/.*"host_bytes_read":\([0-9]*\).*/\1/')" "$want"
echo "ratios:"
printf '  scan vs checksums-out      : %s faster (target >= 1.5x)\n' "$(r "${T[checksums]}" "${T[scan]}")"
printf '  scan vs scan-appl          : %s faster (host hashing; target >= 2x over the full scan before it)\n' "$(r "${T[scan-appl]}" "${T[scan]}")"
printf '  scan-quick / launch+inspect: %s (target <= 1.3x)\n' "$(r "${T[scan-quick]}" "${T[launch]}")"
if [ -z "${SKIP_SLOW:-}" ]; then
  printf '  small scan vs virt-diff    : %s faster (target >= 3x)\n' "$(r "${T[virt-diff]}" "${T[small-scan]}")"
  printf '  walker scan vs api scan    : %s faster\n' "$(r "${T[scan-api]}" "${T[scan]}")"
  printf '  walker scan vs tar-out floor: %s faster\n' "$(r "${T[tar-out]}" "${T[scan]}")"
fi
