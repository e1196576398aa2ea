# An /etc/passwd over every bound: owners stay numeric, the file is a high
# finding, and the rest of the tree is still reported.
# expect-exit: 1
# expect: "event":"warning" && owners shown as numbers only
# expect: "/etc/passwd" && "change":"violation" && "limits"
# expect: "/usr/bin/tool" && "change":"changed"
head -c 17000000 /dev/zero | tr '\0' '#' >>"$1/etc/passwd"
printf '#!/bin/sh\necho replaced\n' >"$1/usr/bin/tool"
