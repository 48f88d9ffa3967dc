#!/bin/bash
# tests/vm/deps.sh — install every Debian package the build, the unit tests and the VM
# suite need. Idempotent; run as root on Debian 12 (bookworm). Prints what it does.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

PKGS=(
    # build
    build-essential pkg-config libmnl-dev linux-headers-amd64 kmod
    # VM harness (tests/vm/run.sh, kernel.sh)
    qemu-system-x86 busybox-static cpio gzip xz-utils zstd dpkg coreutils
    # in-VM tools and server fixtures (tests/servers/)
    ser2net python3 python3-serial socat picocom iproute2 util-linux procps psmisc
)

missing=()
for p in "${PKGS[@]}"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps.sh: all ${#PKGS[@]} packages already installed"
else
    [ "$(id -u)" = 0 ] || { echo "deps.sh: need root to install: ${missing[*]}" >&2; exit 1; }
    echo "deps.sh: installing: ${missing[*]}"
    echo "deps.sh: apt-get update"
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# linux-headers-amd64 is a metapackage: make sure the headers it points at are there
# (tests/vm/kernel.sh boots the matching linux-image-<ver>).
hdr=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1 || true)
[ -n "$hdr" ] || { echo "deps.sh: no /usr/src/linux-headers-*-amd64 after install" >&2; exit 1; }
echo "deps.sh: kernel headers: $hdr"
/usr/bin/python3 -c 'import serial; print("deps.sh: pyserial", serial.__version__, "for /usr/bin/python3")'
