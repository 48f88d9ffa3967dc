#!/usr/bin/python3
"""records.py — a numbered record stream and a checker that accounts for every byte.

The stream S is the records b'%010d\\n' % k for k = 0, 1, 2, ... (11 bytes each), so
the byte at stream position p belongs to record p // 11 and any 12 consecutive bytes
that contain a newline followed by a whole record say where in S they are.

What a receiver gets after helper kills or link losses is S cut into pieces: a replay
restarts at the last confirmed position, which may lie anywhere, even inside a
record, and before what was already received (a duplicate) or, if something was
lost, after it (a gap). Checker rebuilds those pieces as intervals of S from the
bytes alone, so it can say exactly how many bytes (and records) were lost,
duplicated or corrupt, and how big each rewind was.

    records.py selftest        check the checker against cut-up streams
"""
import random
import sys

REC = 11


def stream(a, b):
    """S[a:b]."""
    if b <= a:
        return b''
    k0, k1 = a // REC, (b + REC - 1) // REC
    s = b''.join(b'%010d\n' % k for k in range(k0, k1))
    return s[a - k0 * REC:b - k0 * REC]


class Checker:
    """Feed it what arrived, in order; it keeps the pieces of S that did.

    segs: [start, end) intervals of S, in arrival order. A new piece starts
    where the bytes stop matching S; its position comes from the first whole
    record in it. Bytes that fit nowhere are counted as garbage."""

    def __init__(self, start=0):
        self.segs = [[start, start]]
        self.buf = b''            # bytes after a break, not placed yet
        self.garbage = 0
        self.received = 0

    @property
    def pos(self):
        return self.segs[-1][1]

    def feed(self, data):
        self.received += len(data)
        if self.buf:
            self.buf += data
            self._place()
        else:
            self._follow(data)

    def _follow(self, data):
        """data continues the current piece until it stops matching S."""
        pos = self.pos
        want = stream(pos, pos + len(data))
        if want == data:
            self.segs[-1][1] += len(data)
            return
        i = next((i for i, (x, y) in enumerate(zip(data, want)) if x != y),
                 len(want))
        self.segs[-1][1] += i
        self.buf = data[i:]
        self._place()

    def _anchor(self, b):
        """(j, k): b[j] is a newline followed by the whole record k; None if
        there is none yet."""
        j = b.find(b'\n')
        while j >= 0 and len(b) >= j + 1 + REC:
            rec = b[j + 1:j + 1 + REC]
            if rec[10:] == b'\n' and rec[:10].isdigit():
                return j, int(rec[:10])
            j = b.find(b'\n', j + 1)
        return None

    def _place(self):
        """Start a new piece with self.buf, once it says where it is in S.
        Each piece placed is followed for at least one whole record, so this
        always makes progress."""
        b = self.buf
        found = self._anchor(b)
        if found is None:
            if len(b) > 4096:     # no record anywhere in 4 KiB: garbage
                self.garbage += len(b) - 2 * REC
                self.buf = b[-2 * REC:]
            return
        j, k = found
        p = k * REC - (j + 1)
        if p >= 0 and stream(p, p + j + 1) == b[:j + 1]:
            start, rest = p, b
        else:
            # the bytes before the record: the end of its piece, and before
            # that a piece too short to hold a record of its own
            head = b[:j + 1]
            m = j + 1
            while m and stream(k * REC - m, k * REC) != head[j + 1 - m:]:
                m -= 1
            if not self._place_short(head[:j + 1 - m]):
                self.garbage += j + 1 - m
            start, rest = k * REC - m, b[j + 1 - m:]
        self.buf = b''
        self.segs.append([start, start])
        self._follow(rest)

    def _place_short(self, b, top=None):
        """Place a piece too short for a record by its bytes alone: the
        nearest match at or below @top (default: just past what came)."""
        if top is None:
            top = self.high() + len(b)
        lo = max(0, top - 140000)
        i = stream(lo, top).rfind(b)
        if i < 0:
            return False
        self.segs.append([lo + i, lo + i + len(b)])
        return True

    def finish(self, total):
        """The end: place a short last piece (too short to hold an anchor) by
        matching it against the end of S[0:total]."""
        b = self.buf
        if not b:
            return
        self.buf = b''
        if not self._place_short(b, total):
            self.garbage += len(b)

    def pending(self):
        return len(self.buf)

    # ---- results
    def covered(self, upto=None):
        """Bytes of S[0:upto] received at least once."""
        iv = sorted((s, e) for s, e in self.segs if e > s)
        total, hi = 0, None
        for s, e in iv:
            if upto is not None:
                e = min(e, upto)
            if hi is None or s > hi:
                if e > s:
                    total += e - s
                hi = max(e, hi or 0)
            elif e > hi:
                total += e - hi
                hi = e
        return total

    def missing(self, total):
        """The [start, end) ranges of S[0:total] that never arrived."""
        out, pos = [], 0
        for s, e in sorted((s, e) for s, e in self.segs if e > s):
            if s > pos:
                out.append((pos, min(s, total)))
            pos = max(pos, e)
            if pos >= total:
                break
        if pos < total:
            out.append((pos, total))
        return [(a, b) for a, b in out if b > a]

    def high(self):
        return max(e for _, e in self.segs)

    def events(self):
        """(kind, bytes) for each new piece: 'rewind' (a replay of this many
        bytes already received) or 'gap' (this many never received before)."""
        out, hi = [], self.segs[0][1]
        for s, e in self.segs[1:]:
            if e == s:
                continue
            if s < hi:
                out.append(('rewind', hi - s))
            elif s > hi:
                out.append(('gap', s - hi))
            hi = max(hi, e)
        return out

    def summary(self, total):
        """Counts against the S[0:total] that was sent."""
        got = self.covered(total)
        ev = self.events()
        rew = [n for k, n in ev if k == 'rewind']
        return dict(
            sent_bytes=total, sent_records=total // REC,
            received_bytes=self.received, covered_bytes=got,
            lost_bytes=total - got,
            lost_records=self.lost_records(total),
            dup_bytes=sum(e - s for s, e in self.segs) - self.covered(),
            dup_records=sum(rew) // REC,
            rewinds=len(rew), max_rewind=max(rew, default=0),
            gaps=len([1 for k, _ in ev if k == 'gap']),
            beyond=max(0, self.high() - total),
            garbage=self.garbage + len(self.buf))

    def lost_records(self, total):
        """Records of S[0:total] with a byte that never arrived."""
        iv = sorted((s, e) for s, e in self.segs if e > s)
        lost, pos = set(), 0
        for s, e in iv:
            if s > pos:
                lost.update(range(pos // REC, (min(s, total) - 1) // REC + 1))
            pos = max(pos, e)
            if pos >= total:
                break
        if pos < total:
            lost.update(range(pos // REC, (total - 1) // REC + 1))
        return len(lost)


def selftest():
    rnd = random.Random(1)
    for trial in range(150):
        total = rnd.randrange(2000, 200000)
        # pieces: from p to q, the next one from p' <= q (replay) or > q (loss)
        cuts, p = [], 0
        while p < total:
            q = min(total, p + rnd.randrange(1, 30000))
            cuts.append((p, q))
            if q >= total:
                break
            if rnd.random() < 0.2:
                nxt = min(total, q + rnd.randrange(1, 500))
            else:
                nxt = max(0, q - rnd.randrange(0, 20000))
            p = nxt
        have = bytearray(total)
        for a, b in cuts:
            have[a:b] = b'\x01' * (b - a)
        lost = total - sum(have)
        dup = sum(b - a for a, b in cuts) - sum(have)
        data = b''.join(stream(a, b) for a, b in cuts)
        c = Checker()
        i = 0
        while i < len(data):
            n = rnd.randrange(1, 9000)
            c.feed(data[i:i + n])
            i += n
        c.finish(total)
        s = c.summary(total)
        # Where a piece ends is ambiguous by the few bytes it shares with
        # the start of the next: exact when nothing is lost, otherwise off
        # by at most that much per gap (and never 0 when something is).
        slack = 2 * REC * s['gaps']
        if (abs(s['lost_bytes'] - lost) > slack or bool(s['lost_bytes']) != bool(lost) or
                abs(s['dup_bytes'] - dup) > slack or s['garbage']):
            print('trial', trial, 'expected lost', lost, 'dup', dup, 'got', s, cuts[:6])
            return 1
    # garbage in the middle is counted, and the stream is found again
    c = Checker()
    c.feed(stream(0, 5000) + b'\x00garbage!' + stream(5000, 9000))
    c.finish(9000)
    s = c.summary(9000)
    if s['lost_bytes'] or not s['garbage']:
        print('garbage case:', s)
        return 1
    print('records.py selftest: ok')
    return 0


if __name__ == '__main__':
    if sys.argv[1:] == ['selftest']:
        sys.exit(selftest())
    print(__doc__)
    sys.exit(2)
