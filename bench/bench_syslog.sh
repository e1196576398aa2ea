#!/usr/bin/env bash
# Delivering drift events to a real rsyslogd on loopback: time of one scan
# whose drift is N added files (N+2 messages with --max-events 0), per
# transport, against the same scan writing JSON only; and how many messages
# rsyslogd actually received. Same machine, same run.
#   bash bench/bench_syslog.sh [N]        (needs a built ./build, rsyslog, rsyslog-gnutls, openssl)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
VD=${VD:-$PWD/build/cli/vmdrift}
[ -x "$VD" ] || { echo "bench: build vmdrift first" >&2; exit 2; }
w=$(mktemp -d /tmp/vmdrift-bench-syslog.XXXXXX)
trap '[ -f "$w/pid" ] && kill "$(cat "$w/pid")" 2>/dev/null; rm -rf "$w"' EXIT
cd "$w"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj "/CN=bench CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=DNS:localhost\n' >ext.cnf
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 1 -extfile ext.cnf 2>/dev/null
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
U=$(port); T=$(port); S=$(port)
cat >rs.conf <<CONF
global(workDirectory="$w" maxMessageSize="64k" DefaultNetstreamDriverCAFile="$w/ca.pem"
       DefaultNetstreamDriverCertFile="$w/srv.pem" DefaultNetstreamDriverKeyFile="$w/srv.key")
module(load="imudp")
module(load="imtcp")
input(type="imudp" address="127.0.0.1" port="$U" name="udp")
input(type="imtcp" address="127.0.0.1" port="$T" name="tcp")
input(type="imtcp" address="127.0.0.1" port="$S" name="tls" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
template(name="t" type="string" string="%inputname%\n")
*.* action(type="omfile" file="$w/out.log" template="t")
CONF
rsyslogd -n -f rs.conf -i "$w/pid" >rs.err 2>&1 &
sleep 2
mkdir -p t/etc && echo x >t/etc/a
"$VD" baseline capture --dir t -o t.vdb -q
cp -a t c
for d in $(seq 1 $(((N + 99) / 100))); do
  mkdir -p "c/srv/d$d"
  for f in $(seq 1 100); do [ $(((d - 1) * 100 + f)) -le "$N" ] && echo "$d.$f" >"c/srv/d$d/f$f"; done
done
msgs=$(("$VD" scan --baseline t.vdb --dir c --ignore ctime,inode --report json || true) | wc -l)
echo "drift: $N added files -> $msgs messages per transport (events, summary)"
for rep in json:/dev/null "syslog:udp://127.0.0.1:$U" "syslog:tcp://127.0.0.1:$T" "syslog:tls://localhost:$S"; do
  : >out.log
  /usr/bin/time -f "%e" -o time.out "$VD" scan --baseline t.vdb --dir c --ignore ctime,inode --max-events 0 \
    --syslog-ca ca.pem --state-dir "$w/state" --report "$rep" >/dev/null || [ $? -le 1 ]
  sleep 2
  got=$(wc -l <out.log)
  case $rep in json*) got="-";; esac
  printf '%-36s %6s s   received by rsyslogd: %s\n' "${rep%%:1*}" "$(tail -n 1 time.out)" "$got"
done
