#!/usr/bin/python3
"""report.py — docs/benchmarks.md and docs/benchmarks.png from one `make bench` run.

    report.py RESULTS.jsonl DOC.md CHART.png

RESULTS.jsonl is what tests/bench/run.sh collected: the host's lines (load,
date, commit) and the JSON lines tests/bench/guest.sh printed in the VM. Every
figure is the median over the rounds of that run, with the spread (lowest to
highest round) beside it; ratios are ratios of the medians. The chart is drawn
by gnuplot (Debian's gnuplot-nox, pngcairo). If the run left a perf profile
(BENCH_PERF=1), its top entries are quoted.
"""
import collections, json, os, shutil, statistics, subprocess, sys, tempfile

WIRE_BAUD = 921600
FLASH_BYTES = 1 << 20


def med(v):
    return statistics.median(v) if v else float('nan')


def fmt(v, nd=2):
    if v is None or v != v:
        return '–'
    return ('%.' + str(nd) + 'f') % v


def spread(v, nd=2):
    """'median (lo–hi)' over the rounds."""
    if not v:
        return '–'
    if len(v) == 1:
        return fmt(v[0], nd)
    return '%s (%s–%s)' % (fmt(med(v), nd), fmt(min(v), nd), fmt(max(v), nd))


def verdict(ok):
    return '**met**' if ok else '**missed**'


class Results:
    def __init__(self, path):
        self.rows = []
        for line in open(path):
            line = line.strip()
            if line.startswith('{'):
                try:
                    self.rows.append(json.loads(line))
                except ValueError:
                    pass

    def of(self, kind, **kw):
        return [r for r in self.rows if r.get('kind') == kind and
                all(r.get(k) == v for k, v in kw.items())]

    def one(self, kind, **kw):
        r = self.of(kind, **kw)
        return r[0] if r else {}


ECHO_CLIENTS = ['raw TCP socket', '/dev/ttyRFC0', 'ttyRFC --raw', 'socat pty bridge',
                'pyserial rfc2217://']
ESP_PATHS = [('ttyrfc', '/dev/ttyRFC1'), ('rfc2217', 'esptool rfc2217://'), ('pty', 'local PTY')]
ESP_ROWS = [('chip_id', 'rom'), ('chip_id', 'stub'), ('write_flash', 'stub'), ('write_flash', 'rom')]


