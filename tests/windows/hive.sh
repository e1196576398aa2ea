#!/usr/bin/env bash
# Make a registry hive from hivex's minimal hive and a .reg file, as
# libguestfs's own phony Windows guests are made:
#   hive.sh OUT.hive ROOT FILE.reg...    ROOT: HKEY_LOCAL_MACHINE\SOFTWARE, ...
# Keys are created with their parents (hivexregedit --merge wants parents first).
set -euo pipefail
out=$1 root=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
ROOT="$root" awk '
  BEGIN { root = ENVIRON["ROOT"]; seen[root] = 1 }
  /^Windows Registry Editor/ && NR > 1 { next }
  /^\[.*\]$/ {
    key = substr($0, 2, length($0) - 2)
    if (substr(key, 1, length(root) + 1) == root "\\") {
      rest = substr(key, length(root) + 2); path = root
      n = split(rest, part, "\\\\")
      for (i = 1; i < n; i++) {
        path = path "\\" part[i]
        if (!(path in seen)) { seen[path] = 1; print "[" path "]"; print "" }
      }
    }
    seen[key] = 1
  }
  { print }' "$@" >"$tmp"
cp "$here/minimal.hive" "$out.tmp"
chmod 0644 "$out.tmp"
hivexregedit --merge --prefix "$root" "$out.tmp" "$tmp"
mv -f "$out.tmp" "$out"
