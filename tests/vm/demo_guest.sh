#!/bin/bash
# The demo, inside the VM (tests/demo.sh boots it): an ESP32 on a "Raspberry Pi"
# (a network namespace running an RFC 2217 server in front of a simulated ESP32,
# tests/sim/), flashed and monitored through /dev/ttyRFC0 by the real esptool 4.7.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
LOG=${TTYRFC_VM_RESULTS:-/tmp}
KO=${TTYRFC_KO:-./ttyrfc.ko}
. tests/cache.sh
T0=$(date +%s.%N)
STEP=start
step() { STEP=$*; printf '\n== [%5.1fs] %s\n' "$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" "$*"; }
show() { printf '$ %s\n' "$*"; }
trap 'echo; echo "demo: FAILED during: $STEP (logs: ttyrfcd.log, pi-server.log, board-events.log)" >&2' ERR
esptool() {	# what the user types, shown; Debian's esptool.py is the same program
	show "esptool.py $*"
	PYTHONPATH=$ESPPKG timeout 120 $PY -m esptool "$@" 2>&1 |
		grep -v "^Writing at\|^Failed to get PID\|^$" | sed 's/^/  /'
}

[ -d "$ESPPKG/esptool" ] || { echo "demo: esptool not unpacked (tests/vm/fetch-esptool.sh)" >&2; exit 1; }

step "the \"Raspberry Pi\": network namespace pi (10.0.0.2) with an RFC 2217 server on port 4000 in front of a simulated ESP32 dev board"
PI=10.0.0.2
if modprobe veth 2>/dev/null && ip netns add pi && ip link add pi0 type veth peer name pi1 &&
	ip link set pi1 netns pi && ip addr add 10.0.0.1/24 dev pi0 && ip link set pi0 up &&
	ip -n pi addr add $PI/24 dev pi1 && ip -n pi link set pi1 up && ip -n pi link set lo up; then
	NS=(ip netns exec pi)
else
	echo "(no network namespace here; the \"Pi\" listens on 127.0.0.1)"
	PI=127.0.0.1 NS=()
fi
"${NS[@]}" $PY tests/sim/esp32_server.py -b $PI -p 4000 --flash /tmp/board-flash.bin \
	--events "$LOG/board-events.log" >"$LOG/pi-server.log" 2>&1 &
for _ in $(seq 150); do grep -q LISTENING "$LOG/pi-server.log" && break; sleep 0.1; done
grep -q LISTENING "$LOG/pi-server.log" || { cat "$LOG/pi-server.log"; false; }
echo "listening on $PI:4000 (pyserial PortManager; DTR/RTS drive the board's EN/IO0 like a CP2102 board)"

step "load the module and start the helper"
show "modprobe ttyrfc hosts=$PI:4000      # here: insmod $KO hosts=$PI:4000"
insmod "$KO" hosts=$PI:4000
show "ttyrfcd &"
userspace-helper/ttyrfcd >"$LOG/ttyrfcd.log" 2>&1 &
for _ in $(seq 50); do grep -q "registered with" "$LOG/ttyrfcd.log" && break; sleep 0.1; done
ls -l /dev/ttyRFC0 | sed 's/^/  /'

step "esptool detects the chip through /dev/ttyRFC0 (DTR/RTS reset into the ROM bootloader over RFC 2217)"
esptool -p /dev/ttyRFC0 --no-stub chip_id

step "esptool flashes a 256 KiB app image at 921600 baud and verifies it"
head -c 262144 /dev/urandom >/tmp/app.bin
echo "app.bin: 262144 bytes, md5 $(md5sum /tmp/app.bin | cut -d' ' -f1)"
esptool -p /dev/ttyRFC0 --chip esp32 --no-stub -b 921600 write_flash 0x10000 /tmp/app.bin
esptool -p /dev/ttyRFC0 --chip esp32 --no-stub -b 921600 verify_flash 0x10000 /tmp/app.bin

step "monitor: picocom reads the board's output; an RTS pulse (what idf.py monitor sends) restarts the app"
show "picocom -b 115200 /dev/ttyRFC0"
timeout 20 picocom -q -b 115200 -x 4500 /dev/ttyRFC0 </dev/null >/tmp/picocom.out 2>&1 &
PICO=$!
sleep 1.5
$PY - <<'EOF'
import serial, time
s = serial.Serial()
s.port, s.baudrate = "/dev/ttyRFC0", 115200
s.dtr = s.rts = True                                # as picocom left them: no change
s.open()
s.rts = False; s.dtr = False                        # release both (no reset)
s.rts = True; time.sleep(0.005); s.rts = False      # ~5 ms RTS pulse: EN low -> reset
print("  (RTS pulsed for 5 ms)")
s.close()
EOF
wait $PICO || true
tr -d '\r' </tmp/picocom.out | grep -v '^$' | head -24 | sed 's/^/  /'
grep -q "rst:0x1 (POWERON_RESET),boot:0x13" /tmp/picocom.out || { echo "no boot log after the RTS pulse"; false; }

step "what the board saw (its event log, last lines)"
grep -v "lines DTR" "$LOG/board-events.log" | tail -8 | sed 's/^/  /'

step "ttyrfcctl list"
userspace-helper/ttyrfcctl list | sed 's/^/  /' || true

echo
echo "demo: done in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s inside the VM."
echo "demo: the same commands work with idf.py -p /dev/ttyRFC0 flash monitor; see docs/esp32.md"