def main():
    res_path, doc, png = sys.argv[1:4]
    R = Results(res_path)
    env = R.one('env')
    hb, ha = R.one('host', when='before'), R.one('host', when='after')
    out = []
    w = out.append
    targets = []        # (target, measured, ok or None)

    # ------------------------------------------------------------ echo
    echo = {c: R.of('echo', client=c) for c in ECHO_CLIENTS}
    mbs = {c: [r['mbs'] for r in echo[c]] for c in ECHO_CLIENTS}
    p50 = {c: [r['rtt_p50'] for r in echo[c]] for c in ECHO_CLIENTS}
    p99 = {c: [r['rtt_p99'] for r in echo[c]] for c in ECHO_CLIENTS}
    raw_mbs, raw_p50 = med(mbs['raw TCP socket']), med(p50['raw TCP socket'])

    def ratio(a, b):
        return a / b if b and a == a and b == b else float('nan')

    tty_x = ratio(med(mbs['/dev/ttyRFC0']), raw_mbs)
    tty_rx = ratio(med(p50['/dev/ttyRFC0']), raw_p50)
    targets.append(('Echo throughput through /dev/ttyRFC0 ≥ 0.9× raw TCP',
                    '%s×' % fmt(tty_x), tty_x >= 0.9))
    targets.append(('… and above the socat PTY bridge',
                    '%s vs %s MB/s' % (fmt(med(mbs['/dev/ttyRFC0'])), fmt(med(mbs['socat pty bridge']))),
                    med(mbs['/dev/ttyRFC0']) > med(mbs['socat pty bridge'])))
    targets.append(('1-byte round trip (p50) ≤ 1.2× raw TCP', '%s×' % fmt(tty_rx), tty_rx <= 1.2))

    # ------------------------------------------------------------ control
    ctl = {m: R.of('ctl', mode=m) for m in ('idle', '1 MiB in flight')}
    order_rows = [r for rs in ctl.values() for r in rs]
    order_ok = bool(order_rows) and all(r.get('order_ok') for r in order_rows)
    bad = sum(r.get('order_bad', 0) for r in order_rows)
    nops = sum(r.get('n', 0) for r in ctl['1 MiB in flight'])
    targets.append(('TIOCMSET never queues behind data written after it (1 MiB in flight)',
                    '%d of %d commands out of place' % (bad, nops) if order_rows else 'not measured',
                    order_ok and not any('error' in r for r in order_rows)))

    # ------------------------------------------------------------ esptool
    esp, espm = {}, {}
    for op, loader in ESP_ROWS:
        for path, _ in ESP_PATHS:
            rs = R.of('esptool', op=op, loader=loader, path=path)
            esp[op, loader, path] = ([r['secs'] for r in rs if r.get('ok')],
                                     sum(1 for r in rs if not r.get('ok')))
            espm[op, loader, path] = [r['main_s'] for r in rs if r.get('ok') and 'main_s' in r]
    for op, loader in ESP_ROWS:
        a, b = med(esp[op, loader, 'ttyrfc'][0]), med(esp[op, loader, 'rfc2217'][0])
        x = ratio(a, b)
        xm = ratio(med(espm[op, loader, 'ttyrfc']), med(espm[op, loader, 'rfc2217']))
        name = '%s (%s) ≤ 0.5× esptool\'s rfc2217://' % (op if op == 'chip_id' else 'write_flash 1 MiB @921600',
                                                       'ROM loader' if loader == 'rom' else 'stub')
        m = '%s× wall time (esptool.main() alone: %s×)' % (fmt(x), fmt(xm))
        if op == 'write_flash' and b == b and FLASH_BYTES * 10.0 / WIRE_BAUD > 0.5 * b:
            m += '; out of reach here: the wire floor alone is %s× the rfc2217:// time' % fmt(
                FLASH_BYTES * 10.0 / WIRE_BAUD / b)
        targets.append((name, m, x <= 0.5))
    floor = FLASH_BYTES * 10.0 / WIRE_BAUD
    for loader in ('stub', 'rom'):
        a, p = med(esp['write_flash', loader, 'ttyrfc'][0]), med(esp['write_flash', loader, 'pty'][0])
        x = ratio(a, p)
        targets.append(('write_flash 1 MiB (%s) close to the local PTY reference (read here as ≤ 1.1×)'
                        % ('ROM loader' if loader == 'rom' else 'stub'),
                        '%s× (%s s vs %s s; wire floor %.1f s)' % (fmt(x), fmt(a, 1), fmt(p, 1), floor),
                        x <= 1.1))

    # ------------------------------------------------------------ many ports
    multi = {}
    for r in R.of('multi'):
        if 'error' in r or not r.get('rx'):
            continue
        n = r['ports']
        rx = r['rx']
        agg = sum(rx) / r['secs'] / 1e6
        fair = agg / n
        per = sorted(x / r['secs'] / 1e6 for x in rx)
        moved = 2 * sum(rx) / 1e6
        multi.setdefault(n, []).append(dict(
            agg=agg, fair=fair, min=per[0], median=statistics.median(per),
            minfair=per[0] / fair if fair else 0, rss=r['rss_kib'] / 1024, hwm=r['hwm_kib'] / 1024,
            cpu_mb=r['cpu_s'] / moved if moved else float('nan'), unechoed=r.get('unechoed', 0)))
    starve = [(n, min(x['minfair'] for x in v)) for n, v in sorted(multi.items()) if n > 1]
    targets.append(('Many ports at once: no port below half its fair share',
                    ', '.join('%d ports: slowest %.2f× fair' % s for s in starve) or 'not measured',
                    bool(starve) and all(s[1] >= 0.5 for s in starve)))
    hwm = max((x['hwm'] for v in multi.values() for x in v), default=float('nan'))
    targets.append(('ttyrfcd RSS < 16 MiB with %s ports streaming' % (max(multi) if multi else '?'),
                    'peak %s MiB (VmHWM)' % fmt(hwm, 1), hwm < 16))

    # ------------------------------------------------------------ the document
    kernel = env.get('kernel', '?')
    w('# Benchmarks')
    w('')
    w('Written by `make bench` (tests/bench/run.sh → tests/bench/guest.sh in the VM →')
    w('tests/bench/report.py); do not edit by hand, run it again.')
    w('')
    w('| | |')
    w('|---|---|')
    w('| command | `make bench` |')
    w('| date | %s |' % hb.get('date', '?'))
    w('| commit | %s |' % hb.get('commit', '?'))
    w('| kernel | Debian %s under qemu-system-x86_64 -accel tcg (no KVM), %s vCPUs |' % (kernel, env.get('cpus', '?')))
    w('| host | %s cores; load average before: %s (waited %s s for it), after: %s |' % (
        hb.get('nproc', '?'), hb.get('loadavg', '?'), hb.get('waited_s', 0), ha.get('loadavg', '?')))
    w('| servers | ser2net %s (chardelay off, 64 KiB buffers) on C PTY echo boards; %s |' % (
        env.get('ser2net', '?'), env.get('esptool', 'esptool ?')))
    w('| VM run | %s s for the whole measurement |' % ha.get('vm_s', '?'))
    w('')
    w('Absolute numbers are TCG\'s (every instruction emulated, on a shared host):')
    w('compare rows of the same run, not units across runs. Each figure is the median')
    w('of the rounds, with the lowest and highest round in parentheses.')
    w('')
    w('![benchmarks](%s)' % os.path.basename(png))
    w('')
    w('## Targets (DESIGN.md "Performance targets", issue 11)')
    w('')
    w('| target | measured | |')
    w('|---|---|---|')
    for t, m, ok in targets:
        w('| %s | %s | %s |' % (t, m, verdict(ok)))
    w('')

    w('## Echo: throughput and 1-byte round trip')
    w('')
    w('Same ser2net, same echoing PTY board (tests/bench/ptyecho.c), one client at a time.')
    w('Throughput: %s KiB written by a writer thread while the reader takes the echo back'
      % fmt((echo['/dev/ttyRFC0'] or [{}])[0].get('bytes', 0) / 1024, 0))
    w('(pyserial: %s KiB, it is that slow); RTT: one byte out and back, %s times.'
      % (fmt((echo['pyserial rfc2217://'] or [{}])[0].get('bytes', 0) / 1024, 0),
         (echo['/dev/ttyRFC0'] or [{}])[0].get('rtt_n', '?')))
    w('')
    w('| client | echo MB/s | × raw TCP | RTT p50 ms | × raw TCP | RTT p99 ms |')
    w('|---|---|---|---|---|---|')
    for c in ECHO_CLIENTS:
        w('| %s | %s | %s | %s | %s | %s |' % (
            c, spread(mbs[c]), fmt(ratio(med(mbs[c]), raw_mbs)), spread(p50[c], 3),
            fmt(ratio(med(p50[c]), raw_p50)), spread(p99[c], 3)))
    w('')
    w('- raw TCP socket: a plain `tcp` accepter of the same ser2net on the same board (no RFC 2217).')
    w('- ttyRFC --raw: a port added with `ttyrfcctl add --raw` to that same plain accepter: the')
    w('  whole ttyrfc path (tty, module, netlink, ttyrfcd) without ser2net\'s telnet(rfc2217)')
    w('  accepter, so its gap to raw TCP is ttyrfc\'s own cost.')
    w('- socat pty bridge: `socat pty,raw,echo=0 tcp:…` to that accepter; the client uses the PTY.')
    w('- pyserial rfc2217://: `serial_for_url("rfc2217://…?ign_set_control")` to the RFC 2217 accepter.')
    w('')

    w('## Control latency: TIOCMSET → SET-CONTROL at the server')
    w('')
    w('tests/bench/ctl_lat.c flips DTR with TIOCMSET on /dev/ttyRFC2; tests/servers/recorder.py')
    w('stamps each SET-CONTROL with its socket\'s kernel receive time (SO_TIMESTAMPNS, same')
    w('clock). Idle: 200 calls, 4–7 ms apart. 1 MiB in flight: a writer thread streams 4 KiB')
    w('writes as fast as the port takes them; the first call comes after 1 MiB has been')
    w('written, then 60 calls 10–13 ms apart while the writer goes on. Data written before a')
    w('call must reach the server before its command (that is the ordering contract), data')
    w('written after it must not: "ahead" is the data queued in front of the command when the')
    w('call was made, "order" counts commands that arrived out of place.')
    w('')
    w('| mode | p50 ms | p99 ms | max ms | data ahead KiB (p50) | order |')
    w('|---|---|---|---|---|---|')
    for m, rs in ctl.items():
        good = [r for r in rs if 'error' not in r]
        errs = [r['error'] for r in rs if 'error' in r]
        w('| %s | %s | %s | %s | %s | %s |' % (
            m, spread([r['p50'] for r in good], 2), spread([r['p99'] for r in good], 2),
            fmt(max([r['max'] for r in good], default=float('nan')), 1),
            spread([r['ahead_kib_p50'] for r in good], 0),
            ('%d of %d out of place' % (sum(r['order_bad'] for r in good), sum(r['n'] for r in good)))
            + ('; errors: %s' % errs if errs else '')))
    w('')

    w('## esptool (simulated ESP32 behind esp_rfc2217_server)')
    w('')
    w('Wall time of one `esptool --chip esp32` process, start to exit (and, beside it, of')
    w('esptool.main() alone, without the interpreter loading esptool, which is the same for')
    w('every port and slow under TCG: tests/bench/esp_time.py). /dev/ttyRFC1 and')
    w('`rfc2217://127.0.0.1:4101?ign_set_control` go to the same esp_rfc2217_server.py')
    w('(Debian\'s esptool 4.7 examples, tests/sim/esp_rfc2217_sim.py), which does the reset')
    w('itself when it sees esptool\'s DTR/RTS sequence. The local PTY reference is the same')
    w('simulated board straight on a pseudo-terminal (tests/bench/pty_board.py), no network:')
    w('a PTY has no modem lines, so there esptool runs with `--before no_reset --after')
    w('no_reset` and the board is put in download mode just before (esptool\'s own reset')
    w('would add about 0.15 s of sleeps). The stub is the stand-in of')
    w('tests/sim/esptool_stubcopy.sh (Debian\'s package lacks the ESP32 stub). write_flash:')
    w('1 MiB of random data at 921600 baud (the stub\'s deflate cannot shrink it; the ROM')
    w('loader writes 1 KiB blocks, one round trip each).')
    w('')
    w('| operation | /dev/ttyRFC1 s | esptool rfc2217:// s | local PTY s | ttyRFC ÷ rfc2217 | ttyRFC ÷ PTY | esptool.main() alone: ttyRFC1 / rfc2217 / PTY s | wire floor s |')
    w('|---|---|---|---|---|---|---|---|')
    for op, loader in ESP_ROWS:
        cells = []
        for path, _ in ESP_PATHS:
            v, nfail = esp[op, loader, path]
            cells.append(spread(v, 2) + (' (%d failed)' % nfail if nfail else ''))
        t, u, p = (med(esp[op, loader, x][0]) for x in ('ttyrfc', 'rfc2217', 'pty'))
        name = '%s, %s' % ('chip_id' if op == 'chip_id' else 'write_flash 1 MiB @921600',
                           'ROM loader (--no-stub)' if loader == 'rom' else 'stub')
        mains = ' / '.join(fmt(med(espm[op, loader, x]), 2) for x in ('ttyrfc', 'rfc2217', 'pty'))
        w('| %s | %s | %s | %s | %s | %s | %s | %s |' % (
            name, cells[0], cells[1], cells[2], fmt(ratio(t, u)), fmt(ratio(t, p)), mains,
            '%.1f' % floor if op == 'write_flash' else '–'))
    w('')
    w('Wire floor: the image alone, %d bytes × 10 bits / %d baud = %.2f s; SLIP framing,' % (
        FLASH_BYTES, WIRE_BAUD, floor))
    w('commands, the stub upload and the SYNC at 115200, and the flash MD5 come on top.')
    w('')

    w('## Many ports streaming at once')
    w('')
    w('tests/bench/multi.c opens N ports (ttyRFC3…, each to its own ser2net accepter and PTY')
    w('echo board), writes to every one in 4 KiB blocks (at most 256 KiB ahead of the echo)')
    w('and reads the echo back, all in one poll loop; after 1 s of warm-up it counts what each')
    w('port got back for the window. Fair share = aggregate ÷ N. ttyrfcd CPU: utime+stime')
    w('from /proc/<pid>/stat over the window, per MB it moved (each echoed byte passes it')
    w('twice, out and back). RSS at the end of the window, peak (VmHWM) since it started.')
    w('')
    w('| ports | aggregate MB/s | fair share MB/s | slowest port MB/s | median port MB/s | slowest ÷ fair | ttyrfcd RSS MiB | ttyrfcd peak MiB | ttyrfcd CPU s/MB |')
    w('|---|---|---|---|---|---|---|---|---|')
    for n, v in sorted(multi.items()):
        g = lambda k: [x[k] for x in v]  # noqa: E731
        w('| %d | %s | %s | %s | %s | %s | %s | %s | %s |' % (
            n, spread(g('agg')), spread(g('fair'), 3), spread(g('min'), 3), spread(g('median'), 3),
            spread(g('minfair')), spread(g('rss'), 1), fmt(max(g('hwm')), 1), spread(g('cpu_mb'), 3)))
    hs, he = R.one('helper', when='start'), R.one('helper', when='end')
    if hs:
        w('')
        w('ttyrfcd RSS after start-up (%d ports registered, none open): %.1f MiB; at the end: %.1f MiB.'
          % (len(R.of('multi')) and max(multi) + 3 if multi else 0, hs['rss_kib'] / 1024,
             he.get('rss_kib', 0) / 1024))
    w('')

    profile_section(R, w)

    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'notes.md')
    if os.path.exists(notes):
        w(open(notes).read().rstrip())
        w('')

    with open(doc, 'w') as f:
        f.write('\n'.join(out) + '\n')
    chart(png, ECHO_CLIENTS, mbs, p50, raw_mbs, raw_p50, ctl, esp, floor, multi)


