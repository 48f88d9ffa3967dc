#!/bin/bash
# Faults (issue 9): TTYRFC_FAULTS_ROUNDS rounds (default 50; faults_ci.sh
# runs 5) of each kind, with the time until data flows again, median and
# worst (tests/vm/progs/faults.c):
#   helper-kill     ttyrfcd SIGKILLed mid-transfer (both ways) and started
#                   again; through ser2net, and through a raw port to a server
#                   that reads every connection to its end: there no byte
#                   written to the tty may be lost
#   helper-kill-oneway  the same through ser2net with data one way only
#   server-restart  ser2net stopped and started again (the PTY stays)
#   vanish          a server in a network namespace goes silent: its packets
#                   dropped (netem loss 100%) or its link down; the port must
#                   notice within 10 s and reconnect once it is reachable
#   modload         rmmod (retried until it goes) and insmod while ttyrfcd
#                   runs and opener threads race on the ports
#   TTYRFC_FAULTS_KINDS    which (default: all four, in that order)
# `make faults` runs this with 50 rounds; it is not in CI's default list.
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
PY=/usr/bin/python3
LOG=${TTYRFC_VM_RESULTS:-/tmp}
HELPER=$PWD/userspace-helper/ttyrfcd
export TTYRFCCTL=$PWD/userspace-helper/ttyrfcctl
KO=${TTYRFC_KO:-$PWD/ttyrfc.ko}
ROUNDS=${TTYRFC_FAULTS_ROUNDS:-50}
KINDS=${TTYRFC_FAULTS_KINDS:-helper-kill server-restart vanish modload}
NS=ttyrfc-srv
S2N=$PWD/tests/servers/ser2net_pty.sh

t_dmesg_mark
t_progs || { t_summary; exit 1; }
F=$PROGS/faults
T0=$(date +%s)

# port 0: ser2net on 127.0.0.1:4500; port 1: ser2net in a network namespace
# behind a veth pair, 10.99.0.2:4501, where its packets can be dropped
eval "$($S2N start 4500)" || { t_fail "ser2net on 4500"; t_summary; exit 1; }
PEER0=$PEER
netns_up() {
	modprobe veth && modprobe sch_netem || return 1
	ip netns add $NS &&
	ip link add veth-h type veth peer name veth-s &&
	ip link set veth-s netns $NS &&
	ip addr add 10.99.0.1/24 dev veth-h && ip link set veth-h up &&
	ip -n $NS addr add 10.99.0.2/24 dev veth-s &&
	ip -n $NS link set veth-s up && ip -n $NS link set lo up
}
if t_run "a server in a network namespace behind a veth pair" netns_up &&
	out=$(ip netns exec $NS env S2N_ADDR=10.99.0.2 $S2N start 4501); then
	eval "$out"
	PEER1=$PEER
else
	PEER1=
fi
PARAMS="hosts=127.0.0.1:4500,10.99.0.2:4501 open_timeout=10"
# shellcheck disable=SC2086
insmod "$KO" $PARAMS || { t_fail "insmod"; t_summary; exit 1; }
$HELPER >>"$LOG/ttyrfcd.log" 2>&1 &
disown	# faults.c kills it and starts others: no job notices from bash
for _ in $(seq 100); do grep -q "registered with" "$LOG/ttyrfcd.log" 2>/dev/null && break; sleep 0.1; done
# port 2: raw, to the sink faults.c itself runs on 4510
RAW=$("$TTYRFCCTL" add 127.0.0.1:4510 --raw)

# how long one kind may take: rounds x (its worst plausible round)
tap() {	# SECS-PER-ROUND CMD...
	local per=$1; shift
	T_TIMEOUT=$((ROUNDS * per + 120)) t_tap "$@"
}
t_diag "faults: $ROUNDS rounds of: $KINDS"
for kind in $KINDS; do
	case $kind in
	helper-kill)
		tap 30 "$F" helper-kill --dev /dev/ttyRFC0 --peer "$PEER0" \
			--rounds "$ROUNDS" --helper "$HELPER" --helper-log "$LOG/ttyrfcd.log"
		tap 30 "$F" helper-kill --dev "/dev/${RAW:-none}" --sink 4510 \
			--rounds "$ROUNDS" --helper "$HELPER" --helper-log "$LOG/ttyrfcd.log" ;;
	helper-kill-oneway)
		tap 30 "$F" helper-kill --dev /dev/ttyRFC0 --peer "$PEER0" --oneway 1 \
			--rounds "$ROUNDS" --helper "$HELPER" --helper-log "$LOG/ttyrfcd.log" ;;
	server-restart)
		tap 30 "$F" server-restart --dev /dev/ttyRFC0 --peer "$PEER0" \
			--rounds "$ROUNDS" --down "$S2N stop-server 4500" \
			--up "$S2N start-server 4500" ;;
	vanish)
		if [ -z "$PEER1" ]; then
			t_fail "vanish: needs the server in its network namespace"
			continue
		fi
		tap 90 "$F" vanish --dev /dev/ttyRFC1 --index 1 --peer "$PEER1" \
			--rounds "$ROUNDS" \
			--down "tc qdisc add dev veth-h root netem loss 100% && tc -n $NS qdisc add dev veth-s root netem loss 100%" \
			--up "tc qdisc del dev veth-h root; tc -n $NS qdisc del dev veth-s root" \
			--down2 "ip -n $NS link set veth-s down" \
			--up2 "ip -n $NS link set veth-s up" ;;
	modload)
		# the board echoes, so a round trip says data flows
		$PY tests/servers/peer.py echo "$PEER0" >"$LOG/echo.log" 2>&1 &
		ECHO=$!
		tap 60 "$F" modload --dev /dev/ttyRFC0 --peer "$PEER0" \
			--rounds "$ROUNDS" --ko "$KO" --params "$PARAMS" \
			--racer-dev /dev/ttyRFC0 --racer-dev /dev/ttyRFC1 --racers 4 \
			--helper "$HELPER" --helper-log "$LOG/ttyrfcd.log"
		kill "$ECHO"; wait "$ECHO" 2>/dev/null ;;
	*)
		t_fail "unknown fault kind $kind" ;;
	esac
done

[ -n "$RAW" ] && "$TTYRFCCTL" del "$RAW"
HELPER_PID=$(pgrep -x ttyrfcd) && kill $HELPER_PID
$S2N stop 4500
[ -n "$PEER1" ] && ip netns exec $NS $S2N stop 4501
ip netns del $NS 2>/dev/null
for _ in $(seq 50); do rmmod ttyrfc 2>/dev/null && break; sleep 0.1; done
t_run "module unloaded after the faults" bash -c "! grep -q '^ttyrfc ' /proc/modules"
t_diag "faults group ran in $(($(date +%s) - T0)) s"
t_dmesg_clean "dmesg has no WARN/BUG/oops after the faults"
type t_kmemleak_clean >/dev/null 2>&1 && t_kmemleak_clean
t_summary
