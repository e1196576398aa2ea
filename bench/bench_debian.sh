#!/usr/bin/env bash
# vmdrift on a REAL Debian guest: a template debootstrapped from Debian's
# archive (bookworm, the default variant: dpkg database, real packages and
# configuration), made into a two-partition qcow2 disk, and a linked clone
# with a few changes, as an operator's template and guest would be.
#
# Timed in one run (wall seconds; every command launches its own appliance):
#   launch+inspect   guestfish --ro -a clone -i exit
#   checksums-out    guestfish --ro -a clone -i checksums-out sha256 /   (inspects, then hashes: nothing more)
#   checksums-out-m  the same with the file systems named (-m), no inspection: the stricter reference
#   capture          vmdrift baseline capture of the template
#   scan             vmdrift scan of the clone (default: mounted from the baseline's layout, content
#                    of files of 4 KiB or more hashed on the host)
#   scan-appl        vmdrift scan --hash-in appliance (every file hashed in the appliance: before)
#   scan-full        vmdrift scan --full-inspection
# and, from the scan's own JSON summary, where its time went (phases_ms).
#
#   bash bench/bench_debian.sh     (as root, after a build; BENCH_DIR to relocate; needs debootstrap)
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
eval "$(bash tests/guest/guestfish.sh --env)"
BENCH_DIR=${BENCH_DIR:-/var/tmp/vmdrift-bench-debian}
VD=${VD:-$PWD/build/cli/vmdrift}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
[ -x "$VD" ] || { echo "bench: build vmdrift first" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "bench: apt-get install debootstrap" >&2; exit 2; }
mkdir -p "$BENCH_DIR"
cd "$BENCH_DIR"

if [ ! -f root.ok ]; then
  echo "debootstrap bookworm from $MIRROR (once) ..."
  rm -rf root
  debootstrap bookworm root "$MIRROR" >debootstrap.log 2>&1 ||
    { tail -20 debootstrap.log; exit 3; }
  touch root.ok
fi
if [ ! -f tmpl.ok ]; then
  boot_uuid=5a1e0c3d-1f0b-4c55-9a3e-2b9d7c1e4f01 root_uuid=9b2f4e61-7d3c-4e8a-b1f5-0c6a2d9e8f12
  printf 'UUID=%s / ext4 errors=remount-ro 0 1\nUUID=%s /boot ext4 defaults 0 2\n' "$root_uuid" "$boot_uuid" \
    >root/etc/fstab
  echo tmpl-debian >root/etc/hostname
  mkdir -p boot.tree && cp -a root/boot/. boot.tree/ 2>/dev/null || true
  mb=$(( $(du -sm root | cut -f1) * 13 / 10 + 128 ))
  rm -f tmpl.raw
  truncate -s "$((1 + 64 + mb))M" tmpl.raw
  printf 'label: dos\nstart=2048, size=131072, type=83\nstart=133120, type=83\n' | sfdisk -q tmpl.raw
  mke2fs -q -F -t ext4 -b 4096 -U "$boot_uuid" -d boot.tree -E offset=$((2048 * 512)) tmpl.raw 64M
  mke2fs -q -F -t ext4 -b 4096 -U "$root_uuid" -d root -E offset=$((133120 * 512)) tmpl.raw "${mb}M"
  qemu-img convert -q -f raw -O qcow2 tmpl.raw tmpl.qcow2
  rm -f tmpl.raw
  touch tmpl.ok
fi
printf 'template: %d files, %d MB (debootstrap bookworm), %s packages\n' \
  "$(find root -xdev -type f | wc -l)" "$(du -sm root | cut -f1)" "$(grep -c '^Package:' root/var/lib/dpkg/status)"

