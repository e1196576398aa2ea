#!/usr/bin/env bash
# vmdrift on the Windows-like images the tests build (tests/windows/
# mkwindows.sh), against the libguestfs tools a person would run for the
# same answers, in one run (each command launches its own appliance).
#
#   capture       vmdrift baseline capture of the template (windows.yaml)
#   scan-planted  vmdrift scan --full of the clone with every planted change
#                 (files, NTFS ACLs and streams, 20 registry keys, applications)
#   scan-benign   vmdrift scan of the benign clone (its layout reused)
#   checksums     guestfish --ro -i checksums-out sha256 /  (files only)
#   win-reg       virt-win-reg of one key (HKLM\SYSTEM\ControlSet001\Services: it does
#                 not resolve CurrentControlSet); vmdrift
#                 reads the detectors' 18 keys and the policy's 6 in its scan
#
#   bash bench/bench_windows.sh     (after a build; BENCH_DIR to relocate, RUNS=N)
set -euo pipefail
cd "$(dirname "$0")/.."
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
eval "$(bash tests/guest/guestfish.sh --env)"
BENCH_DIR=${BENCH_DIR:-/var/tmp/vmdrift-bench-windows}
RUNS=${RUNS:-1}
VD=${VD:-$PWD/build/cli/vmdrift}
P=$PWD/examples/policies/windows.yaml
[ -x "$VD" ] || { echo "bench: build vmdrift first" >&2; exit 2; }
mkdir -p "$BENCH_DIR"
source bench/lib.sh
declare -A T M
[ -f "$BENCH_DIR/planted.qcow2" ] || bash tests/windows/mkwindows.sh "$BENCH_DIR" "$PWD/tests/guest/guestfish.sh"
export STATE_DIRECTORY=$BENCH_DIR/state
mkdir -p "$STATE_DIRECTORY" && chmod 700 "$STATE_DIRECTORY"
B=$BENCH_DIR
echo "Windows-like images in $B ($(du -sh "$B/tmpl.qcow2" | cut -f1) template, $(nproc) CPUs; ${LIBGUESTFS_BACKEND_SETTINGS:-kvm if it works})"
run capture "$VD" baseline capture --image "$B/tmpl.qcow2" --policy "$P" -o "$B/t.vdb"
run scan-planted "$VD" scan --baseline "$B/t.vdb" --policy "$P" --image "$B/planted.qcow2" --full --report "json:$B/planted.json"
run scan-benign "$VD" scan --baseline "$B/t.vdb" --policy "$P" --image "$B/benign.qcow2" --full --report "json:$B/benign.json"
run checksums guestfish --ro -a "$B/planted.qcow2" -i checksums-out sha256 / /dev/null
run win-reg virt-win-reg "$B/planted.qcow2" 'HKLM\SYSTEM\ControlSet001\Services'
drift=$(grep -c '"event":"drift"' "$B/planted.json" || true)
benign=$(grep -c '"event":"drift"' "$B/benign.json" || true)
echo "planted clone: $drift drift events; benign clone: $benign (the computer name, low)"
echo "scan-planted / (checksums + win-reg): $(ratio "${T[scan-planted]}" "$(awk -v a="${T[checksums]}" -v b="${T[win-reg]}" 'BEGIN { print a + b }')")" \
     "(one launch for files, ACLs, streams, every key and the applications, against two for files and one key)"
echo "scan-benign / checksums: $(ratio "${T[scan-benign]}" "${T[checksums]}")"
