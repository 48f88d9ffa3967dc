#!/bin/bash
# tests/ser2net-trixie.sh — Debian trixie's ser2net (4.6) for the interop
# matrix (tests/vm/matrix.sh), next to bookworm's 4.3: a minimal trixie chroot
# made with debootstrap from the machine's own mirror, kept in
# $TTYRFC_CACHE/trixie (tests/cache.sh), outside the clone. The VM sees it
# through its 9p root and runs ser2net by chroot. Needs root; runs on the host.
#   tests/ser2net-trixie.sh            make it (once; then only checks it)
#   tests/ser2net-trixie.sh --root     print the chroot's path
# Prints "# ser2net-trixie: ..." progress lines with their costs.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. tests/cache.sh
. tests/chroot.sh
TC=$TTYRFC_CACHE/trixie
ROOT=$TC/root
[ "${1:-}" = --root ] && { echo "$ROOT"; exit 0; }
say() { echo "# ser2net-trixie: $*"; }
mkdir -p "$TC" build
# several clones on one machine share the cache
exec 9>"$TC/lock"
flock 9
if [ -x "$ROOT/usr/sbin/ser2net" ] && [ -e "$ROOT/.ser2net" ]; then
	say "cached: $(cat "$ROOT/.ser2net")"
	exit 0
fi
t0=$SECONDS
trap 'chroot_umount_all "$ROOT"' EXIT
chroot_umount_all "$ROOT"	# left by a run that was killed
if ! chroot_bootstrap trixie "$ROOT" build/trixie-debootstrap.log; then
	tail -n 20 build/trixie-debootstrap.log >&2
	say "debootstrap trixie failed"; exit 1
fi
say "debootstrap in $((SECONDS - t0)) s"
chroot_mount "$ROOT" || exit 1
# nothing may be started in the chroot by a maintainer script
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"
if ! chroot_run "$ROOT" sh -c 'apt-get update -q &&
		apt-get install -y -q --no-install-recommends ser2net && apt-get clean' \
		>build/trixie-apt.log 2>&1; then
	tail -n 20 build/trixie-apt.log >&2
	say "apt-get install ser2net in the trixie chroot failed"; exit 1
fi
v=$(chroot_run "$ROOT" dpkg-query -W -f='${Version}' ser2net)
echo "ser2net $v (trixie)" >"$ROOT/.ser2net"
say "ser2net $v installed, $((SECONDS - t0)) s in all"
