#!/usr/bin/python3
"""ctl_lat.py — control latency: TIOCMSET -> SET-CONTROL arriving at the server.

    ctl_lat.py LABEL ROUND OPS_FILE RECORDER_LOG

OPS_FILE is what tests/bench/ctl_lat (C) printed; RECORDER_LOG the JSON log of
tests/servers/recorder.py, whose timestamps are the kernel's receive time of
the server's socket on the same CLOCK_MONOTONIC. The newest connection in the
log is the probe's. Its DTR commands (SET-CONTROL 8/9) after the one the open
sent are the probe's calls, one each, in order.

Prints one JSON line:
  {"kind": "ctl", "mode": LABEL, "round": R, "n": N, "p50": ms, "p99": ms,
   "max": ms, "ahead_kib_p50": KiB, "order_ok": bool, "order_bad": K}
latency = server receive time - t0 of the call. ahead: data bytes queued in
front of the command (its offset in the stream minus what the server had
received when the call started). order_ok: every command arrived after all
data written before its call (offset >= w0) and before data written after it
returned (offset <= w1 + one 4 KiB write in progress).
"""
import json, sys, time


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, max(0, int(round(p / 100.0 * len(v) + 0.5)) - 1))]


def main():
    label, rnd, opsf, logf = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ops, streamed = [], 0
    for line in open(opsf):
        if line.startswith('{'):
            o = json.loads(line)
            if 'done' in o:
                streamed = o['streamed']
            else:
                ops.append(o)
    # the server may still be reading the tail of the stream
    end = time.monotonic() + 60
    while True:
        ents = [json.loads(l) for l in open(logf) if l.endswith('\n')]
        conn = max(e['conn'] for e in ents if e['ev'] == 'conn')
        ents = [e for e in ents if e.get('conn') == conn]
        got = sum(e['len'] for e in ents if e['ev'] == 'data')
        dtr = [e for e in ents if e['ev'] == 'cmd' and e['cmd'] == 5 and e['val'][0] in (8, 9)]
        if (got >= streamed and len(dtr) >= len(ops) + 1) or time.monotonic() > end:
            break
        time.sleep(0.2)
    res = dict(kind='ctl', mode=label, round=rnd, n=len(ops))
    mine = dtr[1:len(ops) + 1]
    if len(mine) != len(ops) or any(e['val'][0] != (8 if o['dtr'] else 9) for o, e in zip(ops, mine)):
        res.update(error='recorder has %d DTR commands for %d calls: %s' %
                   (len(dtr), len(ops), [e['val'][0] for e in dtr][:12]))
        print(json.dumps(res))
        return 1
    data = [(e['t'], e['off'] + e['len']) for e in ents if e['ev'] == 'data']
    lat, ahead, bad = [], [], 0
    for o, e in zip(ops, mine):
        lat.append((e['t'] - o['t0']) * 1000)
        rcvd = max([b for t, b in data if t <= o['t0']] or [0])
        ahead.append(max(0, e['off'] - rcvd) / 1024)
        if not (o['w0'] <= e['off'] <= o['w1'] + 4096):
            bad += 1
    res.update(p50=round(pct(lat, 50), 3), p99=round(pct(lat, 99), 3), max=round(max(lat), 3),
               ahead_kib_p50=round(pct(ahead, 50), 1), streamed=streamed,
               order_ok=bad == 0, order_bad=bad)
    print(json.dumps(res))
    return 0


if __name__ == '__main__':
    sys.exit(main())
