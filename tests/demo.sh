#!/bin/bash
# tests/demo.sh — `make demo` (after `make deps` and the build): boot a QEMU VM with
# ttyrfc.ko, put a simulated ESP32 behind an RFC 2217 server on a simulated
# Raspberry Pi (a network namespace), and flash + monitor it with the real esptool
# 4.7 through /dev/ttyRFC0. Takes about a minute after the first run's downloads.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "demo: $*"; }
fail() { echo "demo: FAILED: $*" >&2; exit 1; }
T0=$(date +%s)

[ -f "${TTYRFC_KO:-ttyrfc.ko}" ] || fail "no ttyrfc.ko: run 'make' (or 'make demo', which builds first)"
[ -x userspace-helper/ttyrfcd ] || fail "no userspace-helper/ttyrfcd: run 'make'"

say "getting esptool 4.7 from Debian trixie into /var/cache/ttyrfc/esptool (only the first time)..."
tests/vm/fetch-esptool.sh || fail "could not download esptool (network? see the lines above)"

# esptool's Python dependencies, from bookworm (tests/vm/deps.sh installs them)
if ! /usr/bin/python3 -c 'import serial, intelhex' 2>/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		say "installing python3-serial python3-intelhex (esptool needs them)..."
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			python3-serial python3-intelhex >/dev/null || fail "apt-get install python3-serial python3-intelhex"
	else
		fail "esptool needs python3-serial and python3-intelhex: sudo apt-get install python3-serial python3-intelhex"
	fi
fi

say "booting a QEMU VM (Debian kernel, TCG emulation: everything inside runs slowly; ~1 minute)..."
TTYRFC_VM_TIMEOUT=${TTYRFC_VM_TIMEOUT:-240} TTYRFC_VM_KEEP=build/demo-logs \
	tests/vm/run.sh tests/vm/demo_guest.sh ||
	fail "see the lines above; the VM's logs (ttyrfcd.log, pi-server.log, board-events.log) are in build/demo-logs/"
say "finished in $(($(date +%s) - T0)) s"