# The clone: a thin overlay with what a guest does in its first weeks.
rm -f clone.qcow2
qemu-img create -q -f qcow2 -b tmpl.qcow2 -F qcow2 clone.qcow2
bash "$SRC/tests/guest/guestfish.sh" -a clone.qcow2 -i <<'GF'
write /etc/hostname "web-07\n"
mkdir-p /etc/ssh
write /etc/ssh/sshd_config "PermitRootLogin yes\n"
chmod 04755 /usr/bin/find
upload /bin/true /usr/sbin/.helper
write /etc/cron.d/backup "*/5 * * * * root /usr/sbin/.helper\n"
rm /etc/motd
GF

declare -A T
t() { # name cmd...
  local name=$1; shift
  local s e rc
  s=$(date +%s.%N)
  "$@" >"$name.out" 2>"$name.err" || { rc=$?; [ "$rc" -le 1 ] || { echo "$name failed ($rc)"; cat "$name.err"; exit 3; }; }
  e=$(date +%s.%N)
  T[$name]=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f", e - s }')
  printf '  %-16s %7s s\n' "$name" "${T[$name]}"
}
echo "timing (one run each, same machine, same run):"
t launch+inspect guestfish --ro -a clone.qcow2 -i exit
t checksums-out  guestfish --ro -a clone.qcow2 -i checksums-out sha256 / /dev/null
t checksums-out-m guestfish --ro -a clone.qcow2 -m /dev/sda2 -m /dev/sda1:/boot checksums-out sha256 / /dev/null
t capture        "$VD" baseline capture -q --image tmpl.qcow2 -o tmpl.vdb --policy "$SRC/examples/policies/debian.yaml"
t scan           "$VD" scan --baseline tmpl.vdb --image clone.qcow2 --policy "$SRC/examples/policies/debian.yaml" --report json:scan.json
t scan-appl      "$VD" scan --baseline tmpl.vdb --image clone.qcow2 --policy "$SRC/examples/policies/debian.yaml" --report json:appl.json --hash-in appliance
t scan-full      "$VD" scan --baseline tmpl.vdb --image clone.qcow2 --policy "$SRC/examples/policies/debian.yaml" --report json:full.json --full-inspection
phases() { grep '"event":"summary"' "$1" | sed 's/.*"phases_ms":\({[^}]*}\).*"inspection":"\([^"]*\)".*/\1 inspection: \2/'; }
echo "phases (ms): scan      $(phases scan.json)"
echo "             scan-appl $(phases appl.json)"
echo "             scan-full $(phases full.json)"
echo "drift found: scan $(grep -c '"event":"drift"' scan.json), appl $(grep -c '"event":"drift"' appl.json), full $(grep -c '"event":"drift"' full.json)"
hashing() { grep '"event":"summary"' "$1" | sed 's/.*"hashing":\({.*}\)}$/\1/'; }
echo "hashing: scan      $(hashing scan.json)"
# What the host should read: the data of the files it hashed, nothing else
# (files of 4 KiB or more in the template tree: apparent sizes less holes).
want=$(find root boot.tree -xdev -type f -size +4095c -printf '%s %b\n' | awk '{ a = $1; b = $2 * 512; s += (b < a ? b : a) } END { print s }')
got=$(grep '"event":"summary"' scan.json | sed 's/.*"host_bytes_read":\([0-9]*\).*/\1/')
printf 'host bytes read: %s; data of the files of 4 KiB or more in the template tree: %s; image (allocated): %s\n' \
  "$got" "$want" "$(qemu-img info --output=json tmpl.qcow2 | sed -n 's/.*"actual-size": \([0-9]*\).*/\1/p')"
r() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }'; }
echo "ratios:"
printf '  checksums-out / scan      : %s (target >= 1.5x)\n' "$(r "${T[checksums-out]}" "${T[scan]}")"
printf '  checksums-out-m / scan    : %s (no inspection in the reference either)\n' "$(r "${T[checksums-out-m]}" "${T[scan]}")"
printf '  scan-full / scan          : %s (what reusing the layout saves)\n' "$(r "${T[scan-full]}" "${T[scan]}")"
printf '  scan-appl / scan          : %s (what hashing on the host saves)\n' "$(r "${T[scan-appl]}" "${T[scan]}")"
