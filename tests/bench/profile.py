#!/usr/bin/python3
"""profile.py — sums up one profiled echo run of tests/bench/profile.sh.

    profile.py CLIENT PHASE ECHO_JSON TRACE_TXT COMM_TXT HELPER_TXT MODULE_TXT OUT_TXT

TRACE_TXT is `perf script -F comm,event,trace` of the tracepoint recording,
COMM_TXT / HELPER_TXT / MODULE_TXT are `perf report --stdio` of the cpu-clock
recording (by process; ttyrfcd's symbols; the ttyrfc module's symbols).
Counts are divided by the work done: MB echoed (throughput phase) or round
trips (rtt phase). Prints one {"kind":"profile",...} line and writes OUT_TXT.
"""
import collections, json, re, sys


def proc(comm):
    comm = comm.strip()
    if comm.startswith('kworker/'):
        return 'kworker'
    if comm.startswith('swapper'):
        return 'idle'
    if comm.startswith('ksoftirqd'):
        return 'ksoftirqd'
    if comm in ('python3', 'python3.11'):
        return 'client (python3)'
    return comm


def main():
    client, phase, echof, tracef, commf, helperf, modf, outf = sys.argv[1:9]
    try:
        echo = json.loads(open(echof).read().strip().splitlines()[-1])
    except (IndexError, ValueError, OSError):
        print(json.dumps(dict(kind='profile', client=client, phase=phase, error='no echo result')))
        return
    if phase == 'throughput':
        units, uname = echo['bytes'] / 1e6, 'MB echoed'
    else:
        units, uname = float(echo['rtt_n']), 'round trip'
    c = collections.Counter()
    for line in open(tracef, errors='replace'):
        m = re.match(r'\s*(.+?)\s+(\w+):(\w+):\s*(.*)$', line)
        if not m:
            continue
        comm, sub, ev, rest = proc(m.group(1)), m.group(2), m.group(3), m.group(4)
        if ev == 'sched_switch':
            c['context switches'] += 1
            c['context switches: %s' % comm] += 1
        elif ev == 'workqueue_execute_start':
            f = re.search(r'function (\S+)', rest)
            c['work items'] += 1
            c['work item: %s' % (f.group(1) if f else '?')] += 1
        elif sub == 'syscalls':
            c['syscall %s: %s' % (comm, ev.replace('sys_enter_', ''))] += 1
        elif ev in ('kmalloc', 'kmalloc_node'):
            b = re.search(r'bytes_alloc=(\d+)', rest)
            site = re.search(r'call_site=([^+\s]+)', rest)
            if b and int(b.group(1)) >= 4096:
                c['kmalloc >= 4 KiB: %s (%s)' % (site.group(1) if site else '?', comm)] += 1
                c['kmalloc >= 4 KiB KiB: %s (%s)' % (site.group(1) if site else '?', comm)] += int(b.group(1)) / 1024
    share = collections.Counter()
    for line in open(commf, errors='replace'):
        m = re.match(r'\s+([\d.]+)%\s+(\S.*?)\s*$', line)
        if m:
            share[proc(m.group(2))] += float(m.group(1))

    def syms(path, n=12):
        out = []
        for line in open(path, errors='replace'):
            m = re.match(r'\s+([\d.]+)%\s+(.*\S)\s*$', line)
            if m and not line.lstrip().startswith('#'):
                out.append((float(m.group(1)), re.sub(r'\s+', ' ', m.group(2))))
        return out[:n]

    per = {k: v / units for k, v in c.items()}
    res = dict(kind='profile', client=client, phase=phase, unit=uname,
               mbs=echo.get('mbs'), rtt_p50=echo.get('rtt_p50'),
               per_unit={k: round(v, 2) for k, v in sorted(per.items(), key=lambda kv: -kv[1])
                         if v >= 0.05},
               cpu_share={k: round(v, 1) for k, v in share.most_common()},
               helper_syms=syms(helperf), module_syms=syms(modf))
    with open(outf, 'w') as f:
        f.write('%s, %s phase (%s; %.2f MB/s, RTT p50 %.3f ms in this run)\n\n' % (
            client, phase, uname, echo.get('mbs', 0), echo.get('rtt_p50', 0)))
        f.write('per %s:\n' % uname)
        for k, v in sorted(per.items(), key=lambda kv: -kv[1]):
            f.write('  %10.2f  %s\n' % (v, k))
        f.write('\nCPU share by process (cpu-clock samples, whole system):\n')
        for k, v in share.most_common():
            f.write('  %6.1f%%  %s\n' % (v, k))
        f.write('\nttyrfcd, top symbols:\n')
        for v, s in syms(helperf, 30):
            f.write('  %6.2f%%  %s\n' % (v, s))
        f.write('\nttyrfc module, top symbols:\n')
        for v, s in syms(modf, 30):
            f.write('  %6.2f%%  %s\n' % (v, s))
    print(json.dumps(res))


if __name__ == '__main__':
    main()
