# tests/chroot.sh — what the Debian chroots of the tests share (the sid build
# chroot of tests/kbuild-sid.sh, the trixie ser2net of tests/ser2net-trixie.sh).
# Source it from bash; needs root.
#   chroot_mirror              the machine's own Debian mirror (never hard-coded):
#                              the first non-security URIs:/deb line of apt's sources
#   chroot_bootstrap SUITE ROOT LOG
#                              debootstrap --variant=minbase SUITE into ROOT unless
#                              ROOT/.ready exists (.ready is written last, so an
#                              interrupted debootstrap is redone); apt set up for the
#                              registry's frozen snapshot
#   chroot_mount ROOT          proc, sysfs and the host's /dev inside ROOT
#   chroot_umount_all ROOT     everything mounted below ROOT, deepest first
#   chroot_run ROOT CMD...     CMD in ROOT with a clean environment
# shellcheck shell=bash

chroot_mirror() {
	local m
	m=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '{print $2}' | grep -v security | head -n 1)
	[ -n "$m" ] || m=$(awk '/^deb / && !/security/ {print $2; exit}' \
				/etc/apt/sources.list 2>/dev/null)
	[ -n "$m" ] && echo "$m"
}

chroot_mounted() {	# is anything mounted below $1?
	awk -v r="$1/" 'index($2, r) == 1 { f = 1 } END { exit !f }' /proc/mounts
}

chroot_umount_all() {
	local m
	for m in $(awk -v r="$1/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	return 0
}

chroot_bootstrap() {
	local suite=$1 root=$2 log=$3 mirror
	[ -e "$root/.ready" ] && return 0
	mirror=$(chroot_mirror) || { echo "no Debian mirror in apt's sources" >"$log"; return 1; }
	command -v debootstrap >/dev/null || {
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			debootstrap >"$log" 2>&1; } || return 1
	# never delete through a bind mount of the host's /dev
	chroot_mounted "$root" && { echo "something is mounted below $root" >"$log"; return 1; }
	rm -rf "$root"
	debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$log" 2>&1 || return 1
	{
		# the registry's Release files are a frozen snapshot
		echo 'Acquire::Check-Valid-Until "false";'
		echo 'Acquire::Retries "3";'
		echo 'Acquire::Languages "none";'
		# the host's proxy settings, if it has any
		grep -rhi '^[[:space:]]*Acquire::[a-z]*::proxy' /etc/apt/apt.conf /etc/apt/apt.conf.d/ 2>/dev/null
	} >"$root/etc/apt/apt.conf.d/99ttyrfc"
	rm -f "$root/var/lib/apt/lists/.stamp"
	touch "$root/.ready"
}

chroot_mount() {
	cp -L /etc/resolv.conf "$1/etc/resolv.conf" 2>/dev/null
	mount -t proc proc "$1/proc" &&
	mount -t sysfs sysfs "$1/sys" &&
	mount --bind /dev "$1/dev"
}

chroot_run() {
	local root=$1; shift
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"
}
