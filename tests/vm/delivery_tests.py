#!/usr/bin/python3
"""delivery_tests.py — the delivery-contract checks run by tests/vm/delivery.sh.

    delivery_tests.py TEST [ARGS...]      (exit 0 = pass; prints what it saw)
    delivery_tests.py --spec FILE         the tests listed in FILE, one process

Numbered records (tests/vm/records.py) go through /dev/ttyRFC<n> to the device
side of a real server (ser2net's PTY pair), where a sink accounts for every byte:
lost (must be 0), duplicated (only a replay of what was unacknowledged), garbage.
Counters come from `ttyrfcctl show --json`. ttyrfcd is the one delivery.sh
started; its pid is in $TTYRFC_VM_RESULTS/ttyrfcd.pid, which the tests that kill
and restart it keep up to date.
"""
import errno, fcntl, json, os, random, select, signal, socket, struct, subprocess, sys
import termios, threading, time, traceback, tty

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import records  # noqa: E402

LOG = os.environ.get('TTYRFC_VM_RESULTS', '/tmp')
HELPER = 'userspace-helper/ttyrfcd'
CTL = 'userspace-helper/ttyrfcctl'
HELPER_LOG = os.path.join(LOG, 'ttyrfcd.log')
HELPER_PIDFILE = os.path.join(LOG, 'ttyrfcd.pid')
HELPER_ARGS = os.environ.get('DELIVERY_HELPER_ARGS', '-v').split()


def uapi_define(name, path='include/uapi/linux/ttyrfc.h'):
    with open(path) as f:
        for l in f:
            w = l.split()
            if len(w) >= 3 and w[0] == '#define' and w[1] == name:
                return int(w[2], 0)
    raise KeyError(name)


WINDOW = uapi_define('TTYRFC_TX_WINDOW')    # unconfirmed TX bytes per port
FLOWING = 256 << 10     # this much at the device: data flows
CHUNK = 372 * records.REC   # whole records per write()
SET_CONTROL, DTR_OFF, RTS_OFF = 5, 9, 12


class Fail(Exception):
    pass


def check(cond, *msg):
    if not cond:
        raise Fail(' '.join(str(m) for m in msg))


def say(*a):
    print(*a, flush=True)


def wait_for(pred, timeout, what, step=0.05):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise Fail('timeout (%gs) waiting for %s' % (timeout, what))
        time.sleep(step)


# ------------------------------------------------------------------ counters
def show(dev):
    """`ttyrfcctl show --json DEV` as a dict."""
    r = subprocess.run([CTL, '--json', 'show', os.path.basename(dev)],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, 'ttyrfcctl --json show %s: exit %d: %s' %
          (dev, r.returncode, r.stderr.strip()))
    return json.loads(r.stdout)


def port_diag(dev, tcp_port=None):
    """What a test prints when data stops: the port as ttyrfcctl sees it, the
    TCP connections to its server (their queues say where bytes sit) and the
    helper's last words about it."""
    try:
        p = show(dev)
        say('diag: %s: link %s session %s; %s' % (
            dev, p.get('link'), p.get('session'),
            ' '.join('%s=%s' % (k, p[k]) for k in COUNTERS if k in p)))
    except Exception as e:      # noqa: BLE001 - diagnostics must not hide the failure
        say('diag: %s: %s' % (dev, e))
    if tcp_port:
        r = subprocess.run(['ss', '-tnio', '( sport = :%s or dport = :%s )' % (tcp_port, tcp_port)],
                           capture_output=True, text=True)
        for l in r.stdout.splitlines():
            say('diag: ss: ' + l.strip())
    name = os.path.basename(dev)
    try:
        with open(HELPER_LOG, errors='replace') as f:
            lines = [l.rstrip() for l in f if name + ':' in l or 'registered' in l]
        for l in lines[-12:]:
            say('diag: ttyrfcd: ' + l)
    except OSError:
        pass


def delta(a, b, *keys):
    return {k: b[k] - a[k] for k in keys}


# ------------------------------------------------------------------ ttyrfcd
_children = []


def helper_pid():
    with open(HELPER_PIDFILE) as f:
        return int(f.read())


def alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            state = f.read().rsplit(')', 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ('Z', 'X')


def registrations():
    try:
        with open(HELPER_LOG, errors='replace') as f:
            return sum('registered with' in l for l in f)
    except FileNotFoundError:
        return 0


def kill_helper(sig=signal.SIGKILL):
    pid = helper_pid()
    os.kill(pid, sig)
    wait_for(lambda: not alive(pid), 10, 'ttyrfcd %d to die' % pid, 0.01)
    for p in _children:
        p.poll()


def start_helper():
    """Start ttyrfcd; returns once it says "registered with" (seconds taken)."""
    t0 = time.monotonic()
    n = registrations()
    with open(HELPER_LOG, 'ab') as log:
        p = subprocess.Popen([HELPER] + HELPER_ARGS, stdin=subprocess.DEVNULL, stdout=log,
                             stderr=log, start_new_session=True)
    _children.append(p)
    with open(HELPER_PIDFILE, 'w') as f:
        f.write('%d\n' % p.pid)
    wait_for(lambda: registrations() > n, 20, 'the new ttyrfcd to register', 0.01)
    return time.monotonic() - t0


# ------------------------------------------------------------------ ser2net
class Ser2net:
    """The ser2net of tests/servers/ser2net_pty.sh on PORT: stop and start it
    again with the same configuration (the PTY pair stays)."""

    def __init__(self, port):
        self.port = port
        self.dir = '/tmp/ttyrfc-s2n.%d' % port
        self.peer = '/tmp/ttyrfc-peer.%d' % port

    def pid(self):
        with open(os.path.join(self.dir, 'ser2net.pid')) as f:
            return int(f.read())

    def listening(self):
        r = subprocess.run(['ss', '-Hltn', 'sport = :%d' % self.port],
                           capture_output=True, text=True)
        return bool(r.stdout.strip())

    def kill(self, sig=signal.SIGKILL):
        pid = self.pid()
        os.kill(pid, sig)
        wait_for(lambda: not alive(pid), 10, 'ser2net to die', 0.01)
        for p in _children:
            p.poll()

    def start(self):
        with open(os.path.join(self.dir, 'ser2net.log'), 'ab') as log:
            p = subprocess.Popen(['ser2net', '-n', '-c', os.path.join(self.dir, 'ser2net.yaml'),
                                  '-P', os.path.join(self.dir, 'ser2net.pidfile')],
                                 stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                 start_new_session=True)
        _children.append(p)
        with open(os.path.join(self.dir, 'ser2net.pid'), 'w') as f:
            f.write('%d\n' % p.pid)
        wait_for(self.listening, 20, 'ser2net to listen on %d' % self.port)


# ------------------------------------------------------------------ ttys
# What a test opened and started, so that a failed test cannot leave a reader
# on a descriptor number the next test reuses, or a port open that the next
# test wants to open afresh (run_one() cleans up).
OPEN_FDS, THREADS = set(), []


def close(fd):
    OPEN_FDS.discard(fd)
    os.close(fd)


def cleanup():
    for t in THREADS:
        t.stopping.set()
    for t in THREADS:
        t.join(2)
        if t.is_alive() and isinstance(t, Writer) and t.fd in OPEN_FDS:
            try:                # blocked in write(): make room, it then stops
                termios.tcflush(t.fd, termios.TCOFLUSH)
            except OSError:
                pass
            t.join(5)
    left = [t for t in THREADS if t.is_alive()]
    if left:
        say('cleanup: %d threads would not stop' % len(left))
    THREADS.clear()
    for fd in list(OPEN_FDS):
        close(fd)


def make_raw(fd, clocal=True):
    tty.setraw(fd)
    a = termios.tcgetattr(fd)
    a[2] |= termios.CREAD
    if clocal:
        a[2] |= termios.CLOCAL
    termios.tcsetattr(fd, termios.TCSANOW, a)


def open_tty(dev, blocking=True):
    """Open a ttyRFC port raw and CLOCAL (it stays open through link losses)."""
    fd = os.open(dev, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    OPEN_FDS.add(fd)
    make_raw(fd)
    os.set_blocking(fd, blocking)
    return fd


def open_peer(path):
    """The device end of a PTY pair: raw, never blocking."""
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    OPEN_FDS.add(fd)
    make_raw(fd)
    a = termios.tcgetattr(fd)
    a[2] &= ~termios.HUPCL
    termios.tcsetattr(fd, termios.TCSANOW, a)
    termios.tcflush(fd, termios.TCIOFLUSH)
    return fd


def drain(fd, idle=0.5, limit=30):
    """Read and drop whatever comes until nothing does for @idle seconds."""
    n, end = 0, time.monotonic() + limit
    while time.monotonic() < end and select.select([fd], [], [], idle)[0]:
        try:
            n += len(os.read(fd, 65536))
        except BlockingIOError:
            pass
    return n


class Sink(threading.Thread):
    """Reads @fd and feeds a records.Checker (or keeps the bytes: keep=True)."""

    def __init__(self, fd, start=0, keep=False):
        super().__init__(daemon=True)
        self.fd, self.keep = fd, keep
        self.checker = records.Checker(start)
        self.data = bytearray()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.paused = threading.Event()
        self.received = 0
        self.last = time.monotonic()
        self.err = None
        THREADS.append(self)

    def run(self):
        try:
            while not self.stopping.is_set():
                if self.paused.is_set():
                    time.sleep(0.05)
                    continue
                if not select.select([self.fd], [], [], 0.1)[0]:
                    continue
                try:
                    d = os.read(self.fd, 65536)
                except BlockingIOError:
                    continue
                if not d:
                    time.sleep(0.05)
                    continue
                with self.lock:
                    if self.keep:
                        self.data += d
                    else:
                        self.checker.feed(d)
                    self.received += len(d)
                    self.last = time.monotonic()
        except OSError as e:
            self.err = e

    def covered(self, total):
        with self.lock:
            return self.checker.covered(total)

    def high(self):
        with self.lock:
            return self.checker.high()

    def wait_covered(self, total, timeout):
        wait_for(lambda: self.covered(total) >= total, timeout,
                 'the device to get all %d bytes (has %d)' % (total, self.covered(total)), 0.1)

    def wait_idle(self, secs, timeout=60):
        wait_for(lambda: time.monotonic() - self.last >= secs, timeout,
                 'the stream to go quiet', 0.05)

    def stop(self, total=None):
        self.stopping.set()
        self.join(5)
        if total is not None:
            with self.lock:
                self.checker.finish(total)


class Writer(threading.Thread):
    """Writes the record stream from @start to @fd (blocking), CHUNK bytes
    at a time, until @total or until stopped; stops at a chunk's end."""

    def __init__(self, fd, start=0, total=None, chunk=CHUNK):
        super().__init__(daemon=True)
        self.fd, self.pos, self.total, self.chunk = fd, start, total, chunk
        self.stopping = threading.Event()
        self.err = None
        THREADS.append(self)

    def run(self):
        try:
            while not self.stopping.is_set() and (self.total is None or self.pos < self.total):
                end = self.pos + self.chunk
                if self.total is not None:
                    end = min(end, self.total)
                mv = memoryview(records.stream(self.pos, end))
                while mv:
                    try:
                        n = os.write(self.fd, mv)
                    except BlockingIOError:
                        select.select([], [self.fd], [], 0.2)
                        continue
                    mv = mv[n:]
                    self.pos += n       # what the tty took, to the byte
        except OSError as e:
            self.err = e

    def stop(self, timeout=120):
        self.stopping.set()
        self.join(timeout)
        check(not self.is_alive(), 'the writer is still blocked in write() after %gs' % timeout)
        check(self.err is None, 'write() failed: %s' % self.err)
        return self.pos


class DevWriter(Writer):
    """The device side sending the record stream: a non-blocking fd, so that
    it can be stopped while flow control holds it back."""

    def run(self):
        try:
            while not self.stopping.is_set() and (self.total is None or self.pos < self.total):
                end = self.pos + self.chunk
                if self.total is not None:
                    end = min(end, self.total)
                mv = memoryview(records.stream(self.pos, end))
                while mv and not self.stopping.is_set():
                    if not select.select([], [self.fd], [], 0.1)[1]:
                        continue
                    try:
                        n = os.write(self.fd, mv)
                    except BlockingIOError:
                        continue
                    mv = mv[n:]
                    self.pos += n
        except OSError as e:
            self.err = e


def report(s, label='device'):
    say('%s: sent %d records (%d bytes), received %d bytes: lost %d records '
        '(%d bytes), duplicates %d bytes (%d records) in %d rewinds (largest %d bytes), '
        'gaps %d, garbage %d' % (label, s['sent_records'], s['sent_bytes'], s['received_bytes'],
                                 s['lost_records'], s['lost_bytes'], s['dup_bytes'],
                                 s['dup_records'], s['rewinds'], s['max_rewind'], s['gaps'],
                                 s['garbage']))


def check_stream(s, resent=None):
    check(s['garbage'] == 0, '%d bytes of garbage reached the device' % s['garbage'])
    check(s['beyond'] == 0, 'the device got %d bytes past the end of what was written' % s['beyond'])
    check(s['lost_bytes'] == 0, '%d records (%d bytes) were lost' % (s['lost_records'], s['lost_bytes']))
    # a replay starts at the confirmed point: never more than the window back
    check(s['max_rewind'] <= WINDOW, 'a replay went back %d bytes, more than the %d '
          'that can be unconfirmed' % (s['max_rewind'], WINDOW))
    if resent is not None:
        check(s['dup_bytes'] <= resent, 'the device got %d duplicate bytes, but only %d '
              'were re-sent (tx_resent)' % (s['dup_bytes'], resent))


# ------------------------------------------------------------------ 1
class RecSink:
    """The recorder as the device side: it keeps every byte each connection
    brought (--save-data), so a hole there is ours, not a server's."""

    def __init__(self, rec):
        self.rec = rec
        self.n0 = len(rec.entries())
        self.checker = None

    def conns(self):
        return sorted({e['conn'] for e in self.rec.entries()[self.n0:] if e['ev'] == 'conn'})

    @property
    def received(self):
        return sum(e['len'] for e in self.rec.entries()[self.n0:] if e['ev'] == 'data')

    def collect(self, total):
        """After the last close: every connection's data, in order."""
        self.checker = records.Checker()
        for c in self.conns():
            self.checker.feed(self.rec.saved(c))
        self.checker.finish(total)


def holes_diag(checker, total):
    """Where data went missing: each hole with the pieces around it."""
    segs = [(a, b) for a, b in checker.segs if b > a]
    for lo, hi in checker.missing(total)[:6]:
        before = [(i, s) for i, s in enumerate(segs) if s[1] == lo]
        after = [(i, s) for i, s in enumerate(segs) if s[0] == hi]
        say('hole [%d, %d) (%d bytes, records %d-%d): piece ending there %s, piece '
            'starting after it %s' % (lo, hi, hi - lo, lo // records.REC, (hi - 1) // records.REC,
                                       before, after))
    say('%d pieces; the first 60: %s' % (len(segs), segs[:60]))


def t_helper_kills(dev, target, rounds='50'):
    """Records stream while ttyrfcd is SIGKILLed and restarted ROUNDS times.
    TARGET: the device end of ser2net's PTY pair, or rec:LOG:CTL:DATA for the
    recorder (which, unlike ser2net, never drops what its TCP took in)."""
    rounds = int(rounds)
    seed = int(os.environ.get("DELIVERY_SEED") or time.time())
    rnd = random.Random(seed)
    say('seed %d (DELIVERY_SEED to repeat)' % seed)
    if target.startswith('rec:'):
        sink, pfd, tcp_port = RecSink(Rec(*target.split(':')[1:])), None, None
    else:
        pfd = open_peer(target)
        sink, tcp_port = Sink(pfd), target.rsplit('.', 1)[-1]
    fd = open_tty(dev)
    st0 = show(dev)
    if pfd is not None:
        sink.start()
    w = Writer(fd)
    w.start()
    wait_for(lambda: sink.received > FLOWING, 60, 'data to flow')
    restart, flowing, last = [], 0, sink.received
    t_loop = time.monotonic()
    for i in range(rounds):
        time.sleep(rnd.uniform(0.2, 1.0))
        # the device got data since the last kill: this one is "while data flowed"
        now = sink.received
        flowing += now > last
        kill_helper()
        last = now
        restart.append(start_helper())
        check(w.is_alive() and w.err is None, 'round %d: the writer stopped: %s' % (i, w.err))
    time.sleep(0.5)
    t_loop = time.monotonic() - t_loop
    total = w.stop()
    t_end = time.monotonic()
    try:
        if pfd is not None:
            # all of it, or nothing more coming (a hole stays a hole)
            wait_for(lambda: sink.covered(total) >= total or
                     time.monotonic() - sink.last > 10, 180, 'the stream to end')
            sink.wait_idle(1.0)
        else:
            termios.tcdrain(fd)
            close(fd)
            sink.collect(total)
    except Fail:
        if pfd is not None:
            with sink.lock:
                holes_diag(sink.checker, total)
        port_diag(dev, tcp_port)
        raise
    finally:
        if pfd is not None:
            sink.stop(total)
            close(pfd)
        if fd in OPEN_FDS:
            close(fd)
    st1 = show(dev)
    s = sink.checker.summary(total)
    d = delta(st0, st1, 'tx_resent', 'stale_dropped', 'helper_stale_dropped', 'sessions',
              'tx_bytes', 'link_losses', 'protocol_errors', 'bad_helper_msgs', 'connects')
    say('%d kills in %.0f s, %d of them with data flowing since the one before; restarts '
        'took %.2f-%.2f s (mean %.2f); the rest arrived %.0f s after the writer stopped' %
        (rounds, t_loop, flowing, min(restart), max(restart), sum(restart) / len(restart),
         time.monotonic() - t_end))
    report(s, 'device' if pfd is not None else 'recorder')
    say('counters (delta): %s' % json.dumps(d, sort_keys=True))
    if s['lost_bytes']:
        holes_diag(sink.checker, total)
    check_stream(s, d['tx_resent'])
    check(d['tx_resent'] > 0, 'tx_resent did not grow after %d kills while data flowed' % rounds)
    check(d['bad_helper_msgs'] == 0, 'the kernel counted %d bad helper messages' % d['bad_helper_msgs'])


# ------------------------------------------------------------------ 2
def t_server_outage(dev, port, secs='3'):
    """Records stream while ser2net is stopped for SECS s and started again."""
    secs = float(secs)
    srv = Ser2net(int(port))
    pfd = open_peer(srv.peer)
    fd = open_tty(dev)
    st0 = show(dev)
    sink = Sink(pfd)
    sink.start()
    w = Writer(fd)
    w.start()
    wait_for(lambda: sink.received > FLOWING, 60, 'data to flow')
    # ser2net loses what its TCP took in and it had not passed on yet; that is
    # the server's loss, not ours (confirmed means the server's TCP has it).
    # So let it pass everything on first: hold ttyrfcd still (its socket's
    # queue still drains) until the device has all that left the helper.
    hpid = helper_pid()
    os.kill(hpid, signal.SIGSTOP)
    try:
        sink.wait_idle(1.0, 30)
        srv.kill()
        t_kill = time.monotonic()
        pos_kill = w.pos
    finally:
        os.kill(hpid, signal.SIGCONT)
    wait_for(lambda: show(dev)['link'] != 'up', 20, 'the link to go down')
    time.sleep(max(0, t_kill + secs - time.monotonic()))
    mid = show(dev)
    check(w.is_alive() and w.err is None, 'the writer stopped during the outage: %s' % w.err)
    written_down = w.pos - pos_kill
    srv.start()
    wait_for(lambda: show(dev)['link'] == 'up', 30, 'the link to come back')
    t_up = time.monotonic() - t_kill
    back = sink.received
    wait_for(lambda: sink.received > back + FLOWING, 60, 'data to flow after the outage')
    total = w.stop()
    sink.wait_covered(total, 120)
    sink.wait_idle(1.0)
    sink.stop(total)
    st1 = show(dev)
    close(fd)
    close(pfd)
    s = sink.checker.summary(total)
    d = delta(st0, st1, 'tx_resent', 'link_losses', 'sessions', 'connects', 'stale_dropped',
              'helper_stale_dropped', 'tx_flushed', 'tx_discarded', 'bad_helper_msgs')
    say('server down %.1f s; link up again %.1f s after the kill; link during the outage: %s; '
        '%d bytes written meanwhile' % (secs, t_up, mid['link'], written_down))
    report(s)
    say('counters (delta): %s' % json.dumps(d, sort_keys=True))
    check_stream(s, d['tx_resent'])
    check(d['link_losses'] >= 1, 'link_losses did not grow: %s' % d['link_losses'])
    check(d['tx_flushed'] == 0 and d['tx_discarded'] == 0, 'bytes were flushed or discarded: %s' % d)


# ------------------------------------------------------------------ 3
def pattern(size):
    special = bytes(range(256)) + b'\xff' * 64 + b'\r\n\x00' * 16 + b'\xff\x00\xff\r\xff\n'
    out = bytearray()
    while len(out) < size:
        out += special
        out += os.urandom(4096)
    return bytes(out[:size])


def t_close_at_once(dev, peer, size=str(1 << 20)):
    """Write SIZE bytes and close() at once while the device keeps sending."""
    size = int(size)
    pfd = open_peer(peer)
    sink = Sink(pfd, keep=True)
    sink.start()
    stop_chatter = threading.Event()
    chatter = {'n': 0}

    def device_chatter():
        line = b'the board keeps printing while the host closes the port\r\n'
        while not stop_chatter.is_set():
            if select.select([], [pfd], [], 0.1)[1]:
                try:
                    chatter['n'] += os.write(pfd, line)
                except BlockingIOError:
                    pass
    ct = threading.Thread(target=device_chatter, daemon=True)
    ct.start()
    fd = open_tty(dev)
    st0 = show(dev)
    # the server is sending: see it arrive, then leave it unread
    got = b''
    end = time.monotonic() + 20
    while len(got) < 1000 and time.monotonic() < end:
        if select.select([fd], [], [], 0.5)[0]:
            got += os.read(fd, 4096)
    check(len(got) >= 1000, 'the device chatter does not reach the tty (%d bytes)' % len(got))
    data = pattern(size)
    t0 = time.monotonic()
    mv = memoryview(data)
    while mv:
        mv = mv[os.write(fd, mv):]
    t1 = time.monotonic()
    close(fd)                 # closing_wait as it is by default
    t2 = time.monotonic()
    say('wrote %d bytes in %.2f s, close() took %.2f s; the device sent %d bytes meanwhile' %
        (size, t1 - t0, t2 - t1, chatter['n']))
    try:
        wait_for(lambda: len(sink.data) >= size, 60, 'the device to get %d bytes' % size, 0.1)
    except Fail:
        pass
    sink.wait_idle(1.0)
    stop_chatter.set()
    ct.join(5)
    sink.stop()
    st1 = show(dev)
    d = delta(st0, st1, 'tx_bytes', 'tx_discarded', 'tx_flushed', 'tx_resent')
    say('counters (delta): %s' % json.dumps(d, sort_keys=True))
    got = bytes(sink.data)
    if got != data:
        first = next((i for i, (a, b) in enumerate(zip(got, data)) if a != b), min(len(got), len(data)))
        raise Fail('the device got %d of %d bytes, first difference at byte %d' %
                   (len(got), len(data), first))
    say('the device got all %d bytes, byte-exact' % size)
    check(d['tx_discarded'] == 0, '%d bytes counted as discarded' % d['tx_discarded'])
    # the session ended well, so the port can be opened again at once;
    # what the device sent and nobody read is read now, for the next test
    t3 = time.monotonic()
    fd = open_tty(dev)
    say('reopened in %.2f s; then read %d bytes of chatter left over' %
        (time.monotonic() - t3, drain(fd, 1.0)))
    close(fd)
    drain(pfd, 0.3)
    close(pfd)


# ------------------------------------------------------------------ 4
class Rec:
    def __init__(self, log, ctl, data):
        self.log, self.ctlpath, self.datadir = log, ctl, data

    def entries(self):
        with open(self.log) as f:
            return [json.loads(l) for l in f if l.endswith('\n')]

    def saved(self, conn, timeout=20):
        """The data of connection @conn, once the recorder saw it close."""
        wait_for(lambda: any(e['ev'] == 'close' and e['conn'] == conn for e in self.entries()),
                 timeout, 'the recorder to see connection %d close' % conn)
        with open(os.path.join(self.datadir, 'conn-%d.bin' % conn), 'rb') as f:
            return f.read()

    def ctl(self, line):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.ctlpath)
        s.sendall(line.encode() + b'\n')
        ans = s.makefile().readline().strip()
        s.close()
        check(ans == 'ok', 'recorder control %r: %s' % (line, ans))


def t_reset_behind_ff(dev, rec_log, rec_ctl, rec_data, size=str(128 << 10)):
    """TIOCMSET (DTR and RTS) queued behind SIZE bytes of 0xFF, the recorder
    not reading meanwhile: all data, then exactly the two SET-CONTROLs."""
    size = int(size)
    rec = Rec(rec_log, rec_ctl, rec_data)
    n0 = len(rec.entries())
    fd = open_tty(dev)
    a = termios.tcgetattr(fd)
    a[2] &= ~termios.HUPCL          # the close must not add commands
    termios.tcsetattr(fd, termios.TCSANOW, a)
    st0 = show(dev)

    def ents():
        return rec.entries()[n0:]
    conn = wait_for(lambda: max((e['conn'] for e in ents() if e['ev'] == 'conn'), default=0),
                    20, 'a connection to the recorder')
    # open raised DTR and RTS: wait until that is in, then stop the recorder
    # after it took in about half the data (0xFF is doubled on the wire)
    wait_for(lambda: sum(e['ev'] == 'cmd' and e['conn'] == conn and e['cmd'] == SET_CONTROL
                         for e in ents()) >= 2, 20, 'DTR/RTS raised by open')
    rec.ctl('pause after %d' % (size + size // 8))
    done = {}

    def writer():
        mv = memoryview(b'\xff' * size)
        while mv:
            mv = mv[os.write(fd, mv):]
        done['write'] = time.monotonic()
        fcntl.ioctl(fd, termios.TIOCMSET, struct.pack('i', 0))   # DTR and RTS off
        done['mset'] = time.monotonic()
    wt = threading.Thread(target=writer, daemon=True)
    wt.start()
    wait_for(lambda: any(e['ev'] == 'pause' for e in ents()), 30, 'the recorder to pause')
    t_pause = time.monotonic()
    queued_while_paused = True
    try:
        wait_for(lambda: 'mset' in done, 20, 'the write and TIOCMSET to return while paused')
    except Fail as e:
        queued_while_paused = False
        say('note: %s' % e)
    time.sleep(1)                    # let it all settle in the buffers
    early = [e for e in ents() if e['ev'] == 'cmd' and e['conn'] == conn and e['off'] > 0]
    st_mid = show(dev)
    say('paused %.1f s; write() and TIOCMSET returned while paused: %s; unconfirmed then: '
        '%d bytes' % (time.monotonic() - t_pause, queued_while_paused,
                      size - (st_mid['tx_bytes'] - st0['tx_bytes'])))
    rec.ctl('pause off')
    wt.join(60)
    check('mset' in done, 'the write or TIOCMSET never returned')

    def complete():
        es = [e for e in ents() if e.get('conn') == conn]
        n = sum(e['len'] for e in es if e['ev'] == 'data')
        c = [e for e in es if e['ev'] == 'cmd' and e['off'] > 0]
        return n >= size and len(c) >= 2
    try:
        wait_for(complete, 60, 'all data and the two commands')
    finally:
        time.sleep(0.5)              # anything more that would come
        es = [e for e in ents() if e.get('conn') == conn]
        st1 = show(dev)
        close(fd)
        data_n = sum(e['len'] for e in es if e['ev'] == 'data')
        late = [(e['cmd'], e['val'], e['off']) for e in es if e['ev'] == 'cmd' and e['off'] > 0]
        say('recorder: %d data bytes; commands after the first data byte: %s' % (data_n, late))
    saved = rec.saved(conn)
    check(early == [], 'commands arrived while data was still held back: %s' % early)
    check(len(saved) == size and saved == b'\xff' * size,
          'the recorder got %d data bytes (%d of them 0xFF), expected %d x 0xFF' %
          (len(saved), saved.count(b'\xff'), size))
    check(sorted(c[:2] for c in late) == [(SET_CONTROL, [DTR_OFF]), (SET_CONTROL, [RTS_OFF])]
          and len(late) == 2, 'expected exactly SET-CONTROL DTR off and RTS off after the data, got %s' % late)
    check(all(c[2] == size for c in late), 'the commands are not behind all %d data bytes: %s' % (size, late))
    check(st1['protocol_errors'] == st0['protocol_errors'], 'protocol_errors grew: %d -> %d' %
          (st0['protocol_errors'], st1['protocol_errors']))
    check(st1['ctrl_refused'] == st0['ctrl_refused'], 'ctrl_refused grew')
    say('order: %s' % ', '.join('DTR off' if c[1] == [DTR_OFF] else 'RTS off' for c in late))


# ------------------------------------------------------------------ 5
def t_banner(dev, banner, rounds='3'):
    """The banner the server sends on connect is what the first read() returns."""
    want = banner.encode().decode('unicode_escape').encode('latin-1')
    # termios outlives a close: make the port raw once, so the banner is not
    # cooked or echoed by n_tty on the opens that count
    fd = open_tty(dev)
    close(fd)
    for i in range(int(rounds)):
        t0 = time.monotonic()
        fd = os.open(dev, os.O_RDWR | os.O_NOCTTY)
        OPEN_FDS.add(fd)
        t1 = time.monotonic()
        r = select.select([fd], [], [], 10)[0]
        first = os.read(fd, 4096) if r else b''
        rest = b''
        while select.select([fd], [], [], 0.3)[0]:
            rest += os.read(fd, 4096)
        close(fd)
        say('open %d: open took %.2f s; first read() %r; then %r' % (i, t1 - t0, first, rest))
        check(first[:len(want)] == want, 'open %d: the first read() returned %r, not the '
              'banner %r' % (i, first, want))


# ------------------------------------------------------------------ 6
def read_all(fd, checker, idle=2.0, limit=120):
    n, end = 0, time.monotonic() + limit
    while time.monotonic() < end and select.select([fd], [], [], idle)[0]:
        d = os.read(fd, 65536)
        checker.feed(d)
        n += len(d)
    return n


def t_kill_while_full(dev, peer, stall='3'):
    """ttyrfcd SIGKILLed and restarted while the tty is full and unread."""
    stall = float(stall)
    pfd = open_peer(peer)
    fd = open_tty(dev, blocking=False)
    st0 = show(dev)
    rx0 = st0['rx_bytes']
    chk = records.Checker()

    # A: what the tty holds survives a helper restart; the new helper stays
    # within the credit of a tty nobody reads. Nothing is in flight at the
    # kill (the tty took all the device sent), so all must arrive, exactly.
    first = 24 << 10
    dw = DevWriter(pfd, 0, first)
    dw.start()
    dw.join(30)
    wait_for(lambda: show(dev)['rx_bytes'] - rx0 >= first, 30,
             'the tty to take the first %d bytes' % first)
    kill_helper()
    took = start_helper()
    dw = DevWriter(pfd, first)
    dw.start()
    time.sleep(stall)              # the tty is not read: it fills
    mid = show(dev)
    a_end = dw.stop()
    check(mid['rx_dropped'] == st0['rx_dropped'], 'rx_dropped grew to %d while the tty was full'
          % mid['rx_dropped'])
    n = read_all(fd, chk)
    chk.finish(a_end)
    s = chk.summary(a_end)
    say('A: restart took %.2f s; tty held %d bytes at the kill; the device then sent %d more '
        'while the tty was not read (the tty took %d); read %d' %
        (took, first, a_end - first, mid['rx_bytes'] - rx0 - first, n))
    report(s, 'A: tty')
    check(s['lost_bytes'] == 0 and s['dup_bytes'] == 0 and s['garbage'] == 0 and s['beyond'] == 0,
          'A: the tty did not get the device\'s bytes exactly: %s' % s)

    # B: the device keeps sending through the kill. What the dead helper's
    # socket had taken in and not passed on is gone with it (TCP cannot give
    # it back); everything the tty had, and everything after the reconnect,
    # must arrive, in order, once, with nothing dropped by the tty.
    chk = records.Checker(a_end)
    dw = DevWriter(pfd, a_end)
    dw.start()
    time.sleep(stall)
    held = show(dev)['rx_bytes'] - rx0 - a_end
    kill_helper()
    took = start_helper()
    time.sleep(stall)
    mid = show(dev)
    b_end = dw.stop()
    check(mid['rx_dropped'] == st0['rx_dropped'], 'B: rx_dropped grew to %d' % mid['rx_dropped'])
    n = read_all(fd, chk)
    chk.finish(b_end)
    s = chk.summary(b_end)
    st1 = show(dev)
    close(fd)
    drain(pfd, 0.2)
    close(pfd)
    first_piece = chk.segs[0][1] - a_end
    say('B: restart took %.2f s; the tty held %d bytes at the kill; the device sent %d bytes, '
        'the tty read %d' % (took, held, b_end - a_end, n))
    report(s, 'B: tty')
    say('B: bytes in the killed helper\'s TCP connection, lost with it: %d' % s['lost_bytes'])
    check(st1['rx_dropped'] == st0['rx_dropped'], 'rx_dropped grew: %d -> %d' %
          (st0['rx_dropped'], st1['rx_dropped']))
    check(s['garbage'] == 0 and s['dup_bytes'] == 0 and s['beyond'] == 0,
          'B: garbage or duplicates in what the tty read: %s' % s)
    check(first_piece >= held, 'B: the tty held %d bytes at the kill, but only %d of them were '
          'read' % (held, first_piece))
    check(s['gaps'] <= 1, 'B: %d gaps, expected at most the one at the kill' % s['gaps'])
    check(chk.high() == b_end, 'B: the stream stops at %d, the device sent up to %d' %
          (chk.high(), b_end))


# ------------------------------------------------------------------ 7
def whole_records(pieces, lo, hi):
    """How many records of S[lo:hi] arrived whole, in some piece. (Where two
    pieces meet is only known to a few bytes: "0000001000" and "0000003000"
    begin alike, so a byte count could claim some that never came.)"""
    n = 0
    for a, b in pieces:
        a, b = max(a, lo), min(b, hi)
        first, last = -(-a // records.REC), b // records.REC
        n += max(0, last - first)
    return n


def near(pieces, want):
    """The pieces are @want, give or take where they meet (see whole_records)."""
    return len(pieces) == len(want) and all(
        abs(a - c) < records.REC and abs(b - d) < records.REC
        for (a, b), (c, d) in zip(pieces, want))


def t_flush_while_down(dev, port):
    """TCOFLUSH while the server is down drops what was written meanwhile, counted
    in tx_flushed, and none of it reaches the device after the link returns."""
    srv = Ser2net(int(port))
    pfd = open_peer(srv.peer)
    sink = Sink(pfd)
    sink.start()
    fd = open_tty(dev)
    a_end = 1000 * records.REC
    mv = memoryview(records.stream(0, a_end))
    while mv:
        mv = mv[os.write(fd, mv):]
    termios.tcdrain(fd)
    sink.wait_covered(a_end, 30)
    srv.kill()
    wait_for(lambda: show(dev)['link'] != 'up', 20, 'the link to go down')
    st0 = show(dev)
    # written while the link is down: held, not sent anywhere
    b_end = a_end + 2000 * records.REC
    mv = memoryview(records.stream(a_end, b_end))
    os.set_blocking(fd, False)
    while mv:
        try:
            mv = mv[os.write(fd, mv):]
        except BlockingIOError:
            raise Fail('the port took only %d of %d bytes while the link was down' %
                       (b_end - a_end - len(mv), b_end - a_end))
    os.set_blocking(fd, True)
    time.sleep(1)                  # a reconnect attempt or two meanwhile
    st_w = show(dev)
    termios.tcflush(fd, termios.TCOFLUSH)
    st1 = show(dev)
    flushed = st1['tx_flushed'] - st0['tx_flushed']
    srv.start()
    wait_for(lambda: show(dev)['link'] == 'up', 30, 'the link to come back')
    # what is written now follows what came before the outage directly
    c_end = b_end + 1000 * records.REC
    mv = memoryview(records.stream(b_end, c_end))
    while mv:
        mv = mv[os.write(fd, mv):]
    termios.tcdrain(fd)
    try:
        wait_for(lambda: sink.high() >= c_end, 30, 'the records written after the outage')
    finally:
        sink.wait_idle(1.0)
        sink.stop(c_end)
        st2 = show(dev)
        close(fd)
        close(pfd)
    s = sink.checker.summary(c_end)
    pieces = [(a, b) for a, b in sink.checker.segs if b > a]
    arrived = whole_records(pieces, a_end, b_end)
    say('written while down: %d bytes; link then: %s; tx_flushed grew by %d; of those '
        'records %d reached the device after the link returned; pieces at the device: %s' %
        (b_end - a_end, st_w['link'], flushed, arrived, pieces))
    say('counters (delta): %s' % json.dumps(delta(st0, st2, 'tx_flushed', 'tx_resent',
                                                   'tx_discarded', 'link_losses'), sort_keys=True))
    check(s['garbage'] == 0, 'garbage at the device: %s' % s)
    check(arrived == 0, '%d of the %d records flushed while the link was down reached the '
          'device' % (arrived, (b_end - a_end) // records.REC))
    check(flushed == b_end - a_end, 'tx_flushed grew by %d, but %d bytes were dropped' %
          (flushed, b_end - a_end))
    check(near(pieces, [(0, a_end), (b_end, c_end)]), 'the device did not get exactly the '
          'records before and after the outage: %s' % pieces)


def t_flush_while_stopped(dev, rec_log, rec_ctl, rec_data):
    """TCOFLUSH while ttyrfcd is stopped (the kernel cannot tell): what the
    kernel still held is dropped and counted in tx_flushed, what it had handed
    to the helper goes out, then PURGE-DATA; the two add up to what was written.
    Against the recorder, which keeps every byte (ser2net would purge some)."""
    rec = Rec(rec_log, rec_ctl, rec_data)
    n0 = len(rec.entries())

    def ents():
        return rec.entries()[n0:]
    fd = open_tty(dev)
    conn = wait_for(lambda: max((e['conn'] for e in ents() if e['ev'] == 'conn'), default=0),
                    20, 'a connection to the recorder')
    a_end = 1000 * records.REC
    mv = memoryview(records.stream(0, a_end))
    while mv:
        mv = mv[os.write(fd, mv):]
    termios.tcdrain(fd)
    st0 = show(dev)
    hpid = helper_pid()
    os.kill(hpid, signal.SIGSTOP)
    try:
        mv = memoryview(records.stream(a_end, a_end + 2 * WINDOW))
        os.set_blocking(fd, False)
        taken = 0
        while mv:
            try:
                n = os.write(fd, mv)
            except BlockingIOError:
                break
            mv = mv[n:]
            taken += n
        os.set_blocking(fd, True)
        time.sleep(0.5)
        termios.tcflush(fd, termios.TCOFLUSH)
        st1 = show(dev)
    finally:
        os.kill(hpid, signal.SIGCONT)
    flushed = st1['tx_flushed'] - st0['tx_flushed']
    b_end = a_end + taken
    c_end = b_end + 1000 * records.REC
    mv = memoryview(records.stream(b_end, c_end))
    while mv:
        mv = mv[os.write(fd, mv):]
    termios.tcdrain(fd)
    close(fd)                   # the recorder sees the end after all data
    saved = rec.saved(conn)
    chk = records.Checker()
    chk.feed(saved)
    chk.finish(c_end)
    pieces = [(a, b) for a, b in chk.segs if b > a]
    es = [e for e in ents() if e.get('conn') == conn]
    purge = [e['off'] for e in es if e['ev'] == 'cmd' and e['cmd'] == 12 and e['val'] == [2]]
    say('written while ttyrfcd was stopped: %d bytes; tx_flushed grew by %d; pieces at the '
        'server: %s; PURGE-DATA tx at data offset %s' % (taken, flushed, pieces, purge))
    check(chk.garbage == 0, 'garbage at the server')
    check(len(purge) == 1, 'expected one PURGE-DATA tx, got them at %s' % purge)
    # the recorder counts data bytes exactly: before the purge came A and what
    # the helper already had of B
    arrived = purge[0] - a_end
    say('%d of the %d bytes reached the server before the purge' % (arrived, taken))
    check(flushed + arrived == taken, 'tx_flushed (%d) + arrived (%d) != written (%d)' %
          (flushed, arrived, taken))
    check(near(pieces, [(0, a_end + arrived), (b_end, c_end)]) or
          (arrived == taken and pieces == [(0, c_end)]),
          'the server did not get A, a prefix of B, then C: %s' % pieces)


def t_linger_bounded(dev, rec_log, rec_ctl, rec_data):
    """close() while the server keeps talking and never closes: once the server
    has everything, the helper waits only LINGER_EOF_MS (0.5 s) for its FIN
    (linger.h), so the connection ends and the port can be opened again.
    (Under heavy load a pause of the VM longer than that ends the linger by
    accident; on a quiet machine a helper that waits on reaches open_timeout.)"""
    rec = Rec(rec_log, rec_ctl, rec_data)
    n0 = len(rec.entries())

    def ents():
        return rec.entries()[n0:]
    rec.ctl('hold on')
    try:
        fd = open_tty(dev)
        conn = wait_for(lambda: max((e['conn'] for e in ents() if e['ev'] == 'conn'), default=0),
                        20, 'a connection to the recorder')
        a = termios.tcgetattr(fd)
        a[2] &= ~termios.HUPCL      # nothing for the server at close but the end
        termios.tcsetattr(fd, termios.TCSANOW, a)
        os.write(fd, records.stream(0, 100 * records.REC))
        termios.tcdrain(fd)
        # the board keeps printing: the helper always has something to read
        rec.ctl('chatter on')
        time.sleep(0.5)
        close(fd)
        t_close = time.monotonic()
        eof = wait_for(lambda: [e['t'] for e in ents() if e['ev'] == 'eof' and e['conn'] == conn],
                       30, 'the helper to shut its side down')[0]
        t0 = time.monotonic()
        err = None
        try:
            fd = open_tty(dev)     # waits (open_timeout) while the old one lingers
            close(fd)
        except OSError as e:
            err = e
        t_open = time.monotonic() - t0
        # the old one ended before the new one began (the helper waits for it)
        if err is None:
            wait_for(lambda: any(e['ev'] == 'conn' and e['conn'] > conn for e in ents()), 10,
                     'the new connection')
        gone = [e['t'] for e in ents() if e['ev'] in ('gone', 'conn') and e['conn'] > conn or
                e['ev'] == 'gone' and e['conn'] == conn]
    finally:
        rec.ctl('chatter off')
        rec.ctl('hold off')        # whatever happened: let the old one go
    say('the helper shut down its side %.1f s after close(); it closed the connection %s; '
        'the next open %s after %.1f s' % (
            eof - t_close, 'within %.1f s after that' % (min(gone) - eof) if gone else
            'not at all',
            'failed (%s)' % err if err else 'succeeded', t_open))
    check(err is None, 'the port could not be opened again: %s (the old connection still '
          'lingers: the server\'s chatter keeps it alive)' % err)
    check(gone and min(gone) - eof <= 3, 'the connection lingered %s after everything was '
          'acknowledged' % ('%.1f s' % (min(gone) - eof) if gone else 'on'))


def squat(port, timeout=30):
    """Take ser2net's one connection (no kickolduser): a client that says
    nothing. Returns the socket once ser2net accepted it (it negotiates telnet
    with it; a refused one gets "Port already in use")."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s = socket.create_connection(('127.0.0.1', port), timeout=5)
        got = b''
        while len(got) < 3 and select.select([s], [], [], 2)[0]:
            d = s.recv(4096)
            if not d:
                break
            got += d
        if got[:1] == b'\xff':
            return s
        s.close()
        time.sleep(0.2)
    raise Fail('could not take the ser2net port %d (got %r)' % (port, got))


def t_busy_reconnect(dev, port):
    """A CLOCAL port whose server is busy (ser2net without kickolduser refuses a
    second client with "Port already in use"): what is written meanwhile waits
    and arrives once the server is free; none of it is taken by the refusals."""
    srv = Ser2net(int(port))
    pfd = open_peer(srv.peer)
    sink = Sink(pfd)
    sink.start()
    fd = open_tty(dev)
    a_end = 1000 * records.REC
    os.write(fd, records.stream(0, a_end))
    termios.tcdrain(fd)
    sink.wait_covered(a_end, 30)
    st0 = show(dev)
    # no helper for a moment: someone else takes the board meanwhile
    kill_helper()
    sq = squat(int(port))
    try:
        b_end = a_end + 2000 * records.REC
        os.write(fd, records.stream(a_end, b_end))     # held in the ring
        start_helper()             # its sessions are refused: the port is busy
        wait_for(lambda: helper_log_count('Port already in use') >= 2, 30,
                 'ttyrfcd to be refused twice')
        mid = show(dev)
    finally:
        sq.close()
    wait_for(lambda: show(dev)['link'] == 'up', 30, 'the link once the port is free')
    c_end = b_end + 1000 * records.REC
    os.write(fd, records.stream(b_end, c_end))
    termios.tcdrain(fd)
    try:
        wait_for(lambda: sink.covered(c_end) >= c_end or time.monotonic() - sink.last > 5, 60,
                 'the stream to end')
        sink.wait_idle(1.0)
    finally:
        sink.stop(c_end)
        st1 = show(dev)
    s = sink.checker.summary(c_end)
    d = delta(st0, st1, 'tx_bytes', 'tx_resent', 'sessions', 'link_losses')
    say('while the port was busy: tx_bytes grew by %d, %d of the %d bytes written were '
        'unconfirmed' % (mid['tx_bytes'] - st0['tx_bytes'],
                         b_end - a_end - (mid['tx_bytes'] - st0['tx_bytes']), b_end - a_end))
    report(s)
    say('counters (delta): %s' % json.dumps(d, sort_keys=True))
    if s['lost_bytes']:
        holes_diag(sink.checker, c_end)
    check_stream(s, d['tx_resent'])
    check(mid['tx_bytes'] == st0['tx_bytes'], 'bytes sent to a server that refused the '
          'connection were confirmed: tx_bytes grew by %d while the port was busy' %
          (mid['tx_bytes'] - st0['tx_bytes']))


def helper_log_count(text):
    with open(HELPER_LOG, errors='replace') as f:
        return sum(text in l for l in f)


# ------------------------------------------------------------------ 8
COUNTERS = ('tx_bytes', 'rx_bytes', 'rx_dropped', 'tx_resent', 'tx_flushed', 'tx_discarded',
            'stale_dropped', 'opens', 'sessions', 'link_losses', 'ctrl_refused',
            'bad_helper_msgs', 'protocol_errors', 'helper_stale_dropped', 'connects',
            'log_suppressed', 'tx_msgs', 'tx_direct', 'rx_msgs', 'rx_direct')


def t_counters(*devs):
    """Every counter is in `ttyrfcctl show --json` with a sane value."""
    r = subprocess.run([CTL, '--json', 'list'], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, 'ttyrfcctl --json list failed: %s' % r.stderr)
    ports = {p['device']: p for p in json.loads(r.stdout)}
    bad = []
    for dev in devs:
        name = os.path.basename(dev)
        p = show(dev)
        check(p == ports.get(name, p) or set(p) == set(ports[name]),
              '%s: show and list disagree on the keys' % name)
        missing = [k for k in COUNTERS if k not in p]
        if missing:
            bad.append('%s: missing %s' % (name, missing))
            continue
        nonint = [k for k in COUNTERS if not isinstance(p[k], int) or p[k] < 0]
        if nonint:
            bad.append('%s: not a count: %s' % (name, {k: p[k] for k in nonint}))
            continue
        for k in ('rx_dropped', 'protocol_errors', 'bad_helper_msgs', 'ctrl_refused'):
            if p[k]:
                bad.append('%s: %s = %d' % (name, k, p[k]))
        if p['opens'] and p['sessions'] < p['opens']:
            bad.append('%s: %d sessions for %d opens' % (name, p['sessions'], p['opens']))
        if p['connects'] > p['sessions']:
            bad.append('%s: %d connects in %d sessions' % (name, p['connects'], p['sessions']))
        # no connects >= link_losses: ttyrfcd's counters start from 0 with each
        # ttyrfcd (architecture.md, Counters) and this group kills it many times
        if p['link_losses'] > p['sessions']:
            bad.append('%s: %d link losses in %d sessions' % (name, p['link_losses'], p['sessions']))
        say('%s: %s' % (name, ' '.join('%s=%d' % (k, p[k]) for k in COUNTERS)))
    check(not bad, '; '.join(bad))
    # what the earlier tests must have left behind
    want = []
    if 'helper-kills' in RAN:
        want.append((devs[0], 'tx_resent', 1))
    if 'server-outage' in RAN:
        want.append((devs[1], 'link_losses', 1))
    for dev, k, least in want:
        v = show(dev)[k]
        check(v >= least, '%s: %s = %d, expected at least %d' % (dev, k, v, least))


TESTS = {
    'helper-kills': t_helper_kills,
    'server-outage': t_server_outage,
    'close-at-once': t_close_at_once,
    'reset-behind-ff': t_reset_behind_ff,
    'banner': t_banner,
    'kill-while-full': t_kill_while_full,
    'flush-while-down': t_flush_while_down,
    'flush-while-stopped': t_flush_while_stopped,
    'linger-bounded': t_linger_bounded,
    'busy-reconnect': t_busy_reconnect,
    'counters': t_counters,
}


RAN = []                    # the tests run so far by run_spec()


class Timeout(Fail):
    pass


LIMIT = [0]


def _alarm(signum, frame):
    raise Timeout('no result within %d s' % LIMIT[0])


def run_one(name, args):
    t0 = time.monotonic()
    ok = False
    try:
        TESTS[name](*args)
        ok = True
    except Fail as e:
        say('FAIL: %s' % e)
    except Exception:            # noqa: BLE001 - a broken test is a failed test
        say('FAIL: the test itself broke:')
        say(traceback.format_exc().rstrip())
    finally:
        cleanup()
    return ok, time.monotonic() - t0


def run_spec(path):
    """Run the tests listed in @path (NAME<TAB>ARG<TAB>... per line) in this
    one process, which saves a Python start-up per test (seconds under TCG).
    Each test is framed by '@@begin NAME' and '@@end NAME ok|fail SECONDS'."""
    signal.signal(signal.SIGALRM, _alarm)
    limit = int(float(os.environ.get('T_TIMEOUT', '240')))
    longer = {'helper-kills': 3 * limit}     # 50 restarts take minutes under TCG
    with open(path) as f:
        lines = [l.rstrip('\n').split('\t') for l in f if l.strip()]
    for name, *args in lines:
        RAN.append(name)
        say('@@begin %s' % name)
        LIMIT[0] = longer.get(name, limit)
        signal.alarm(LIMIT[0])
        try:
            ok, secs = run_one(name, args)
        finally:
            signal.alarm(0)
        say('@@end %s %s %.1f' % (name, 'ok' if ok else 'fail', secs))
    return 0


def main():
    if sys.argv[1:2] == ['--spec'] and len(sys.argv) == 3:
        return run_spec(sys.argv[2])
    if len(sys.argv) < 2 or sys.argv[1] not in TESTS:
        print(__doc__ + '\ntests: ' + ' '.join(TESTS), file=sys.stderr)
        return 2
    ok, secs = run_one(sys.argv[1], sys.argv[2:])
    say('took %.1f s' % secs)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
