#!/bin/bash
# The interop matrix (issue 10), run inside the VM by tests/vm/suite.sh: the
# same core checks against every server users run on their Pi, each in front
# of a PTY "board" (tests/servers/ptypair.py):
#   s2n-4.3  Debian bookworm's ser2net            (tests/servers/ser2net_pty.sh)
#   s2n-4.6  Debian trixie's ser2net, by chroot   (tests/ser2net-trixie.sh, made on the host)
#   esp      esp_rfc2217_server from esptool 4.7  (tests/servers/esp_pty_server.py)
#   pm       pyserial's PortManager               (tests/servers/pm_server.py)
# Every cell is a TAP test; a check a server cannot do is a SKIP that says
# why. The table (server x check) is printed at the end as "# " lines; the
# "replug" column is the native-USB board (its device node vanishes and comes
# back) under an open CLOCAL /dev/ttyRFCn.
#   tests/vm/matrix.sh event restart|replug SERVER   (used by the checks themselves)
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
. tests/cache.sh
. tests/chroot.sh
PY=/usr/bin/python3
LOG=${TTYRFC_VM_RESULTS:-/tmp}
CTL=userspace-helper/ttyrfcctl
M=tests/vm/matrix_checks.py
MX=/tmp/mx
TRIXIE=$(tests/ser2net-trixie.sh --root)
SERVERS="s2n-4.3 s2n-4.6 esp pm"
CHECKS="bytes termios lines bpm flow busy restart replug"
declare -A PORT=([s2n-4.3]=4301 [s2n-4.6]=4302 [esp]=4303 [pm]=4304)
declare -A TITLE=([bytes]="256 values" [termios]="baud+framing" [lines]="DTR/RTS reset"
	[bpm]="break/purge/modem" [flow]="throttle+flow" [busy]="busy port"
	[restart]="server restart" [replug]="replug (USB)")

dev_of() { echo "/tmp/ttyrfc-dev.${PORT[$1]}"; }
peer_of() { echo "/tmp/ttyrfc-peer.${PORT[$1]}"; }
listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
wait_listen() { for _ in $(seq 200); do listening "$1" && return 0; sleep 0.05; done; return 1; }

link_state() {	# link_state PORT: "LINK_LOSSES LINK", one ttyrfcctl call (polled)
	$CTL --json show "$1" | $PY -c 'import json,sys; v=json.load(sys.stdin); print(v["link_losses"], v["link"])'
}

# the Python servers: ptypair + server, restartable (pid in $MX/srv.PORT)
py_server() {	# py_server SERVER
	local p=${PORT[$1]} dev
	dev=$(dev_of "$1")
	# simple commands, so that $! is the server itself (a restart kills it)
	if [ "$1" = esp ]; then
		PYTHONPATH=$ESPPKG $PY tests/servers/esp_pty_server.py -- -p "$p" "$dev" \
			</dev/null >>"$LOG/$1.log" 2>&1 &
	else
		$PY tests/servers/pm_server.py -p "$p" "$dev" </dev/null >>"$LOG/$1.log" 2>&1 &
	fi
	echo $! >"$MX/srv.$p"
	wait_listen "$p"
}

start_server() {
	local p=${PORT[$1]}
	case $1 in
	s2n-4.3) eval "$(S2N_KICK=false tests/servers/ser2net_pty.sh start "$p")" ;;
	s2n-4.6)
		[ -x "$TRIXIE/usr/sbin/ser2net" ] ||
			{ echo "no $TRIXIE: run tests/ser2net-trixie.sh on the host"; return 1; }
		# the PTYs and ser2net_pty.sh's files are made outside the chroot
		chroot_mounted "$TRIXIE" || { chroot_mount "$TRIXIE" &&
			mount --bind /dev/pts "$TRIXIE/dev/pts" && mount --bind /tmp "$TRIXIE/tmp"; } || return 1
		eval "$(S2N_KICK=false S2N_ROOT=$TRIXIE tests/servers/ser2net_pty.sh start "$p")" ;;
	*)
		$PY tests/servers/ptypair.py --dev "$(dev_of "$1")" --peer "$(peer_of "$1")" \
			</dev/null >"$MX/ptypair.$p.log" 2>&1 &
		echo $! >"$MX/ptypair.$p"
		for _ in $(seq 100); do [ -L "$(dev_of "$1")" ] && break; sleep 0.05; done
		py_server "$1" ;;
	esac
}