def profile_section(R, w):
    """raw TCP vs /dev/ttyRFC0 under perf (BENCH_PERF=1, tests/bench/profile.sh)."""
    cols = [(c, ph) for ph in ('throughput', 'rtt') for c in ('raw TCP socket', '/dev/ttyRFC0')]
    P = {x: R.one('profile', client=x[0], phase=x[1]) for x in cols}
    if not any(P.values()):
        return
    w('## Where the time goes (BENCH_PERF=1: perf and /proc in the guest)')
    w('')
    w('tests/bench/profile.sh, after the measurements: the raw TCP socket and /dev/ttyRFC0,')
    w('a throughput run and a round-trip run each, counted (CPU time of every process and')
    w('kernel thread from /proc; `perf stat` of context switches, work items and syscalls,')
    w('whole system and ttyrfcd alone) and recorded (work items by function, kmalloc ≥ 4 KiB')
    w('by call site, ttyrfcd\'s cpu-clock samples). Per MB echoed (throughput) or per round')
    w('trip (rtt); the profiled runs are slower than the measured ones. Full listings:')
    w('profile-*.txt in the run\'s results directory.')
    w('')
    g = lambda x, sect, k: ((P[x] or {}).get(sect) or {}).get(k, 0)  # noqa: E731
    tty = [x for x in cols if x[0] == '/dev/ttyRFC0']
    rows = []

    def top(sect, n, skip=()):
        ks = []
        for x in tty + cols:
            for k in ((P[x] or {}).get(sect) or {}):
                if k not in ks and k not in skip:
                    ks.append(k)
        ks.sort(key=lambda k: -max(g(x, sect, k) for x in tty))
        return ks[:n]
    for k in top('cpu_ms', 8):
        rows.append(('CPU ms: %s' % k, [g(x, 'cpu_ms', k) for x in cols], 2))
    rows.append(('idle CPU ms (both vCPUs)', [(P[x] or {}).get('idle_ms', 0) for x in cols], 2))
    for k in top('all', 12):
        rows.append(('whole system: %s' % k, [g(x, 'all', k) for x in cols], 1))
    for k in top('helper', 8):
        rows.append(('ttyrfcd: %s' % k, [g(x, 'helper', k) for x in cols], 1))
    for k in top('work', 6):
        rows.append(('work item: %s' % k, [g(x, 'work', k) for x in cols], 1))
    for k in top('kmalloc', 5):
        rows.append(('kmalloc: %s' % k, [g(x, 'kmalloc', k) for x in cols], 1))
    w('| per unit | ' + ' | '.join('%s, %s' % (c.replace('raw TCP socket', 'raw TCP'), ph) for c, ph in cols) + ' |')
    w('|---|' + '---|' * len(cols))
    w('| (unit) | ' + ' | '.join((P[x] or {}).get('unit', '–') for x in cols) + ' |')
    w('| (this run) | ' + ' | '.join(
        ('%s MB/s' % fmt((P[x] or {}).get('mbs'))) if x[1] == 'throughput' else
        ('%s ms RTT p50' % fmt((P[x] or {}).get('rtt_p50'), 3)) for x in cols) + ' |')
    for label, vals, nd in rows:
        w('| %s | %s |' % (label.replace('|', '/'), ' | '.join(fmt(v, nd) for v in vals)))
    w('')
    for x in tty:
        syms = (P[x] or {}).get('helper_syms') or []
        if syms:
            w('ttyrfcd\'s cpu-clock samples, %s phase: %s.' % (
                x[1], '; '.join('%s %.1f%%' % (sym, v) for v, sym in syms[:8])))
            w('')


