#!/usr/bin/python3
"""peer.py — the device side ("board") for data tests.

    peer.py sink   DEV N [-t SEC]   read exactly N bytes from DEV, print "<sha256> N"
                                    (exit 1 and print what arrived on timeout, default 30 s)
    peer.py source DEV FILE|-       write FILE (or stdin) to DEV, then tcdrain
    peer.py echo   DEV [-t SEC]     echo everything back until idle for SEC (default: forever)
    peer.py cat    DEV [-t SEC]     copy DEV to stdout until idle for SEC (default 2 s)
    peer.py sha256 FILE|-           print "<sha256> N" of a file (to compare with sink)

DEV is opened O_NOCTTY and put in raw mode (no echo, no CR/LF mapping, 8 bits).
Typical use with tests/servers/ser2net_pty.sh: DEV is $PEER (/tmp/ttyrfc-peer.PORT).
"""
import argparse, hashlib, os, select, sys, termios, time, tty


def opendev(path):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    if os.isatty(fd):
        tty.setraw(fd)
        attr = termios.tcgetattr(fd)
        attr[2] |= termios.CLOCAL | termios.CREAD
        attr[2] &= ~termios.HUPCL
        termios.tcsetattr(fd, termios.TCSANOW, attr)
    return fd


def readable(fd, timeout):
    r, _, _ = select.select([fd], [], [], timeout)
    return bool(r)


def cmd_sink(a):
    fd = opendev(a.dev)
    h, got = hashlib.sha256(), 0
    deadline = time.monotonic() + a.timeout
    while got < a.n:
        left = deadline - time.monotonic()
        if left <= 0 or not readable(fd, left):
            print('timeout: got %d of %d bytes' % (got, a.n), file=sys.stderr)
            print('%s %d' % (h.hexdigest(), got))
            return 1
        d = os.read(fd, min(65536, a.n - got))
        h.update(d)
        got += len(d)
    print('%s %d' % (h.hexdigest(), got))
    return 0


def cmd_source(a):
    fd = opendev(a.dev)
    data = sys.stdin.buffer.read() if a.file == '-' else open(a.file, 'rb').read()
    mv = memoryview(data)
    while mv:
        n = os.write(fd, mv)
        mv = mv[n:]
    if os.isatty(fd):
        termios.tcdrain(fd)
    return 0


def cmd_echo(a):
    fd = opendev(a.dev)
    while True:
        if not readable(fd, a.timeout):
            return 0
        d = os.read(fd, 65536)
        mv = memoryview(d)
        while mv:
            n = os.write(fd, mv)
            mv = mv[n:]


def cmd_cat(a):
    fd = opendev(a.dev)
    out = sys.stdout.buffer
    while readable(fd, a.timeout):
        out.write(os.read(fd, 65536))
        out.flush()
    return 0


def cmd_sha256(a):
    data = sys.stdin.buffer.read() if a.file == '-' else open(a.file, 'rb').read()
    print('%s %d' % (hashlib.sha256(data).hexdigest(), len(data)))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sp = ap.add_subparsers(dest='cmd', required=True)
    p = sp.add_parser('sink'); p.add_argument('dev'); p.add_argument('n', type=int)
    p.add_argument('-t', '--timeout', type=float, default=30.0); p.set_defaults(f=cmd_sink)
    p = sp.add_parser('source'); p.add_argument('dev'); p.add_argument('file'); p.set_defaults(f=cmd_source)
    p = sp.add_parser('echo'); p.add_argument('dev')
    p.add_argument('-t', '--timeout', type=float, default=None); p.set_defaults(f=cmd_echo)
    p = sp.add_parser('cat'); p.add_argument('dev')
    p.add_argument('-t', '--timeout', type=float, default=2.0); p.set_defaults(f=cmd_cat)
    p = sp.add_parser('sha256'); p.add_argument('file'); p.set_defaults(f=cmd_sha256)
    a = ap.parse_args()
    sys.exit(a.f(a))


if __name__ == '__main__':
    main()
