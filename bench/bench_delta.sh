#!/usr/bin/env bash
# A linked clone of the real Debian template (bench_debian.sh's tmpl.qcow2)
# with a few dozen changed files. Same run:
#   0. the reference: an appliance launch plus inspection (guestfish --ro -i);
#   1. a full scan (--full);
#   2. the delta scan (the default for a linked clone of the baseline's template);
#   3. the same scan again, nothing changed (the kept report: no appliance).
# For each: wall time, bytes read from the image files, files hashed, and
# the delta scan's own counts. The images live on a file system of their own
# (a loop device), so its /proc/diskstats count is exactly what was read
# from them, with the page cache dropped before each run; the appliance's
# own kernel and root come from elsewhere and are not counted.
#   bash bench/bench_delta.sh                 (root; needs a built ./build and bench_debian.sh's images)
#   BENCH_LOOP_RA=0 bash bench/bench_delta.sh (the same without the host's readahead)
#   BENCH_TEMPLATE=/var/tmp/vmdrift-bench-guest/big.img bash bench/bench_delta.sh
#       (bench_guest.sh's 63,000-file image: its own few dozen changes, chosen
#       from its host-side tree IMAGE.root)
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
eval "$(bash tests/guest/guestfish.sh --env)"
B=${BENCH_DIR:-/var/tmp/vmdrift-bench-debian}
VD=${VD:-$PWD/build/cli/vmdrift}
[ -x "$VD" ] || { echo "bench: build vmdrift first" >&2; exit 2; }
T=${BENCH_TEMPLATE:-$B/tmpl.qcow2}
[ -f "$T" ] || { echo "bench: run bench/bench_debian.sh first (or set BENCH_TEMPLATE)" >&2; exit 2; }
TF=$(qemu-img info --output=json "$T" | python3 -c 'import json, sys; print(json.load(sys.stdin)["format"])')
[ "$(id -u)" = 0 ] || { echo "bench: needs root (a loop device, dropping the page cache)" >&2; exit 2; }

W=$B/delta
M=$W/mnt
umount "$M" 2>/dev/null || true
rm -rf "$W" && mkdir -p "$M"
truncate -s "$(( $(stat -c %s "$T") / 1048576 + 1024 ))M" "$W/fs.img"
mkfs.ext4 -q "$W/fs.img"
LOOP=$(losetup -f --show "$W/fs.img")
trap 'cd /; umount "$M" 2>/dev/null; losetup -d "$LOOP" 2>/dev/null; true' EXIT
mount "$LOOP" "$M"
# BENCH_LOOP_RA=0: no host readahead on the images' file system, so the count
# is what qemu asked for; by default the host's readahead is in it, as on a real host
[ -z "${BENCH_LOOP_RA:-}" ] || blockdev --setra "$BENCH_LOOP_RA" "$LOOP"
dev=$(basename "$LOOP")
cp "$T" "$M/tmpl.$TF"
cd "$M"

echo "== capture the template's baseline (records its identity and ext4 geometry)"
"$VD" baseline capture --image "$M/tmpl.$TF" --out "$W/tmpl.vdb" 2>>"$W/err" | tail -2

echo "== a linked clone with a few dozen changes"
qemu-img create -q -f qcow2 -b "$M/tmpl.$TF" -F "$TF" clone.qcow2
# which files get which change: the Debian template's own, or (another image)
# files chosen from its host-side tree
if [ -z "${BENCH_TEMPLATE:-}" ]; then
  APPEND=(/etc/motd /etc/hostname /etc/issue /etc/issue.net)
  SETUID=(/usr/bin/env /usr/bin/true /usr/bin/false /usr/bin/yes /usr/bin/sleep)
  REMOVE=(/etc/debian_version)
  COPY=(/usr/bin/ls /usr/bin/dir)
else
  R=$T.root
  mapfile -t F < <(cd "$R" && find usr -type f -size +1k | grep -E "^[A-Za-z0-9._/+-]+$" | sort | awk 'NR % 997 == 1' | head -12 | sed 's|^|/|')
  [ "${#F[@]}" -ge 12 ] || { echo "bench: too few files under $R/usr" >&2; exit 2; }
  APPEND=(/etc/hostname /etc/hosts "${F[5]}" "${F[6]}")
  SETUID=("${F[@]:0:5}")
  REMOVE=(/etc/debian_version "${F[7]}" "${F[8]}")
  COPY=("${F[9]}" "${F[10]}")
