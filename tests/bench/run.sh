#!/bin/bash
# tests/bench/run.sh — `make bench`: boot the VM, run the echo benchmark for
# /dev/ttyRFC0 side by side with a raw TCP socket and a socat PTY bridge to the
# same ser2net and board, and write docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
kver=$(tests/vm/kernels.sh default)
TTYRFC_VM_QUIET=1 tests/vm/run.sh tests/bench/guest.sh | tee "$out"
{
	echo "# Benchmarks"
	echo
	echo "Produced by \`make bench\` (tests/bench/run.sh) on $(date -u +%Y-%m-%d):"
	echo "Debian $kver under qemu-system-x86_64 -accel tcg (no KVM), 2 vCPUs,"
	echo "on a $(nproc)-core host. One ser2net, one echoing PTY \"board\""
	echo "(tests/servers/peer.py echo), each client in turn, two rounds."
	echo "Absolute numbers are TCG's; compare the rows, not the units."
	echo
	echo '```'
	cat "$out"
	echo '```'
	echo
	echo "- MB/s echo: bytes written while a thread reads the echo back."
	echo "- RTT: one byte out, the same byte back, ${BENCH_RTT:-500} times."
	echo "- raw TCP socket: a plain-TCP accepter on the same board, no RFC 2217."
	echo "- socat pty bridge: \`socat pty,raw,echo=0 tcp:...\` to that accepter."
} >docs/benchmarks.md
echo "bench: wrote docs/benchmarks.md"
