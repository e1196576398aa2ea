# A grant line padded past the key bound, then a short grant: both seen.
# expect-exit: 1
# expect: "/etc/sudoers" && "detector":"sudo" && "eve ALL=(ALL) NOPASSWD: ALL":{"old":null,"new":"present"
{ printf 'Defaults env_keep += "'; head -c 3000 /dev/zero | tr '\0' X; printf '"\neve ALL=(ALL) NOPASSWD: ALL\n'; } >>"$1/etc/sudoers"
