#!/bin/bash
# mk/deb.sh — `make deb`: build the Debian packages ttyrfc-dkms and
# ttyrfc-tools with `dpkg-buildpackage -us -uc -b` from a copy of the tree
# (dpkg-buildpackage writes next to the source directory, so the copy keeps
# the results inside build/ and the tree clean), then check them with lintian.
#
#   mk/deb.sh [--version V] [--no-lintian] [OUTDIR]
#
# OUTDIR (default build/deb) receives ttyrfc-dkms_<v>_all.deb,
# ttyrfc-tools_<v>_<arch>.deb, the dbgsym package, .buildinfo and .changes.
# --version V builds version V instead: the copy's debian/changelog gets a
# new entry on top (the VM's upgrade test, tests/vm/deb.sh, uses it).
# Missing build dependencies are installed (as root) with
# `apt-get build-dep` on debian/control, after an `apt-get update`.
# lintian must report no error and no warning (--fail-on error,warning).
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
say() { echo "deb: $*" >&2; }

version= lint=1 out=
while [ $# -gt 0 ]; do
	case $1 in
	--version) version=$2; shift 2 ;;
	--no-lintian) lint=0; shift ;;
	-*) sed -n '2,17p' "$0" >&2; exit 2 ;;
	*) out=$1; shift ;;
	esac
done
out=${out:-build/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)

apt_install() {
	[ "$(id -u)" = 0 ] || { say "need root to install build dependencies"; exit 1; }
	export DEBIAN_FRONTEND=noninteractive
	say "apt-get update"
	apt-get update -q >&2
	"$@" >&2
}
command -v dpkg-checkbuilddeps >/dev/null || apt_install apt-get install -y -q dpkg-dev
if ! dpkg-checkbuilddeps 2>/dev/null; then
	say "installing build dependencies from debian/control"
	apt_install apt-get build-dep -y -q --no-install-recommends "$TOP"
fi
if [ $lint = 1 ] && ! command -v lintian >/dev/null; then
	apt_install apt-get install -y -q --no-install-recommends lintian
fi

# the copy: sources only (no build/, VCS data or objects built in the tree)
cur=$(dpkg-parsechangelog -S Version)
src=$out/ttyrfc-${version:-$cur}
rm -rf "$src"
mkdir -p "$src"
tar -cf - --exclude=./build --exclude-vcs --exclude='*.o' --exclude='*.ko' \
	--exclude='.*.cmd' --exclude='*.mod' --exclude='*.mod.c' . | tar -xf - -C "$src"

if [ -n "$version" ]; then
	trailer=$(sed -n '/^ -- /{s/  .*//;p;q}' debian/changelog)
	{
		printf 'ttyrfc (%s) unstable; urgency=medium\n\n' "$version"
		printf '  * Rebuild as %s.\n\n' "$version"
		printf '%s  %s\n\n' "$trailer" "$(date -R)"
		cat debian/changelog
	} >"$src/debian/changelog"
fi
v=$(cd "$src" && dpkg-parsechangelog -S Version)
rm -f "$out"/ttyrfc*_"$v"_*

say "dpkg-buildpackage -us -uc -b ($v) in $src"
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build-$v.log" 2>&1; then
	tail -n 40 "$out/build-$v.log" >&2
	say "FAILED: see $out/build-$v.log"
	exit 1
fi
rm -rf "$src"

changes=$(ls "$out"/ttyrfc_"$v"_*.changes)
if [ $lint = 1 ]; then
	say "lintian $(basename "$changes")"
	# the .changes names the .debs and the .buildinfo: lintian checks all
	lintian --allow-root --fail-on error,warning -I --pedantic "$changes" |
		tee "$out/lintian-$v.txt" >&2
	say "lintian: no errors, no warnings"
fi
ls "$out"/ttyrfc-dkms_"$v"_all.deb "$out"/ttyrfc-tools_"$v"_*.deb
