#!/bin/bash
# tests/demo.sh — `make demo`: boot a VM with ttyrfc.ko, a real RFC 2217 server
# (pyserial's PortManager) in front of a device, ttyrfcd, and use /dev/ttyRFC0
# as a program would. Run by `make demo` after deps and build.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "demo: booting a QEMU VM (Debian kernel, TCG: about 10 s)..."
TTYRFC_VM_TIMEOUT=300 tests/vm/run.sh tests/vm/demo_guest.sh || {
	echo "demo: FAILED (see the lines above; tests/vm/run.sh printed the VM's console)" >&2
	exit 1
}