stop_server() {
	local p=${PORT[$1]} f
	case $1 in
	s2n-*) tests/servers/ser2net_pty.sh stop "$p" ;;
	*) for f in "$MX/srv.$p" "$MX/ptypair.$p"; do
		[ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null; rm -f "$f"
	   done ;;
	esac
}

ptypair_pid() {
	case $1 in
	s2n-*) cat "/tmp/ttyrfc-s2n.${PORT[$1]}/ptypair.pid" ;;
	*) cat "$MX/ptypair.${PORT[$1]}" ;;
	esac
}

# the actions the checks run between two round trips on one open fd
event() {	# event restart|replug SERVER
	local s=$2 p=${PORT[$2]} tty losses
	tty=$(cat "$MX/tty.$p")
	losses=$(link_state "$tty"); losses=${losses% *}
	# a rate the server would not pick by itself: the new session must get
	# it from ttyrfc's replay (the open fd is another process's)
	stty -F "/dev/$tty" 57600 || return 1
	wait_speed "$s" 57600 || { echo "57600 never reached the board"; return 1; }
	case $1 in
	restart)
		case $s in
		s2n-*) tests/servers/ser2net_pty.sh stop-server "$p"; sleep 1
		       tests/servers/ser2net_pty.sh start-server "$p" ;;
		*) kill "$(cat "$MX/srv.$p")"
		   for _ in $(seq 100); do listening "$p" || break; sleep 0.05; done
		   sleep 1; py_server "$s" ;;
		esac ;;
	replug) kill -USR1 "$(ptypair_pid "$s")" ;;
	esac
	# a new session: the link was lost (counted), the board is back, the
	# link is up again; bytes written while the board was away may be lost
	# with it, as with a real board that resets
	local t0=$SECONDS st=
	for _ in $(seq 120); do
		st=$(link_state "$tty")	# "LOSSES LINK"
		[ "${st% *}" -gt "$losses" ] && [ "${st#* }" = up ] && [ -L "$(dev_of "$s")" ] && break
		sleep 0.2
	done
	wait_speed "$s" 57600
	st=$(link_state "$tty")
	echo "$1: link_losses $losses -> ${st% *}, link ${st#* } after $((SECONDS - t0)) s," \
		"board at $(stty -F "$(dev_of "$s")" speed) baud (replayed)"
	[ "${st% *}" -gt "$losses" ] && [ "${st#* }" = up ] && wait_speed "$s" 57600
}
wait_speed() {	# wait_speed SERVER RATE: the board's PTY is at RATE (5 s)
	for _ in $(seq 50); do
		[ "$(stty -F "$(dev_of "$1")" speed 2>/dev/null)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
if [ "${1:-}" = event ]; then
	event "$2" "$3"
	exit
fi

busy() {	# busy SERVER: a second client is refused with EBUSY, nothing read
	local p=${PORT[$1]} tty=$2 holder
	# the holder must really have the port: the session of the check before
	# may still be ending, and then ser2net refuses the holder instead
	$PY - "$p" >"$MX/holder.out" <<'PY' &
import socket, sys, time
for _ in range(20):
    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
    s.settimeout(2)
    try:
        first = s.recv(100)
    except socket.timeout:
        first = b''
    if first.startswith(b'\xff'):
        # a client: WILL COM-PORT, BINARY both ways (ser2net 4.6 counts a
        # connection as its user only once the telnet negotiation is done)
        s.sendall(bytes([255, 251, 44, 255, 253, 0, 255, 251, 0]))
        print('HELD', flush=True)
        time.sleep(8)
        sys.exit(0)
    s.close()
    time.sleep(0.5)
print('never held the port', flush=True)
PY
	holder=$!
	for _ in $(seq 150); do grep -q . "$MX/holder.out" && break; sleep 0.1; done
	grep -q HELD "$MX/holder.out" || { cat "$MX/holder.out"; kill $holder; return 1; }
	$PY tests/vm/open_err.py "/dev/$tty" EBUSY 6 || { kill $holder; return 1; }
	kill $holder; wait $holder 2>/dev/null
	grep -E "$tty: 127.0.0.1:$p: cannot connect: the server refused" "$LOG/ttyrfcd.log" ||
		{ echo "no log line naming the refusal"; return 1; }
	sleep 1
	$PY tests/vm/xfer.py "/dev/$tty" "$(peer_of "$1")" 4096 --timeout 20 >/dev/null || return 1
	echo "EBUSY; $(grep -o 'the server refused: .*' "$LOG/ttyrfcd.log" | tail -n 1)"
}

declare -A CELL NOTE
cell_run() { "$@" 2>&1 | tee "$MX/cell.out"; return "${PIPESTATUS[0]}"; }
cell() {	# cell SERVER CHECK DESCRIPTION CMD...
	local s=$1 c=$2 d=$3; shift 3
	: >"$MX/cell.out"
	if T_VERBOSE=1 t_run "$s: ${TITLE[$c]}: $d" cell_run "$@"; then
		CELL[$s,$c]=ok
	else
		CELL[$s,$c]=FAIL
	fi
	# the event's own line says what happened to the session, if there was one
	NOTE[$s,$c]=$({ grep -v '^$' "$MX/cell.out" | tail -n 1
		grep -E '^(restart|replug): ' "$MX/cell.out"; } | tail -n 1 | cut -c1-160)
	# a server that died must not fail the cells after this one too
	if ! listening "${PORT[$s]}"; then
		NOTE[$s,$c]+=" (the server died; started again)"
		t_diag "$s died during \"${TITLE[$c]}\": starting it again"
		case $s in
		s2n-*) tests/servers/ser2net_pty.sh start-server "${PORT[$s]}" ;;
		*) py_server "$s" ;;
		esac
	fi
}
na() {	# na SERVER CHECK WHY: the server cannot do this; says so, does not pass silently
	t_skip "$1: ${TITLE[$2]}" "n/a: $3"
	CELL[$1,$2]=n/a NOTE[$1,$2]=$3
}

