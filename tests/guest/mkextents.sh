#!/usr/bin/env bash
# The image set for host-side hashing: every kind of extent we can build here,
# on the kinds of devices the walker maps. Two disks of one guest:
#
#   disk.img (raw, MBR)
#     p1  ext4, 1 KiB blocks, inline_data, built on the host by mke2fs -d:
#         tiny files stored in their inodes, a sparse file (holes before, in
#         and after its data), a 20 MB file spread over many block groups and
#         extents, medium files
#     p2  LVM: vg1/spread, a linear LV of two segments with another LV
#         between them; ext4 with a 40 MB file that crosses the segment
#         boundary, a fallocated (unwritten) file, a file partly written after
#         fallocate, a file with data journalling (chattr +j)
#   xfs.img (qcow2, no partition table: the file system is the whole disk)
#         XFS: a sparse file written in its middle, fallocated ranges, a
#         large file
#
#   mkextents.sh DIR GUESTFISH   (GUESTFISH: tests/guest/guestfish.sh)
# One appliance launch (read-write, to build LVM and XFS).
set -euo pipefail
dir=$1 gf=$2
cd "$dir"
rm -rf x && mkdir -p x/tiny x/big
for i in $(seq 1 30); do head -c $((i * 2)) /dev/urandom >"x/tiny/t$i"; done
for i in $(seq 1 20); do head -c $((5000 + i * 3001)) /dev/urandom >"x/big/m$i"; done
head -c 20000000 /dev/urandom >x/big/multi-group
truncate -s 3000000 x/big/sparse
dd if=/dev/urandom of=x/big/sparse bs=1024 count=40 seek=1000 conv=notrunc status=none
head -c 40000000 /dev/urandom >cross.bin
head -c 300000 /dev/urandom >jdata.bin
head -c 12000000 /dev/urandom >xfsbig.bin

truncate -s 420M disk.img
sfdisk -q disk.img <<'PT'
label: dos
start=2048, size=409600, type=83
start=411648, size=448512, type=8e
PT
mke2fs -q -F -t ext4 -b 1024 -O inline_data -d x -E offset=$((2048 * 512)) disk.img 200M
qemu-img create -q -f qcow2 xfs.img 300M

"$gf" >/dev/null <<'GF'
add disk.img format:raw
add xfs.img format:qcow2
run
pvcreate /dev/sda2
vgcreate vg1 /dev/sda2
lvcreate spread vg1 32
lvcreate between vg1 16
lvresize /dev/vg1/spread 100
mkfs ext4 /dev/vg1/spread
mount /dev/vg1/spread /
upload cross.bin /cross
fallocate64 /unwritten 3000000
fallocate64 /partly 2000000
pwrite /partly "written after fallocate" 100000
upload jdata.bin /journalled
set-e2attrs /journalled j
umount /
mkfs xfs /dev/sdb
mount /dev/sdb /
upload xfsbig.bin /big
touch /sparse
truncate-size /sparse 8000000
pwrite /sparse "in the middle of a hole" 4000000
fallocate64 /unwritten 2000000
upload jdata.bin /medium
umount /
GF
rm -f cross.bin jdata.bin xfsbig.bin
