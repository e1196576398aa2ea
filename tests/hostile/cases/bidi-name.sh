# A file name with a right-to-left override: the JSON carries the code point
# escaped, never raw (an added binary is medium: exit 0 under --fail-on high).
# expect-exit: 0
# expect: "/usr/bin/\u202egnp.exe" && "change":"added"
printf 'x' >"$1/usr/bin/$(printf '\342\200\256')gnp.exe"
