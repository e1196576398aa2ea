# Write IN's bytes as a NUL-terminated C array named NAME into OUT.
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
file(WRITE "${OUT}.tmp" "/* generated from ${IN}: do not edit */\nstatic const char ${NAME}[] = {${body} 0};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
