#!/usr/bin/python3
"""profile.py — the two halves of tests/bench/profile.sh.

    profile.py run OUT.json -- CMD...
        Run CMD; write the CPU time (utime + stime) every process and kernel
        thread used meanwhile, by name (kworker/* summed as "kworker"), the idle
        time of all CPUs (/proc/stat) and the wall time to OUT.json.

    profile.py sum CLIENT PHASE ECHO_JSON PROC_JSON ALL_CSV HELPER_CSV TRACE_TXT CC_TXT OUT_TXT
        Sum one profiled phase up: ECHO_JSON (echo_bench.py), PROC_JSON (run),
        ALL_CSV / HELPER_CSV (`perf stat -x,` whole system / ttyrfcd), TRACE_TXT
        (`perf script -F comm,event,trace`: work items, kmalloc >= 4 KiB), CC_TXT
        (`perf report --stdio` of ttyrfcd's cpu-clock samples). Counts are per MB
        echoed (throughput) or per round trip (rtt). Prints one
        {"kind":"profile",...} line and writes OUT_TXT.
"""
import collections, json, os, re, subprocess, sys, time

HZ = os.sysconf('SC_CLK_TCK')


def name(comm):
    if comm.startswith('kworker/'):
        return 'kworker'
    if comm.startswith('ksoftirqd'):
        return 'ksoftirqd'
    if comm.startswith('python3'):
        return 'python3'
    return comm


def snapshot():
    procs = {}
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            s = open('/proc/%s/stat' % pid).read()
        except OSError:
            continue
        comm = s[s.index('(') + 1:s.rindex(')')]
        f = s[s.rindex(')') + 2:].split()
        procs[pid] = (comm, int(f[11]) + int(f[12]))
    cpu = open('/proc/stat').readline().split()
    return procs, int(cpu[4]) + int(cpu[5])          # idle + iowait


def cmd_run(argv):
    out, cmd = argv[0], argv[argv.index('--') + 1:]
    p0, i0 = snapshot()
    t0 = time.monotonic()
    rc = subprocess.call(cmd)
    wall = time.monotonic() - t0
    p1, i1 = snapshot()
    use = collections.Counter()
    for pid, (comm, t) in p1.items():
        d = t - (p0[pid][1] if pid in p0 and p0[pid][0] == comm else 0)
        if d > 0:
            use[name(comm)] += d / HZ
    json.dump(dict(cpu_s=dict(use.most_common()), idle_s=(i1 - i0) / HZ, wall_s=wall), open(out, 'w'))
    return rc


def perf_csv(path):
    c = {}
    try:
        for line in open(path):
            f = line.strip().split(',')
            if len(f) > 2 and f[0].replace('.', '').isdigit():
                k = f[2].split(':')[-1].replace('sys_enter_', '')
                c['kmalloc >= 16 KiB' if k == 'kmalloc' else k] = float(f[0])
    except OSError:
        pass
    return c


def cmd_sum(argv):
    client, phase, echof, procf, allf, helperf, tracef, ccf, outf = argv[:9]
    try:
        echo = json.loads(open(echof).read().strip().splitlines()[-1])
        proc = json.load(open(procf))
    except (IndexError, ValueError, OSError) as e:
        print(json.dumps(dict(kind='profile', client=client, phase=phase, error=str(e))))
        return 1
    if phase == 'throughput':
        units, uname = echo['bytes'] / 1e6, 'MB echoed'
    else:
        units, uname = float(echo['rtt_n']), 'round trip'
    allc, helc = perf_csv(allf), perf_csv(helperf)
    work, kmal = collections.Counter(), collections.Counter()
    try:
        for line in open(tracef, errors='replace'):
            m = re.match(r'\s*(.+?)\s+(\w+):(\w+):\s*(.*)$', line)
            if not m:
                continue
            comm, ev, rest = name(m.group(1)), m.group(3), m.group(4)
            if ev == 'workqueue_execute_start':
                f = re.search(r'function (\S+)', rest)
                work[f.group(1) if f else '?'] += 1
            elif ev.startswith('kmalloc'):
                site = re.search(r'call_site=([^+\s]+)', rest)
                b = re.search(r'bytes_alloc=(\d+)', rest)
                k = '%s %s KiB (%s)' % (site.group(1) if site else '?',
                                        int(b.group(1)) // 1024 if b else '?', comm)
                kmal[k] += 1
    except OSError:
        pass
    syms = []
    try:
        for line in open(ccf, errors='replace'):
            m = re.match(r'\s+([\d.]+)%\s+(.*\S)\s*$', line)
            if m:
                syms.append((float(m.group(1)), re.sub(r'\s+', ' ', m.group(2))))
    except OSError:
        pass
    per = lambda d: {k: round(v / units, 3) for k, v in sorted(d.items(), key=lambda kv: -kv[1])}  # noqa: E731
    cpu = dict(proc['cpu_s'])
    res = dict(kind='profile', client=client, phase=phase, unit=uname,
               mbs=echo.get('mbs'), rtt_p50=echo.get('rtt_p50'), wall_s=round(proc['wall_s'], 2),
               cpu_ms=per({k: v * 1000 for k, v in cpu.items()}),
               idle_ms=round(proc['idle_s'] * 1000 / units, 2),
               all=per(allc), helper=per(helc), work=per(work), kmalloc=per(kmal),
               helper_syms=syms[:12])
    with open(outf, 'w') as f:
        f.write('%s, %s phase: %s, %.1f s wall (%s MB/s, RTT p50 %s ms in this run)\n\n' % (
            client, phase, uname, proc['wall_s'], echo.get('mbs'), echo.get('rtt_p50')))
        for title, d in (('CPU ms per %s, by process' % uname, res['cpu_ms']),
                         ('whole system, per %s (perf stat -a)' % uname, res['all']),
                         ('ttyrfcd alone, per %s (perf stat -p)' % uname, res['helper']),
                         ('work items per %s, by function' % uname, res['work']),
                         ('kmalloc >= 4 KiB per %s, by call site' % uname, res['kmalloc'])):
            f.write(title + ':\n')
            for k, v in d.items():
                f.write('  %12.3f  %s\n' % (v, k))
            f.write('\n')
        f.write('idle CPU ms per %s: %.2f\n\nttyrfcd cpu-clock samples by symbol:\n' % (uname, res['idle_ms']))
        for v, s in syms[:30]:
            f.write('  %6.2f%%  %s\n' % (v, s))
    print(json.dumps(res))
    return 0


if __name__ == '__main__':
    if sys.argv[1] == 'run':
        sys.exit(cmd_run(sys.argv[2:]))
    sys.exit(cmd_sum(sys.argv[2:]))
