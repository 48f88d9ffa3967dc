#!/bin/bash
# tests/bench/run.sh — `make bench`: boot the VM once (tests/vm/run.sh) and run
# tests/bench/guest.sh in it: echo throughput and round trip (raw TCP, /dev/ttyRFC0,
# socat PTY, pyserial rfc2217://), control latency, esptool through /dev/ttyRFC1 vs
# rfc2217:// vs a local PTY, and 1/8/64 ports at once. Then write
# docs/benchmarks.md and docs/benchmarks.png (tests/bench/report.py, gnuplot).
#
# The host has 2 cores shared with other work: before booting, wait (up to
# BENCH_WAIT seconds, default 600) until the 1-minute load average is below
# BENCH_MAX_LOAD (default 1.5); the load before and after goes into the doc.
# Env: BENCH_ROUNDS, BENCH_FLASH_ROUNDS, BENCH_KIB, BENCH_PERF=1 (a perf profile
# of the ttyRFC0 echo into $BENCH_OUT/perf-echo.txt), BENCH_OUT (default
# build/bench/results: every log of the run), BENCH_DOC (default docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${BENCH_OUT:-$PWD/build/bench/results}
DOC=${BENCH_DOC:-docs/benchmarks.md}
BIN=build/bench
load1() { cut -d' ' -f1 /proc/loadavg; }

tests/vm/fetch-esptool.sh >&2
. tests/cache.sh
mkdir -p "$BIN"
# Debian's esptool lacks the ESP32 stub: a copy with the tests' stand-in; byte-compiled
# here, where it is quick (the VM sees the tree read-only and TCG is slow)
tests/sim/esptool_stubcopy.sh "$ESPPKG" "$BIN/esptool-stub" >/dev/null
/usr/bin/python3 -m compileall -q "$BIN/esptool-stub" tests/sim tests/servers tests/bench >/dev/null
for p in ptyecho ctl_lat multi; do
	gcc -O2 -g -Wall -Wextra -Werror -pthread -o "$BIN/$p" "tests/bench/$p.c"
done

waited=0
while awk -v l="$(load1)" -v m="${BENCH_MAX_LOAD:-1.5}" 'BEGIN { exit !(l >= m) }' &&
	[ "$waited" -lt "${BENCH_WAIT:-600}" ]; do
	[ "$waited" = 0 ] && echo "bench: load average $(load1) on $(nproc) cores; waiting for it to drop" >&2
	sleep 20; waited=$((waited + 20))
done
rm -rf "$OUT"; mkdir -p "$OUT"
{
	echo "{\"kind\":\"host\",\"when\":\"before\",\"uptime\":\"$(uptime | sed 's/^ *//')\",\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"waited_s\":$waited,\"nproc\":$(nproc),\"date\":\"$(date -u +%Y-%m-%dT%H:%MZ)\",\"commit\":\"$(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet HEAD -- driver userspace-helper include 2>/dev/null || echo +dirty)\"}"
} >"$OUT/bench.jsonl"
echo "bench: $(uptime)" >&2

# tests/vm/run.sh forwards only TTYRFC_* variables into the guest
while IFS= read -r v; do export "TTYRFC_$v=${!v}"; done < <(compgen -e | grep -E '^BENCH_[A-Z_]+$' || true)
t0=$(date +%s)
set +e
TTYRFC_VM_QUIET=1 TTYRFC_VM_KEEP=$OUT TTYRFC_VM_TIMEOUT=${BENCH_TIMEOUT:-1500} \
	tests/vm/run.sh tests/bench/guest.sh | tee "$OUT/guest.out"
rc=${PIPESTATUS[0]}
set -e
grep '^{' "$OUT/guest.out" >>"$OUT/bench.jsonl" || true
echo "{\"kind\":\"host\",\"when\":\"after\",\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"vm_s\":$(( $(date +%s) - t0 ))}" >>"$OUT/bench.jsonl"
[ "$rc" = 0 ] || { echo "bench: the VM run failed (exit $rc); logs in $OUT" >&2; exit "$rc"; }

/usr/bin/python3 tests/bench/report.py "$OUT/bench.jsonl" "$DOC" "${DOC%.md}.png"
echo "bench: wrote $DOC and ${DOC%.md}.png (raw results and logs: $OUT)"
