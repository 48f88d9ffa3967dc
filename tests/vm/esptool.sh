#!/bin/bash
# tests/vm/esptool.sh — ESP32 end to end, inside the VM (tests/vm/run.sh): the real
# esptool 4.7 (Debian trixie, unpacked by tests/vm/fetch-esptool.sh) and a monitor
# drive a simulated ESP32 (tests/sim/) through /dev/ttyRFC*, ttyrfcd and an
# RFC 2217 server, as if the board sat on a Raspberry Pi:
#   ttyRFC0 -> 127.0.0.1:4100  pyserial PortManager server (tests/sim/esp32_server.py)
#   ttyRFC1 -> 127.0.0.1:4101  Espressif's esp_rfc2217_server.py (tests/sim/esp_rfc2217_sim.py)
#   ttyRFC2 -> 10.77.0.2:4102  PortManager server in a network namespace behind
#                              veth + netem (20 ms +- 5 ms each way)
# Env: TTYRFC_KO (module, default ./ttyrfc.ko), TTYRFC_ESPTOOL_RUNS (consecutive
# chip_id runs, default 20), TTYRFC_ESPTOOL_NETEM_RUNS (runs under netem and through esp_rfc2217_server, default 3),
# TTYRFC_ESPTOOL_QUICK=1 (skip the 1 MiB write at 115200 and 2000000 baud).
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
PY=/usr/bin/python3
LOG=${TTYRFC_VM_RESULTS:-/tmp}
KO=${TTYRFC_KO:-./ttyrfc.ko}
RUNS=${TTYRFC_ESPTOOL_RUNS:-20}
NETEM_RUNS=${TTYRFC_ESPTOOL_NETEM_RUNS:-3}
QUICK=${TTYRFC_ESPTOOL_QUICK:-0}
. tests/cache.sh
STUBPKG=/tmp/esptool-stub
ESPOUT=/tmp/esptool.out
T_START=$(date +%s.%N)

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }'; }

if [ ! -d "$ESPPKG/esptool" ]; then
	t_fail "esptool 4.7 unpacked in $TTYRFC_ESPTOOL_DIR" "run tests/vm/fetch-esptool.sh on the host first"
	t_summary; exit 1
fi
# Debian's esptool lacks the ESP32 stub: a copy with a stand-in stub description
tests/sim/esptool_stubcopy.sh "$ESPPKG" "$STUBPKG" >/dev/null || { t_fail "stub copy"; t_summary; exit 1; }
$PY -m compileall -q tests/sim "$STUBPKG" >/dev/null 2>&1
head -c 1048576 /dev/urandom >/tmp/rand_a.bin
head -c 1048576 /dev/urandom >/tmp/rand_b.bin
head -c 1048576 /dev/urandom >/tmp/rand_c.bin
head -c 262144 /dev/urandom >/tmp/rand_d.bin

