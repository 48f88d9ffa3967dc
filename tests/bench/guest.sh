#!/bin/bash
# tests/bench/guest.sh — the benchmarks, inside the VM (tests/bench/run.sh boots it
# once and turns what this prints into docs/benchmarks.md and docs/benchmarks.png).
#
# One result per JSON line on stdout (lines starting with '{'); progress lines
# start with '#'. Every measurement runs BENCH_ROUNDS times (default 3; the
# 1 MiB write_flash and many-port rows BENCH_FLASH_ROUNDS, default 2), rounds
# interleaved across the clients so a burst of host load hits all of them alike.
# (tests/bench/run.sh passes each BENCH_X of its environment in as TTYRFC_BENCH_X:
# tests/vm/run.sh only forwards TTYRFC_* variables.) Also: BENCH_KIB (echo size,
# 4096), BENCH_PYSERIAL_KIB (64), BENCH_RTT (500), BENCH_MULTI_SECS (8),
# BENCH_PERF=1 (tests/bench/profile.sh at the end: raw TCP vs ttyRFC0 under perf),
# BENCH_ONLY (sections to run, default "echo ctl esptool multi").
#
# Servers and devices (all on 127.0.0.1 inside the VM):
#   ptyecho (C): 65 echoing PTY "boards", /tmp/bench-echo-0..64
#   ser2net: telnet(rfc2217) :4000 and plain tcp :4001 on echo-0; telnet(rfc2217)
#            :5000+i on echo-(1+i) for the many-port runs (chardelay off, 64 KiB buffers)
#   esp_rfc2217_server.py (Debian's esptool 4.7) + simulated ESP32: :4101
#   recorder.py (records when each SET-CONTROL arrives): :4102
#   pty_board.py: the simulated ESP32 behind a local PTY, no network (reference)
# Ports: ttyRFC0 -> :4000, ttyRFC1 -> :4101, ttyRFC2 -> :4102, ttyRFC3.. -> :5000..,
#        the next one -> :4001 with --raw (ttyrfc's own cost, without the telnet accepter's)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/cache.sh
PY=/usr/bin/python3
LOG=${TTYRFC_VM_RESULTS:-/tmp}
KO=${TTYRFC_KO:-./ttyrfc.ko}
BIN=${TTYRFC_BENCH_BIN:-build/bench}
ROUNDS=${TTYRFC_BENCH_ROUNDS:-3}
FROUNDS=${TTYRFC_BENCH_FLASH_ROUNDS:-2}
KIB=${TTYRFC_BENCH_KIB:-4096}
PYS_KIB=${TTYRFC_BENCH_PYSERIAL_KIB:-64}
RTT=${TTYRFC_BENCH_RTT:-500}
MULTI_SECS=${TTYRFC_BENCH_MULTI_SECS:-8}
ONLY=" ${TTYRFC_BENCH_ONLY:-echo ctl esptool multi} "
want() { case $ONLY in *" $1 "*) return 0 ;; esac; return 1; }
NMULTI=64
STUBPKG=${TTYRFC_BENCH_STUB:-$PWD/build/bench/esptool-stub}	# made by run.sh
T_START=$(date +%s.%N)

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
say() { echo "# [$(since "$T_START")s] $*"; }
wait_for() {	# wait_for FILE REGEX [tenths]
	for _ in $(seq "${3:-100}"); do grep -Eq "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
die() { echo "# FATAL: $*"; exit 1; }

echo "{\"kind\":\"env\",\"kernel\":\"$(uname -r)\",\"cpus\":$(nproc),\"ser2net\":\"$(ser2net -v 2>&1 | awk '{print $3; exit}')\",\"esptool\":\"$(cat "$TTYRFC_ESPTOOL_DIR/.done" 2>/dev/null)\"}"

# ---------------------------------------------------------------- servers
"$BIN/ptyecho" /tmp/bench-echo- $((NMULTI + 1)) >"$LOG/ptyecho.log" 2>&1 &
wait_for "$LOG/ptyecho.log" READY || die "ptyecho: $(cat "$LOG/ptyecho.log")"
say "ptyecho ready"
opts() {
	printf '  options:\n    kickolduser: true\n    chardelay: false\n'
	printf '    dev-to-net-bufsize: 65536\n    net-to-dev-bufsize: 65536\n    mdns: false\n'
}
{
	printf '%%YAML 1.1\n---\n'
	printf 'connection: &rfc4000\n  accepter: telnet(rfc2217),tcp,127.0.0.1,4000\n'
	printf '  connector: serialdev,/tmp/bench-echo-0,115200n81,local\n'; opts
	printf 'connection: &raw4001\n  accepter: tcp,127.0.0.1,4001\n'
	printf '  connector: serialdev,/tmp/bench-echo-0,115200n81,local\n'; opts
	for i in $(seq 0 $((NMULTI - 1))); do
		printf 'connection: &rfc%d\n  accepter: telnet(rfc2217),tcp,127.0.0.1,%d\n' $((5000 + i)) $((5000 + i))
		printf '  connector: serialdev,/tmp/bench-echo-%d,115200n81,local\n' $((i + 1)); opts
	done
} >/tmp/bench-ser2net.yaml
mkdir -p /run/lock
ser2net -n -c /tmp/bench-ser2net.yaml -P /tmp/bench-ser2net.pid >"$LOG/ser2net.log" 2>&1 &
for _ in $(seq 100); do ss -Hltn 'sport = :5063' | grep -q . && break; sleep 0.1; done
ss -Hltn 'sport = :4001' | grep -q . || die "ser2net: $(cat "$LOG/ser2net.log")"
say "ser2net listening"

[ -f "$STUBPKG/esptool/targets/stub_flasher/stub_flasher_32.json" ] || die "no stub copy in $STUBPKG"
head -c 1048576 /dev/urandom >/tmp/bench-1m.bin
EV1=$LOG/esp-board-events.log EVP=$LOG/pty-board-events.log
PYTHONPATH=$ESPPKG $PY tests/sim/esp_rfc2217_sim.py --flash /tmp/flash1.bin --events "$EV1" \
	-- -p 4101 >"$LOG/esp_rfc2217_server.log" 2>&1 &
$PY tests/bench/pty_board.py --link /tmp/esp-pty --flash /tmp/flashp.bin --events "$EVP" \
	>"$LOG/pty_board.log" 2>&1 &
PTYB_PID=$!
$PY tests/servers/recorder.py --port 4102 --log /tmp/bench-rec.jsonl >"$LOG/recorder.log" 2>&1 &
wait_for "$LOG/esp_rfc2217_server.log" "TCP/IP port" || die "esp_rfc2217_server: $(cat "$LOG/esp_rfc2217_server.log")"
wait_for "$LOG/pty_board.log" READY || die "pty_board: $(cat "$LOG/pty_board.log")"
wait_for "$LOG/recorder.log" LISTENING || die "recorder: $(cat "$LOG/recorder.log")"
say "python servers ready"

insmod "$KO" ports_max=$((NMULTI + 16)) hosts=127.0.0.1:4000,127.0.0.1:4101,127.0.0.1:4102 || die "insmod $KO"
userspace-helper/ttyrfcd >"$LOG/ttyrfcd.log" 2>&1 &
HELPER_PID=$!
wait_for "$LOG/ttyrfcd.log" "registered with" 50 || die "ttyrfcd: $(cat "$LOG/ttyrfcd.log")"
# (8 at a time: which minor gets which accepter does not matter, each has its own)
adds=()
for i in $(seq 0 $((NMULTI - 1))); do
	userspace-helper/ttyrfcctl add 127.0.0.1:$((5000 + i)) >/dev/null &
	adds+=($!)
	[ $((i % 8)) = 7 ] && { wait "${adds[@]}"; adds=(); }
done
[ ${#adds[@]} = 0 ] || wait "${adds[@]}"
for _ in $(seq 50); do [ -e /dev/ttyRFC$((NMULTI + 2)) ] && break; sleep 0.1; done
[ -e /dev/ttyRFC$((NMULTI + 2)) ] || die "ttyrfcctl add: no /dev/ttyRFC$((NMULTI + 2))"
RAWDEV=/dev/$(userspace-helper/ttyrfcctl add --raw 127.0.0.1:4001) || die "ttyrfcctl add --raw failed"
for _ in $(seq 50); do [ -e "$RAWDEV" ] && break; sleep 0.1; done
[ -e "$RAWDEV" ] || die "ttyrfcctl add --raw: no $RAWDEV"
echo "{\"kind\":\"helper\",\"when\":\"start\",\"rss_kib\":$(awk '/^VmRSS:/ {print $2}' /proc/$HELPER_PID/status)}"
say "setup done: ser2net ($((NMULTI + 2)) accepters), esp_rfc2217_server, recorder, $((NMULTI + 4)) ports"

# ---------------------------------------------------------------- echo
socat_bench() {	# socat_bench ROUND
	rm -f /tmp/socat-pty
	socat pty,link=/tmp/socat-pty,raw,echo=0 tcp:127.0.0.1:4001 >"$LOG/socat.log" 2>&1 &
	local pid=$!
	for _ in $(seq 50); do [ -e /tmp/socat-pty ] && break; sleep 0.1; done
	$PY tests/bench/echo_bench.py "socat pty bridge" /tmp/socat-pty --kib "$KIB" --rtt "$RTT" --round "$1"
	kill "$pid"; wait "$pid" 2>/dev/null
}
want echo &&
say "echo: $KIB KiB each (pyserial $PYS_KIB KiB), $RTT round trips, $ROUNDS rounds"
want echo && for r in $(seq "$ROUNDS"); do
	# a client holds the board while connected, so each runs alone
	$PY tests/bench/echo_bench.py "raw TCP socket" tcp:127.0.0.1:4001 --kib "$KIB" --rtt "$RTT" --round "$r"
	sleep 0.3
	$PY tests/bench/echo_bench.py "/dev/ttyRFC0" /dev/ttyRFC0 --kib "$KIB" --rtt "$RTT" --round "$r"
	sleep 0.3
	$PY tests/bench/echo_bench.py "ttyRFC --raw" "$RAWDEV" --kib "$KIB" --rtt "$RTT" --round "$r"
	sleep 0.3
	socat_bench "$r"
	sleep 0.3
	$PY tests/bench/echo_bench.py "pyserial rfc2217://" "rfc2217://127.0.0.1:4000?ign_set_control" \
		--kib "$PYS_KIB" --rtt $((RTT / 2)) --round "$r"
	sleep 0.3
done

# ---------------------------------------------------------------- control latency
want ctl &&
say "control latency: TIOCMSET -> SET-CONTROL at recorder.py, idle and streaming"
want ctl && for r in $(seq "$ROUNDS"); do
	"$BIN/ctl_lat" /dev/ttyRFC2 200 >/tmp/ctl-idle.ops || say "ctl_lat idle failed"
	$PY tests/bench/ctl_lat.py idle "$r" /tmp/ctl-idle.ops /tmp/bench-rec.jsonl
	sleep 0.3
	"$BIN/ctl_lat" /dev/ttyRFC2 60 1048576 >/tmp/ctl-stream.ops || say "ctl_lat streaming failed"
	$PY tests/bench/ctl_lat.py "1 MiB in flight" "$r" /tmp/ctl-stream.ops /tmp/bench-rec.jsonl
	sleep 0.3
done
cp /tmp/bench-rec.jsonl "$LOG/recorder.jsonl" 2>/dev/null

# ---------------------------------------------------------------- esptool
# esp_one PATH LOADER OP ROUND: one esptool process (tests/bench/esp_time.py runs
# esptool.main() as the esptool command does), timed from start to exit (secs) and
# esptool.main() alone (main_s), as {"kind":"esptool",...}
esp_one() {
	local path=$1 loader=$2 op=$3 r=$4 pkg=$ESPPKG port extra=() args want t0 rc secs
	case $loader in rom) extra+=(--no-stub) ;; stub) pkg=$STUBPKG ;; esac
	case $op in
	chip_id) args=(chip_id); want="Chip is ESP32" ;;
	write_flash) args=(-b 921600 write_flash 0x10000 /tmp/bench-1m.bin); want="Hash of data verified" ;;
	esac
	case $path in
	ttyrfc) port=/dev/ttyRFC1 ;;
	rfc2217) port="rfc2217://127.0.0.1:4101?ign_set_control" ;;
	pty)	port=/tmp/esp-pty; extra+=(--before no_reset --after no_reset)
		local n; n=$(grep -c RESET "$LOG/pty_board.log")
		kill -USR1 "$PTYB_PID"
		for _ in $(seq 100); do [ "$(grep -c RESET "$LOG/pty_board.log")" -gt "$n" ] && break; sleep 0.02; done
		sleep 0.05 ;;	# the ROM banner is out
	esac
	t0=$(now)
	PYTHONPATH=$pkg timeout 300 $PY tests/bench/esp_time.py --chip esp32 -p "$port" "${extra[@]}" "${args[@]}" \
		>/tmp/esptool.out 2>&1
	rc=$?
	secs=$(since "$t0")
	{ echo "=== $path $loader $op round $r: exit $rc, ${secs}s"; grep -v "^Writing at" /tmp/esptool.out; } >>"$LOG/esptool.log"
	local ok=false split
	[ "$rc" = 0 ] && grep -q "$want" /tmp/esptool.out && ok=true
	split=$(sed -n 's/^ESPTIME {\(.*\)}$/\1/p' /tmp/esptool.out | tail -n 1)
	echo "{\"kind\":\"esptool\",\"path\":\"$path\",\"loader\":\"$loader\",\"op\":\"$op\",\"round\":$r,\"secs\":$secs,\"ok\":$ok${split:+,$split}}"
}
want esptool &&
say "esptool chip_id: /dev/ttyRFC1 vs rfc2217:// (esp_rfc2217_server) vs local PTY, $ROUNDS rounds"
want esptool && for r in $(seq "$ROUNDS"); do
	for loader in rom stub; do
		for path in ttyrfc rfc2217 pty; do esp_one $path $loader chip_id "$r"; done
	done
