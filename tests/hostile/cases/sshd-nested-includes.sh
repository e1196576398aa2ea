# Nine nested Includes (sshd follows sixteen).
# expect-exit: 1
# expect: "/etc/ssh/sshd_config" && "X11Forwarding":{"old":"no","new":"yes" && /etc/ssh/n9:1
for i in 1 2 3 4 5 6 7 8; do echo "Include /etc/ssh/n$((i + 1))" >"$1/etc/ssh/n$i"; done
echo 'X11Forwarding yes' >"$1/etc/ssh/n9"
echo 'Include /etc/ssh/n1' >"$1/etc/ssh/sshd_config.d/00.conf"