mkdir -p "$MX"
t_dmesg_mark
t_diag "kernel $(uname -r); ser2net $(ser2net -v 2>&1 | awk '{print $NF}') (bookworm);" \
	"$(cat "$TRIXIE/.ser2net" 2>/dev/null || echo "no trixie chroot")" \
	"$(cat "$TTYRFC_ESPTOOL_DIR/.done" 2>/dev/null || echo "no esptool")" \
	"pyserial $($PY -c 'import serial; print(serial.__version__)')"
insmod "${TTYRFC_KO:-./ttyrfc.ko}" open_timeout=5 ||
	{ t_fail "insmod"; t_summary; exit 1; }
userspace-helper/ttyrfcd >>"$LOG/ttyrfcd.log" 2>&1 &
HELPER_PID=$!
for _ in $(seq 50); do grep -q "registered with" "$LOG/ttyrfcd.log" 2>/dev/null && break; sleep 0.1; done
export T_TIMEOUT=${T_TIMEOUT:-90}

for s in $SERVERS; do
	p=${PORT[$s]} T0=$SECONDS
	if ! out=$(start_server "$s" 2>&1); then
		t_fail "$s: server starts" "$out"
		for c in $CHECKS; do CELL[$s,$c]=FAIL NOTE[$s,$c]="server did not start"; done
		continue
	fi
	tty=$($CTL add "127.0.0.1:$p")
	echo "$tty" >"$MX/tty.$p"
	dev=$(dev_of "$s") peer=$(peer_of "$s")
	cell "$s" bytes "64 KiB with all 256 byte values and 0xff runs, both ways, byte-exact" \
		$PY tests/vm/xfer.py "/dev/$tty" "$peer" 65536 --timeout 60
	case $s in
	s2n-*) cell "$s" termios "baud and framing applied to the board's PTY (its termios)" \
		$PY $M termios "/dev/$tty" "$dev" ;;
	*) cell "$s" termios "baud and stop bits applied to the board's PTY (parity, data size: n/a on a PTY here)" \
		$PY $M termios8 "/dev/$tty" "$dev"
	   [ "${CELL[$s,termios]}" = ok ] && CELL[$s,termios]="ok (8N only)" ;;
	esac
	cell "$s" lines "esptool's reset sequences: n/a on a PTY, the session survives" \
		$PY $M lines "/dev/$tty" "$peer"
	# a pass means only "the session survived": the cell says n/a
	[ "${CELL[$s,lines]}" = ok ] && CELL[$s,lines]="n/a (PTY)"
	cell "$s" bpm "tcsendbreak/TIOCSBRK, TCIOFLUSH, TIOCMGET; data intact after each" \
		$PY $M bpm "/dev/$tty" "$peer"
	cell "$s" flow "CRTSCTS and IXON on the board's PTY survive a full tty" \
		$PY $M flow "/dev/$tty" "$dev" "$peer"
	case $s in
	s2n-*) cell "$s" busy "a second client: open fails EBUSY, refusal logged, no data" busy "$s" "$tty" ;;
	*) na "$s" busy "server has no busy refusal: a second client waits in its listen backlog" ;;
	esac
	cell "$s" restart "server killed and started again: the open CLOCAL fd reconnects, data flows" \
		$PY tests/vm/xfer.py "/dev/$tty" "$peer" 4096 --timeout 60 \
		--kill-helper "tests/vm/matrix.sh event restart $s"
	case $s in
	s2n-*) cell "$s" replug "board's device node vanishes 2 s and returns: same fd reconnects, data flows" \
		$PY tests/vm/xfer.py "/dev/$tty" "$peer" 4096 --timeout 60 \
		--kill-helper "tests/vm/matrix.sh event replug $s" ;;
	*) na "$s" replug "server opens its device once, at start: it cannot follow a device that returns" ;;
	esac
	# the port stays until the end: a new port on its index would inherit
	# its termios, i.e. the last check's settings at the next server's start
	stop_server "$s"
	t_diag "$s: $((SECONDS - T0)) s"
