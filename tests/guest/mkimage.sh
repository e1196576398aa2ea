#!/usr/bin/env bash
# Build a small Debian-like guest disk image without root and without the
# libguestfs appliance: a root tree and a /boot tree, each made into an ext4
# file system by mke2fs -d at its partition's offset in one raw disk.
#
#   mkimage.sh OUT.img [FILES]   FILES: how many extra files under /usr/share/data (default 200)
#   VD_HOSTILE=1: hostile names and trees; VD_DELTA_TREE=1: /srv with 40
#   directories of files of many sizes, a file of 20 extents, a 4 MiB file,
#   hard and symbolic links (the delta scan's differential test); VD_FSTAB_EXTRA=LINE: one more fstab
#   line; VD_DPKG_OLD=1: packages drifted from the template's
# Prints nothing; the trees are left beside the image as OUT.img.root/ and OUT.img.boot/.
set -euo pipefail
out=$1
extra=${2:-200}
root=$out.root boot=$out.boot
rm -rf "$root" "$boot"
mkdir -p "$root"/{etc/ssh,etc/cron.d,etc/apt,bin,sbin,usr/bin,usr/sbin,usr/share/data,var/lib/dpkg,var/log,home/alice,root,boot,tmp} "$boot"

cat >"$root/etc/os-release" <<'OS'
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
ID=debian
OS
echo "12.8" >"$root/etc/debian_version"
echo "template" >"$root/etc/hostname"
printf 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\n' >"$root/etc/passwd"
printf 'root:x:0:\nalice:x:1000:\n' >"$root/etc/group"
printf 'Port 22\nPermitRootLogin no\nPasswordAuthentication no\n' >"$root/etc/ssh/sshd_config"
printf '127.0.0.1 localhost\n' >"$root/etc/hosts"
cp /bin/ls "$root/bin/ls"
cp /bin/cat "$root/bin/cat"
cp /usr/bin/passwd "$root/usr/bin/passwd"
chmod 4755 "$root/usr/bin/passwd"
ln -s ../../bin/ls "$root/usr/bin/dir"
printf 'export PATH\n' >"$root/home/alice/.profile"
printf 'boot ok\n' >"$root/var/log/boot.log"
cat >"$root/var/lib/dpkg/status" <<'DPKG'
Package: base-files
Status: install ok installed
Priority: required
Architecture: amd64
Version: 12.4+deb12u8

Package: openssh-server
Status: install ok installed
Architecture: amd64
Source: openssh
Version: 1:9.2p1-2+deb12u3

Package: bash
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b7

DPKG
for i in $(seq 1 "$extra"); do printf 'data file %d\n' "$i" >"$root/usr/share/data/f$i.txt"; done
if [ -n "${VD_HOSTILE:-}" ]; then
  # What a hostile guest can leave in its file system.
  printf 'x' >"$root/tmp/new
line"
  printf 'y' >"$root/tmp/$(printf 'bad\xff\xfe')"
  printf 'z' >"$root/tmp/$(printf 'esc\033[2Jname')"
  ln -s loop-b "$root/tmp/loop-a"
  ln -s loop-a "$root/tmp/loop-b"
  ln -s / "$root/tmp/to-root"
  mkfifo "$root/tmp/fifo"
  printf 'big' >"$root/tmp/bigxattr"
  setfattr -n user.big -v "$(head -c 3000 /dev/zero | tr '\0' a)" "$root/tmp/bigxattr"
  d="$root/tmp/deep"
  for _ in $(seq 1 60); do d="$d/dddddddddddddddddddddddddddddddddddddddddddddddddddddddd"; done
  mkdir -p "$d" && printf 'deep' >"$d/leaf"
fi
# a guest whose packages drifted: openssh-server one update behind, bash
# removed, netcat-openbsd added (dpkg ends every stanza with a blank line;
# inspection drops a last one without)
if [ -n "${VD_DPKG_OLD:-}" ]; then
  sed -i 's/^Version: 1:9.2p1-2+deb12u3$/Version: 1:9.2p1-2+deb12u1/' "$root/var/lib/dpkg/status"
  sed -i '/^Package: bash$/,/^$/d' "$root/var/lib/dpkg/status"
  printf '\nPackage: netcat-openbsd\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.219-1\n\n' \
    >>"$root/var/lib/dpkg/status"
fi
if [ -n "${VD_DELTA_TREE:-}" ]; then
  mkdir -p "$root/data" # a mountpoint for a second disk
  python3 - "$root/srv" <<'PY'
import os, random, sys
r = random.Random(7)
top = sys.argv[1]
for d in range(40):
    os.makedirs(f"{top}/d{d}")
    for i in range(50):
        with open(f"{top}/d{d}/f{i}", "wb") as f:
            f.write(r.randbytes(r.choice([0, 13, 900, 4096, 5000, 20000, 70000])))
with open(f"{top}/sparse", "wb") as f:
    for i in range(20):
        f.seek(i * 65536)
        f.write(r.randbytes(4096))
with open(f"{top}/big", "wb") as f:
    f.write(r.randbytes(4 << 20))
for i in range(5):
    os.link(f"{top}/d1/f{i}", f"{top}/d2/hl{i}")
    os.symlink(f"../d3/f{i}", f"{top}/d4/ln{i}")
PY
fi
printf 'kernel image\n' >"$boot/vmlinuz-6.1.0-template"
printf 'menuentry debian\n' >"$boot/grub.cfg"

boot_uuid=7e0a5b8e-6c2d-4b8e-9d35-2f1b0e6a0b01
root_uuid=3c1f7d52-95b4-4e0e-8c7a-0d2f5e9b7a11
printf 'UUID=%s / ext4 errors=remount-ro 0 1\nUUID=%s /boot ext4 defaults 0 2\n' "$root_uuid" "$boot_uuid" >"$root/etc/fstab"
# the same disks with one more fstab line: a guest whose layout changed
[ -z "${VD_FSTAB_EXTRA:-}" ] || printf '%s\n' "$VD_FSTAB_EXTRA" >>"$root/etc/fstab"

# 1 MiB gap, 32 MiB /boot, the rest root.
size_mb=$((64 + extra / 100))
[ -z "${VD_DELTA_TREE:-}" ] || size_mb=$((size_mb + 80))
rm -f "$out"
truncate -s "$((1 + 32 + size_mb))M" "$out"
printf 'label: dos\nstart=2048, size=65536, type=83\nstart=67584, type=83\n' | sfdisk -q "$out"
mke2fs -q -F -t ext4 -b 4096 -U "$boot_uuid" -d "$boot" -E offset=$((2048 * 512)) "$out" 32M
mke2fs -q -F -t ext4 -b 4096 -U "$root_uuid" -d "$root" -E offset=$((67584 * 512)) "$out" "${size_mb}M"
