#!/usr/bin/env bash
# Stands in for qemu (LIBGUESTFS_HV=this): the appliance itself (-kernel)
# never boots, as a qemu spinning under emulation on an overloaded host;
# every other run (libguestfs asking qemu what it can do) is the real qemu.
real=${VD_REAL_QEMU:-/usr/bin/qemu-system-x86_64}
for a in "$@"; do
  if [ "$a" = -kernel ]; then
    while :; do sleep 1; done
  fi
done
exec "$real" "$@"
