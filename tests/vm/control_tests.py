#!/usr/bin/python3
"""control_tests.py — the serial-control checks run by tests/vm/control.sh.

    control_tests.py TEST [ARGS...]        (exit 0 = pass; prints why on failure)

Drives /dev/ttyRFC0 (or $CTL_DEV) against tests/servers/recorder.py, whose JSON log
($REC_LOG) and control socket ($REC_CTL) are used to check the exact RFC 2217 commands
that reached the server. Command tuples below are (cmd, [value bytes]).
Most checks end with a "sentinel" (TCFLSH TCIFLUSH -> PURGE-DATA 1): since data and
control reach the wire in order, everything an operation sent has arrived once the
sentinel has, so "exactly these commands and nothing else" is decidable without sleeps.
"""
import array, errno, fcntl, json, os, signal, socket, struct, subprocess, sys, termios, threading, time

DEV = os.environ.get('CTL_DEV', '/dev/ttyRFC0')
REC_LOG = os.environ.get('REC_LOG', '/tmp/rec.jsonl')
REC_CTL = os.environ.get('REC_CTL', '/tmp/rec.ctl')
REC_DATA = os.environ.get('REC_DATA', '/tmp/recdata')
REPLAY = os.environ.get('REPLAY_BIN', '/tmp/reset_replay')
# the debug kernel (KASAN, lockdep) runs ~10x slower under TCG: run.sh sets
# TTYRFC_SLOW=1 there, and the timing bounds widen by this factor
SLOW = 5 if os.environ.get('TTYRFC_SLOW') == '1' else 1
# timing tolerance for gaps between commands (ms); see control.sh
GAP_TOL_MS = float(os.environ.get('GAP_TOL_MS', '15' if SLOW > 1 else '5'))
# every attempt must stay within this (see t_reset)
GAP_LOOSE_MS = float(os.environ.get('GAP_LOOSE_MS', '40'))
SLEEP_TOL_MS = float(os.environ.get('SLEEP_TOL_MS', '30'))

TIOCMIWAIT, TIOCGICOUNT, TIOCSBRK, TIOCCBRK = 0x545C, 0x545D, 0x5427, 0x5428
TCGETS2, TCSETS2, BOTHER, CBAUD = 0x802C542A, 0x402C542B, 0o010000, 0o010017
CMSPAR = 0o10000000000
BAUD, DATASIZE, PARITY, STOPSIZE, CONTROL, PURGE = 1, 2, 3, 4, 5, 12
SENTINEL = (PURGE, [1])


class Fail(Exception):
    pass


def check(cond, *msg):
    if not cond:
        raise Fail(' '.join(str(m) for m in msg))


# ------------------------------------------------------------------ recorder side
class Rec:
    def __init__(self, log=REC_LOG, ctl=REC_CTL):
        self.log, self.ctlpath = log, ctl

    def entries(self):
        with open(self.log) as f:
            return [json.loads(l) for l in f if l.endswith('\n')]

    def pos(self):
        return len(self.entries())

    def since(self, pos):
        return self.entries()[pos:]

    def wait(self, pos, pred, timeout=5.0, what='condition'):
        end = time.monotonic() + timeout
        while True:
            ents = self.since(pos)
            if pred(ents):
                return ents
            if time.monotonic() > end:
                raise Fail('timeout waiting for %s; recorder saw: %s' % (what, short(ents)))
            time.sleep(0.01)

    def ctl(self, line):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.ctlpath)
        s.sendall(line.encode() + b'\n')
        ans = s.makefile().readline().strip()
        s.close()
        check(ans == 'ok', 'recorder control %r: %s' % (line, ans))


CUR_CONN = None     # the connection under test (set by wait_conn)


def cmds(ents):
    return [e for e in ents if e['ev'] == 'cmd' and (CUR_CONN is None or e['conn'] == CUR_CONN)]


def tup(e):
    return (e['cmd'], e['val'])


def short(ents):
    out = []
    for e in ents:
        if e['ev'] == 'cmd':
            out.append('cmd%d%s@r%d' % (e['cmd'], e['val'], e['read']))
        elif e['ev'] == 'data':
            out.append('data%d@r%d' % (e['len'], e['read']))
        else:
            out.append(e['ev'])
    return ' '.join(out[-40:])


def be32(n):
    return list(n.to_bytes(4, 'big'))


REC = Rec()


def wait_conn(pos):
    """Entries of the newest connection that began after pos (waits for it)."""
    global CUR_CONN
    ents = REC.wait(pos, lambda es: any(e['ev'] == 'conn' for e in es), what='a connection')
    CUR_CONN = max(e['conn'] for e in ents if e['ev'] == 'conn')
    return CUR_CONN


def expect(fd, action, want, what, sentinel=True):
    """Run action(); the commands the recorder then gets must be exactly want
    (followed by the sentinel). Returns the command entries (without sentinel)."""
    pos = REC.pos()
    action()
    if sentinel:
        termios.tcflush(fd, termios.TCIFLUSH)
        full = list(want) + [SENTINEL]
    else:
        full = list(want)
    ents = REC.wait(pos, lambda es: len(cmds(es)) >= len(full) and
                    (not sentinel or tup(cmds(es)[-1]) == SENTINEL),
                    what='%s -> %s' % (what, full))
    got = [tup(e) for e in cmds(ents)]
    check(got == [tuple(x) for x in full], '%s: expected %s, recorder got %s' % (what, full, got))
    return cmds(ents)[:len(want)]