fi
{
  echo run
  echo "mount /dev/sda2 /"
  for i in $(seq 1 12); do echo "write /etc/vmdrift-bench-$i.conf \"setting $i\\n\""; done
  for f in "${APPEND[@]}"; do echo "write-append $f \"changed\\n\""; done
  for f in "${SETUID[@]}"; do echo "chmod 04755 $f"; done
  echo "mkdir-p /usr/local/bin"
  for i in $(seq 1 8); do echo "upload /bin/true /usr/local/bin/tool-$i"; done
  for f in "${REMOVE[@]}"; do echo "rm $f"; done
  echo "copy-file-to-file ${COPY[0]} ${COPY[1]}"
  echo "setxattr user.bench 1 1 /etc/passwd"
  echo "umount /"
} | bash "$SRC/tests/guest/guestfish.sh" -a clone.qcow2
sync

sectors() { awk -v d="$dev" '$3 == d { print $6 }' /proc/diskstats; }
now() { date +%s%N; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
run() { # name out.json state-dir command...
  local name=$1 out=$2 st=$3
  shift 3
  drop
  local s0 t0 t1 s1
  s0=$(sectors)
  t0=$(now)
  "$@" >"$out" 2>>"$W/err" || true
  t1=$(now)
  s1=$(sectors)
  local secs mb
  secs=$(echo "scale=2; ($t1 - $t0) / 1000000000" | bc)
  mb=$(echo "scale=2; ($s1 - $s0) * 512 / 1048576" | bc)
  printf '%-28s %8s s %10s MiB read from the images   %s\n' "$name" "$secs" "$mb" \
    "$(python3 - "$out" <<'PY'
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if '"summary"' in l]
if not s:
    print("(no report)"); sys.exit()
s = s[-1]
d = s.get("delta") or {}
print(f"events {s['total']}, files hashed {s['files_hashed']}, "
      + (f"proved {d.get('proved')}, baseline hashes {d.get('reused')}, changed {d.get('changed_bytes')} B, "
         + (f"walked only what changed ({d.get('unvisited')} entries unread; inodes: "
            f"{d.get('inodes_from_records')} from the baseline's records, {d.get('inodes_read')} read)"
            if d.get('walk') == 'changed-only'
            else f"walked the whole tree ({d.get('walk_whole_because')})")
         if d else ("unchanged since " + s["unchanged_since"]["scan_id"][:8] if "unchanged_since" in s
                    else "mode " + s.get("scan_mode", "full"))))
PY
)"
  eval "T_$name=\$secs; R_$name=\$mb"
}

echo "== same run, $(nproc) cores, LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS:-}, host readahead on the images $(blockdev --getra "$LOOP") sectors"
mkdir -p st-full st-delta && chmod 700 st-full st-delta
run reference_launch_inspect "$W/ref.out" - guestfish --ro -a clone.qcow2 -i exit
run full "$W/full.json" st-full "$VD" scan --full --baseline "$W/tmpl.vdb" --image "$M/clone.qcow2" \
  --state-dir "$M/st-full" --report json
run delta "$W/delta.json" st-delta "$VD" scan --baseline "$W/tmpl.vdb" --image "$M/clone.qcow2" \
  --state-dir "$M/st-delta" --report json
run unchanged "$W/again.json" st-delta "$VD" scan --baseline "$W/tmpl.vdb" --image "$M/clone.qcow2" \
  --state-dir "$M/st-delta" --report json

ev() { grep '"event":"drift"' "$1" | sed 's/"scan_id":"[^"]*"//' | sort; }
if cmp -s <(ev "$W/full.json") <(ev "$W/delta.json") && cmp -s <(ev "$W/full.json") <(ev "$W/again.json"); then
  echo "events: the same $(ev "$W/full.json" | wc -l) drift events from all three"
else
  echo "events: DIFFER (see $W/*.json)"
fi
echo "ratios: delta/full time $(echo "scale=3; $T_delta / $T_full" | bc)," \
  "delta/(launch+inspection) $(echo "scale=3; $T_delta / $T_reference_launch_inspect" | bc)," \
  "delta/full bytes read $(echo "scale=4; $R_delta / $R_full" | bc)," \
  "unchanged $T_unchanged s"
