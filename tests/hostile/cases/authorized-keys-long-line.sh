# A line over 1 KiB before the admin key and a new key: the parse used to stop
# at the long line (no authorized-keys event, the admin key "(not set)").
# expect-exit: 1
# expect: "/root/.ssh/authorized_keys" && "detector":"authorized-keys" && "ssh-rsa AAAAB3evil x":{"old":null,"new":"present"
# expect-none: "ssh-ed25519 AAAAC3admin admin@corp":{
{ printf 'ssh-rsa '; head -c 1100 /dev/zero | tr '\0' A; printf '\nssh-ed25519 AAAAC3admin admin@corp\nssh-rsa AAAAB3evil x\n'; } \
  >"$1/root/.ssh/authorized_keys"
