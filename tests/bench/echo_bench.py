#!/usr/bin/python3
"""echo_bench.py — throughput and 1-byte round trip against an echoing device.

    echo_bench.py NAME TARGET [--mib N] [--rtt N]

TARGET is a tty path (/dev/ttyRFC0, a socat PTY) or tcp:HOST:PORT (a raw TCP
socket to a plain-TCP accepter of the same server). Prints one line:
    NAME  <MB/s echoed>  <median RTT ms>  <p99 RTT ms>
Throughput: N MiB written while a thread reads the echo back (both directions
busy at once). RTT: write 1 byte, wait for it to come back, N times.
"""
import argparse, os, select, socket, statistics, sys, termios, threading, time, tty


class Tty:
    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        a = termios.tcgetattr(self.fd)
        a[2] |= termios.CLOCAL | termios.CREAD
        termios.tcsetattr(self.fd, termios.TCSANOW, a)

    def write(self, b):
        return os.write(self.fd, b)

    def read(self, n):
        return os.read(self.fd, n)

    def fileno(self):
        return self.fd


class Tcp:
    def __init__(self, host, port):
        self.s = socket.create_connection((host, port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def write(self, b):
        return self.s.send(b)

    def read(self, n):
        return self.s.recv(n)

    def fileno(self):
        return self.s.fileno()


def drain(c, secs=0.3):
    while select.select([c], [], [], secs)[0]:
        if not c.read(65536):
            break


def throughput(c, size):
    data = os.urandom(size)
    got = [0]

    def reader():
        while got[0] < size:
            if not select.select([c], [], [], 10)[0]:
                return
            got[0] += len(c.read(65536))

    t = threading.Thread(target=reader)
    start = time.monotonic()
    t.start()
    off = 0
    view = memoryview(data)
    while off < size:
        off += c.write(view[off:off + 16384])
    t.join()
    secs = time.monotonic() - start
    if got[0] < size:
        raise SystemExit(f'echo incomplete: {got[0]} of {size}')
    return size / secs / 1e6


def rtt(c, n):
    out = []
    for i in range(n):
        b = bytes([i & 0x7f])
        t = time.perf_counter()
        c.write(b)
        r = b''
        while not r:
            if not select.select([c], [], [], 5)[0]:
                raise SystemExit('round trip timed out')
            r = c.read(1)
        out.append((time.perf_counter() - t) * 1000)
    out.sort()
    return statistics.median(out), out[int(len(out) * 0.99) - 1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('name')
    ap.add_argument('target')
    ap.add_argument('--mib', type=int, default=8)
    ap.add_argument('--rtt', type=int, default=500)
    a = ap.parse_args()
    if a.target.startswith('tcp:'):
        _, host, port = a.target.split(':')
        c = Tcp(host, int(port))
    else:
        c = Tty(a.target)
    drain(c)
    mbs = throughput(c, a.mib << 20)
    drain(c)
    med, p99 = rtt(c, a.rtt)
    print(f'{a.name:<28} {mbs:8.2f} {med:9.3f} {p99:9.3f}')


if __name__ == '__main__':
    sys.exit(main())