def chart(png, clients, mbs, p50, raw_mbs, raw_p50, ctl, esp, floor, multi):
    if not shutil.which('gnuplot'):
        print('report.py: no gnuplot (apt-get install gnuplot-nox); chart not drawn', file=sys.stderr)
        return
    d = tempfile.mkdtemp()
    short = {'raw TCP socket': 'raw TCP', '/dev/ttyRFC0': 'ttyRFC0', 'ttyRFC --raw': 'ttyRFC raw',
             'socat pty bridge': 'socat PTY',
             'pyserial rfc2217://': 'pyserial'}

    def rng(v, base):
        if not v or not base:
            return (0, 0, 0)
        return (med(v) / base, min(v) / base, max(v) / base)

    with open(os.path.join(d, 'echo.dat'), 'w') as f:
        for c in clients:
            a, b = rng(mbs[c], raw_mbs), rng(p50[c], raw_p50)
            f.write('"%s" %g %g %g %g %g %g\n' % ((short[c],) + a + b))
    with open(os.path.join(d, 'ctl.dat'), 'w') as f:
        for m, rs in ctl.items():
            rs = [r for r in rs if 'error' not in r]
            a = [r['p50'] for r in rs] or [0]
            b = [r['p99'] for r in rs] or [0]
            f.write('"%s" %g %g %g %g %g %g\n' % (m, med(a), min(a), max(a), med(b), min(b), max(b)))
    with open(os.path.join(d, 'esp.dat'), 'w') as f:
        for op, loader in ESP_ROWS:
            vals = []
            for path, _ in ESP_PATHS:
                v = esp[op, loader, path][0] or [0]
                vals += [med(v), min(v), max(v)]
            f.write('"%s\\n%s" %s\n' % (op, 'ROM loader' if loader == 'rom' else 'stub',
                                         ' '.join('%g' % x for x in vals)))
    with open(os.path.join(d, 'multi.dat'), 'w') as f:
        for n, v in sorted(multi.items()):
            agg = [x['agg'] for x in v]
            mf = [x['minfair'] for x in v]
            f.write('"%d" %g %g %g %g %g %g\n' % (n, med(agg), min(agg), max(agg), med(mf), min(mf), max(mf)))
    gp = r'''
set terminal pngcairo noenhanced size 1400,1000 font "DejaVu Sans,10"
set output "%(png)s"
set multiplot layout 2,2 title "ttyrfc benchmarks (make bench, one VM run; bars: median, whiskers: lowest-highest round)"
set style data histograms
set style histogram errorbars gap 1 lw 1
set style fill solid 0.7 border -1
set boxwidth 0.9
set grid ytics
set key top right
set yrange [0:*]

set title "Echo through each client, relative to a raw TCP socket"
set ylabel "x raw TCP"
set key top left
plot "%(d)s/echo.dat" using 2:3:4:xtic(1) title "throughput (higher is better)" lc rgb "#1f77b4", \
     "" using 5:6:7 title "RTT p50 (lower is better)" lc rgb "#ff7f0e", \
     0.9 with lines dt 2 lw 2 lc rgb "#1f77b4" title "throughput target: at least 0.9x", \
     1.2 with lines dt 2 lw 2 lc rgb "#ff7f0e" title "RTT target: at most 1.2x"

set key top right
set title "TIOCMSET -> SET-CONTROL at the server (log scale)"
set ylabel "ms"
set logscale y
set yrange [0.1:*]
plot "%(d)s/ctl.dat" using 2:3:4:xtic(1) title "p50" lc rgb "#2ca02c", \
     "" using 5:6:7 title "p99" lc rgb "#d62728"
unset logscale y
set yrange [0:*]

set title "esptool wall time (simulated ESP32; write_flash: 1 MiB at 921600)"
set ylabel "seconds"
set key top left
set bmargin 4
plot "%(d)s/esp.dat" using 2:3:4:xtic(1) title "/dev/ttyRFC1" lc rgb "#1f77b4", \
     "" using 5:6:7 title "esptool rfc2217://" lc rgb "#9467bd", \
     "" using 8:9:10 title "local PTY" lc rgb "#7f7f7f", \
     %(floor)g with lines dt 2 lw 2 lc rgb "black" title "wire floor of the 1 MiB image at 921600"

set key top right
set title "Ports streaming at once"
set xlabel "ports"
set ylabel "aggregate MB/s"
set y2label "slowest port / fair share"
set y2range [0:1.5]
set y2tics
plot "%(d)s/multi.dat" using 2:3:4:xtic(1) title "aggregate MB/s" lc rgb "#1f77b4", \
     "" using 5:6:7 axes x1y2 title "slowest port / fair share" lc rgb "#d62728", \
     0.5 axes x1y2 with lines dt 2 lw 2 lc rgb "#d62728" title "fairness target: at least 0.5"
unset multiplot
''' % dict(png=png, d=d, floor=floor)
    with open(os.path.join(d, 'chart.gp'), 'w') as f:
        f.write(gp)
    r = subprocess.run(['gnuplot', os.path.join(d, 'chart.gp')], capture_output=True, text=True)
    if r.returncode:
        print('report.py: gnuplot failed:\n' + r.stderr, file=sys.stderr)
    shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main()
