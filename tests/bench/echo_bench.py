#!/usr/bin/python3
"""echo_bench.py — throughput and 1-byte round trip against an echoing device.

    echo_bench.py NAME TARGET [--kib N] [--rtt N] [--round R]

TARGET is a tty path (/dev/ttyRFC0, a socat PTY), tcp:HOST:PORT (a raw TCP
socket to a plain-TCP accepter of the same server) or an rfc2217://HOST:PORT
URL (pyserial's own client, serial_for_url). Prints one JSON line:
    {"kind": "echo", "client": NAME, "round": R, "mbs": MB/s, "bytes": N,
     "rtt_p50": ms, "rtt_p99": ms, "rtt_n": N}
Throughput: N KiB written by a writer thread while the main thread reads the
echo back (both directions busy at once); MB/s = bytes echoed / seconds from
the first write to the last byte back. RTT: write 1 byte, wait for it to come
back, N times. --kib 0 or --rtt 0 leaves that part out.
"""
import argparse, json, os, select, socket, statistics, sys, termios, threading, time, tty


class Tty:
    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        a = termios.tcgetattr(self.fd)
        a[2] |= termios.CLOCAL | termios.CREAD
        termios.tcsetattr(self.fd, termios.TCSANOW, a)

    def write(self, b):
        return os.write(self.fd, b)

    def read(self, n, timeout):
        if not select.select([self.fd], [], [], timeout)[0]:
            return b''
        return os.read(self.fd, n)

    def close(self):
        os.close(self.fd)


class Tcp:
    def __init__(self, host, port):
        self.s = socket.create_connection((host, port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def write(self, b):
        return self.s.send(b)

    def read(self, n, timeout):
        if not select.select([self.s], [], [], timeout)[0]:
            return b''
        return self.s.recv(n)

    def close(self):
        self.s.close()


class Pyserial:
    """pyserial's rfc2217:// client: a reader thread of its own feeds a queue."""

    def __init__(self, url):
        import serial
        self.p = serial.serial_for_url(url, baudrate=115200, timeout=1)

    def write(self, b):
        return self.p.write(b)

    def read(self, n, timeout):
        self.p.timeout = timeout
        return self.p.read(max(1, min(n, self.p.in_waiting)))

    def close(self):
        self.p.close()


def drain(c, secs=0.3):
    while c.read(65536, secs):
        pass


def throughput(c, size):
    data = os.urandom(size)
    err = []

    def writer():
        off = 0
        view = memoryview(data)
        try:
            while off < size:
                off += c.write(view[off:off + 16384])
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            err.append(e)

    t = threading.Thread(target=writer)
    start = time.monotonic()
    t.start()
    got = 0
    while got < size:
        d = c.read(65536, 10)
        if not d:
            break
        got += len(d)
    secs = time.monotonic() - start
    t.join()
    if err or got < size:
        raise SystemExit('echo incomplete: %d of %d %s' % (got, size, err))
    return size / secs / 1e6


def rtt(c, n):
    out = []
    for i in range(n):
        b = bytes([i & 0x7f])
        t = time.perf_counter()
        c.write(b)
        r = b''
        while not r:
            r = c.read(1, 5)
            if not r:
                raise SystemExit('round trip timed out')
        out.append((time.perf_counter() - t) * 1000)
    out.sort()
    return statistics.median(out), out[max(0, int(len(out) * 0.99) - 1)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('name')
    ap.add_argument('target')
    ap.add_argument('--kib', type=int, default=4096)
    ap.add_argument('--rtt', type=int, default=500)
    ap.add_argument('--round', type=int, default=1)
    a = ap.parse_args()
    if a.target.startswith('tcp:'):
        _, host, port = a.target.split(':')
        c = Tcp(host, int(port))
    elif a.target.startswith('rfc2217://'):
        c = Pyserial(a.target)
    else:
        c = Tty(a.target)
    drain(c)
    mbs = throughput(c, a.kib << 10) if a.kib else 0.0
    drain(c)
    med, p99 = rtt(c, a.rtt) if a.rtt else (0.0, 0.0)
    c.close()
    print(json.dumps(dict(kind='echo', client=a.name, round=a.round, mbs=round(mbs, 4),
                          bytes=a.kib << 10, rtt_p50=round(med, 4), rtt_p99=round(p99, 4),
                          rtt_n=a.rtt)), flush=True)


if __name__ == '__main__':
    sys.exit(main())
