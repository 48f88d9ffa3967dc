#!/bin/bash
# The demo, inside the VM: what a user sees when /dev/ttyRFC0 is a remote port.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
LOG=${TTYRFC_VM_RESULTS:-/tmp}
step() { printf '\n== %s\n' "$*"; }

step "RFC 2217 server on 127.0.0.1:4000 (pyserial PortManager; the device echoes)"
$PY tests/servers/pm_server.py -v -p 4000 loop:// >"$LOG/pm_server.log" 2>&1 &
for _ in $(seq 100); do grep -q LISTENING "$LOG/pm_server.log" && break; sleep 0.1; done

step "modprobe-equivalent: insmod ttyrfc.ko hosts=127.0.0.1:4000"
insmod ./ttyrfc.ko hosts=127.0.0.1:4000
ls -l /dev/ttyRFC0

step "opening /dev/ttyRFC0 without ttyrfcd: fails at once, dmesg says why"
$PY -c "import os; os.open('/dev/ttyRFC0', os.O_RDWR)" 2>&1 | tail -1 || true
dmesg | grep ttyrfcd | tail -1

step "starting ttyrfcd"
userspace-helper/ttyrfcd >"$LOG/ttyrfcd.log" 2>&1 &
sleep 0.5

step "a program uses /dev/ttyRFC0 like a local serial port (pyserial)"
$PY - <<'PY'
import serial, time
s = serial.Serial('/dev/ttyRFC0', 115200, timeout=2)
print('open: %s at %d baud' % (s.name, s.baudrate))
s.write(b'hello through RFC 2217\n')
print('echoed back:', s.readline())
s.baudrate = 921600
print('baud changed to', s.baudrate)
for dtr, rts in ((False, True), (True, False), (False, False)):
    s.dtr, s.rts = dtr, rts
    time.sleep(0.05)
print('DTR/RTS pulsed like an ESP32 auto-reset')
s.close()
PY

step "what the server saw (its log)"
grep -iE "baud|dtr|rts" "$LOG/pm_server.log" | tail -8 || true

step "ttyrfcctl list"
userspace-helper/ttyrfcctl list

echo
echo "demo: done"
