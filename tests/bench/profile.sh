#!/bin/bash
# tests/bench/profile.sh LOGDIR — where the time goes, inside the VM, with perf
# (Debian's linux-perf; the guest runs the host's userland). Sourced setup is
# guest.sh's: ser2net on :4000 (RFC 2217) and :4001 (raw TCP) in front of the
# PTY echo board, /dev/ttyRFC0 -> :4000, ttyrfcd running.
#
# For the raw TCP socket and for /dev/ttyRFC0, a throughput phase (BENCH_PROF_KIB
# KiB echoed, default 2048) and a round-trip phase (BENCH_PROF_RTT 1-byte round
# trips, default 300), each recorded twice:
#   - tracepoints, whole system: context switches, work items (by function),
#     the syscalls of each process, kmalloc >= 4 KiB (by call site); counted
#     per MB echoed / per round trip by tests/bench/profile.py;
#   - cpu-clock samples, whole system: CPU time per process and the top
#     symbols of ttyrfcd and of the ttyrfc module.
# TCG has no PMU, so cpu-clock is hrtimer-driven: a sample lands where
# interrupts are enabled again (spin_unlock_irqrestore and friends show up
# high for that reason); the split per process is sound, symbols inside
# irq-off sections are not.
# Prints {"kind":"profile",...} lines (profile.py) and writes LOGDIR/profile-*.txt.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
PY=/usr/bin/python3
LOG=${1:-/tmp}
KIB=${TTYRFC_BENCH_PROF_KIB:-2048}
RTT=${TTYRFC_BENCH_PROF_RTT:-300}
echo 0 >/proc/sys/kernel/kptr_restrict
echo -1 >/proc/sys/kernel/perf_event_paranoid
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
EVENTS=
for e in sched:sched_switch workqueue:workqueue_execute_start kmem:kmalloc kmem:kmalloc_node \
	syscalls:sys_enter_{epoll_wait,sendmsg,recvmsg,sendto,recvfrom,write,read,poll,select,pselect6,ppoll}; do
	[ -d "/sys/kernel/tracing/events/${e%%:*}/${e#*:}" ] && EVENTS+=${EVENTS:+,}$e
done

prof_one() {	# prof_one NAME TARGET PHASE
	local name=$1 target=$2 phase=$3 args tag
	case $phase in
	throughput) args=(--kib "$KIB" --rtt 0) ;;
	rtt) args=(--kib 0 --rtt "$RTT") ;;
	esac
	tag=$(echo "$name-$phase" | tr -c 'a-zA-Z0-9\n-' '_')
	perf record -q -a -e "$EVENTS" -o "/tmp/tp-$tag.data" -- \
		$PY tests/bench/echo_bench.py "$name" "$target" "${args[@]}" >"/tmp/tp-$tag.json" 2>"$LOG/perf-$tag.err"
	perf script -i "/tmp/tp-$tag.data" -F comm,event,trace 2>/dev/null >"/tmp/tp-$tag.txt"
	perf record -q -a -e cpu-clock -F 499 -o "/tmp/cc-$tag.data" -- \
		$PY tests/bench/echo_bench.py "$name" "$target" "${args[@]}" >/dev/null 2>>"$LOG/perf-$tag.err"
	perf report -i "/tmp/cc-$tag.data" --no-children --sort comm --stdio 2>/dev/null >"/tmp/cc-$tag-comm.txt"
	perf report -i "/tmp/cc-$tag.data" --no-children --comms ttyrfcd --sort dso,sym --stdio 2>/dev/null |
		head -n 60 >"/tmp/cc-$tag-helper.txt"
	perf report -i "/tmp/cc-$tag.data" --no-children --dsos '[ttyrfc]' --sort comm,sym --stdio 2>/dev/null |
		head -n 60 >"/tmp/cc-$tag-module.txt"
	$PY tests/bench/profile.py "$name" "$phase" "/tmp/tp-$tag.json" "/tmp/tp-$tag.txt" \
		"/tmp/cc-$tag-comm.txt" "/tmp/cc-$tag-helper.txt" "/tmp/cc-$tag-module.txt" \
		"$LOG/profile-$tag.txt"
	rm -f "/tmp/tp-$tag.data" "/tmp/cc-$tag.data"
}

for phase in throughput rtt; do
	prof_one "raw TCP socket" tcp:127.0.0.1:4001 $phase
	prof_one "/dev/ttyRFC0" /dev/ttyRFC0 $phase
done
