# 5,000 padding accounts before a uid-0 account spelled "00": past the settings
# limit only what detectors need is kept, and the padding is a finding.
# expect-exit: 1
# expect: "/etc/passwd" && "detector":"uid0" && "evil.uid":{"old":null,"new":"00"
# expect: "/etc/passwd" && "change":"violation" && "limits" && "severity":"high"
# expect-none: "alice.uid":{"old":"1000","new":null
for i in $(seq 1 5000); do echo "pad$i:x:$((2000 + i)):$((2000 + i))::/nonexistent:/usr/sbin/nologin"; done >>"$1/etc/passwd"
echo 'evil:x:00:0::/root:/bin/bash' >>"$1/etc/passwd"
