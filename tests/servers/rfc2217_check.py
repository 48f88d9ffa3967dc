#!/usr/bin/python3
"""rfc2217_check.py — quick end-to-end check of an RFC 2217 server fronting a PTY pair.

    rfc2217_check.py URL PEER [N]

Connects with pyserial's rfc2217:// client to URL (e.g. rfc2217://127.0.0.1:4000),
writes N (default 65536) bytes containing every byte value (0xFF, CR, LF, NUL ...)
and checks that exactly those bytes arrive at PEER (the board side, see ptypair.py);
then sends bytes from PEER back and checks the client receives them exactly.
Also changes the baud rate once. Exits 0 on success.
"""
import os, sys, threading, time, logging
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serial
import peer

url, peerdev = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 65536
if os.environ.get('RFC2217_DEBUG'):
    logging.basicConfig(level=logging.DEBUG)

special = bytes([0xFF, 0xFF, 13, 10, 0, 13, 0, 0xFF, 250, 240, 255, 13, 13, 10, 10])
payload = (special + bytes(range(256)) * ((n // 256) + 1))[:n]

fd = peer.opendev(peerdev)
# drain anything stale on the board side
while peer.readable(fd, 0.05):
    os.read(fd, 65536)

# ?ign_set_control: ser2net on a PTY never acks DTR/RTS; don't wait on it.
s = serial.serial_for_url(url + '?ign_set_control&timeout=5', baudrate=115200, timeout=5)
got = bytearray()

def reader():
    deadline = time.monotonic() + 30
    while len(got) < len(payload) and time.monotonic() < deadline:
        if peer.readable(fd, 0.5):
            got.extend(os.read(fd, 65536))

t = threading.Thread(target=reader); t.start()
s.write(payload); s.flush()
t.join()
ok = True
if bytes(got) != payload:
    ok = False
    i = next((i for i in range(min(len(got), len(payload))) if got[i] != payload[i]), min(len(got), len(payload)))
    print('client->board MISMATCH: got %d of %d bytes, first diff at %d' % (len(got), len(payload), i))
else:
    print('client->board ok: %d bytes' % len(got))

s.baudrate = 921600
back = (special * 20) + bytes(range(256)) * 16
os.write(fd, back)
rx = bytearray()
deadline = time.monotonic() + 10
while len(rx) < len(back) and time.monotonic() < deadline:
    rx += s.read(len(back) - len(rx))
if bytes(rx) != back:
    ok = False
    print('board->client MISMATCH: got %d of %d bytes' % (len(rx), len(back)))
else:
    print('board->client ok: %d bytes' % len(rx))
s.close()
sys.exit(0 if ok else 1)
