#!/bin/bash
# tests/bench/profile.sh LOGDIR HELPER_PID — where the time goes, inside the VM, with
# perf (Debian's linux-perf; the guest runs the host's userland) and /proc. Run by
# guest.sh (BENCH_PERF=1) with its setup: ser2net :4000 (RFC 2217) and :4001 (raw
# TCP) in front of the PTY echo board, /dev/ttyRFC0 -> :4000, ttyrfcd running.
#
# For the raw TCP socket and for /dev/ttyRFC0: a throughput phase (BENCH_PROF_KIB
# KiB echoed, default 1024) and a round-trip phase (BENCH_PROF_RTT 1-byte round
# trips, default 200): CPU time of every process and kernel thread (/proc, by
# tests/bench/profile.py), `perf stat -a` of context switches, work items, syscalls
# and kmallocs of 16 KiB or more, `perf stat -p` of the same for ttyrfcd alone, and
# cpu-clock samples of ttyrfcd by symbol.
# Everything is divided by the work done (MB echoed, round trips). TCG has no PMU:
# cpu-clock samples are timer-driven, fine for ttyrfcd's user-space symbols.
# Prints {"kind":"profile",...} lines and writes LOGDIR/profile-*.txt.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
PY=/usr/bin/python3
LOG=${1:-/tmp}
HPID=$2
KIB=${TTYRFC_BENCH_PROF_KIB:-1024}
RTT=${TTYRFC_BENCH_PROF_RTT:-200}
echo 0 >/proc/sys/kernel/kptr_restrict
echo -1 >/proc/sys/kernel/perf_event_paranoid
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
have() { [ -d "/sys/kernel/tracing/events/${1%%:*}/${1#*:}" ]; }
COUNT=
for e in sched:sched_switch workqueue:workqueue_execute_start \
	syscalls:sys_enter_{epoll_wait,sendmsg,recvmsg,recvmmsg,sendto,recvfrom,write,read,pselect6,poll,ppoll}; do
	have "$e" && COUNT+=${COUNT:+,}$e
done

step() { echo "$(cut -d' ' -f1 /proc/uptime) $*" >>"$LOG/profile-steps.log"; }

prof_one() {	# prof_one NAME TARGET PHASE
	local name=$1 target=$2 phase=$3 args tag st cc
	case $phase in
	throughput) args=(--kib "$KIB" --rtt 0) ;;
	rtt) args=(--kib 0 --rtt "$RTT") ;;
	esac
	tag=$(echo "$name-$phase" | tr -c 'a-zA-Z0-9\n-' '_')
	step "$tag: start"
	timeout 300 perf stat -x, -e "$COUNT" -p "$HPID" -o "/tmp/ps-helper-$tag.csv" 2>>"$LOG/perf-$tag.err" &
	st=$!
	timeout 300 perf record -q -e cpu-clock -F 499 -p "$HPID" -o "/tmp/cc-$tag.data" 2>>"$LOG/perf-$tag.err" &
	cc=$!
	sleep 0.5
	timeout 300 perf stat -x, -a -e "$COUNT" -e kmem:kmalloc --filter 'bytes_alloc >= 16384' \
		-o "/tmp/ps-all-$tag.csv" -- \
		$PY tests/bench/profile.py run "/tmp/proc-$tag.json" -- \
		$PY tests/bench/echo_bench.py "$name" "$target" "${args[@]}" >"/tmp/echo-$tag.json" 2>>"$LOG/perf-$tag.err"
	kill -INT "$st" "$cc"; wait "$st" "$cc"
	step "$tag: report"
	timeout 120 perf report -i "/tmp/cc-$tag.data" --no-children --sort dso,sym --stdio 2>/dev/null |
		head -n 60 >"/tmp/cc-$tag.txt"
	$PY tests/bench/profile.py sum "$name" "$phase" "/tmp/echo-$tag.json" "/tmp/proc-$tag.json" \
		"/tmp/ps-all-$tag.csv" "/tmp/ps-helper-$tag.csv" /dev/null "/tmp/cc-$tag.txt" \
		"$LOG/profile-$tag.txt"
	rm -f "/tmp/cc-$tag.data"
	step "$tag: done"
}

for phase in throughput rtt; do
	prof_one "raw TCP socket" tcp:127.0.0.1:4001 $phase
	prof_one "/dev/ttyRFC0" /dev/ttyRFC0 $phase
done
