#!/bin/bash
# The delivery contract (issue 8), run inside the VM by tests/vm/suite.sh: numbered
# records through /dev/ttyRFC<n> to the device side of ser2net's PTY pair while
# ttyrfcd is killed, the server goes away, the port is closed, flushed; a reset
# behind 0xFF padding on tests/servers/recorder.py; the counters in
# `ttyrfcctl show --json`. The checks themselves are in tests/vm/delivery_tests.py,
# which runs them all in one process (a Python start costs seconds under TCG).
#   TTYRFC_DELIVERY_ONLY="banner helper-kills"   only these (names as in the list below)
#   TTYRFC_DELIVERY_KILLS=50                      rounds of the helper-kill test
#   TTYRFC_DELIVERY_SEED=N                        repeat the kill timings of a run
#   TTYRFC_DELIVERY_HELPER_ARGS=-v                ttyrfcd's options ("" for none)
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
PY=/usr/bin/python3
LOG=${TTYRFC_VM_RESULTS:-/tmp}
HELPER=userspace-helper/ttyrfcd
T=tests/vm/delivery_tests.py
export T_TIMEOUT=${T_TIMEOUT:-240}	# per test
KILLS=${TTYRFC_DELIVERY_KILLS:-50}
ONLY=${TTYRFC_DELIVERY_ONLY:-}
export DELIVERY_SEED=${TTYRFC_DELIVERY_SEED:-}
# ttyrfcd's log says what each session did (-v: sessions, connects, server replies)
export DELIVERY_HELPER_ARGS=${TTYRFC_DELIVERY_HELPER_ARGS--v}
BANNER='ttyrfc banner on 4003\r\n'
REC_PORT=4100
REC_LOG=/tmp/delivery-rec.jsonl REC_CTL=/tmp/delivery-rec.ctl REC_DATA=/tmp/delivery-recdata
SPEC=/tmp/delivery.spec

t_dmesg_mark
T0=$(date +%s.%N)
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# Few servers, since each takes many seconds to start under TCG; the tests that
# share one leave nothing in its buffers (they read until the stream is quiet).
#   ttyRFC0 ser2net 4000: helper kills, close at once, kill while full
#   ttyRFC1 ser2net 4001: server outage, busy reconnect, flush while down
#   ttyRFC2 ser2net 4003: banner (its own configuration)
#   ttyRFC3 recorder 4100: reset behind 0xFF, flush while stopped, linger
insmod "${TTYRFC_KO:-./ttyrfc.ko}" hosts=127.0.0.1:4000,127.0.0.1:4001,127.0.0.1:4003,127.0.0.1:$REC_PORT ||
	{ t_fail "insmod"; t_summary; exit 1; }

# The servers start in parallel. ser2net on 4000 runs without kickolduser: with
# it, the connection of a restarted ttyrfcd ends the dead one's at once, and
# ser2net throws away what that one's TCP had acknowledged but ser2net had not
# yet written to the device (seen here: 3 KB in 30 kills; with a real UART at
# 115200 baud up to a whole net-to-dev buffer). Confirmed means "the server's TCP has
# it": no client can get those bytes back, so such a server is not a test of
# ttyrfc. Without kickolduser the new connection is refused until the old one
# is done, and the helper retries (as with 4001, where busy-reconnect needs that).
pids=()
S2N_KICK=false tests/servers/ser2net_pty.sh start 4000 >"$LOG/s2n-4000.out" 2>&1 &
pids+=($!)
S2N_KICK=false tests/servers/ser2net_pty.sh start 4001 >"$LOG/s2n-4001.out" 2>&1 &
pids+=($!)
S2N_OPTS="    banner: '$BANNER'" tests/servers/ser2net_pty.sh start 4003 >"$LOG/s2n-4003.out" 2>&1 &
pids+=($!)
mkdir -p "$REC_DATA"
# a small receive buffer: with "pause", data backs up into every buffer
$PY tests/servers/recorder.py --port $REC_PORT --log "$REC_LOG" --ctl "$REC_CTL" \
	--save-data "$REC_DATA" --rcvbuf 4096 >"$LOG/delivery-recorder.out" 2>&1 &
REC_PID=$!
$HELPER $DELIVERY_HELPER_ARGS >>"$LOG/ttyrfcd.log" 2>&1 </dev/null &
echo $! >"$LOG/ttyrfcd.pid"
for p in "${pids[@]}"; do
	wait "$p" || t_fail "a ser2net starts" "$(cat "$LOG"/s2n-*.out)"
