#!/usr/bin/env bash
# Stands in for qemu (LIBGUESTFS_HV=this): the appliance itself (-kernel)
# never boots, as a qemu spinning under emulation on an overloaded host;
# every other run (libguestfs asking qemu what it can do) is the real qemu.
# VD_HANG_SMP=several: only an appliance of several vCPUs hangs (the TCG
# hang seen bringing up the second CPU); one of one vCPU boots.
real=${VD_REAL_QEMU:-/usr/bin/qemu-system-x86_64}
kernel=0 smp=1 prev=
for a in "$@"; do
  [ "$a" = -kernel ] && kernel=1
  [ "$prev" = -smp ] && smp=${a%%,*}
  prev=$a
done
if [ $kernel = 1 ] && { [ "${VD_HANG_SMP:-}" != several ] || [ "$smp" -gt 1 ]; }; then
  while :; do sleep 1; done
fi
exec "$real" "$@"