def open_dev(dev=DEV):
    pos = REC.pos()
    # termios outlives a close (like any serial port): a test that cleared
    # CLOCAL would make a blocking open wait for carrier, so open without
    # waiting and set CLOCAL first
    fd = os.open(dev, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    a = termios.tcgetattr(fd)
    a[2] |= termios.CLOCAL
    termios.tcsetattr(fd, termios.TCSANOW, a)
    os.set_blocking(fd, True)
    # settle: wait for the session's opening commands (DTR/RTS raised by open)
    conn = wait_conn(pos)
    REC.wait(pos, lambda es: any(e['ev'] == 'cmd' and e['conn'] == conn and e['cmd'] == CONTROL
                                 and e['val'] == [11] for e in es), what='open raising RTS')
    return fd


def raw(fd, baud=termios.B115200, cflag_set=0, cflag_clear=0):
    a = termios.tcgetattr(fd)
    a[0] = 0                                    # iflag
    a[1] = 0                                    # oflag
    a[2] = (a[2] & ~(termios.CSIZE | termios.PARENB | termios.PARODD | CMSPAR |
                     termios.CSTOPB | termios.CRTSCTS) | termios.CS8 | termios.CREAD |
            termios.CLOCAL | cflag_set) & ~cflag_clear
    a[3] = 0                                    # lflag
    a[4] = a[5] = baud
    a[6][termios.VMIN] = 1
    a[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, a)


def set_attr(fd, **kw):
    a = termios.tcgetattr(fd)
    for i, k in enumerate(('iflag', 'oflag', 'cflag', 'lflag', 'ispeed', 'ospeed')):
        if k in kw:
            a[i] = kw[k]
    if 'speed' in kw:
        a[4] = a[5] = kw['speed']
    termios.tcsetattr(fd, termios.TCSANOW, a)


def set_bother(fd, rate):
    buf = bytearray(44)
    fcntl.ioctl(fd, TCGETS2, buf)
    iflag, oflag, cflag, lflag = struct.unpack_from('4I', buf)
    cflag = (cflag & ~CBAUD) | BOTHER
    struct.pack_into('4I', buf, 0, iflag, oflag, cflag, lflag)
    struct.pack_into('2I', buf, 36, rate, rate)
    fcntl.ioctl(fd, TCSETS2, bytes(buf))


def mget(fd):
    b = array.array('i', [0])
    fcntl.ioctl(fd, termios.TIOCMGET, b, True)
    return b[0]


def mset(fd, req, bits):
    fcntl.ioctl(fd, req, struct.pack('i', bits))


def icount(fd):
    buf = bytearray(80)
    fcntl.ioctl(fd, TIOCGICOUNT, buf)
    return dict(zip(('cts', 'dsr', 'rng', 'dcd', 'rx', 'tx', 'frame', 'overrun', 'parity',
                     'brk', 'buf_overrun'), struct.unpack_from('11i', buf)))


def baseline(fd):
    """A known state: raw 115200 8N1, no flow control, DTR and RTS on."""
    raw(fd)
    mset(fd, termios.TIOCMBIS, termios.TIOCM_DTR | termios.TIOCM_RTS)
    pos = REC.pos()
    termios.tcflush(fd, termios.TCIFLUSH)       # whatever that sent is in before this
    REC.wait(pos, lambda es: any(tup(e) == SENTINEL for e in cmds(es)), what='baseline')


# ------------------------------------------------------------------ tests
def t_baud():
    fd = open_dev()
    baseline(fd)
    for sp, rate in ((termios.B9600, 9600), (termios.B921600, 921600),
                     (termios.B2000000, 2000000)):
        expect(fd, lambda: set_attr(fd, speed=sp), [(BAUD, be32(rate))], 'TCSETS %d' % rate)
    expect(fd, lambda: set_bother(fd, 1234567), [(BAUD, be32(1234567))], 'TCSETS2 BOTHER 1234567')
    expect(fd, lambda: set_bother(fd, 1234567), [], 'same BOTHER rate again')
    expect(fd, lambda: (set_attr(fd, speed=termios.B9600), set_attr(fd, speed=termios.B9600)),
           [(BAUD, be32(9600))], '9600 twice')
    expect(fd, lambda: set_attr(fd, speed=termios.B9600), [], 'unchanged 9600 re-set')
    os.close(fd)


def t_framing():
    fd = open_dev()
    baseline(fd)
    a = termios.tcgetattr(fd)
    base = a[2] & ~(termios.CSIZE | termios.PARENB | termios.PARODD | CMSPAR | termios.CSTOPB)

    def cf(v):
        return lambda: set_attr(fd, cflag=v)
    for cs, n in ((termios.CS5, 5), (termios.CS6, 6), (termios.CS7, 7), (termios.CS8, 8)):
        expect(fd, cf(base | cs), [(DATASIZE, [n])], 'CS%d' % n)
    cs8 = base | termios.CS8
    for bits, n, name in ((termios.PARENB | termios.PARODD, 2, 'odd'),
                          (termios.PARENB, 3, 'even'),
                          (termios.PARENB | CMSPAR | termios.PARODD, 4, 'mark'),
                          (termios.PARENB | CMSPAR, 5, 'space'),
                          (0, 1, 'none')):
        expect(fd, cf(cs8 | bits), [(PARITY, [n])], 'parity ' + name)
    expect(fd, cf(cs8 | termios.CSTOPB), [(STOPSIZE, [2])], 'CSTOPB')
    expect(fd, cf(cs8), [(STOPSIZE, [1])], '1 stop bit')
    expect(fd, cf(cs8 | termios.CRTSCTS), [(CONTROL, [3])], 'CRTSCTS')
    expect(fd, lambda: set_attr(fd, cflag=cs8, iflag=termios.IXON), [(CONTROL, [2])], 'IXON')
    expect(fd, lambda: set_attr(fd, iflag=termios.IXON | termios.IXOFF), [], 'IXON+IXOFF (still 2)')
    expect(fd, lambda: set_attr(fd, iflag=0), [(CONTROL, [1])], 'no flow control')
    expect(fd, lambda: set_attr(fd, iflag=termios.IXOFF), [(CONTROL, [2])], 'IXOFF')
    expect(fd, lambda: set_attr(fd, iflag=0), [(CONTROL, [1])], 'no flow control again')
    # several fields in one tcsetattr: each changed one once, nothing else
    expect(fd, cf(base | termios.CS7 | termios.PARENB | termios.CSTOPB),
           [(DATASIZE, [7]), (PARITY, [3]), (STOPSIZE, [2])], '7E2 in one call')
    raw(fd)
    os.close(fd)


def same_read(ents, what):
    check(len({e['read'] for e in ents}) == 1, '%s: not in one recorder read: %s' % (what, short(ents)))


def t_mctrl():
    fd = open_dev()
    baseline(fd)
    D, R = termios.TIOCM_DTR, termios.TIOCM_RTS
    # both lines dropping: RTS first, so an ESP32 board never sees
    # DTR=0,RTS=1 (EN low) on the way; every other change: DTR first
    e = expect(fd, lambda: mset(fd, termios.TIOCMSET, 0), [(CONTROL, [12]), (CONTROL, [9])],
               'TIOCMSET 0')
    same_read(e, 'TIOCMSET 0')
    e = expect(fd, lambda: mset(fd, termios.TIOCMSET, D | R), [(CONTROL, [8]), (CONTROL, [11])],
               'TIOCMSET DTR|RTS')
    same_read(e, 'TIOCMSET DTR|RTS')
    e = expect(fd, lambda: mset(fd, termios.TIOCMSET, R), [(CONTROL, [9])], 'TIOCMSET RTS')
    e = expect(fd, lambda: mset(fd, termios.TIOCMSET, D), [(CONTROL, [8]), (CONTROL, [12])],
               'TIOCMSET DTR (both change)')
    same_read(e, 'TIOCMSET DTR')
    expect(fd, lambda: mset(fd, termios.TIOCMBIS, R), [(CONTROL, [11])], 'TIOCMBIS RTS')
    expect(fd, lambda: mset(fd, termios.TIOCMBIC, R), [(CONTROL, [12])], 'TIOCMBIC RTS')
    expect(fd, lambda: mset(fd, termios.TIOCMBIC, D), [(CONTROL, [9])], 'TIOCMBIC DTR')
    expect(fd, lambda: mset(fd, termios.TIOCMBIS, D), [(CONTROL, [8])], 'TIOCMBIS DTR')
    expect(fd, lambda: mset(fd, termios.TIOCMBIS, D), [], 'TIOCMBIS DTR again (no change)')
    e = expect(fd, lambda: mset(fd, termios.TIOCMBIS, D | R), [(CONTROL, [11])], 'TIOCMBIS DTR|RTS')
    e = expect(fd, lambda: mset(fd, termios.TIOCMBIC, D | R), [(CONTROL, [12]), (CONTROL, [9])],
               'TIOCMBIC DTR|RTS')
    same_read(e, 'TIOCMBIC DTR|RTS')
    m = mget(fd)
    check(m & (D | R) == 0, 'TIOCMGET after clearing both: %#x' % m)
    mset(fd, termios.TIOCMBIS, D)
    check(mget(fd) & (D | R) == D, 'TIOCMGET shows DTR only: %#x' % mget(fd))
    os.close(fd)


def t_modem():
    fd = open_dev()
    baseline(fd)
    M = termios
    i0 = icount(fd)
    REC.ctl('modem 0xb0')                      # CD | DSR | CTS
    end = time.monotonic() + 3
    want = M.TIOCM_CTS | M.TIOCM_DSR | M.TIOCM_CAR
    while mget(fd) & (want | M.TIOCM_RNG) != want:
        check(time.monotonic() < end, 'TIOCMGET never showed CTS|DSR|CD: %#x' % mget(fd))
        time.sleep(0.01)
    check(mget(fd) & (M.TIOCM_DTR | M.TIOCM_RTS) == M.TIOCM_DTR | M.TIOCM_RTS,
          'DTR/RTS not reported as set locally: %#x' % mget(fd))
    i1 = icount(fd)
    d = {k: i1[k] - i0[k] for k in ('cts', 'dsr', 'rng', 'dcd')}
    check(d == dict(cts=1, dsr=1, rng=0, dcd=1), 'TIOCGICOUNT deltas after 0xb0: %s' % d)

    # TIOCMIWAIT on RI wakes when RI rises (and not on an unrelated change first)
    res = {}

    def waiter():
        t0 = time.monotonic()
        try:
            fcntl.ioctl(fd, TIOCMIWAIT, M.TIOCM_RNG)
            res['ok'] = time.monotonic() - t0
        except OSError as e:
            res['err'] = e
    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.3)
    REC.ctl('modem 0xa0')                      # CTS drops: not waited for
    time.sleep(0.3)
    check(th.is_alive(), 'TIOCMIWAIT(RI) returned on a CTS change: %s' % res)
    REC.ctl('modem 0xe0')                      # RI rises
    th.join(3)
    check(not th.is_alive(), 'TIOCMIWAIT(RI) did not wake on RI within 3 s')
    check('ok' in res, 'TIOCMIWAIT failed: %s' % res)
    check(mget(fd) & M.TIOCM_RNG, 'TIOCMGET has no RI after 0xe0')
    i2 = icount(fd)
    d = {k: i2[k] - i1[k] for k in ('cts', 'dsr', 'rng', 'dcd')}
    check(d == dict(cts=1, dsr=0, rng=1, dcd=0), 'TIOCGICOUNT deltas after 0xa0, 0xe0: %s' % d)
    REC.ctl('modem 0x00')
    os.close(fd)


