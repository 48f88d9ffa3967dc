#!/bin/bash
# Serial control over RFC 2217 (issue 3), run inside the VM by tests/vm/suite.sh:
# termios, DTR/RTS, modem status, break, purge, line errors, esptool's resets, all
# checked command by command on tests/servers/recorder.py; then ser2net applying
# settings to its PTY. The checks themselves are in tests/vm/control_tests.py.
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
PY=/usr/bin/python3
LOG=${TTYRFC_VM_RESULTS:-/tmp}
HELPER=userspace-helper/ttyrfcd
REC_PORT=4100 S2N_PORT=4101
export REC_LOG=/tmp/rec.jsonl REC_CTL=/tmp/rec.ctl REC_DATA=/tmp/recdata
export REPLAY_BIN=/tmp/reset_replay
T=tests/vm/control_tests.py
export T_TIMEOUT=${T_TIMEOUT:-60}

t_dmesg_mark
gcc -O2 -Wall -pthread -o "$REPLAY_BIN" tests/vm/reset_replay.c ||
	{ t_fail "build reset_replay"; t_summary; exit 1; }
insmod "${TTYRFC_KO:-./ttyrfc.ko}" hosts=127.0.0.1:$REC_PORT,127.0.0.1:$S2N_PORT ||
	{ t_fail "insmod"; t_summary; exit 1; }

mkdir -p "$REC_DATA"
$PY tests/servers/recorder.py --port $REC_PORT --log "$REC_LOG" --ctl "$REC_CTL" \
	--save-data "$REC_DATA" >"$LOG/recorder.out" 2>&1 &
REC_PID=$!
eval "$(tests/servers/ser2net_pty.sh start $S2N_PORT)"
S2N_DEV=$DEV S2N_PEER=$PEER
for _ in $(seq 100); do grep -q LISTENING "$LOG/recorder.out" && [ -S "$REC_CTL" ] && break; sleep 0.05; done

$HELPER >>"$LOG/ttyrfcd.log" 2>&1 &
HELPER_PID=$!
for _ in $(seq 50); do grep -q "registered with" "$LOG/ttyrfcd.log" 2>/dev/null && break; sleep 0.1; done

T_VERBOSE=1
t_run "baud: TCSETS 9600/921600/2000000, TCSETS2 BOTHER 1234567; unchanged sends nothing" $PY $T baud
t_run "framing: datasize 5-8, parity n/o/e/mark/space, stop 1/2, CRTSCTS/IXON/IXOFF/none" $PY $T framing
t_run "TIOCMSET both lines: one read, DTR first; TIOCMBIS/TIOCMBIC; only changes" $PY $T mctrl
t_run "NOTIFY-MODEMSTATE: TIOCMGET, TIOCMIWAIT, TIOCGICOUNT" $PY $T modem
t_run "TIOCSBRK/TIOCCBRK, tcsendbreak, TCSBRKP: SET-CONTROL 5/6, duration kept" $PY $T break
t_run "TCFLSH TCIFLUSH/TCOFLUSH/TCIOFLUSH: PURGE-DATA 1/2/3" $PY $T purge
t_run "NOTIFY-LINESTATE: PARMRK markers, TIOCGICOUNT frame/parity/brk/overrun" $PY $T linestate
# Gaps between the recorder's timestamps (kernel receive time of its socket) of the
# commands around esptool's sleeps must match the time between the caller's ioctls
# within +-5 ms, as the issue asks. Under TCG on a shared 2-CPU host single commands
# now and then arrive 10-33 ms late, so the +-5 ms must hold on one of up to three
# attempts, each within +-40 ms (see t_reset in control_tests.py); ordering and the
# exact commands are checked on every attempt.
t_run "esptool tight reset + SYNC: exact SET-CONTROL, one read per TIOCMSET, gaps, order" $PY $T reset tight
t_run "esptool classic reset + SYNC: exact SET-CONTROL, gaps, order" $PY $T reset classic
# While 1 MiB streams, each command sits behind the data queued before it (kfifo,
# 64 KiB window, socket buffers), so the gaps the server sees only say how fast
# that data drained under TCG: ordering is checked exactly, gaps are only reported.
t_run "tight reset while 1 MiB streams: control after data written before it, not behind later data" \
	$PY $T reset tight 1048576
t_run "classic reset while 1 MiB streams: same" $PY $T reset classic 1048576
t_run "acks delayed 2 s: TIOCMSET/TIOCMGET/tcsetattr return in < 10 ms" $PY $T slow_ack delay 2
t_run "acks never sent: TIOCMSET/TIOCMGET/tcsetattr return in < 10 ms" $PY $T slow_ack none
t_run "pyserial: open, dtr/rts, baudrate, framing, send_break, reset buffers, cts/dsr/ri/cd" $PY $T pyserial
t_run "ser2net applies baud/framing to its PTY" $PY $T ser2net /dev/ttyRFC1 "$S2N_DEV"
t_run "HUPCL drops DTR/RTS after the data on last close; open raises them" $PY $T hupcl
t_run "CD loss hangs up only without CLOCAL" $PY $T cd_hangup
t_run "link loss hangs up only without CLOCAL; with it, ttyrfcd reconnects" $PY $T link_hangup
t_run "tty full: TCP back-pressure, never FLOWCONTROL-SUSPEND/RESUME, nothing lost" $PY $T backpressure
t_run "ser2net's device keeps CRTSCTS and IXON while the tty is full" $PY $T ser2net_flow /dev/ttyRFC1 "$S2N_DEV" "$S2N_PEER"
t_run "tcdrain waits until the server's TCP has the data" $PY $T drain

kill "$HELPER_PID" 2>/dev/null; wait "$HELPER_PID" 2>/dev/null
kill "$REC_PID" 2>/dev/null; wait "$REC_PID" 2>/dev/null
tests/servers/ser2net_pty.sh stop $S2N_PORT
cp "$REC_LOG" "$LOG/recorder.jsonl" 2>/dev/null
rmmod ttyrfc || t_fail "rmmod"
t_dmesg_clean "dmesg has no WARN/BUG/oops after the control tests"
t_kmemleak_clean
t_summary
