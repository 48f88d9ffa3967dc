#!/bin/bash
# tests/vm/deps.sh — install every Debian package the build, the unit tests and the VM
# suite need. Idempotent; run as root on Debian 12 (bookworm). Prints what it does.
#   deps.sh          everything (make check, CI)
#   deps.sh kbuild   only what building the debug kernel needs (tests/debug-kernel.sh)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# building a kernel from linux-source (make debug-kernel); linux-source-<series>
# itself is installed by tests/debug-kernel.sh, pinned to the default kernel's version
KBUILD_PKGS=(build-essential linux-headers-amd64 flex bison bc libelf-dev libssl-dev kmod xz-utils cpio rsync)

PKGS=(
    # build (libssl-dev: TLS to ser2net; libavahi-client-dev: mDNS discovery)
    build-essential pkg-config libmnl-dev libssl-dev libavahi-client-dev linux-headers-amd64 kmod
    # VM harness (tests/vm/run.sh, kernel.sh)
    qemu-system-x86 busybox-static cpio gzip xz-utils zstd dpkg coreutils
    # in-VM tools and server fixtures (tests/servers/)
    ser2net python3 python3-serial python3-intelhex python3-yaml socat picocom iproute2 util-linux procps psmisc
    # kselftest harness headers for tests/selftests/ttyrfc (only in linux-source)
    linux-source-6.1
    # install/operate tests (tests/vm/install.sh)
    dkms udev mandoc systemd man-db
    # TLS and mDNS tests (tests/vm/tls_mdns.sh): certificates, avahi-daemon on a D-Bus system bus
    openssl avahi-daemon avahi-utils dbus
    # make debug-kernel
    "${KBUILD_PKGS[@]}"
    # Debian packages (mk/deb.sh, tests/vm/deb.sh); the sid chroot (tests/kbuild-sid.sh)
    debhelper dh-dkms lintian debootstrap
    # make bench: the chart (tests/bench/report.py), the optional guest profile
    gnuplot-nox linux-perf
)
[ "${1:-}" = kbuild ] && PKGS=("${KBUILD_PKGS[@]}")

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
[ "${1:-}" = kbuild ] && exit 0

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
