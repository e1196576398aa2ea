#!/usr/bin/env bash
# The template tree the hostile cases start from: $1 (created).
set -euo pipefail
t=$1
mkdir -p "$t"/{etc/ssh/sshd_config.d,etc/sudoers.d,etc/cron.d,root/.ssh,usr/bin,var/tmp,tmp,opt}
printf 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n' >"$t/etc/passwd"
printf 'root:x:0:\nsudo:x:27:\nalice:x:1000:\n' >"$t/etc/group"
printf 'Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nPasswordAuthentication no\nX11Forwarding no\n' \
  >"$t/etc/ssh/sshd_config"
printf 'root ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n' >"$t/etc/sudoers"
chmod 0440 "$t/etc/sudoers"
printf '17 * * * * root cd / && run-parts --report /etc/cron.hourly\n' >"$t/etc/crontab"
printf 'ssh-ed25519 AAAAC3admin admin@corp\n' >"$t/root/.ssh/authorized_keys"
chmod 0600 "$t/root/.ssh/authorized_keys"
printf '#!/bin/sh\necho tool\n' >"$t/usr/bin/tool"
chmod 0755 "$t/usr/bin/tool"
chmod 1777 "$t/tmp" "$t/var/tmp"
