#!/bin/bash
# tests/kbuild-sid.sh — build ttyrfc.ko warning-free (W=1) against the newest
# Debian kernel (sid). Its headers need sid's gcc, so this builds inside a
# minimal sid chroot made with debootstrap from the machine's own Debian
# mirror (cached in build/sid). `make kbuild-sid` runs it; needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD/build/sid
say() { echo "kbuild-sid: $*"; }

mirror=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
	 awk '{print $2}' | grep -v security | head -n 1)
[ -n "$mirror" ] || mirror=$(awk '/^deb / && !/security/ {print $2; exit}' \
			     /etc/apt/sources.list)
[ -n "$mirror" ] || { say "no Debian mirror found in apt's sources"; exit 1; }
command -v debootstrap >/dev/null ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap

cleanup() {
	for m in "$ROOT/src" "$ROOT/proc"; do
		mountpoint -q "$m" && umount "$m"
	done
	return 0
}
trap cleanup EXIT

if [ ! -x "$ROOT/usr/bin/make" ]; then
	say "debootstrap sid from $mirror (about 140 MB)"
	rm -rf "$ROOT"
	debootstrap --variant=minbase sid "$ROOT" "$mirror" >"$PWD/build/sid.log" 2>&1 ||
		{ tail -20 "$PWD/build/sid.log"; exit 1; }
	# the registry's Release files are a frozen snapshot
	echo 'Acquire::Check-Valid-Until "false";' >"$ROOT/etc/apt/apt.conf.d/99snapshot"
fi
mount -t proc proc "$ROOT/proc"
chroot "$ROOT" sh -c 'apt-get update -q >/dev/null &&
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		linux-headers-amd64 make gcc >/dev/null'
kver=$(chroot "$ROOT" dpkg-query -W -f='${Depends}' linux-headers-amd64 |
	grep -o 'linux-headers-[^ ,]*' | head -n 1 | sed 's/^linux-headers-//')
say "building against $kver"

mkdir -p "$ROOT/src"
mount -t tmpfs tmpfs "$ROOT/src"
{ echo Kbuild; find driver include -name '*.[ch]'; } | cpio -pdm --quiet "$ROOT/src"
chroot "$ROOT" make -C "/usr/src/linux-headers-$kver" M=/src W=1 modules \
	>build/sid-build.log 2>&1 || { cat build/sid-build.log; exit 1; }
if grep -E 'warning:|error:' build/sid-build.log; then
	say "FAILED: warnings against $kver"
	exit 1
fi
ls -l "$ROOT/src/ttyrfc.ko" >/dev/null
say "ok: ttyrfc.ko builds warning-free against $kver"
