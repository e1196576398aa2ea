# A sudoers.d file whose name holds a newline: sudo reads it.
# expect-exit: 1
# expect: "/etc/sudoers" && "detector":"sudo" && "trudy ALL=(ALL) NOPASSWD: ALL":{"old":null,"new":"present"
echo 'trudy ALL=(ALL) NOPASSWD: ALL' >"$1/etc/sudoers.d/a
b"
