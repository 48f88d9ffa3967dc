#!/bin/bash
# Real servers as they are (issue 10), run inside the VM by tests/vm/suite.sh:
# a busy ser2net port, servers that answer other values than asked, names
# with several addresses and resolvers that hang, a flood of protocol errors.
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
PY=/usr/bin/python3
LOG=${TTYRFC_VM_RESULTS:-/tmp}
CTL=userspace-helper/ttyrfcctl
export T_TIMEOUT=${T_TIMEOUT:-60}

t_dmesg_mark
insmod "${TTYRFC_KO:-./ttyrfc.ko}" open_timeout=5 ||
	{ t_fail "insmod"; t_summary; exit 1; }
userspace-helper/ttyrfcd >>"$LOG/ttyrfcd.log" 2>&1 &
HELPER_PID=$!
for _ in $(seq 50); do grep -q "registered with" "$LOG/ttyrfcd.log" 2>/dev/null && break; sleep 0.1; done

json() {	# json PORT KEY: one value of `ttyrfcctl show --json PORT`
	$CTL --json show "$1" | $PY -c 'import json,sys; v=json.load(sys.stdin); k=sys.argv[1].split("."); [v:=v[x] for x in k]; print(v)' "$2"
}

# 1. ser2net without kickolduser answers a second client with text and closes:
# that is EBUSY for open(), never data for a reader
eval "$(S2N_KICK=false tests/servers/ser2net_pty.sh start 4200)"
BUSY=$($CTL add 127.0.0.1:4200)
busy_port() {
	$PY - 4200 <<'PY' &
import socket, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
time.sleep(8)
PY
	local holder=$!
	sleep 1
	$PY tests/vm/open_err.py "/dev/$BUSY" EBUSY 4 || { kill $holder; return 1; }
	kill $holder; wait $holder 2>/dev/null
	grep -E "$BUSY: 127.0.0.1:4200: cannot connect: the server refused: \"Port already in use\"" \
		"$LOG/ttyrfcd.log" || { echo "no log line naming the refusal"; return 1; }
	# and once the other client has gone, the port works
	sleep 1
	$PY tests/vm/xfer.py "/dev/$BUSY" "$PEER" 4096 --timeout 20
}
T_VERBOSE=1 t_run "busy ser2net port: open fails with EBUSY, text logged, no data" busy_port

# 2. the server answers SET-BAUDRATE with the rate it really set
$PY tests/servers/recorder.py --port 4201 --log /tmp/clamp.jsonl --clamp-baud 115200 \
	>"$LOG/clamp.out" 2>&1 &
for _ in $(seq 100); do grep -q LISTENING "$LOG/clamp.out" && break; sleep 0.05; done
CLAMP=$($CTL add 127.0.0.1:4201)
believe_replies() {
	$PY - "/dev/$CLAMP" <<'PY' || return 1
import fcntl, os, struct, sys, termios, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
buf = bytearray(44)
fcntl.ioctl(fd, 0x802C542A, buf)                    # TCGETS2
iflag, oflag, cflag, lflag = struct.unpack_from('4I', buf)
struct.pack_into('4I', buf, 0, iflag, oflag, (cflag & ~0o010017) | 0o010000, lflag)
struct.pack_into('2I', buf, 36, 1234567, 1234567)   # BOTHER 1234567
fcntl.ioctl(fd, 0x402C542B, bytes(buf))
time.sleep(1.5)
# asking again for the same rate changes nothing: no second line
fcntl.ioctl(fd, 0x402C542B, bytes(buf))
time.sleep(0.5)
os.system('userspace-helper/ttyrfcctl show ' + os.path.basename(sys.argv[1]))
PY
	local n
	n=$(grep -c "$CLAMP: 127.0.0.1:4201: server set baud rate 115200, asked for 1234567" "$LOG/ttyrfcd.log")
	[ "$n" = 1 ] || { echo "the mismatch was logged $n times, want once"; return 1; }
	[ "$(json "$CLAMP" server.baud)" = 115200 ] || { echo "show --json lacks server.baud 115200"; return 1; }
	[ "$(json "$CLAMP" baud)" = 1234567 ] || { echo "show --json lacks baud 1234567"; return 1; }
	$CTL show "$CLAMP" | grep -q "server applied: baud 115200"
}
T_VERBOSE=1 t_run "server answers another rate: logged once, show has both" believe_replies

