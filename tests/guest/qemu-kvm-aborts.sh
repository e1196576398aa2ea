#!/usr/bin/env bash
# Stands in for qemu (LIBGUESTFS_HV=this) on any machine: when the appliance
# itself (-kernel) is started with KVM allowed (accel=kvm or accel=kvm:tcg), it
# dies the way qemu does on a host whose KVM cannot set the guest's MSRs
# (nested cloud VMs); every other start, and every start with emulation
# forced, runs the real qemu. VD_KVM_FAILS=hang: it hangs instead, as qemu
# does on hosts whose KVM never gets past the firmware. VD_HV_LOG, if set, gets one line per appliance
# start: "kvm" (aborted) or "tcg".
real=${VD_REAL_QEMU:-/usr/bin/qemu-system-x86_64}
kernel=0 kvm=0
for a in "$@"; do
  case $a in
    -kernel) kernel=1 ;;
    *accel=kvm*) kvm=1 ;;
  esac
done
if [ "$kernel" = 1 ]; then
  [ -n "${VD_HV_LOG:-}" ] && { [ "$kvm" = 1 ] && echo kvm || echo tcg; } >>"$VD_HV_LOG"
  if [ "$kvm" = 1 ] && [ "${VD_KVM_FAILS:-}" = hang ]; then
    echo "Booting from ROM..."
    while :; do sleep 1; done
  fi
  if [ "$kvm" = 1 ]; then
    echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
    echo "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion \`ret == cpu->kvm_msr_buf->nmsrs' failed." >&2
    kill -ABRT $$
  fi
fi
exec "$real" "$@"
