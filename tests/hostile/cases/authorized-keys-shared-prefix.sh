# Two lines longer than a key that share their first 2 KiB: two keys, so the
# second (the attacker's) is not folded into the first.
# expect-exit: 1
# expect: "detector":"authorized-keys" && bytes, sha256 
long=$(head -c 2048 /dev/zero | tr '\0' A)
printf 'ssh-rsa %s admin\n' "$long" >"$1/root/.ssh/authorized_keys"
printf 'ssh-rsa %s admin\nssh-rsa %s evil\n' "$long" "$long" >"$1/root/.ssh/authorized_keys"