def t_break():
    fd = open_dev()
    baseline(fd)
    expect(fd, lambda: fcntl.ioctl(fd, TIOCSBRK), [(CONTROL, [5])], 'TIOCSBRK')
    expect(fd, lambda: fcntl.ioctl(fd, TIOCCBRK), [(CONTROL, [6])], 'TIOCCBRK')
    for name, act, ms in (('tcsendbreak(0)', lambda: termios.tcsendbreak(fd, 0), 250),
                          ('TCSBRKP 3', lambda: fcntl.ioctl(fd, termios.TCSBRKP, 3), 300)):
        e = expect(fd, act, [(CONTROL, [5]), (CONTROL, [6])], name)
        gap = (e[1]['t'] - e[0]['t']) * 1000
        print('# %s: break on -> off gap %.1f ms (want %d)' % (name, gap, ms))
        # the kernel msleep()s between on and off: never short; under TCG the sleep
        # and the delivery of either command can each run late (seen: +38 ms)
        check(ms - 10 <= gap <= ms + 60, '%s: gap %.1f ms, want %d -10/+60' % (name, gap, ms))
    os.close(fd)


def t_purge():
    fd = open_dev()
    baseline(fd)
    for q, n in ((termios.TCIFLUSH, 1), (termios.TCOFLUSH, 2), (termios.TCIOFLUSH, 3)):
        expect(fd, lambda: termios.tcflush(fd, q), [(PURGE, [n])], 'TCFLSH %d' % q)
    os.close(fd)


