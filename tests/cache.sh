# tests/cache.sh — where downloads and built kernels are kept between runs:
# outside the clone, so a fresh clone (CI) reuses them. Source it from bash.
#   TTYRFC_CACHE   cache root (default /var/cache/ttyrfc)
# Inside: vm/<kver>/ kernel images (tests/vm/kernel.sh), sid/root the sid
# chroot with the newest kernel's headers (tests/kbuild-sid.sh), trixie/root
# with ser2net 4.6 (tests/ser2net-trixie.sh), esptool/.
# shellcheck shell=bash
TTYRFC_CACHE=${TTYRFC_CACHE:-/var/cache/ttyrfc}
export TTYRFC_CACHE
# esptool 4.7 from trixie, unpacked (tests/vm/fetch-esptool.sh)
TTYRFC_ESPTOOL_DIR=${TTYRFC_ESPTOOL_DIR:-$TTYRFC_CACHE/esptool}
export TTYRFC_ESPTOOL_DIR
ESPPKG=$TTYRFC_ESPTOOL_DIR/usr/lib/python3/dist-packages