done
want esptool &&
say "esptool write_flash 1 MiB at 921600, $FROUNDS rounds"
want esptool && for r in $(seq "$FROUNDS"); do
	for loader in stub rom; do
		for path in ttyrfc rfc2217 pty; do esp_one $path $loader write_flash "$r"; done
	done
done

# ---------------------------------------------------------------- many ports
want multi &&
say "many ports: 1, 8, $NMULTI streaming at once, ${MULTI_SECS}s windows"
want multi && for r in $(seq "$FROUNDS"); do
	for n in 1 8 $NMULTI; do
		devs=()
		for i in $(seq 3 $((n + 2))); do devs+=("/dev/ttyRFC$i"); done
		if out=$("$BIN/multi" "$MULTI_SECS" "$HELPER_PID" "${devs[@]}") && [ "${out:0:1}" = "{" ]; then
			echo "{\"kind\":\"multi\",\"round\":$r,${out#\{}"
		else
			echo "{\"kind\":\"multi\",\"round\":$r,\"ports\":$n,\"error\":\"multi failed\"}"
		fi
		sleep 0.5
	done
done
echo "{\"kind\":\"helper\",\"when\":\"end\",\"rss_kib\":$(awk '/^VmRSS:/ {print $2}' /proc/$HELPER_PID/status),\"hwm_kib\":$(awk '/^VmHWM:/ {print $2}' /proc/$HELPER_PID/status)}"

# ---------------------------------------------------------------- profile (optional)
if [ "${TTYRFC_BENCH_PERF:-0}" = 1 ]; then
	if command -v perf >/dev/null; then
		say "profile: perf, raw TCP vs /dev/ttyRFC0 (tests/bench/profile.sh)"
		tests/bench/profile.sh "$LOG" "$HELPER_PID"
	else
		say "profile: no perf (apt-get install linux-perf)"
	fi
fi

say "done; ttyrfcd log: $(grep -c . "$LOG/ttyrfcd.log") lines"
kill "$HELPER_PID" 2>/dev/null; wait "$HELPER_PID" 2>/dev/null
exit 0
