#!/bin/bash
# Netlink abuse (issue 9), run inside the VM by tests/vm/suite.sh. The C
# program tests/vm/progs/nl_abuse.c sends the "ttyrfc" family every kind of
# bad message and checks each errno:
#   policy    attributes out of range, of the wrong type or length, missing;
#             oversized DATA; unknown commands; kernel->helper commands;
#             ADD/DEL/GET misuse (with ttyrfcd registered)
#   intruder  a second helper: EBUSY; messages into live sessions: EPERM
#   fuzz      random messages from a non-helper socket
#   eperm     every command without CAP_NET_ADMIN: as nobody, as root without
#             the capability, after dropping it, from a user namespace (with
#             and without its own network namespace)
#   helper    (ttyrfcd stopped) a fake helper that lies: CONFIRM beyond what
#             was sent / of old sessions / for deleted ports, RX past the
#             credit or out of place, LINK of old sessions, STATUS nonsense;
#             each counted; a stale CONFIRM must not end tcdrain
#   stall     a fake helper that stops reading: ports closed and deleted while
#             the kernel backs off from its full socket (issue 9, item 1)
#   race      the fake helper lies while ports are added, opened and deleted
# Between and after them a port must still open and carry data byte-exact
# through ser2net, and dmesg must stay clean.
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
PY=/usr/bin/python3
LOG=${TTYRFC_VM_RESULTS:-/tmp}
HELPER=userspace-helper/ttyrfcd
export TTYRFCCTL=$PWD/userspace-helper/ttyrfcctl
# a bound for each program (t_run's functions cannot go through timeout(1))
TAP_TIMEOUT=${T_TIMEOUT:-600}
tap() { T_TIMEOUT=$TAP_TIMEOUT t_tap "$@"; }
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)

t_dmesg_mark
t_progs || { t_summary; exit 1; }
ABUSE=$PROGS/nl_abuse
T0=$(date +%s)

insmod "${TTYRFC_KO:-./ttyrfc.ko}" hosts=127.0.0.1:4300 open_timeout=5 ||
	{ t_fail "insmod"; t_summary; exit 1; }
eval "$(tests/servers/ser2net_pty.sh start 4300)"

HELPER_PID=
start_helper() {
	local n
	n=$(grep -c "registered with" "$LOG/ttyrfcd.log" 2>/dev/null)
	$HELPER >>"$LOG/ttyrfcd.log" 2>&1 &
	HELPER_PID=$!
	for _ in $(seq 100); do
		[ "$(grep -c "registered with" "$LOG/ttyrfcd.log")" -gt "${n:-0}" ] && return 0
		sleep 0.1
	done
	return 1
}
stop_helper() {
	[ -n "$HELPER_PID" ] || return 0
	kill "$HELPER_PID" 2>/dev/null
	wait "$HELPER_PID" 2>/dev/null
	HELPER_PID=
}
# the module still works: a port opens and data goes both ways byte-exact
echo_check() {
	t_run "$1: ttyRFC0 carries 256 KiB each way through ser2net, byte-exact" \
		$PY tests/vm/xfer.py /dev/ttyRFC0 "$PEER" 262144
}

start_helper || t_fail "ttyrfcd registers"
echo_check "before the abuse"

tap "$ABUSE" policy
# a live session, so the intruder has session ids to name
sleep 120 </dev/ttyRFC0 &
HOLD=$!
sleep 1
if [ -n "$HELPER_PID" ] && kill -0 "$HELPER_PID"; then
	tap "$ABUSE" intruder
else
	t_fail "intruder: needs a registered ttyrfcd"
fi
kill "$HOLD"; wait "$HOLD" 2>/dev/null
tap "$ABUSE" fuzz "${TTYRFC_FUZZ_COUNT:-4000}"
echo_check "after policy, intruder and fuzz"

# no CAP_NET_ADMIN in the initial user namespace: EPERM for every command
T_VERBOSE=1 t_run "nl_eperm.py as nobody" "${NOBODY[@]}" $PY tests/vm/nl_eperm.py
tap "${NOBODY[@]}" "$ABUSE" eperm --as nobody
tap setpriv --bounding-set=-net_admin --inh-caps=-net_admin "$ABUSE" eperm \
	--as "root without CAP_NET_ADMIN"
tap "$ABUSE" eperm --drop-caps --as "root that dropped it after opening"
ctl_refused() {	# [WRAPPER...]: ttyrfcctl add run through it must fail with EPERM
	local out
	if out=$("$@" "$TTYRFCCTL" add 127.0.0.12:9 2>&1); then
		echo "accepted: $out"; return 1
	fi
	echo "$out"
	grep -q "Operation not permitted" <<<"$out"
}
t_run "ttyrfcctl add as root without CAP_NET_ADMIN: Operation not permitted" \
	ctl_refused setpriv --bounding-set=-net_admin --inh-caps=-net_admin
# root of a user namespace has CAP_NET_ADMIN there, but not where it counts
if t_run "a user namespace can be made (tests/vm/userns.sh)" \
	tests/vm/userns.sh bash -c '[ "$(id -u)" = 0 ] && grep -q "^ *0 *0 *1$" /proc/self/uid_map'; then
	tap tests/vm/userns.sh "$ABUSE" eperm --as "root of a user namespace"
	FAMILY=$("$ABUSE" family)
	tap tests/vm/userns.sh -n "$ABUSE" eperm --as "user+network namespace"
	tap tests/vm/userns.sh -n "$ABUSE" eperm --family "$FAMILY" \
		--as "user+network namespace, family id from outside"
	t_run "ttyrfcctl add from a user namespace: Operation not permitted" \
		ctl_refused tests/vm/userns.sh
fi

# this program as the helper, lying
stop_helper
sleep 0.5
tap "$ABUSE" helper
tap "$ABUSE" stall "${TTYRFC_STALL_ROUNDS:-6}"
tap "$ABUSE" race "${TTYRFC_RACE_ROUNDS:-30}"
start_helper || t_fail "ttyrfcd registers again after the fake helper"
echo_check "after the fake helper"
only_port0() {
	local ports
	ports=$("$TTYRFCCTL" list | cut -f1 | tr '\n' ' ')
	[ "$ports" = "ttyRFC0 " ] || { "$TTYRFCCTL" list; return 1; }
}
t_run "ttyrfcctl list still shows ttyRFC0 only" only_port0

stop_helper
tests/servers/ser2net_pty.sh stop 4300
t_run "rmmod after the abuse" rmmod ttyrfc
t_diag "abuse group ran in $(($(date +%s) - T0)) s"
t_dmesg_clean "dmesg has no WARN/BUG/oops after the abuse"
type t_kmemleak_clean >/dev/null 2>&1 && t_kmemleak_clean
t_summary
