#!/usr/bin/python3
"""ptypair.py — a "null-modem cable" made of two PTYs.

    ptypair.py --dev /tmp/ttyrfc-dev.4000 --peer /tmp/ttyrfc-peer.4000

Creates two pseudo-terminals, makes DEV and PEER symlinks to their slave ends and
copies bytes between the two masters, so whatever is written to DEV can be read from
PEER and vice versa. A server (ser2net, pm_server.py) opens DEV like a serial device;
a test opens PEER (see peer.py) to see/produce what the "board" receives/sends.

Both slave ends are held open by this process (never read), so a server closing and
reopening DEV between clients does not tear the cable down (a bare PTY master gets EIO
once its last slave fd closes). Both ends start in raw mode. Runs until SIGTERM/SIGINT,
then removes the symlinks. Prints "DEV=... PEER=..." once ready.
"""
import argparse, errno, os, select, signal, sys, tty

MAXBUF = 1 << 20  # per-direction backlog before we stop reading the source


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--dev', required=True)
    ap.add_argument('--peer', required=True)
    a = ap.parse_args()

    ends = []
    for link in (a.dev, a.peer):
        m, s = os.openpty()
        tty.setraw(s)
        os.set_blocking(m, False)
        name = os.ttyname(s)
        try:
            os.unlink(link)
        except FileNotFoundError:
            pass
        os.symlink(name, link)
        ends.append((m, s, link))

    def bye(*_):
        for _, _, link in ends:
            try:
                os.unlink(link)
            except OSError:
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, bye)
    signal.signal(signal.SIGINT, bye)
    signal.signal(signal.SIGHUP, bye)
    print('DEV=%s PEER=%s' % (a.dev, a.peer), flush=True)

    m = [ends[0][0], ends[1][0]]
    pend = [bytearray(), bytearray()]  # pend[i]: bytes waiting to be written to m[i]
    while True:
        rl = [m[i] for i in (0, 1) if len(pend[1 - i]) < MAXBUF]
        wl = [m[i] for i in (0, 1) if pend[i]]
        r, w, _ = select.select(rl, wl, [])
        for i in (0, 1):
            if m[i] in r:
                try:
                    d = os.read(m[i], 65536)
                except OSError as e:
                    if e.errno in (errno.EAGAIN, errno.EIO):
                        continue
                    raise
                pend[1 - i] += d
            if m[i] in w or pend[i]:
                try:
                    n = os.write(m[i], pend[i])
                    del pend[i][:n]
                except OSError as e:
                    if e.errno not in (errno.EAGAIN,):
                        raise


if __name__ == '__main__':
    main()