def read_until(fd, want_len, timeout=3.0):
    got = b''
    end = time.monotonic() + timeout
    os.set_blocking(fd, False)
    while len(got) < want_len and time.monotonic() < end:
        try:
            got += os.read(fd, 4096)
        except BlockingIOError:
            time.sleep(0.01)
    os.set_blocking(fd, True)
    return got


def t_linestate():
    fd = open_dev()
    baseline(fd)
    a = termios.tcgetattr(fd)
    a[0] = termios.INPCK | termios.PARMRK        # no IGNPAR/IGNBRK/BRKINT/ISTRIP
    termios.tcsetattr(fd, termios.TCSANOW, a)
    expect(fd, lambda: None, [], 'PARMRK termios')
    i0 = icount(fd)
    for c in ('data 41', 'line 8', 'data 42', 'line 4', 'data 43', 'line 16', 'data 44',
              'line 2', 'data 45ff46'):
        REC.ctl(c)
    want = b'A\xff\x00\x00B\xff\x00\x00C\xff\x00\x00DE\xff\xffF'
    got = read_until(fd, len(want))
    check(got == want, 'PARMRK stream: want %r got %r' % (want, got))
    i1 = icount(fd)
    d = {k: i1[k] - i0[k] for k in ('frame', 'parity', 'brk', 'overrun', 'rx')}
    check(d == dict(frame=1, parity=1, brk=1, overrun=1, rx=7), 'TIOCGICOUNT deltas: %s' % d)
    raw(fd)
    os.close(fd)


# ---- esptool reset replay
def run_replay(mode, stream=0):
    pos = REC.pos()
    args = [REPLAY, DEV, mode] + ([str(stream)] if stream else [])
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, 'reset_replay failed: %s %s' % (p.stdout, p.stderr))
    ops = [json.loads(l) for l in p.stdout.splitlines() if l.startswith('{')]
    conn = wait_conn(pos)
    nsync = 13 + 32 + 1
    # wait until the whole stream (and the SYNC frame) has arrived
    total = (stream + nsync)
    REC.wait(pos, lambda es: sum(e['len'] for e in es if e['ev'] == 'data' and e['conn'] == conn)
             >= total, timeout=30, what='%d data bytes' % total)
    ents = [e for e in REC.since(pos) if e['conn'] == conn]
    return ops, conn, ents


def expected_groups(ops):
    """What each op must send, from (DTR,RTS) = (1,1) after open."""
    dtr = rts = 1
    groups = []
    for o in ops:
        g = []
        if o['op'] == 'tiocmset':
            nd, nr = o['dtr'], o['rts']
        elif o['op'] in ('tiocmbis', 'tiocmbic'):
            nd = o['dtr'] if o['dtr'] >= 0 else dtr
            nr = o['rts'] if o['rts'] >= 0 else rts
        else:
            groups.append(None)
            continue
        if nd != dtr:
            g.append(8 if nd else 9)
        if nr != rts:
            g.append(11 if nr else 12)
        if g == [9, 12]:            # both dropping: RTS first (see t_mctrl)
            g = [12, 9]
        dtr, rts = nd, nr
        groups.append(g)
    return groups


SYNC = bytes([0xc0, 0, 8, 0x24, 0, 0, 0, 0, 0, 7, 7, 0x12, 0x20]) + b'\x55' * 32 + b'\xc0'


def t_reset(mode, stream=0):
    """Exact commands and order on every attempt. Gaps: under TCG on a busy 2-CPU
    host single commands are sometimes delivered 10-33 ms late (measured: 5 of 32
    gaps off by more than 5 ms, worst -22 and +26 ms; mostly the first command after
    an idle period), so the +-GAP_TOL_MS (5; 15 on the debug kernel) bound must hold on one of up to three
    attempts and every attempt must stay within +-GAP_LOOSE_MS (40)."""
    attempts = 1 if stream else 3
    for i in range(attempts):
        bad = reset_once(mode, stream)
        if not bad:
            return
        print('# attempt %d: %s' % (i + 1, bad))
        loose = [g for g in bad if abs(g[0]) > GAP_LOOSE_MS or g[1]]
        check(not loose, 'gap beyond +-%g ms: %s' % (GAP_LOOSE_MS, loose))
    raise Fail('gaps outside +-%g ms on all %d attempts' % (GAP_TOL_MS, attempts))


