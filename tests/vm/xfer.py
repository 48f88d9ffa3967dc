#!/usr/bin/python3
"""xfer.py — byte-exact data transfer through a tty, checked at the device side.

    xfer.py TTY PEER SIZE [--kill-helper CMD]

Writes SIZE bytes to TTY (e.g. /dev/ttyRFC0) and checks that exactly those bytes
arrive at PEER (the device end of the server's PTY), then the same the other way.
The data holds every byte value and runs of 0xFF, CR, LF and NUL. Reads while it
writes (a reader thread), so neither side's buffers can deadlock the transfer.

--stall S: in the device->tty direction the reader starts S seconds late, so
the tty fills up and flow control (throttle, the helper pausing the socket) must
hold the data back without losing any.

--kill-helper CMD: after the first round trip, run CMD (a shell command that kills
and restarts ttyrfcd) and do a second round trip on the same open TTY.
"""
import argparse, os, select, subprocess, sys, termios, threading, time, tty


def raw(fd):
    tty.setraw(fd)
    a = termios.tcgetattr(fd)
    a[2] |= termios.CLOCAL | termios.CREAD
    termios.tcsetattr(fd, termios.TCSANOW, a)


def pattern(size):
    special = bytes(range(256)) + b'\xff' * 64 + b'\r\n\x00' * 16 + b'\xff\x00\xff\r\xff\n'
    out = bytearray()
    while len(out) < size:
        out += special
        out += os.urandom(8192)
    return bytes(out[:size])


def read_exact(fd, n, timeout, into, stall=0):
    time.sleep(stall)  # a reader that falls behind: the writer must wait, not lose
    end = time.monotonic() + timeout
    while len(into) < n:
        left = end - time.monotonic()
        if left <= 0:
            return
        r, _, _ = select.select([fd], [], [], left)
        if r:
            into += os.read(fd, min(65536, n - len(into)))


def transfer(wfd, rfd, data, timeout, label, stall=0):
    got = bytearray()
    t = threading.Thread(target=read_exact,
                         args=(rfd, len(data), timeout, got, stall))
    t.start()
    start = time.monotonic()
    view = memoryview(data)
    off = 0
    while off < len(data):
        _, w, _ = select.select([], [wfd], [], timeout)
        if not w:
            break
        off += os.write(wfd, view[off:off + 65536])
    t.join()
    secs = time.monotonic() - start
    if bytes(got) != data:
        first = next((i for i, (a, b) in enumerate(zip(got, data)) if a != b),
                     min(len(got), len(data)))
        print(f'{label}: FAIL: wrote {off} of {len(data)}, received {len(got)}, '
              f'first difference at byte {first}')
        return False
    print(f'{label}: {len(data)} bytes byte-exact in {secs:.2f} s '
          f'({len(data) / secs / 1e6:.2f} MB/s)')
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('tty')
    ap.add_argument('peer')
    ap.add_argument('size', type=int)
    ap.add_argument('--timeout', type=float, default=120)
    ap.add_argument('--kill-helper')
    ap.add_argument('--expect-no-modem', action='store_true',
                    help='TIOCMSET and TCSBRK must fail with ENOTTY (raw port)')
    ap.add_argument('--stall', type=float, default=0,
                    help='the tty reader starts this many seconds late')
    a = ap.parse_args()

    peer = os.open(a.peer, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    raw(peer)
    dev = os.open(a.tty, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    raw(dev)
    data = pattern(a.size)
    if a.expect_no_modem:
        import errno, fcntl, struct
        for name, req, arg in (('TIOCMSET', termios.TIOCMSET, struct.pack('i', 0)),
                               ('TIOCSBRK', getattr(termios, 'TIOCSBRK', 0x5427), 0)):
            try:
                fcntl.ioctl(dev, req, arg)
                print(f'{name}: succeeded on a raw port')
                return 1
            except OSError as e:
                if e.errno != errno.ENOTTY:
                    print(f'{name}: {e}, expected ENOTTY')
                    return 1
                print(f'{name}: ENOTTY, as a port without modem lines')
    ok = transfer(dev, peer, data, a.timeout, 'tty->device')
    ok = ok and transfer(peer, dev, data, a.timeout, 'device->tty', a.stall)
    if ok and a.kill_helper:
        subprocess.run(a.kill_helper, shell=True, check=True)
        ok = transfer(dev, peer, data, a.timeout, 'after helper restart: tty->device')
        ok = ok and transfer(peer, dev, data, a.timeout,
                             'after helper restart: device->tty')
    os.close(dev)
    os.close(peer)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
