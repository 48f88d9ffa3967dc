#!/bin/bash
# tests/vm/userns.sh [-n] CMD [ARGS...] — run CMD (from the repo, as now) as
# root of a new user namespace; with -n also in a new network namespace.
#
# The VM runs its job chrooted (tests/vm/init.sh), and the kernel refuses a
# new user namespace to a chrooted process (EPERM), so unshare -U fails
# there. Step out to PID 1's root (the initramfs, with busybox), create the
# namespace there, and chroot back into this root from inside it: root of
# a user namespace may chroot. What CMD may do is then decided by the user
# namespace alone, which is what the tests want to see.
set -euo pipefail
net=()
[ "${1:-}" = -n ] && { net=(-n); shift; }
[ $# -ge 1 ] || { echo "usage: $0 [-n] CMD [ARGS...]" >&2; exit 2; }
if unshare -Ur true 2>/dev/null; then
	exec unshare -Ur "${net[@]}" "$@"	# not chrooted: the plain way
fi
[ -x /proc/1/root/bin/busybox ] || { echo "userns.sh: no busybox at PID 1's root" >&2; exit 1; }
# our root as PID 1 sees it: the mount point the job was chrooted into
inner=/newroot
[ -d "/proc/1/root$inner$PWD" ] || { echo "userns.sh: $PWD is not under PID 1's $inner" >&2; exit 1; }
exec chroot /proc/1/root /bin/busybox unshare -U -r "${net[@]}" \
	/bin/busybox chroot "$inner" /usr/bin/env -i PATH="$PATH" HOME=/root \
	TTYRFCCTL="${TTYRFCCTL:-}" /bin/bash -c 'cd "$0" && exec "$@"' "$PWD" "$@"
