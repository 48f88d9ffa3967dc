#!/bin/bash
# The benchmark, inside the VM (tests/bench/run.sh boots it). One echoing
# "board" behind one ser2net; each client in turn: a raw TCP socket to a
# plain-TCP accepter, /dev/ttyRFC0 (RFC 2217 accepter), a socat PTY bridge
# (plain TCP) and pyserial's own rfc2217:// client where it applies.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
LOG=${TTYRFC_VM_RESULTS:-/tmp}
MIB=${BENCH_MIB:-8}
RTT=${BENCH_RTT:-500}

# one board, two accepters: telnet(rfc2217) on 4000, plain tcp on 4001
S2N_OPTS=$'connection: &raw4001\n  accepter: tcp,127.0.0.1,4001\n  connector: serialdev,/tmp/ttyrfc-dev.4000,115200n81,local\n  options:\n    kickolduser: true\n    chardelay: false\n    dev-to-net-bufsize: 65536\n    net-to-dev-bufsize: 65536' \
	tests/servers/ser2net_pty.sh start 4000 >/dev/null
$PY tests/servers/peer.py echo /tmp/ttyrfc-peer.4000 >"$LOG/echo.log" 2>&1 &
for _ in $(seq 50); do ss -Hltn 'sport = :4001' | grep -q . && break; sleep 0.1; done

insmod "${TTYRFC_KO:-./ttyrfc.ko}" hosts=127.0.0.1:4000
userspace-helper/ttyrfcd >"$LOG/ttyrfcd.log" 2>&1 &
sleep 0.5

# a client holds the board while connected, so each runs alone
socat_bench() {
	socat pty,link=/tmp/socat-pty,raw,echo=0 tcp:127.0.0.1:4001 >"$LOG/socat.log" 2>&1 &
	local pid=$!
	for _ in $(seq 50); do [ -e /tmp/socat-pty ] && break; sleep 0.1; done
	$PY tests/bench/echo_bench.py "socat pty bridge" /tmp/socat-pty --mib "$MIB" --rtt "$RTT"
	kill "$pid"; wait "$pid" 2>/dev/null || true
	sleep 0.5
}

echo "# client                        MB/s echo  RTT p50 ms  RTT p99 ms"
for round in 1 2; do
	$PY tests/bench/echo_bench.py "raw TCP socket" tcp:127.0.0.1:4001 --mib "$MIB" --rtt "$RTT"
	sleep 0.5
	$PY tests/bench/echo_bench.py "/dev/ttyRFC0 (ttyrfc)" /dev/ttyRFC0 --mib "$MIB" --rtt "$RTT"
	sleep 0.5
	socat_bench
done
