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

SIGUSR1 "replugs" the board, as a native-USB chip (ESP32-S3/C3 USB CDC) does when it
resets: DEV's PTY is closed (a server holding it sees a hangup) and the DEV link
removed; --replug SEC later a new PTY appears under the same DEV name. Bytes on
their way to the board meanwhile are lost, as on a real unplug. PEER stays.
"""
import argparse, errno, os, select, signal, sys, time, tty

MAXBUF = 1 << 20  # per-direction backlog before we stop reading the source


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--dev', required=True)
    ap.add_argument('--peer', required=True)
    ap.add_argument('--replug', type=float, default=2.0,
                    help='seconds DEV is gone after SIGUSR1')
    a = ap.parse_args()

    def plug(link):
        m, s = os.openpty()
        tty.setraw(s)
        os.set_blocking(m, False)
        name = os.ttyname(s)
        try:
            os.unlink(link)
        except FileNotFoundError:
            pass
        os.symlink(name, link)
        return m, s, link

    ends = [plug(a.dev), plug(a.peer)]

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
    # SIGUSR1 only wakes the loop (a self-pipe): the fds change there, not in a handler
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGUSR1, lambda *_: None)
    print('DEV=%s PEER=%s' % (a.dev, a.peer), flush=True)

    m = [ends[0][0], ends[1][0]]
    pend = [bytearray(), bytearray()]  # pend[i]: bytes waiting to be written to m[i]
    back_at = None                     # while unplugged: when DEV returns
    while True:
        rl = [m[i] for i in (0, 1) if m[i] is not None and len(pend[1 - i]) < MAXBUF]
        wl = [m[i] for i in (0, 1) if m[i] is not None and pend[i]]
        tmo = None if back_at is None else max(0, back_at - time.monotonic())
        r, w, _ = select.select(rl + [wake_r], wl, [], tmo)
        if wake_r in r:
            os.read(wake_r, 64)
            if back_at is None:
                dm, ds, link = ends[0]
                os.unlink(link)
                os.close(dm)
                os.close(ds)
                m[0], pend[0] = None, bytearray()
                back_at = time.monotonic() + a.replug
                print('unplugged', flush=True)
            continue
        if back_at is not None and time.monotonic() >= back_at:
            ends[0] = plug(a.dev)
            m[0], back_at = ends[0][0], None
            print('plugged in again', flush=True)
            continue
        for i in (0, 1):
            if m[i] is None:
                continue
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
