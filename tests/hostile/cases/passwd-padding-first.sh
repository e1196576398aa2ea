# 100,000 padding accounts before every real one: the existing accounts are
# not reported as removed, the new root account is seen.
# expect-exit: 1
# expect: "/etc/passwd" && "detector":"uid0" && "toor.uid":{"old":null,"new":"0"
# expect-none: "root.uid":{"old":"0","new":null
# expect-none: "alice.uid":{"old":"1000","new":null
{ for i in $(seq 1 100000); do echo "p$i:x:$((2000 + i)):1::/:/bin/false"; done; cat "$1/etc/passwd"; echo 'toor:x:0:0::/root:/bin/bash'; } >"$1/etc/passwd.new"
mv "$1/etc/passwd.new" "$1/etc/passwd"
