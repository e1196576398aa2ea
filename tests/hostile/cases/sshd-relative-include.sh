# An Include that climbs out of /etc/ssh, as sshd resolves it.
# expect-exit: 1
# expect: "/etc/ssh/sshd_config" && "PermitRootLogin":{"old":"no","new":"yes" && /var/tmp/x.conf:1
sed -i '1i Include ../../var/tmp/x.conf' "$1/etc/ssh/sshd_config"
echo 'PermitRootLogin yes' >"$1/var/tmp/x.conf"
