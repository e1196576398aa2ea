#!/usr/bin/env bash
# guestfish for the demo, the tests and the benchmarks, which write to images
# (vmdrift itself only reads them and handles KVM on its own): on a host whose
# KVM makes qemu abort (nested cloud VMs: "failed to set MSR 0x10a"), run the
# appliance under software emulation, as vmdrift falls back to.
#   guestfish.sh [guestfish args...] <script
#   eval "$(guestfish.sh --env)"     the same decision for a whole script (benchmarks)
# The check boots the host's kernel under KVM, without an initrd, to its
# panic (-no-reboot: qemu then exits 0): a working KVM gets there in a second
# or two; one that aborts (MSR) or hangs after the firmware (seen here) does
# not within 15 s. The answer is kept for this boot of the host in
# /tmp/vmdrift-kvm-check.BOOT_ID. The user's own LIBGUESTFS_BACKEND_SETTINGS is
# left alone.
if [ -z "${LIBGUESTFS_BACKEND_SETTINGS:-}" ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  memo=/tmp/vmdrift-kvm-check.$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
  verdict=$(cat "$memo" 2>/dev/null || true)
  if [ "$verdict" != kvm ] && [ "$verdict" != tcg ]; then
    hv=${LIBGUESTFS_HV:-$(command -v qemu-system-x86_64)}
    kernel=$(ls /boot/vmlinuz-* 2>/dev/null | tail -n 1)
    verdict=tcg
    if [ -n "$kernel" ] &&
      bash -c 'timeout 15 "$0" -machine accel=kvm -cpu max -display none -nodefaults -no-user-config -m 256 \
        -serial stdio -no-reboot -kernel "$1" -append "console=ttyS0 panic=-1" </dev/null 2>/dev/null' \
        "$hv" "$kernel" 2>/dev/null | grep -aq 'Kernel panic'; then
      verdict=kvm
    fi
    echo "$verdict" >"$memo.$$" && mv -f "$memo.$$" "$memo"
  fi
  [ "$verdict" = tcg ] && export LIBGUESTFS_BACKEND_SETTINGS=force_tcg
fi
if [ "${1:-}" = --env ]; then
  [ -n "${LIBGUESTFS_BACKEND_SETTINGS:-}" ] && echo "export LIBGUESTFS_BACKEND_SETTINGS=$LIBGUESTFS_BACKEND_SETTINGS"
  exit 0
fi
exec guestfish "$@"
