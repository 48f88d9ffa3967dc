#!/bin/bash
# Torture (issue 9), run inside the VM by tests/vm/suite.sh, or alone with
# `make torture` (10 minutes on the debug kernel). tests/vm/progs/torture.c
# runs 8 threads doing random open/close/read/write/ioctl on 4 ports served
# by ser2net (each in front of a PTY whose board end echoes): TIOCMSET/BIS/
# BIC, TCSETS2 with random BOTHER rates and framing, TCFLSH, TIOCSBRK/CBRK,
# TIOCMIWAIT and tcdrain broken by signals, TIOCGICOUNT, TIOCVHANGUP, ...
# Meanwhile it SIGKILLs or SIGSTOPs/SIGCONTs ttyrfcd every 2-6 s and deletes
# and adds ports (closed ones, and now and then open ones: an unplug).
# Between rounds the module is unloaded and loaded again. Afterwards dmesg
# must be clean and every port must carry data byte-exact both ways.
#   TTYRFC_TORTURE_SECS    total time of the rounds (default 120)
#   TTYRFC_TORTURE_ROUNDS  rounds, with rmmod/insmod between them (default 4)
#   TTYRFC_TORTURE_SEED    seed of the first round (default: random, printed)
#   TTYRFC_TORTURE_DEL_OPEN=0  delete closed ports only
#   TTYRFC_HANG_SECS       a call still blocked this long after its signal is
#                          a hang (default 30; 120 on a debug kernel)
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
PY=/usr/bin/python3
LOG=${TTYRFC_VM_RESULTS:-/tmp}
HELPER=$PWD/userspace-helper/ttyrfcd
export TTYRFCCTL=$PWD/userspace-helper/ttyrfcctl
KO=${TTYRFC_KO:-./ttyrfc.ko}
SECS=${TTYRFC_TORTURE_SECS:-120}
ROUNDS=${TTYRFC_TORTURE_ROUNDS:-4}
SEED=${TTYRFC_TORTURE_SEED:-$((RANDOM * 32768 + RANDOM))}
TCP_PORTS=(4400 4401 4402 4403)
STATE=$LOG/torture.state
# a debug kernel (KASAN, lockdep) under TCG is about ten times slower
if dmesg | grep -qE "KernelAddressSanitizer initialized|Lock dependency validator"; then
	export TTYRFC_HANG_SECS=${TTYRFC_HANG_SECS:-120}
fi
# a round plus its ending; run.sh kills the VM at TTYRFC_VM_TIMEOUT
ROUND_TIMEOUT=$((SECS / ROUNDS + ${TTYRFC_HANG_SECS:-30} + 180))

t_dmesg_mark
t_progs || { t_summary; exit 1; }
T0=$(date +%s)

declare -A PEERS
ECHOS=()
HOSTS=
for p in "${TCP_PORTS[@]}"; do
	eval "$(tests/servers/ser2net_pty.sh start "$p")" ||
		{ t_fail "ser2net on $p"; t_summary; exit 1; }
	PEERS[127.0.0.1:$p]=$PEER
	$PY tests/servers/peer.py echo "$PEER" >"$LOG/echo.$p.log" 2>&1 &
	ECHOS+=($!)
	HOSTS+=${HOSTS:+,}127.0.0.1:$p
done
load() { insmod "$KO" hosts="$HOSTS" open_timeout=5; }
# closed ports can take a moment to go (tty release runs in a workqueue)
unload() {
	for _ in $(seq 100); do
		rmmod ttyrfc 2>/dev/null && return 0
		sleep 0.1
	done
	echo "still loaded:"; lsmod | grep ttyrfc
	ls -l /proc/*/fd 2>/dev/null | grep ttyRFC
	return 1
}
load || { t_fail "insmod"; t_summary; exit 1; }

args=()
[ "${TTYRFC_TORTURE_DEL_OPEN:-1}" = 1 ] && args+=(--del-open)
t_diag "torture: $SECS s in $ROUNDS rounds, seed $SEED, module reloaded between rounds"
for r in $(seq "$ROUNDS"); do
	ports=()
	i=0
	for p in "${TCP_PORTS[@]}"; do ports+=(--port "$i:127.0.0.1:$p"); i=$((i + 1)); done
	T_TIMEOUT=$ROUND_TIMEOUT t_tap "$PROGS/torture" "${ports[@]}" --secs $((SECS / ROUNDS)) \
		--seed $((SEED + r)) --helper "$HELPER" --helper-log "$LOG/ttyrfcd.log" \
		--del-closed "${args[@]}" --state "$STATE"
	[ "$r" = "$ROUNDS" ] && break
	# the helper keeps running and follows the module
	t_run "round $r: rmmod once the ports are closed" unload
	t_run "round $r: insmod again" load
done

# afterwards: every port carries data byte-exact both ways
kill "${ECHOS[@]}" 2>/dev/null; wait "${ECHOS[@]}" 2>/dev/null
HELPER_PID=$(sed -n 's/^HELPER //p' "$STATE")
check=()
while read -r _ idx remote; do
	check+=("/dev/ttyRFC$idx:${PEERS[$remote]}")
done < <(grep '^PORT ' "$STATE")
t_run "ttyrfcd registered after the torture" \
	bash -c "pgrep -x ttyrfcd >/dev/null && $TTYRFCCTL list"
# a port that will not open again: what the kernel and ttyrfcd say of it
T_TIMEOUT=300 t_tap "$PROGS/torture" --check "${check[@]}" || {
	$TTYRFCCTL show 2>&1 | sed 's/^/# /'
	tail -n 60 "$LOG/ttyrfcd.log" | sed 's/^/# /'
}

[ -n "$HELPER_PID" ] && kill "$HELPER_PID" 2>/dev/null
for p in "${TCP_PORTS[@]}"; do tests/servers/ser2net_pty.sh stop "$p"; done
t_run "rmmod after the torture" unload
t_diag "torture group ran in $(($(date +%s) - T0)) s"
t_dmesg_clean "dmesg has no WARN/BUG/oops after the torture"
# the debug kernel's kmemleak (lib.sh of the debug-kernel work has the check)
if type t_kmemleak_clean >/dev/null 2>&1; then
	t_kmemleak_clean
fi
t_summary
