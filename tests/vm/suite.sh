#!/bin/bash
# The VM suite: boots Debian's kernel under QEMU once per group of tests.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
status=0
for group in tests/vm/foundation.sh; do
	echo "# VM: $group"
	tests/vm/run.sh "$group" || status=1
done
exit $status
