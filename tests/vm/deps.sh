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
    ser2net python3 python3-serial python3-intelhex python3-yaml socat picocom iproute2 util-linux procps psmisc
    # kselftest harness headers for tests/selftests/ttyrfc (only in linux-source)
    linux-source-6.1
    # install/operate tests (tests/vm/install.sh)
    dkms udev mandoc systemd man-db
    # make bench: the chart (tests/bench/report.py), the optional guest profile
    gnuplot-nox linux-perf
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

# The suite also builds for and boots Debian 12's newest 6.12 kernel (from
# bookworm-security; no extra suite needed). Only its headers are installed;
# tests/vm/kernel.sh downloads the image for the VM.
if [ -z "$(tests_vm_dir=$(dirname "$0"); "$tests_vm_dir/kernels.sh" newest612)" ]; then
    pkg=$(apt-cache pkgnames linux-headers-6.12 2>/dev/null |
          grep -E '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' | sort -V | tail -n 1 || true)
    if [ -z "$pkg" ]; then
        apt-get update -q
        pkg=$(apt-cache pkgnames linux-headers-6.12 |
              grep -E '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' | sort -V | tail -n 1)
    fi
    echo "deps.sh: installing $pkg"
    apt-get install -y -q --no-install-recommends "$pkg"
fi

# linux-headers-amd64 is a metapackage: make sure the headers it points at are there
# (tests/vm/kernel.sh boots the matching linux-image-<ver>).
hdr=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1 || true)
[ -n "$hdr" ] || { echo "deps.sh: no /usr/src/linux-headers-*-amd64 after install" >&2; exit 1; }
echo "deps.sh: kernel headers: $hdr"
/usr/bin/python3 -c 'import serial; print("deps.sh: pyserial", serial.__version__, "for /usr/bin/python3")'
