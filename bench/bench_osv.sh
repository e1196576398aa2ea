#!/usr/bin/env bash
# Loading an offline OSV feed: 50,000 Debian-shaped records (bench/mkosv.py,
# about 3 KB each, one file per record as an unpacked all.zip) matched
# against the 156 packages of the real debootstrapped guest
# (bench_debian.sh's root). Target: under 2 s. Reference in the same run:
# Python's json module reading the same files (parsing only, no matching).
#   bash bench/bench_osv.sh        (needs a built ./build and bench_debian.sh's root)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BENCH_DIR:-/var/tmp/vmdrift-bench-debian}
N=${N:-50000}
RUNS=${RUNS:-3}
VD=${VD:-$PWD/build/cli/vmdrift}
[ -x "$VD" ] || { echo "bench: build vmdrift first" >&2; exit 2; }
[ -f "$B/root/var/lib/dpkg/status" ] || { echo "bench: run bench/bench_debian.sh first (it builds $B/root)" >&2; exit 2; }
feed=$B/osv-$N
if [ ! -f "$feed.ok" ]; then
  rm -rf "$feed" && python3 bench/mkosv.py "$B/root/var/lib/dpkg/status" "$feed" "$N" && touch "$feed.ok"
fi
echo "feed: $(find "$feed" -name '*.json' | wc -l) files, $(du -sm "$feed" | cut -f1) MB"
# the guest's package database and OS, nothing else: the scan is the feed
g=$B/osv-guest
rm -rf "$g" && mkdir -p "$g/etc" "$g/var/lib/dpkg"
cp "$B/root/var/lib/dpkg/status" "$g/var/lib/dpkg/status"
cp -L "$B/root/etc/os-release" "$g/etc/os-release"
"$VD" baseline capture --dir "$g" --output "$B/osv-guest.vdb" >/dev/null
find "$feed" -name '*.json' -exec cat {} + >/dev/null # warm the page cache for both (the first run is then not a disk read)
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
vd=() py=()
for _ in $(seq "$RUNS"); do
  vd+=("$(ms "$VD" scan --dir "$g" --baseline "$B/osv-guest.vdb" --advisories "$feed" --report json:"$B/osv-scan.json")")
  py+=("$(ms python3 -c 'import json,os,sys
d=sys.argv[1]
for f in os.listdir(d): json.load(open(os.path.join(d,f)))' "$feed")")
done
med() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
v=$(med "${vd[@]}") p=$(med "${py[@]}")
hits=$(grep -c '"change":"vulnerable"' "$B/osv-scan.json" || true)
recs=$(grep -o '"advisories":{[^}]*}' "$B/osv-scan.json")
echo "vmdrift scan --advisories (load $N records, match 156 packages): ${vd[*]} ms, median $v ms; $hits vulnerable events; $recs"
echo "python3 json.load of the same files (reference, parse only):     ${py[*]} ms, median $p ms"
awk -v v="$v" -v p="$p" 'BEGIN { printf "ratio vmdrift / python parse: %.2f; target < 2000 ms: %s\n", v / p, (v < 2000 ? "met" : "NOT met") }'