def reset_once(mode, stream):
    ops, conn, ents = run_replay(mode, stream)
    groups = expected_groups(ops)
    mc = [e for e in cmds(ents) if e['cmd'] == CONTROL and e['val'][0] in (8, 9, 11, 12)]
    with open(os.path.join(REC_DATA, 'conn-%d.bin' % conn), 'rb') as f:
        data = f.read()
    idx = data.find(SYNC)
    check(idx >= 0, 'SYNC frame not in the data the recorder got (%d bytes)' % len(data))
    check(data.find(SYNC, idx + 1) < 0, 'SYNC frame twice?')
    check(len(data) == stream + len(SYNC), 'recorder got %d data bytes, want %d' % (len(data), stream + len(SYNC)))
    before_sync = [e for e in mc if e['off'] <= idx]
    want = [8, 11] + [c for g in groups if g for c in g]
    got = [e['val'][0] for e in before_sync]
    check(got == want, '%s: SET-CONTROL before SYNC: want %s got %s' % (mode, want, got))
    after = [e['val'][0] for e in mc if e['off'] > idx]
    check(not after, 'commands after the SYNC frame: %s' % after)
    check(all(e['off'] <= idx for e in cmds(ents) if e['t'] <= max(x['t'] for x in mc)),
          'SYNC not after the last command')
    # map groups onto recorder entries
    it = iter(before_sync[2:])
    rec_groups = []
    for o, g in zip(ops, groups):
        rg = [next(it) for _ in g] if g else []
        rec_groups.append(rg)
        if len(g or []) > 1:
            same_read(rg, '%s %s' % (o['op'], g))
        if stream and rg:
            # data written before the call is ahead of it; data written after is behind
            for e in rg:
                check(o['w0'] <= e['off'] <= o['w1'] + 4096,
                      '%s: command at data offset %d, stream had %d..%d written around the call'
                      % (o['op'], e['off'], o['w0'], o['w1']))
    # gaps: between the op right after a sleep and the one before it
    nominal = {'tight': [100, 50], 'classic': [100, 50]}[mode]
    withcmd = [(o, rg) for o, rg in zip(ops, rec_groups) if rg]
    if stream:
        mid = [o for o, rg in withcmd if o['w1'] < stream]
        print('# %s +stream: %d of %d command groups issued while the stream ran'
              % (mode, len(mid), len(withcmd)))
        check(len(mid) >= 2, 'the stream ended before the sequence ran: nothing tested')
    lat = ['%.1f' % ((rg[0]['t'] - o['t0']) * 1000) for o, rg in withcmd]
    print('# %s%s: latency ioctl -> server per command group (ms): %s'
          % (mode, ' +stream' if stream else '', ' '.join(lat)))
    gaps = []
    for (o1, r1), (o2, r2) in zip(withcmd, withcmd[1:]):
        # the commands of a call leave during it: the gap the server may see is
        # between the end of the first call and the start of the second one and
        # the start of the first and the end of the second
        lo, hi = (o2['t0'] - o1['t1']) * 1000, (o2['t1'] - o1['t0']) * 1000
        if lo > 20:
            gaps.append(((lo, hi), (r2[0]['t'] - r1[0]['t']) * 1000))
    check(len(gaps) == 2, 'expected two sleeps, found gaps %s' % gaps)
    # The gap between the two ioctls around a sleep (caller gap) is the sleep plus
    # whatever TCG adds to nanosleep (seen: up to +10 ms); the transport must not
    # add more than GAP_TOL_MS on top: |recorder gap - caller gap| <= GAP_TOL_MS.
    # The recorder gap must also stay near the nominal sleep (+-SLEEP_TOL_MS).
    # While data streams, a command waits behind all data queued before it (kfifo,
    # window, socket buffers), so its gap says how fast that drained: report only.
    bad = []
    for (cgap, rgap), nom in zip(gaps, nominal):
        if stream:
            print('# %s +stream: sleep %d ms: caller gap %.1f..%.1f ms, recorder gap %.1f ms (not checked)'
                  % (mode, nom, cgap[0], cgap[1], rgap))
            continue
        lo, hi = cgap
        off = rgap - hi if rgap > hi else (rgap - lo if rgap < lo else 0.0)
        print('# %s: sleep %d ms: caller gap %.1f..%.1f ms, recorder gap %.1f ms (%+.1f outside)'
              % (mode, nom, lo, hi, rgap, off))
        # the caller's own gap can exceed the sleep under TCG (seen: 140 ms for
        # 100 ms on a loaded host), so the recorder gap is judged against it;
        # SLEEP_TOL_MS only catches a sleep that got lost on the way
        lost = rgap < nom - SLEEP_TOL_MS
        if abs(off) > GAP_TOL_MS or lost:
            bad.append((off, lost, 'recorder gap %.1f ms, caller %.1f..%.1f ms, sleep %d'
                        % (rgap, lo, hi, nom)))
    print('# %s%s: %d SET-CONTROL as expected, SYNC at data offset %d' %
          (mode, ' +stream' if stream else '', len(got), idx))
    return bad


