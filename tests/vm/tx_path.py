#!/usr/bin/python3
"""tx_path.py — which way data takes between the tty and ttyrfcd, from the port's counters.

    tx_path.py TTY PEER

TTY is /dev/ttyRFCn, PEER the device end of the server's PTY. Two checks:

- Requests: 40 times, one byte written into an idle stream, answered by one byte
  from PEER (esptool's pattern). Each must go out from write() itself (tx_direct;
  at least 9 in 10), not through the module's worker: that wake-up is latency on
  every command. Each reply must reach the line discipline in ttyrfcd's send
  (rx_direct; at least 9 in 10), not wait for the tty core's flip-buffer
  worker: that wake-up is latency on every reply.
- A stream: 1 MiB in one write() loop while PEER reads. It must go through the
  worker in messages of 4 KiB or more on average (tx_bytes / tx_msgs), not one
  message per write() or per 2 KiB the tty core cuts writes into.

Byte-exact both times. Prints the counters' deltas; exit 0 = pass.
"""
import json, os, select, subprocess, sys, termios, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xfer import raw  # noqa: E402

CTL = os.environ.get('CTL', 'userspace-helper/ttyrfcctl')


def stats(dev):
    r = subprocess.run([CTL, '--json', 'show', os.path.basename(dev)],
                       capture_output=True, text=True, timeout=30)
    if r.returncode:
        sys.exit('ttyrfcctl show: %s' % r.stderr.strip())
    return json.loads(r.stdout)


def read_exact(fd, n, timeout=20):
    got = bytearray()
    end = time.monotonic() + timeout
    while len(got) < n:
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            sys.exit('timeout: %d of %d bytes' % (len(got), n))
        got += os.read(fd, n - len(got))
    return bytes(got)


def wait_confirmed(dev, tx_bytes, timeout=10):
    end = time.monotonic() + timeout
    while True:
        s = stats(dev)
        if s['tx_bytes'] >= tx_bytes:
            return s
        if time.monotonic() > end:
            sys.exit('tx_bytes stuck at %d, want %d' % (s['tx_bytes'], tx_bytes))
        time.sleep(0.05)


def delta(a, b, *keys):
    return {k: b[k] - a[k] for k in keys}


def main():
    dev, peer = sys.argv[1], sys.argv[2]
    fd = os.open(dev, os.O_RDWR | os.O_NOCTTY)
    pfd = os.open(peer, os.O_RDWR | os.O_NOCTTY)
    raw(fd)
    raw(pfd)
    termios.tcflush(pfd, termios.TCIOFLUSH)
    fails = []

    def request(i):
        b = bytes([0x30 + i % 40])
        os.write(fd, b)
        if read_exact(pfd, 1) != b:
            sys.exit('request %d: wrong byte at the device' % i)
        os.write(pfd, b)
        if read_exact(fd, 1) != b:
            sys.exit('request %d: wrong reply at the tty' % i)

    # requests, each into an idle stream: the last one confirmed first (one
    # unmeasured first, after the settings open and raw() queued)
    request(0)
    time.sleep(0.5)
    n = 40
    s0 = stats(dev)
    for i in range(n):
        request(i)
        wait_confirmed(dev, s0['tx_bytes'] + i + 1)
    s1 = stats(dev)
    d = delta(s0, s1, 'tx_bytes', 'tx_msgs', 'tx_direct', 'rx_bytes', 'rx_msgs',
              'rx_direct')
    print('requests: %d one-byte writes, answered: %s' % (n, json.dumps(d)))
    if d['tx_msgs'] != n or d['tx_direct'] < n * 9 // 10:
        fails.append('%d requests into an idle stream: %d messages, %d of them from '
                     'write() (want %d, and at least %d)' %
                     (n, d['tx_msgs'], d['tx_direct'], n, n * 9 // 10))
    if d['rx_bytes'] != n or d['rx_direct'] < n * 9 // 10:
        fails.append('%d one-byte replies: %d bytes in %d messages, %d of them passed to '
                     'the ldisc at once (want %d bytes, and at least %d)' %
                     (n, d['rx_bytes'], d['rx_msgs'], d['rx_direct'], n, n * 9 // 10))

    # a stream: through the worker, in large messages
    size = 1 << 20
    data = bytes((i * 7 + (i >> 12)) & 0xFF for i in range(size))
    got = bytearray()

    def reader():
        while len(got) < size:
            if not select.select([pfd], [], [], 30)[0]:
                return
            got.extend(os.read(pfd, 65536))

    t = threading.Thread(target=reader)
    t.start()
    off = 0
    while off < size:
        off += os.write(fd, data[off:off + 65536])
    t.join()
    if bytes(got) != data:
        sys.exit('stream: %d of %d bytes arrived, or not these' % (len(got), size))
    s2 = wait_confirmed(dev, s1['tx_bytes'] + size)
    d = delta(s1, s2, 'tx_bytes', 'tx_msgs', 'tx_direct')
    avg = d['tx_bytes'] / max(d['tx_msgs'], 1)
    print('stream: 1 MiB in 64 KiB writes: %s, %.0f bytes per message' % (json.dumps(d), avg))
    if avg < 4096:
        fails.append('a 1 MiB stream went in %d messages of %.0f bytes on average '
                     '(want 4096 or more)' % (d['tx_msgs'], avg))
    os.close(fd)
    os.close(pfd)
    if fails:
        sys.exit('; '.join(fails))


main()
