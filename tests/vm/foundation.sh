#!/bin/bash
# The foundation suite, run inside the VM by tests/vm/suite.sh: the module
# against ttyrfcd and two real RFC 2217 servers (ser2net, pyserial PortManager).
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
PY=/usr/bin/python3
SIZE=${TTYRFC_XFER_SIZE:-16777216}
LOG=${TTYRFC_VM_RESULTS:-/tmp}
HELPER=userspace-helper/ttyrfcd

start_helper() {
	$HELPER >>"$LOG/ttyrfcd.log" 2>&1 &
	HELPER_PID=$!
	for _ in $(seq 50); do
		grep -q "registered with" "$LOG/ttyrfcd.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

t_dmesg_mark
KO=${TTYRFC_KO:-./ttyrfc.ko}
insmod "$KO" hosts=127.0.0.1:4000,127.0.0.1:4001,127.0.0.1:4009 ||
	{ t_fail "insmod"; t_summary; exit 1; }

# 3. no helper: fast ENXIO and one dmesg line naming ttyrfcd
t_run "open without helper fails with ENXIO within 1 s" \
	$PY tests/vm/open_err.py /dev/ttyRFC0 ENXIO 1.0
if dmesg | grep -q "ttyRFC0: no helper registered; start ttyrfcd"; then
	t_ok "dmesg names ttyrfcd when no helper runs"
else
	t_fail "dmesg names ttyrfcd when no helper runs"
fi

# servers: ser2net on 4000, PortManager on 4001, nothing on 4009
eval "$(tests/servers/ser2net_pty.sh start 4000)"
PEER0=$PEER
$PY tests/servers/ptypair.py --dev /tmp/pm-dev --peer /tmp/pm-peer >"$LOG/ptypair-pm.log" 2>&1 &
for _ in $(seq 50); do [ -e /tmp/pm-dev ] && break; sleep 0.1; done
$PY tests/servers/pm_server.py -p 4001 /tmp/pm-dev >"$LOG/pm_server.log" 2>&1 &
for _ in $(seq 100); do grep -q LISTENING "$LOG/pm_server.log" && break; sleep 0.1; done

start_helper || t_fail "ttyrfcd registers"

# sizes in test names: the debug kernel's transfers are below 1 MiB
size_str() { if [ "$1" -ge 1048576 ]; then echo "$(($1 >> 20)) MiB"; else echo "$(($1 >> 10)) KiB"; fi; }

# 1, 2: bulk data both ways, byte-exact, through each server
T_VERBOSE=1 t_run "$(size_str "$SIZE") each way through ser2net, byte-exact" \
	$PY tests/vm/xfer.py /dev/ttyRFC0 "$PEER0" "$SIZE"
# PortManager is pure Python (~0.2 MB/s under TCG): 2 MiB still wraps the
# kernel's 256 KiB window eight times
PM_SIZE=$((SIZE < 2097152 ? SIZE : 2097152))
T_VERBOSE=1 t_run "$(size_str "$PM_SIZE") each way through PortManager, byte-exact" \
	$PY tests/vm/xfer.py /dev/ttyRFC1 /tmp/pm-peer "$PM_SIZE"

# last close ends the TCP session, so another client can have the board
sleep 0.5
if ss -Htn state established '( dport = :4001 )' | grep -q .; then
	t_fail "last close drops the TCP session" "$(ss -tn)"
else
	t_ok "last close drops the TCP session"
fi

# flow control towards the tty: a reader 3 s late loses nothing. 4 MiB is
# many times what the tty, ttyrfcd and the sockets hold; smaller kernels'
# runs (SIZE below 4 MiB: sid, debug) send 1 MiB
STALL_SIZE=$((SIZE < 4194304 ? 1048576 : 4194304))
T_VERBOSE=1 t_run "tty not read for 3 s while the device sends: nothing lost" \
	$PY tests/vm/xfer.py /dev/ttyRFC0 "$PEER0" "$STALL_SIZE" --stall 3

# the path data takes: requests straight from write(), replies straight to the
# ldisc, a stream through the worker in large messages (tx_direct, rx_direct)
T_VERBOSE=1 t_run "requests go out from write(), replies straight to the ldisc, a stream in large messages" \
	$PY tests/vm/tx_path.py /dev/ttyRFC0 "$PEER0"

# the common Pi-side mistake: an accepter without telnet(rfc2217)
eval "$(S2N_ACCEPTER=tcp tests/servers/ser2net_pty.sh start 4010)"
IDX=$(userspace-helper/ttyrfcctl add 127.0.0.1:4010)
hint_logged() {
	exec 3<>/dev/"$IDX"
	sleep 2
	exec 3>&-
	grep "$IDX: 127.0.0.1:4010: sent no telnet negotiation" "$LOG/ttyrfcd.log"
}
t_run "server without telnet(rfc2217): ttyrfcd logs the hint" hint_logged
[ -z "$IDX" ] || userspace-helper/ttyrfcctl del "$IDX"
# ... and the remedy: a raw port (a second plain accepter, one board each)
eval "$(S2N_ACCEPTER=tcp tests/servers/ser2net_pty.sh start 4011)"
RAW=$(userspace-helper/ttyrfcctl add 127.0.0.1:4011 --raw)
T_VERBOSE=1 t_run "raw port: data byte-exact, modem ioctls fail with ENOTTY" \
	$PY tests/vm/xfer.py "/dev/${RAW:-none}" "$PEER" 1048576 --expect-no-modem
[ -z "$RAW" ] || userspace-helper/ttyrfcctl del "$RAW"

# a hostile server: protocol errors on that port only, data still intact
$PY tests/servers/hostile.py 4020 >"$LOG/hostile.log" 2>&1 &
for _ in $(seq 50); do grep -q LISTENING "$LOG/hostile.log" && break; sleep 0.1; done
HOST_IDX=$(userspace-helper/ttyrfcctl add 127.0.0.1:4020)
hostile() {
	$PY - "/dev/$HOST_IDX" <<'PY' || return 1
import os, select, sys, termios, tty
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
got = b''
while not got.endswith(b'\n'):
    if not select.select([fd], [], [], 10)[0]:
        sys.exit(f'timeout, got {got!r}')
    got += os.read(fd, 100)
want = b'hello \xff world\n'
print('received', repr(got))
sys.exit(0 if got.endswith(want) else f'expected {want!r}')
PY
	userspace-helper/ttyrfcctl list | grep "^$HOST_IDX"
	userspace-helper/ttyrfcctl list | grep "^$HOST_IDX" |
		grep -o "errors [0-9]*" | grep -qv "errors 0" ||
		{ echo "no protocol errors counted"; return 1; }
	pgrep -x ttyrfcd >/dev/null || { echo "ttyrfcd died"; return 1; }
}
T_VERBOSE=1 t_run "hostile server: errors counted, data intact, helper alive" hostile
[ -z "$HOST_IDX" ] || userspace-helper/ttyrfcctl del "$HOST_IDX"

# 4: nobody listens
t_run "open with no listener fails with ECONNREFUSED" \
	$PY tests/vm/open_err.py /dev/ttyRFC2 ECONNREFUSED 6

# 5: helper killed and restarted under an open port
T_VERBOSE=1 t_run "helper SIGKILLed and restarted: same fd keeps working" \
	$PY tests/vm/xfer.py /dev/ttyRFC0 "$PEER0" $((SIZE < 1048576 ? SIZE : 1048576)) \
	--kill-helper "tests/vm/restart_helper.sh $LOG/ttyrfcd.log"
HELPER_PID=$(pgrep -n -x ttyrfcd) || true

# 6: module lifetime
sleep 1000 </dev/ttyRFC0 &
HOLDER=$!
sleep 1
if rmmod ttyrfc 2>/dev/null; then
	t_fail "rmmod refused while a port is open"
else
	t_ok "rmmod refused while a port is open"
fi
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null
sleep 0.5
t_run "rmmod succeeds after close" rmmod ttyrfc
bad_param() {
	if insmod "$KO" "$@" 2>/dev/null; then
		rmmod ttyrfc
		echo "insmod $* succeeded"
		return 1
	fi
	[ ! -e /dev/ttyRFC0 ] || { echo "left /dev/ttyRFC0 behind"; return 1; }
	dmesg | tail -5 | grep -q "$want" || { echo "no dmesg line: $want"; return 1; }
}
want="is not host:port" t_run "hosts=nohost refused with a dmesg line" \
	bad_param hosts=nohost
want="port must be 1-65535" t_run "hosts=h:70000 refused" \
	bad_param hosts=127.0.0.1:4000,h:70000
want="ports_max=300: must be 1-256" t_run "ports_max=300 refused" \
	bad_param ports_max=300
want="more than ports_max=2" t_run "more hosts than ports_max refused" \
	bad_param ports_max=2 hosts=a:1,b:2,c:3
load_unload() {
	for i in $(seq 20); do
		insmod "$KO" hosts=127.0.0.1:4000,[::1]:4001 || return 1
		[ -c /dev/ttyRFC1 ] || { echo "no /dev/ttyRFC1 on round $i"; return 1; }
		rmmod ttyrfc || return 1
	done
}
t_run "load/unload x20" load_unload

# the running helper follows the module being unloaded and loaded again
insmod "$KO" hosts=127.0.0.1:4000
T_VERBOSE=1 t_run "ttyrfcd re-registers after module reload; data flows" \
	$PY tests/vm/xfer.py /dev/ttyRFC0 "$PEER0" 65536

# 7: unprivileged callers
T_VERBOSE=1 t_run "unprivileged user gets EPERM from every netlink command" \
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	$PY tests/vm/nl_eperm.py
if setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	userspace-helper/ttyrfcctl add 127.0.0.1:5000 2>"$LOG/ctl.err"; then
	t_fail "ttyrfcctl add refused for unprivileged user"
else
	t_run "ttyrfcctl add refused for unprivileged user" \
		grep -q "Operation not permitted" "$LOG/ctl.err"
fi

kill "$HELPER_PID" 2>/dev/null
rmmod ttyrfc

# 8
t_dmesg_clean "dmesg has no WARN/BUG/oops after the run"
t_kmemleak_clean
t_summary
