# Includes nested past sshd's own limit: sshd refuses such a file; vmdrift
# reports it as a high finding.
# expect-exit: 1
# expect: "/etc/ssh/sshd_config" && "change":"violation" && "limits" && includes nested deeper than 16
for i in $(seq 1 20); do echo "Include /etc/ssh/d$((i + 1))" >"$1/etc/ssh/d$i"; done
echo 'X11Forwarding yes' >"$1/etc/ssh/d21"
echo 'Include /etc/ssh/d1' >"$1/etc/ssh/sshd_config.d/00.conf"
