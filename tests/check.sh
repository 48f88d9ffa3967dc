#!/bin/bash
# tests/check.sh — `make check`: host unit tests, then the VM suite; ends with
# one line "N passed, N failed" summing every group.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0

make -s -C tests/unit 2>&1 | tee -a "$out" || status=1
tests/vm/suite.sh 2>&1 | tee -a "$out" || status=1

read -r pass fail < <(awk '/^[0-9]+ passed, [0-9]+ failed/ { p += $1; f += $3 }
			 END { print p + 0, f + 0 }' "$out")
[ "$pass" -gt 0 ] || status=1
[ "$fail" -eq 0 ] || status=1
echo "# all groups"
echo "$pass passed, $fail failed"
exit $status
