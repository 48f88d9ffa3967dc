#!/usr/bin/python3
"""esptool_monitor.py PORT EVENTS_LOG — what `idf.py monitor` does to a board:
read the app's output, then pulse RTS for ~5 ms (EN low) and expect the boot log
again. Checks along the way, through the simulated board's event log, that the
line changes before the pulse did not reset the board and that the pulse did.
"""
import sys, time
import serial

port, events = sys.argv[1], sys.argv[2]


def resets():
    with open(events) as f:
        return sum(1 for l in f if "reset (EN low)" in l)


def read_for(s, secs):
    end, buf = time.monotonic() + secs, b""
    while time.monotonic() < end:
        buf += s.read(4096)
    return buf


def fail(msg, out=b""):
    print("FAIL:", msg)
    if out:
        print(out.decode("ascii", "replace"))
    sys.exit(1)


s = serial.Serial()
s.port, s.baudrate, s.timeout = port, 115200, 0.1
s.dtr = s.rts = True            # what the tty's open already set: no change, no reset
s.open()
r0 = resets()
out = read_for(s, 1.5)
if b"sim_app: tick" not in out:
    fail("no app output in 1.5 s", out)
print("app output seen: %r" % out.strip().splitlines()[-1])
s.rts = False                   # (1,0): IO0 low, EN stays high
s.dtr = False                   # (0,0): both high
out = read_for(s, 0.7)
if resets() != r0 or b"rst:" in out:
    fail("releasing RTS then DTR reset the board", out)
print("DTR/RTS released without a reset")
t = time.monotonic()
s.rts = True                    # (0,1): EN low
time.sleep(0.005)
s.rts = False                   # EN high: the board boots
out = read_for(s, 2.0)
if resets() != r0 + 1:
    fail("the board saw %d resets for one RTS pulse" % (resets() - r0), out)
if b"rst:0x1 (POWERON_RESET),boot:0x13" not in out or b"Hello from the simulated ESP32" not in out:
    fail("no boot log after the RTS pulse", out)
print("RTS pulse: boot log again:")
for line in out.decode("ascii", "replace").splitlines()[:4]:
    print("  " + line.rstrip())
s.close()