# ---- acknowledgements delayed or never sent
def t_slow_ack(*mode):
    mode = ' '.join(mode)
    REC.ctl('ack ' + mode)
    try:
        fd = open_dev()
        baseline(fd)
        times = {'TIOCMSET': [], 'TIOCMGET': [], 'tcsetattr': []}
        D, R = termios.TIOCM_DTR, termios.TIOCM_RTS
        for i, bits in enumerate((0, D | R, R, D, 0, D | R) * 5):
            t0 = time.monotonic()
            mset(fd, termios.TIOCMSET, bits)
            t1 = time.monotonic()
            mget(fd)
            t2 = time.monotonic()
            set_attr(fd, speed=(termios.B57600, termios.B115200)[i % 2])
            t3 = time.monotonic()
            times['TIOCMSET'].append(t1 - t0)
            times['TIOCMGET'].append(t2 - t1)
            times['tcsetattr'].append(t3 - t2)
        print('# ack %s: %s' % (mode, ', '.join('%s median %.2f max %.2f ms' % (
            k, sorted(v)[len(v) // 2] * 1000, max(v) * 1000) for k, v in times.items())))
        # The bound is 10 ms per call. Under TCG a call is sometimes preempted
        # by the worker/helper it wakes (seen: 9.7 ms once in 36 calls), so: 90% of
        # calls < 10 ms, and none near what waiting on an acknowledgement would take.
        for k, v in times.items():
            v = sorted(v)
            p90 = v[int(len(v) * 0.9) - 1]
            check(p90 < 0.010 * SLOW and v[-1] < 0.100 * SLOW, '%s with acknowledgements %s: p90 %.1f ms, max %.1f ms'
                  % (k, mode, p90 * 1000, v[-1] * 1000))
        os.close(fd)
    finally:
        REC.ctl('ack now')


# ---- pyserial
def t_pyserial():
    import serial
    pos = REC.pos()
    s = serial.Serial(DEV, 115200, timeout=0.2)
    conn = wait_conn(pos)
    REC.wait(pos, lambda es: any(e['ev'] == 'cmd' and e['conn'] == conn and e['val'] == [11]
                                 for e in es), what='open raising RTS')
    fd = s.fileno()
    expect(fd, lambda: None, [], 'after Serial() open')
    for attr, val, c in (('dtr', False, 9), ('rts', False, 12), ('dtr', True, 8), ('rts', True, 11)):
        expect(fd, lambda: setattr(s, attr, val), [(CONTROL, [c])], 'Serial.%s = %s' % (attr, val))
    expect(fd, lambda: setattr(s, 'baudrate', 57600), [(BAUD, be32(57600))], 'baudrate 57600')
    expect(fd, lambda: setattr(s, 'baudrate', 250000), [(BAUD, be32(250000))], 'baudrate 250000 (BOTHER)')
    expect(fd, lambda: setattr(s, 'bytesize', 7), [(DATASIZE, [7])], 'bytesize 7')
    expect(fd, lambda: setattr(s, 'parity', 'E'), [(PARITY, [3])], "parity 'E'")
    expect(fd, lambda: setattr(s, 'stopbits', 2), [(STOPSIZE, [2])], 'stopbits 2')
    expect(fd, lambda: setattr(s, 'rtscts', True), [(CONTROL, [3])], 'rtscts')
    expect(fd, lambda: setattr(s, 'rtscts', False), [(CONTROL, [1])], 'rtscts off')
    expect(fd, lambda: setattr(s, 'break_condition', True), [(CONTROL, [5])], 'break_condition on')
    expect(fd, lambda: setattr(s, 'break_condition', False), [(CONTROL, [6])], 'break_condition off')
    # pyserial: tcsendbreak(fd, int(0.25 / 0.25) = 1); glibc: TCSBRKP (1 + 99) / 100 = 100 ms
    e = expect(fd, lambda: s.send_break(0.25), [(CONTROL, [5]), (CONTROL, [6])], 'send_break(0.25)')
    gap = (e[1]['t'] - e[0]['t']) * 1000
    print('# send_break(0.25): break lasted %.1f ms at the server (want 100)' % gap)
    check(90 <= gap <= 160, 'send_break(0.25): break lasted %.1f ms at the server' % gap)
    expect(fd, s.reset_input_buffer, [(PURGE, [1])], 'reset_input_buffer')
    expect(fd, s.reset_output_buffer, [(PURGE, [2])], 'reset_output_buffer')
    for msr, want in ((0xb0, dict(cts=True, dsr=True, ri=False, cd=True)),
                      (0x40, dict(cts=False, dsr=False, ri=True, cd=False)),
                      (0x00, dict(cts=False, dsr=False, ri=False, cd=False))):
        REC.ctl('modem %#x' % msr)
        end = time.monotonic() + 3
        while True:
            got = dict(cts=s.cts, dsr=s.dsr, ri=s.ri, cd=s.cd)
            if got == want:
                break
            check(time.monotonic() < end, 'modem %#x: pyserial getters %s, want %s' % (msr, got, want))
            time.sleep(0.01)
    # data still flows after all that
    pos = REC.pos()
    s.write(b'hello\xff')
    s.flush()
    REC.wait(pos, lambda es: any(e['ev'] == 'data' and e.get('hex') == b'hello\xff'.hex() for e in es),
             what='data after settings')
    s.close()


# ---- ser2net applies settings to its device
def t_ser2net(tty, dev_side):
    fd = os.open(tty, os.O_RDWR | os.O_NOCTTY)
    dfd = os.open(dev_side, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        raw(fd)

        def wait_dev(what, speed, cflag_mask, cflag_want):
            end = time.monotonic() + 5
            while True:
                a = termios.tcgetattr(dfd)
                if a[5] == speed and a[2] & cflag_mask == cflag_want:
                    return
                check(time.monotonic() < end, '%s: ser2net device has ospeed %#o cflag %#o' %
                      (what, a[5], a[2]))
                time.sleep(0.02)
        # A PTY keeps the speed, CSTOPB, PARODD and CMSPAR ser2net sets, but its
        # set_termios (drivers/tty/pty.c) forces CS8 and clears PARENB: data size
        # and parity enable cannot be read back there.
        # With parity none ser2net only clears PARENB, so PARODD/CMSPAR are not checked.
        P, O, S2 = termios.PARENB, termios.PARODD, termios.CSTOPB
        par = S2 | O | CMSPAR
        for what, sp, cf, m, want in (
                ('57600 7O2', termios.B57600, termios.CS7 | P | O | S2, par, O | S2),
                ('921600 8N1', termios.B921600, termios.CS8, S2, 0),
                ('9600 6E2', termios.B9600, termios.CS6 | P | S2, par, S2),
                ('19200 8 mark 1', termios.B19200, termios.CS8 | P | CMSPAR | O, par, CMSPAR | O),
                ('38400 8 space 1', termios.B38400, termios.CS8 | P | CMSPAR, par, CMSPAR),
                ('115200 8N1', termios.B115200, termios.CS8, S2, 0)):
            raw(fd, sp, cf)
            wait_dev(what, sp, m, want)
    finally:
        os.close(dfd)
        os.close(fd)


def wait_cmds(pos, want, what, timeout=5.0):
    """The recorder's commands since pos include want, in that order."""
    def has(es):
        got = [tup(e) for e in cmds(es)]
        i = 0
        for g in got:
            if i < len(want) and g == want[i]:
                i += 1
        return i == len(want)
    return REC.wait(pos, has, timeout, what='%s: %s' % (what, want))


def t_hupcl():
    # HUPCL (the default) drops DTR and RTS on last close, after the data
    fd = open_dev()
    baseline(fd)
    pos = REC.pos()
    os.write(fd, b'bye')
    os.close(fd)
    ents = wait_cmds(pos, [(CONTROL, [12]), (CONTROL, [9])], 'close with HUPCL')
    datas = [e for e in ents if e['ev'] == 'data']
    first_drop = min(i for i, e in enumerate(ents) if e['ev'] == 'cmd' and e['val'] in ([9], [12]))
    check(datas and ents.index(datas[-1]) < first_drop,
          'data written before close must precede the DTR drop: %s' % short(ents))
    # ... and open raises them again
    pos = REC.pos()
    fd = os.open(DEV, os.O_RDWR | os.O_NOCTTY)
    wait_conn(pos)
    wait_cmds(pos, [(CONTROL, [8]), (CONTROL, [11])], 'open raises DTR/RTS')
    # without HUPCL, close leaves the lines alone
    baseline(fd)
    a = termios.tcgetattr(fd)
    a[2] &= ~termios.HUPCL
    termios.tcsetattr(fd, termios.TCSANOW, a)
    pos = REC.pos()
    conn = CUR_CONN
    os.close(fd)
    time.sleep(1.0)
    drops = [tup(e) for e in REC.since(pos)
             if e['ev'] == 'cmd' and e['conn'] == conn and e['val'] in ([9], [12])]
    check(not drops, 'close without HUPCL dropped lines: %s' % drops)


def hung_up(fd, timeout=3.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.write(fd, b'x')
        except OSError as e:
            return e.errno == errno.EIO
        time.sleep(0.05)
    return False


def t_cd_hangup():
    # CD loss hangs the tty up only when CLOCAL is clear, like a modem line
    fd = open_dev()
    baseline(fd)
    REC.ctl('modem 0x80')                      # carrier up
    end = time.monotonic() + 3
    while not mget(fd) & termios.TIOCM_CAR:
        check(time.monotonic() < end, 'CD never came up')
        time.sleep(0.01)
    REC.ctl('modem 0x00')                      # carrier lost, CLOCAL set
    check(not hung_up(fd, 1.0), 'CD loss hung up a CLOCAL tty')
    REC.ctl('modem 0x80')
    time.sleep(0.3)
    a = termios.tcgetattr(fd)
    a[2] &= ~termios.CLOCAL
    termios.tcsetattr(fd, termios.TCSANOW, a)
    REC.ctl('modem 0x00')                      # carrier lost, CLOCAL clear
    check(hung_up(fd), 'CD loss did not hang up a tty without CLOCAL')
    os.close(fd)


def t_link_hangup():
    # the server going away: a tty without CLOCAL is hung up, one with CLOCAL
    # stays open and works again once ttyrfcd has reconnected
    for clocal in (True, False):
        fd = open_dev()
        baseline(fd)
        if not clocal:
            a = termios.tcgetattr(fd)
            a[2] &= ~termios.CLOCAL
            termios.tcsetattr(fd, termios.TCSANOW, a)
        pos = REC.pos()
        REC.ctl('drop')
        if clocal:
            check(not hung_up(fd, 1.0), 'link loss hung up a CLOCAL tty')
            wait_conn(pos)                     # ttyrfcd reconnected by itself
            pos = REC.pos()
            os.write(fd, b'again')
            REC.wait(pos, lambda es: any(e['ev'] == 'data' for e in es),
                     what='data after the reconnect')
        else:
            check(hung_up(fd), 'link loss did not hang up a tty without CLOCAL')
        os.close(fd)


def t_backpressure():
    # a tty nobody reads fills up: ttyrfcd stops reading the socket and TCP
    # pushes back on the server. FLOWCONTROL-SUSPEND/RESUME are never sent:
    # ser2net decodes SUSPEND as "flow control none" (gensio's
    # sergensio_telnet.c) and would switch the Pi's UART flow control off.
    # Nothing is lost.
    fd = open_dev()
    baseline(fd)
    REC.ctl('echo on')
    pos = REC.pos()
    data = os.urandom(1024 * 1024)
    got = bytearray()
    os.set_blocking(fd, False)
    off = 0
    end = time.monotonic() + 60
    stalled = False
    while off < len(data):                     # write all, read nothing yet
        check(time.monotonic() < end, 'could not write %d bytes' % len(data))
        try:
            off += os.write(fd, data[off:off + 4096])
        except BlockingIOError:
            stalled = True                      # the echo filled everything up
            break
    check(stalled, 'a 1 MiB echo nobody reads should fill the buffers')
    time.sleep(1)
    while len(got) < len(data):
        check(time.monotonic() < end, 'echo came back short: %d of %d' % (len(got), len(data)))
        try:
            got += os.read(fd, 65536)
        except BlockingIOError:
            time.sleep(0.005)
        if off < len(data):
            try:
                off += os.write(fd, data[off:off + 4096])
            except BlockingIOError:
                pass
    check(bytes(got) == data, 'echoed data differs')
    sent = [tup(e) for e in cmds(REC.since(pos))]
    check(not [c for c in sent if c[0] in (8, 9)],
          'FLOWCONTROL-SUSPEND/RESUME sent: %s' % [c for c in sent if c[0] in (8, 9)])
    REC.ctl('echo off')
    os.close(fd)


def t_ser2net_flow(tty, dev_side, peer):
    # the Pi's UART keeps the flow control the tty asked for while the tty is
    # full and ttyrfcd stops reading (issue 10: SUSPEND used to clear it)
    fd = os.open(tty, os.O_RDWR | os.O_NOCTTY)
    dfd = os.open(dev_side, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    pfd = os.open(peer, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        for what, cflag, iflag in (('CRTSCTS', termios.CRTSCTS, 0),
                                   ('IXON|IXOFF', 0, termios.IXON | termios.IXOFF)):
            raw(fd, termios.B115200, cflag)
            if iflag:
                set_attr(fd, iflag=iflag)

            def dev_has():
                a = termios.tcgetattr(dfd)
                return (a[2] & termios.CRTSCTS) == cflag and (a[0] & iflag) == iflag
            end = time.monotonic() + 5
            while not dev_has():
                check(time.monotonic() < end, '%s never reached ser2net\'s device' % what)
                time.sleep(0.02)
            # the board talks, nobody reads the tty: fill everything up
            chunk, sent = bytes(range(32, 127)) * 64, 0
            end = time.monotonic() + 4
            while time.monotonic() < end:
                try:
                    sent += os.write(pfd, chunk)
                except BlockingIOError:
                    time.sleep(0.01)
            check(dev_has(), '%s was cleared on ser2net\'s device while the tty was full' % what)
            termios.tcflush(fd, termios.TCIFLUSH)
            # drain what is still on its way, then the next round
            os.set_blocking(fd, False)
            end = time.monotonic() + 10
            while time.monotonic() < end:
                try:
                    if not os.read(fd, 65536):
                        break
                except BlockingIOError:
                    time.sleep(0.2)
                    try:
                        os.read(fd, 65536)
                    except BlockingIOError:
                        break
            os.set_blocking(fd, True)
    finally:
        raw(fd)
        os.close(pfd)
        os.close(dfd)
        os.close(fd)


def t_drain():
    # tcdrain returns once the server's TCP acknowledged the data, not
    # before: with ttyrfcd stopped it must wait; once it runs, it returns
    # and the server has every byte
    fd = open_dev()
    baseline(fd)
    pid = int(subprocess.check_output(['pgrep', '-x', 'ttyrfcd']).split()[0])
    pos = REC.pos()
    data = os.urandom(3000)
    os.kill(pid, signal.SIGSTOP)
    try:
        os.write(fd, data)
        done = threading.Event()
        th = threading.Thread(target=lambda: (termios.tcdrain(fd), done.set()))
        th.start()
        check(not done.wait(1.0), 'tcdrain returned while ttyrfcd was stopped')
    finally:
        os.kill(pid, signal.SIGCONT)
    check(done.wait(5.0), 'tcdrain did not return within 5 s of ttyrfcd resuming')
    ents = REC.wait(pos, lambda es: sum(e['len'] for e in es if e['ev'] == 'data'
                                        and e['conn'] == CUR_CONN) >= len(data),
                    what='the drained data at the server')
    got = sum(e['len'] for e in ents if e['ev'] == 'data' and e['conn'] == CUR_CONN)
    check(got == len(data), 'server got %d bytes, wrote %d' % (got, len(data)))
    os.close(fd)


TESTS = {
    'baud': t_baud, 'framing': t_framing, 'mctrl': t_mctrl, 'modem': t_modem,
    'break': t_break, 'purge': t_purge, 'linestate': t_linestate,
    'reset': t_reset, 'slow_ack': t_slow_ack, 'pyserial': t_pyserial, 'ser2net': t_ser2net,
    'hupcl': t_hupcl, 'cd_hangup': t_cd_hangup, 'link_hangup': t_link_hangup,
    'backpressure': t_backpressure, 'ser2net_flow': t_ser2net_flow, 'drain': t_drain,
}

if __name__ == '__main__':
    name, args = sys.argv[1], sys.argv[2:]
    fn = TESTS[name]
    if name == 'reset' and len(args) > 1:
        args[1] = int(args[1])
    try:
        fn(*args)
    except Fail as e:
        print('FAIL: %s' % e)
        sys.exit(1)