# 3. a name with ::1 first and 127.0.0.1 second; the server listens on IPv4
# only (like esp_rfc2217_server): the second address must be tried
echo "::1 rfcdual" >>/etc/hosts
echo "127.0.0.1 rfcdual" >>/etc/hosts
DUAL=$($CTL add rfcdual:4201)
dual() {
	getent ahosts rfcdual | head -3
	$PY - "/dev/$DUAL" <<'PY'
import os, sys, time
t = time.monotonic()
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
print('open took %.2f s' % (time.monotonic() - t))
os.close(fd)
PY
}
T_VERBOSE=1 t_run "a name giving ::1 then 127.0.0.1 reaches an IPv4-only server" dual
$CTL del "$DUAL"

# 4. a resolver that never answers stalls only its own port
cp /etc/resolv.conf /tmp/resolv.save 2>/dev/null
echo "nameserver 192.0.2.77" >/etc/resolv.conf	# dummy0: packets vanish
SLOW=$($CTL add nosuch.example:4000)
slow_resolver() {
	$PY tests/vm/open_err.py "/dev/$SLOW" ANY 12 &
	local opener=$!
	sleep 1
	# meanwhile another port opens and moves data as usual
	$PY tests/vm/xfer.py "/dev/$BUSY" "$PEER" 65536 --timeout 20 || return 1
	wait $opener || { echo "the open of the unresolvable port did not fail in time"; return 1; }
}
T_VERBOSE=1 t_run "a hanging resolver stalls only its own port" slow_resolver
cp /tmp/resolv.save /etc/resolv.conf 2>/dev/null
$CTL del "$SLOW"

# 5. a flood of protocol errors: counted exactly, logged a few times
$PY tests/servers/hostile.py 4202 16384 >"$LOG/hostile.log" 2>&1 &
for _ in $(seq 50); do grep -q LISTENING "$LOG/hostile.log" && break; sleep 0.1; done
FLOOD=$($CTL add 127.0.0.1:4202)
flood() {
	$PY - "/dev/$FLOOD" <<'PY' || return 1
import os, select, sys, tty
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
got = b''
while got.count(b'hello \xff world\n') < 2:
    if not select.select([fd], [], [], 20)[0]:
        sys.exit('timeout, got %r' % got[-40:])
    got += os.read(fd, 1000)
print('both lines received intact')
PY
	local errs lines supp
	errs=$(json "$FLOOD" protocol_errors)
	supp=$(json "$FLOOD" log_suppressed)
	lines=$(grep -c "$FLOOD: 127.0.0.1:4202: protocol error" "$LOG/ttyrfcd.log")
	echo "protocol_errors $errs, log lines $lines, suppressed $supp"
	[ "$errs" -ge 4096 ] || { echo "want >= 4096 protocol errors"; return 1; }
	[ "$lines" -le 20 ] || { echo "too many log lines"; return 1; }
	[ "$supp" -gt 0 ] || { echo "nothing counted as suppressed"; return 1; }
}
T_VERBOSE=1 t_run "16 KiB of IAC SB IAC SE: errors counted, log rate-limited" flood

kill "$HELPER_PID" 2>/dev/null; wait "$HELPER_PID" 2>/dev/null
tests/servers/ser2net_pty.sh stop 4200
rmmod ttyrfc || t_fail "rmmod"
t_dmesg_clean "dmesg has no WARN/BUG/oops after the quirks tests"
t_summary