done

# native-USB chips take their reset from a DTR/RTS pattern esptool only
# sends when asked (--before usb_reset): it must reach the Pi as sent
export REC_LOG=$MX/rec.jsonl REC_CTL=$MX/rec.ctl
$PY tests/servers/recorder.py --port 4305 --log "$REC_LOG" --ctl "$REC_CTL" >"$LOG/recorder.out" 2>&1 &
REC_PID=$!
for _ in $(seq 100); do grep -q LISTENING "$LOG/recorder.out" && break; sleep 0.05; done
REC_TTY=$($CTL add 127.0.0.1:4305)
PYTHONPATH=$ESPPKG T_VERBOSE=1 t_run "native USB: esptool --before usb_reset: its SET-CONTROL sequence and gaps reach the server" \
	$PY $M usb_reset "/dev/$REC_TTY"
$CTL del "$REC_TTY"
kill $REC_PID; wait $REC_PID 2>/dev/null

for p in "${PORT[@]}"; do [ -s "$MX/tty.$p" ] && $CTL del "$(cat "$MX/tty.$p")"; done
kill "$HELPER_PID" 2>/dev/null; wait "$HELPER_PID" 2>/dev/null
chroot_umount_all "$TRIXIE"
rmmod ttyrfc || t_fail "rmmod"
t_dmesg_clean "dmesg has no WARN/BUG/oops after the interop matrix"

# the table: server x check, then the notes of each cell
row() { printf '| %-8s |' "$1"; shift; printf ' %-17s |' "$@"; echo; }
{
	hdr=(); sep=()
	for c in $CHECKS; do hdr+=("${TITLE[$c]}"); sep+=("-----------------"); done
	row server "${hdr[@]}"
	row -------- "${sep[@]}"
	for s in $SERVERS; do
		r=()
		for c in $CHECKS; do r+=("${CELL[$s,$c]:-not run}"); done
		row "$s" "${r[@]}"
	done
	echo
	for s in $SERVERS; do
		for c in $CHECKS; do echo "- $s, ${TITLE[$c]}: ${CELL[$s,$c]:-not run}: ${NOTE[$s,$c]:-}"; done
	done
} >"$MX/table"
t_diag "interop matrix:"
while IFS= read -r l; do t_diag "$l"; done <"$MX/table"
cp "$MX/table" "$LOG/matrix-table.md" 2>/dev/null
t_summary
