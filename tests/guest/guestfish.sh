#!/usr/bin/env bash
# guestfish for the demo, the tests and the benchmarks, which write to images
# (vmdrift itself only reads them and handles KVM on its own): on a host whose
# KVM makes qemu abort (nested cloud VMs: "failed to set MSR 0x10a"), run the
# appliance under software emulation, as vmdrift falls back to.
#   guestfish.sh [guestfish args...] <script
#   eval "$(guestfish.sh --env)"     the same decision for a whole script (benchmarks)
# The check is a bare qemu started with KVM for at most 2 s: one that aborts
# at its first instruction means KVM is unusable here. The user's own
# LIBGUESTFS_BACKEND_SETTINGS is left alone.
if [ -z "${LIBGUESTFS_BACKEND_SETTINGS:-}" ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  hv=${LIBGUESTFS_HV:-$(command -v qemu-system-x86_64)}
  # in a shell of its own, whose "Aborted" report goes nowhere
  bash -c 'timeout 2 "$0" -machine accel=kvm -cpu max -display none -nodefaults -no-user-config -m 16 \
    </dev/null >/dev/null 2>&1' "$hv" 2>/dev/null
  if [ $? -ne 124 ]; then
    export LIBGUESTFS_BACKEND_SETTINGS=force_tcg
  fi
fi
if [ "${1:-}" = --env ]; then
  [ -n "${LIBGUESTFS_BACKEND_SETTINGS:-}" ] && echo "export LIBGUESTFS_BACKEND_SETTINGS=$LIBGUESTFS_BACKEND_SETTINGS"
  exit 0
fi
exec guestfish "$@"