# run_esp PKG REGEX ARGS... : esptool --chip esp32 ARGS; output in $ESPOUT (and
# appended to $LOG/esptool.log); wall time in $ET; fails unless exit 0 and REGEX found
ET=0
run_esp() {
	local pkg=$1 want=$2 t0 rc; shift 2
	t0=$(now)
	PYTHONPATH=$pkg timeout 300 $PY -m esptool --chip esp32 "$@" >"$ESPOUT" 2>&1
	rc=$?
	ET=$(since "$t0")
	{ echo "=== esptool $* (exit $rc, ${ET}s)"; cat "$ESPOUT"; } >>"$LOG/esptool.log"
	grep -v "^Writing at\|^Reading at\|^[0-9]* (.*%)" "$ESPOUT"
	echo "(esptool exit $rc, ${ET}s)"
	[ "$rc" = 0 ] || return 1
	grep -Eq "$want" "$ESPOUT" || { echo "output lacks /$want/"; return 1; }
}
# esptool wrote the MD5 it computed locally; the board logged the one it computed
md5_matches() {	# md5_matches EVENTS FILE [SIZE]
	local want; want=$(md5sum "$2" | cut -d' ' -f1)
	tail -n 30 "$1" | grep -q "md5 0x10000+${3:-1048576} = $want" ||
		{ echo "board's flash MD5 differs from $2 ($want):"; grep md5 "$1" | tail -3; return 1; }
}
# --after hard_reset: after the last flash/md5 operation the board saw EN low and
# then booted from flash
hard_reset_seen() {	# hard_reset_seen EVENTS MARK
	local ev; ev=$(tail -n +"$(($2 + 1))" "$1")
	printf '%s\n' "$ev" | grep -q "download mode" || { echo "no download-mode boot"; return 1; }
	printf '%s\n' "$ev" | awk '/download mode|md5|stub started|flash-begin/ { seen = 0 }
		/reset \(EN low\)/ { seen = 1 } /flash \(app\)/ && seen == 1 { ok = 1; seen = 2 }
		END { exit !(ok && seen == 2) }' ||
		{ echo "no reset + app boot after the last operation:"; printf '%s\n' "$ev" | tail -8; return 1; }
}
evmark() { wc -l <"$1"; }
wait_for() {	# wait_for FILE REGEX [tenths]
	for _ in $(seq "${3:-100}"); do grep -Eq "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

t_dmesg_mark
t_diag "kernel $(uname -r); $(cat "$TTYRFC_ESPTOOL_DIR/.done" 2>/dev/null)"

# ---------------------------------------------------------------- servers
EV0=$LOG/board0-events.log EV1=$LOG/board1-events.log EV2=$LOG/board2-events.log
: >"$EV0"; : >"$EV1"; : >"$EV2"
$PY tests/sim/esp32_server.py -p 4100 --flash /tmp/flash0.bin --events "$EV0" \
	>"$LOG/esp32_server0.log" 2>&1 &
PYTHONPATH=$ESPPKG $PY tests/sim/esp_rfc2217_sim.py --flash /tmp/flash1.bin --events "$EV1" \
	-- -p 4101 >"$LOG/esp_rfc2217_server.log" 2>&1 &

netem_ok=0
if modprobe veth && modprobe sch_netem && ip netns add espns &&
	ip link add vesp0 type veth peer name vesp1 && ip link set vesp1 netns espns &&
	ip addr add 10.77.0.1/24 dev vesp0 && ip link set vesp0 up &&
	ip -n espns addr add 10.77.0.2/24 dev vesp1 && ip -n espns link set vesp1 up &&
	ip -n espns link set lo up &&
	tc qdisc add dev vesp0 root netem delay 20ms 5ms &&
	tc -n espns qdisc add dev vesp1 root netem delay 20ms 5ms; then
	ip netns exec espns $PY tests/sim/esp32_server.py -b 10.77.0.2 -p 4102 \
		--flash /tmp/flash2.bin --events "$EV2" >"$LOG/esp32_server2.log" 2>&1 &
	netem_ok=1
fi

wait_for "$LOG/esp32_server0.log" LISTENING || t_fail "esp32_server.py listening on 4100" "$(cat "$LOG/esp32_server0.log")"
wait_for "$LOG/esp_rfc2217_server.log" "TCP/IP port" ||
	t_fail "esp_rfc2217_server.py listening on 4101" "$(cat "$LOG/esp_rfc2217_server.log")"
[ "$netem_ok" = 1 ] && { wait_for "$LOG/esp32_server2.log" LISTENING || netem_ok=0; }

insmod "$KO" hosts=127.0.0.1:4100,127.0.0.1:4101,10.77.0.2:4102 ||
	{ t_fail "insmod $KO"; t_summary; exit 1; }
userspace-helper/ttyrfcd >>"$LOG/ttyrfcd.log" 2>&1 &
HELPER_PID=$!
wait_for "$LOG/ttyrfcd.log" "registered with" 50 || t_fail "ttyrfcd registers" "$(cat "$LOG/ttyrfcd.log")"
t_diag "setup done after $(since "$T_START")s"

# ---------------------------------------------------------------- basics (ROM, no stub)
m=$(evmark "$EV0")
T_VERBOSE=1 t_run "chip_id --no-stub through /dev/ttyRFC0 (ROM loader)" \
	run_esp "$ESPPKG" "Chip is ESP32-D0WD-V3" -p /dev/ttyRFC0 --no-stub chip_id
t_run "--after hard_reset: the board saw a reset and booted its app" hard_reset_seen "$EV0" "$m"
t_run "read_mac with the stub through /dev/ttyRFC0" \
	run_esp "$STUBPKG" "MAC: 24:0a:c4:5e:11:42" -p /dev/ttyRFC0 read_mac
grep -q "Stub running" "$ESPOUT" || t_fail "stub loaded before read_mac" "$(tail -5 "$ESPOUT")"

# ---------------------------------------------------------------- flashing
m=$(evmark "$EV0")
T_VERBOSE=1 t_run "write_flash 1 MiB at 921600 (stub, deflate) through /dev/ttyRFC0" \
	run_esp "$STUBPKG" "Hash of data verified" -p /dev/ttyRFC0 -b 921600 write_flash 0x10000 /tmp/rand_a.bin
T_TTY0_921=$ET
t_run "the board's flash holds the image (MD5 on the board)" md5_matches "$EV0" /tmp/rand_a.bin
t_run "--after hard_reset after write_flash" hard_reset_seen "$EV0" "$m"
grep -q "chip-baud 921600" <(tail -n +"$((m + 1))" "$EV0") || t_fail "the board's UART switched to 921600"
t_run "verify_flash matches (stub)" \
	run_esp "$STUBPKG" "verify OK" -p /dev/ttyRFC0 -b 921600 verify_flash 0x10000 /tmp/rand_a.bin
if run_esp "$STUBPKG" "verify FAILED" -p /dev/ttyRFC0 verify_flash 0x10000 /tmp/rand_b.bin >/dev/null; then
	t_fail "verify_flash of other data fails"
else
	grep -q "verify FAILED" "$ESPOUT" && t_ok "verify_flash of other data fails (digest mismatch)" ||
		t_fail "verify_flash of other data fails" "$(tail -5 "$ESPOUT")"
fi

# the ROM loader writes 1 KiB blocks, one round trip each: 256 KiB is enough here
T_VERBOSE=1 t_run "write_flash 256 KiB at 921600 --no-stub (ROM loader: 1 KiB blocks, no compression)" \
	run_esp "$ESPPKG" "Hash of data verified" -p /dev/ttyRFC0 --no-stub -b 921600 write_flash 0x10000 /tmp/rand_d.bin
T_TTY0_921_ROM=$ET
t_run "the board's flash holds it (ROM MD5, hex)" md5_matches "$EV0" /tmp/rand_d.bin 262144
t_run "read_flash 64 KiB at 921600 (stub) returns what was written" sh -c '
	PYTHONPATH='"$STUBPKG"' timeout 120 '"$PY"' -m esptool --chip esp32 -p /dev/ttyRFC0 -b 921600 \
		read_flash 0x10000 0x10000 /tmp/back.bin >/tmp/read.out 2>&1 || { tail -5 /tmp/read.out; exit 1; }
	head -c 65536 /tmp/rand_d.bin | cmp - /tmp/back.bin'

if [ "$QUICK" != 1 ]; then
	T_VERBOSE=1 t_run "write_flash 1 MiB at 2000000 (stub) through /dev/ttyRFC0" \
		run_esp "$STUBPKG" "Hash of data verified" -p /dev/ttyRFC0 -b 2000000 write_flash 0x10000 /tmp/rand_c.bin
	T_TTY0_2M=$ET
	t_run "the board's flash holds the 2000000-baud image" md5_matches "$EV0" /tmp/rand_c.bin
	# 256 KiB: random data does not deflate, 1 MiB would be 90 s of wire time
	T_VERBOSE=1 t_run "write_flash 256 KiB at the default 115200 (stub) through /dev/ttyRFC0" \
		run_esp "$STUBPKG" "Hash of data verified" -p /dev/ttyRFC0 write_flash 0x10000 /tmp/rand_d.bin
	T_TTY0_115=$ET
	t_run "the board's flash holds the 115200-baud image" md5_matches "$EV0" /tmp/rand_d.bin 262144
else
	t_skip "write_flash 1 MiB at 2000000 and 115200" "TTYRFC_ESPTOOL_QUICK=1"
fi

# ---------------------------------------------------------------- N consecutive runs
many_runs() {	# many_runs N PORT EVENTS: N esptool runs in one process; the board's view
	local n=$1 port=$2 ev=$3 m dl rc
	m=$(evmark "$ev")
	PYTHONPATH=$ESPPKG timeout $((60 + n * 20)) $PY tests/vm/esptool_runs.py "$n" "$port"
	rc=$?
	dl=$(tail -n +"$((m + 1))" "$ev" | grep -c "download mode")
	echo "the board entered download mode $dl times for $n runs"
	LAST_DL=$dl
	return $rc
}
T_VERBOSE=1 t_run "$RUNS consecutive esptool chip_id runs, --before default_reset, through /dev/ttyRFC0" \
	many_runs "$RUNS" /dev/ttyRFC0 "$EV0"
[ "${LAST_DL:-0}" = "$RUNS" ] && t_ok "each run's reset put the board in download mode at once ($RUNS for $RUNS)" ||
	t_fail "each run's reset put the board in download mode at once" "$LAST_DL download-mode boots for $RUNS runs"

# ---------------------------------------------------------------- monitor
m=$(evmark "$EV0")
t_run "picocom shows the app's output" sh -c \
	'timeout 20 picocom -q -b 115200 -x 2500 /dev/ttyRFC0 </dev/null >/tmp/picocom.out 2>&1;
	 grep -a "sim_app: tick" /tmp/picocom.out || { cat /tmp/picocom.out; exit 1; }'
t_diag "picocom saw: $(grep -a "sim_app" /tmp/picocom.out | tail -1 | tr -d '\r')"
if tail -n +"$((m + 1))" "$EV0" | grep -q "reset (EN low)"; then
	t_fail "opening and closing the port (picocom) does not reset the board" \
		"$(tail -n +"$((m + 1))" "$EV0" | grep -E "lines|reset|boot")"
else
	t_ok "opening and closing the port (picocom) does not reset the board"
fi
T_VERBOSE=1 t_run "monitor: a 5 ms RTS pulse resets the board, boot log appears again" \
	$PY tests/vm/esptool_monitor.py /dev/ttyRFC0 "$EV0"

# ---------------------------------------------------------------- esp_rfc2217_server
t_run "chip_id through /dev/ttyRFC1 (esp_rfc2217_server)" \
	run_esp "$ESPPKG" "Chip is ESP32-D0WD-V3" -p /dev/ttyRFC1 --no-stub chip_id
T_CHIP_TTY1=$ET
t_run "chip_id through rfc2217://127.0.0.1:4101?ign_set_control (esptool's URL)" \
	run_esp "$ESPPKG" "Chip is ESP32-D0WD-V3" -p "rfc2217://127.0.0.1:4101?ign_set_control" --no-stub chip_id
T_CHIP_URL=$ET
T_VERBOSE=1 t_run "write_flash 1 MiB at 921600 (stub) through /dev/ttyRFC1 (esp_rfc2217_server)" \
	run_esp "$STUBPKG" "Hash of data verified" -p /dev/ttyRFC1 -b 921600 write_flash 0x10000 /tmp/rand_a.bin
T_TTY1_921=$ET
t_run "the esp_rfc2217_server board holds the image" md5_matches "$EV1" /tmp/rand_a.bin
T_VERBOSE=1 t_run "write_flash 1 MiB at 921600 (stub) through rfc2217://127.0.0.1:4101 (same server)" \
	run_esp "$STUBPKG" "Hash of data verified" -p "rfc2217://127.0.0.1:4101?ign_set_control" -b 921600 \
	write_flash 0x10000 /tmp/rand_b.bin
T_URL_921=$ET
t_run "the esp_rfc2217_server board holds the second image" md5_matches "$EV1" /tmp/rand_b.bin
t_diag "esptool wall time, same server (esp_rfc2217_server.py + simulated ESP32), same run:" \
	"  chip_id:                 /dev/ttyRFC1 ${T_CHIP_TTY1}s   rfc2217:// ${T_CHIP_URL}s   ratio $(ratio "$T_CHIP_TTY1" "$T_CHIP_URL")" \
	"  write_flash 1 MiB@921600: /dev/ttyRFC1 ${T_TTY1_921}s   rfc2217:// ${T_URL_921}s   ratio $(ratio "$T_TTY1_921" "$T_URL_921")" \
	"  (wire time alone for 1 MiB at 921600: 11.4 s)"
T_VERBOSE=1 t_run "$NETEM_RUNS consecutive chip_id runs through /dev/ttyRFC1 (esp_rfc2217_server)" \
	many_runs "$NETEM_RUNS" /dev/ttyRFC1 "$EV1"

# a new ttyrfcd replays an open port's lines: against esp_rfc2217_server a
# DTR-on would start its bootloader reset (issue 10), so the board must not
# enter download mode. (The server itself raises RTS before DTR on every new
# connection, which may reboot the app: that is the server's doing.)
replay_keeps_board() {
	$PY - /dev/ttyRFC1 <<'PY' &
import os, sys, time, tty
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
time.sleep(40)
PY
	local holder=$! m i
	sleep 4		# what the open itself did to the board is over
	m=$(evmark "$EV1")
	kill -9 "$(pgrep -x ttyrfcd)"
	userspace-helper/ttyrfcd >>"$LOG/ttyrfcd.log" 2>&1 &
	HELPER_PID=$!
	for i in $(seq 100); do
		userspace-helper/ttyrfcctl show ttyRFC1 | grep -q "link: up" && break
		sleep 0.1
	done
	sleep 3
	kill "$holder"; wait "$holder" 2>/dev/null
	tail -n +"$((m + 1))" "$EV1" | grep -E "lines|reset|boot|mode"
	userspace-helper/ttyrfcctl show ttyRFC1 | grep -q "sessions" || return 1
	! tail -n +"$((m + 1))" "$EV1" | grep -q "download mode"
}
T_VERBOSE=1 t_run "ttyrfcd restarted under an open esp_rfc2217_server port: no bootloader reset" \
	replay_keeps_board

# ---------------------------------------------------------------- latency (netem)
if [ "$netem_ok" = 1 ]; then
	T_VERBOSE=1 t_run "$NETEM_RUNS chip_id runs under netem 20ms+-5ms each way (/dev/ttyRFC2)" \
		many_runs "$NETEM_RUNS" /dev/ttyRFC2 "$EV2"
	[ "${LAST_DL:-0}" = "$NETEM_RUNS" ] && t_ok "under netem each reset put the board in download mode at once" ||
		t_fail "under netem each reset put the board in download mode at once" \
			"$LAST_DL download-mode boots for $NETEM_RUNS runs"
	m=$(evmark "$EV2")
	T_VERBOSE=1 t_run "write_flash 1 MiB at 921600 (stub) under netem" \
		run_esp "$STUBPKG" "Hash of data verified" -p /dev/ttyRFC2 -b 921600 write_flash 0x10000 /tmp/rand_c.bin
	T_NETEM_921=$ET
	t_run "under netem: the board holds the image" md5_matches "$EV2" /tmp/rand_c.bin
	t_run "under netem: --after hard_reset seen by the board" hard_reset_seen "$EV2" "$m"
else
	t_fail "netem setup (veth, sch_netem, netns)" "$(tail -3 "$LOG/esp32_server2.log" 2>/dev/null)"
fi

# ---------------------------------------------------------------- summary
t_diag "esptool wall times (1 MiB random data, write_flash + verify):" \
	"  /dev/ttyRFC0 PortManager: 921600 stub ${T_TTY0_921}s, 921600 ROM (256 KiB) ${T_TTY0_921_ROM}s, 2000000 stub ${T_TTY0_2M:-skipped}s, 115200 stub (256 KiB) ${T_TTY0_115:-skipped}s" \
	"  /dev/ttyRFC1 esp_rfc2217_server 921600 ${T_TTY1_921}s vs rfc2217:// ${T_URL_921}s" \
	"  /dev/ttyRFC2 netem 921600 ${T_NETEM_921:-skipped}s" \
	"  whole script: $(since "$T_START")s"
kill "$HELPER_PID" 2>/dev/null
wait "$HELPER_PID" 2>/dev/null
rmmod ttyrfc || t_fail "rmmod ttyrfc at the end"
t_dmesg_clean "dmesg has no WARN/BUG/oops after the run"
t_kmemleak_clean
t_summary
