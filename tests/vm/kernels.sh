#!/bin/bash
# tests/vm/kernels.sh — which Debian kernels we build for and boot.
#   kernels.sh default   the kernel linux-headers-amd64 points at (Debian 12: 6.1)
#   kernels.sh list      every kernel the VM suite runs on (env TTYRFC_KERNELS
#                        overrides: a space-separated list of versions); the
#                        word "sid" stands for Debian sid's newest kernel, which
#                        suite.sh builds for in a sid chroot (tests/kbuild-sid.sh)
#                        and boots for the core groups only. "debug" is the
#                        debug kernel (tests/debug-kernel.sh, an allnoconfig
#                        build; make check-debug boots it alone). 6.12 is built
#                        for, not booted (suite.sh, TTYRFC_BUILD_ONLY)
#   kernels.sh newest612 the newest installed Debian 12 6.12 kernel headers
set -euo pipefail

default() {
	dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null |
		grep -o 'linux-headers-[^ ,]*' | head -n 1 | sed 's/^linux-headers-//'
}
newest612() {
	ls -d /usr/src/linux-headers-6.12.*-amd64 2>/dev/null | sort -V |
		tail -n 1 | sed 's,.*/linux-headers-,,'
}

case ${1:-list} in
default) default ;;
newest612) newest612 ;;
list)
	if [ -n "${TTYRFC_KERNELS:-}" ]; then
		echo "$TTYRFC_KERNELS"
	else
		echo "$(default) sid debug"
	fi
	;;
*) echo "usage: $0 default|list|newest612" >&2; exit 2 ;;
esac
