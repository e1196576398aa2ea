# @includedir through "..", as sudo resolves it.
# expect-exit: 1
# expect: "/etc/sudoers" && "detector":"sudo" && "mallory ALL=(ALL) NOPASSWD: ALL":{"old":null,"new":"present"
echo '@includedir ../../../opt/x' >>"$1/etc/sudoers"
mkdir -p "$1/opt/x"
echo 'mallory ALL=(ALL) NOPASSWD: ALL' >"$1/opt/x/grant"