done
for _ in $(seq 200); do grep -q LISTENING "$LOG/delivery-recorder.out" && [ -S "$REC_CTL" ] && break; sleep 0.05; done
for _ in $(seq 200); do grep -q "registered with" "$LOG/ttyrfcd.log" 2>/dev/null && break; sleep 0.1; done
grep -q "registered with" "$LOG/ttyrfcd.log" || t_fail "ttyrfcd registers"
t_diag "setup: $(since "$T0") s"

declare -A DESC
NAMES=()
: >"$SPEC"
dt() {	# dt NAME DESCRIPTION ARGS...: one test of $T
	local name=$1 desc=$2
	shift 2
	case " ${ONLY:-$name} " in *" $name "*) ;; *) return 0 ;; esac
	DESC[$name]=$desc
	NAMES+=("$name")
	{ printf '%s' "$name"; printf '\t%s' "$@"; echo; } >>"$SPEC"
}
dt helper-kills "ttyrfcd SIGKILLed $KILLS times while records stream: 0 lost, replays only of the unconfirmed, tx_resent > 0" \
	/dev/ttyRFC0 /tmp/ttyrfc-peer.4000 "$KILLS"
dt server-outage "ser2net stopped for 3 s while records stream (CLOCAL): port stays open, reconnects, 0 lost, link_losses >= 1" \
	/dev/ttyRFC1 4001 3
dt close-at-once "1 MiB written and closed at once while the device sends: every byte arrives" \
	/dev/ttyRFC0 /tmp/ttyrfc-peer.4000 1048576
dt reset-behind-ff "TIOCMSET behind 128 KiB of 0xFF, recorder paused: all data, then both SET-CONTROLs, protocol_errors 0" \
	/dev/ttyRFC3 "$REC_LOG" "$REC_CTL" "$REC_DATA" 131072
dt banner "the banner ser2net sends on connect is what the first read() returns" \
	/dev/ttyRFC2 "$BANNER" 3
dt kill-while-full "ttyrfcd SIGKILLed while the tty is full: what the tty held and all after arrive, rx_dropped 0" \
	/dev/ttyRFC0 /tmp/ttyrfc-peer.4000 2
dt busy-reconnect "ser2net busy (another client) while ttyrfcd reconnects a CLOCAL port: what was written arrives, nothing confirmed to a refusal" \
	/dev/ttyRFC1 4001
dt flush-while-down "TCOFLUSH while ser2net is down: tx_flushed is what was written, none of it arrives later" \
	/dev/ttyRFC1 4001
dt flush-while-stopped "TCOFLUSH while ttyrfcd is stopped: tx_flushed + what arrived = what was written, PURGE after it" \
	/dev/ttyRFC3 "$REC_LOG" "$REC_CTL" "$REC_DATA"
dt linger-bounded "close() while the server talks on and never closes: the connection ends, the port opens again" \
	/dev/ttyRFC3 "$REC_LOG" "$REC_CTL" "$REC_DATA"
dt counters "ttyrfcctl show --json has every counter, with sane values" \
	/dev/ttyRFC0 /dev/ttyRFC1 /dev/ttyRFC2 /dev/ttyRFC3

# the results as lib.sh's: "ok N - description", then what the test printed
declare -A DONE
out=()
while IFS= read -r line; do
	case $line in
	'@@begin '*) out=() ;;
	'@@end '*)
		read -r _ name res secs <<<"$line"
		DONE[$name]=1
		if [ "$res" = ok ]; then t_ok "${DESC[$name]}"; else t_fail "${DESC[$name]}"; fi
		[ ${#out[@]} -gt 0 ] && printf '%s\n' "${out[@]}" | sed 's/^/#   /'
		t_diag "$name: $secs s"
		out=() ;;
	*) out+=("$line") ;;
	esac
done < <(timeout -k 5 $((T_TIMEOUT * ${#NAMES[@]} + 60)) $PY $T --spec "$SPEC" 2>&1)
for name in "${NAMES[@]}"; do
	[ -n "${DONE[$name]:-}" ] && continue
	t_fail "${DESC[$name]}" "no result: the test runner died"
	[ ${#out[@]} -gt 0 ] && printf '%s\n' "${out[@]}" | sed 's/^/#   /'
	out=()
done

kill -0 "$(cat "$LOG/ttyrfcd.pid")" 2>/dev/null || t_fail "ttyrfcd is running at the end"
kill "$(cat "$LOG/ttyrfcd.pid")" 2>/dev/null
kill "$REC_PID" 2>/dev/null
for port in 4000 4001 4003; do tests/servers/ser2net_pty.sh stop $port; done
sleep 0.5
t_run "rmmod after the tests" rmmod ttyrfc

t_diag "the group: $(since "$T0") s"
t_dmesg_clean "dmesg has no WARN/BUG/oops after the run"
declare -F t_kmemleak_clean >/dev/null && t_kmemleak_clean
t_summary
