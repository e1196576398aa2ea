#!/usr/bin/env bash
# Build Windows-like guest disks the way libguestfs's own tests do: NTFS made
# in the appliance, hives made from hivex's minimal hive (hive.sh), a real PE
# executable as cmd.exe (inspection reads its architecture).
#
#   mkwindows.sh DIR [GUESTFISH]
#     DIR/tmpl.qcow2     Windows Server 2022-like template (one NTFS partition, C:)
#     DIR/benign.qcow2   linked clone: new hostname (SYSTEM), new machine SID
#                        (SAM, as sysprep gives), logs, event log,
#                        pagefile, a profile's hive rewritten where no policy
#                        looks; SOFTWARE untouched, so its layout is reused
#     DIR/planted.qcow2  linked clone with one change of every Windows detector
#                        kind (see planted-*.reg and the file list below),
#                        alternate data streams (ntfs-3g's user.* xattrs), and
#                        hosts given to the local account ops (its ACL set
#                        with setfattr in the appliance: guestfish's setxattr
#                        takes no bytes)
#     DIR/noarch.qcow2   linked clone whose cmd.exe is no executable: inspection
#                        cannot read its architecture and gives up
# Two appliance launches. Prints nothing on success.
set -euo pipefail
dir=$1
gf=${2:-guestfish}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
cd "$dir"
rm -f tmpl.qcow2 benign.qcow2 planted.qcow2 noarch.qcow2 ./*.hive

H="$here/hive.sh"
"$H" software.hive 'HKEY_LOCAL_MACHINE\SOFTWARE' "$here/template-software.reg"
"$H" system.hive 'HKEY_LOCAL_MACHINE\SYSTEM' "$here/template-system.reg"
"$H" sam.hive 'HKEY_LOCAL_MACHINE\SAM' "$here/template-sam.reg"
"$H" ntuser.hive 'HKEY_CURRENT_USER' "$here/user-ntuser.reg"
"$H" benign-ntuser.hive 'HKEY_CURRENT_USER' "$here/user-ntuser.reg" "$here/benign-ntuser.reg"
"$H" benign-system.hive 'HKEY_LOCAL_MACHINE\SYSTEM' "$here/template-system.reg" "$here/benign-system.reg"
"$H" benign-sam.hive 'HKEY_LOCAL_MACHINE\SAM' "$here/template-sam.reg" "$here/benign-sam.reg"
"$H" planted-software.hive 'HKEY_LOCAL_MACHINE\SOFTWARE' "$here/template-software.reg" "$here/planted-software.reg"
"$H" planted-system.hive 'HKEY_LOCAL_MACHINE\SYSTEM' "$here/template-system.reg" "$here/planted-system.reg"
"$H" planted-sam.hive 'HKEY_LOCAL_MACHINE\SAM' "$here/template-sam.reg" "$here/planted-sam.reg"
"$H" planted-ntuser.hive 'HKEY_CURRENT_USER' "$here/user-ntuser.reg" "$here/planted-ntuser.reg"
exe=$here/bin-win64.exe dll=$here/lib-win64.dll
# a security descriptor: owner ops (the machine's RID 1000, as SAM's V and
# Names say), group Administrators; ops and SYSTEM full control
ops_sd=0x0100048014000000300000000000000040000000010500000000000515000000dcf4dc3b833d2b46828ba628e803000001020000000000052000000020020000020040000200000000002400ff011f00010500000000000515000000dcf4dc3b833d2b46828ba628e803000000001400ff011f00010100000000000512000000

qemu-img create -q -f qcow2 tmpl.qcow2 96M
"$gf" --format=qcow2 -a tmpl.qcow2 <<GF
run
part-init /dev/sda mbr
part-add /dev/sda p 2048 -64
pwrite-device /dev/sda "1234" 0x01b8 | cat >/dev/null
mkfs ntfs /dev/sda1
mount /dev/sda1 /
mkdir-p /Windows/System32/config
mkdir-p /Windows/System32/drivers/etc
mkdir-p /Windows/System32/Tasks/Microsoft/Windows/Defrag
mkdir-p /Windows/System32/winevt/Logs
mkdir-p /Windows/SysWOW64
mkdir-p /Windows/Logs/CBS
mkdir-p /Windows/Temp
mkdir-p "/Program Files/7-Zip"
mkdir-p /Users/ops/AppData/Roaming
mkdir-p /Users/Public
mkdir-p "/ProgramData/Microsoft/Windows/Start Menu/Programs/StartUp"
upload software.hive /Windows/System32/config/SOFTWARE
upload system.hive /Windows/System32/config/SYSTEM
upload sam.hive /Windows/System32/config/SAM
upload $here/minimal.hive /Windows/System32/config/SECURITY
upload ntuser.hive /Users/ops/NTUSER.DAT
upload $exe /Windows/System32/cmd.exe
upload $exe /Windows/System32/userinit.exe
upload $dll /Windows/System32/kernel32.dll
upload $exe "/Program Files/7-Zip/7z.exe"
write /Windows/System32/drivers/etc/hosts "127.0.0.1 localhost\r\n::1 localhost\r\n"
write /Windows/System32/Tasks/Microsoft/Windows/Defrag/ScheduledDefrag "<Task><Actions><Exec><Command>%windir%\\\\system32\\\\defrag.exe</Command></Exec></Actions></Task>\r\n"
write /Windows/System32/winevt/Logs/System.evtx "ElfFile template"
write /Windows/Logs/CBS/CBS.log "2026-11-01 template built\r\n"
write /pagefile.sys "pagefile template"
GF

for c in benign planted noarch; do
  qemu-img create -q -f qcow2 -b tmpl.qcow2 -F qcow2 $c.qcow2
done
"$gf" --format=qcow2 -a benign.qcow2 -a planted.qcow2 -a noarch.qcow2 <<GF
run
mount /dev/sda1 /
upload benign-ntuser.hive /Users/ops/NTUSER.DAT
upload benign-system.hive /Windows/System32/config/SYSTEM
upload benign-sam.hive /Windows/System32/config/SAM
write /Windows/System32/winevt/Logs/System.evtx "ElfFile benign clone, two boots later"
write-append /Windows/Logs/CBS/CBS.log "2026-12-01 first boot of web-03\r\n"
write /pagefile.sys "pagefile of web-03"
write /Windows/Temp/tmp4F1A.tmp "scratch"
umount /
mount /dev/sdb1 /
upload planted-software.hive /Windows/System32/config/SOFTWARE
upload planted-system.hive /Windows/System32/config/SYSTEM
upload planted-sam.hive /Windows/System32/config/SAM
upload planted-ntuser.hive /Users/ops/NTUSER.DAT
upload $exe /Users/Public/u.exe
upload $dll /Windows/System32/evil.dll
upload $exe /Windows/Temp/shell.exe
mkdir-p /ProgramData/svc
upload $exe /ProgramData/svc/updsvc.exe
upload $exe /Users/ops/AppData/Roaming/sync.exe
write /Windows/System32/Tasks/Updater "<Task><Actions><Exec><Command>C:\\\\Users\\\\Public\\\\u.exe</Command></Exec></Actions></Task>\r\n"
write "/ProgramData/Microsoft/Windows/Start Menu/Programs/StartUp/update.cmd" "start C:\\\\Users\\\\Public\\\\u.exe\r\n"
write /Windows/System32/drivers/etc/hosts "127.0.0.1 localhost\r\n10.6.6.6 update.microsoft.com\r\n"
debug sh "setfattr -n system.ntfs_acl -v $ops_sd /sysroot/Windows/System32/drivers/etc/hosts"
write /pagefile.sys "pagefile of web-07"
setxattr user.payload "MZ hidden program" 17 /Windows/System32/kernel32.dll
setxattr user.Zone.Identifier "[ZoneTransfer] ZoneId=3" 23 /Users/Public/u.exe
umount /
mount /dev/sdc1 /
write /Windows/System32/cmd.exe "not a program"
GF
rm -f ./*.hive
