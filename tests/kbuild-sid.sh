#!/bin/bash
# tests/kbuild-sid.sh — the newest Debian kernel (sid). Its headers need sid's
# gcc (and its host tools sid's libc), so everything runs in a minimal sid
# chroot made with debootstrap from the machine's own Debian mirror and kept
# in $TTYRFC_CACHE/sid (tests/cache.sh), outside the clone. Needs root.
#
#   tests/kbuild-sid.sh                build ttyrfc.ko warning-free (W=1)
#                                      against sid's newest headers
#   tests/kbuild-sid.sh --deb DIR      also install DIR's ttyrfc-dkms .deb in
#                                      the chroot: its DKMS builds the module
#                                      against sid's headers; the module is kept
#                                      for the VM, then the package is purged
#   --upgrade DIR                      with --deb: then upgrade to DIR's (newer)
#                                      ttyrfc-dkms: DKMS rebuilds, the old tree goes
#   tests/kbuild-sid.sh --image        also fetch that kernel's image and
#                                      modules for tests/vm/kernel.sh (into
#                                      $TTYRFC_CACHE/vm/<version>/deb)
#   --env FILE                         write SID_KVER=, SID_KO= (W=1 build) and
#                                      SID_DKMS_KO= (DKMS build) there
#
# Prints TAP lines and "N passed, N failed"; `make kbuild-sid` runs it.
# Costs are printed as "# ... in Ns". Concurrent runs (several clones on one
# machine share the cache) wait for each other (flock).
#   TTYRFC_SID_REFRESH  hours between `apt-get update`s of the chroot (default 6)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. tests/cache.sh
. tests/chroot.sh
TOP=$PWD
SIDC=$TTYRFC_CACHE/sid
ROOT=$SIDC/root
LOGS=$TOP/build/sid
say() { echo "# kbuild-sid: $*"; }
deb_dir= upgrade_dir= image=0 envfile=
while [ $# -gt 0 ]; do
	case $1 in
	--deb) deb_dir=$2; shift 2 ;;
	--upgrade) upgrade_dir=$2; shift 2 ;;
	--image) image=1; shift ;;
	--env) envfile=$2; shift 2 ;;
	*) sed -n '2,25p' "$0" >&2; exit 2 ;;
	esac
done
mkdir -p "$SIDC" "$LOGS"
PASS=0 FAIL=0 N=0
ok() { N=$((N + 1)) PASS=$((PASS + 1)); echo "ok $N - $*"; }
not_ok() { N=$((N + 1)) FAIL=$((FAIL + 1)); echo "not ok $N - $*"; }
finish() { echo "1..$N"; echo "$PASS passed, $FAIL failed"; [ "$FAIL" = 0 ]; exit $?; }
t0=$(date +%s)
lap() { local now; now=$(date +%s); say "$1 in $((now - t0))s"; t0=$now; }

exec 9>"$SIDC/lock"
flock 9

umount_all() { chroot_umount_all "$ROOT"; }
trap umount_all EXIT
umount_all	# left by a run that was killed

# ------------------------------------------------------------ the chroot
if [ ! -e "$ROOT/.ready" ]; then
	say "debootstrap --variant=minbase sid from $(chroot_mirror) (about 140 MB)"
	if ! chroot_bootstrap sid "$ROOT" "$LOGS/debootstrap.log"; then
		tail -n 20 "$LOGS/debootstrap.log" | sed 's/^/#   /'
		not_ok "debootstrap sid"; finish
	fi
	lap "debootstrap"
fi
chroot_mount "$ROOT"
in_sid() { chroot_run "$ROOT" "$@"; }

# newest headers: refresh the package lists now and then (the mirror is a
# snapshot that moves seldom), install or upgrade, drop older versions
refresh=${TTYRFC_SID_REFRESH:-6}
if [ -z "$(find "$ROOT/var/lib/apt/lists/.stamp" -mmin -$((refresh * 60)) 2>/dev/null)" ]; then
	in_sid apt-get update -q >"$LOGS/apt-update.log" 2>&1 ||
		{ tail -n 20 "$LOGS/apt-update.log" | sed 's/^/#   /'; not_ok "apt-get update in the sid chroot"; finish; }
	touch "$ROOT/var/lib/apt/lists/.stamp"
	lap "apt-get update"
fi
pkgs="linux-headers-amd64 make gcc"
[ -n "$deb_dir" ] && pkgs+=" dkms"
if ! in_sid sh -c "apt-get install -y -q --no-install-recommends $pkgs &&
		apt-get autoremove -y -q --purge && apt-get clean" >"$LOGS/apt-install.log" 2>&1; then
	tail -n 20 "$LOGS/apt-install.log" | sed 's/^/#   /'
	not_ok "apt-get install $pkgs in the sid chroot"; finish
fi
lap "apt-get install $pkgs"
kver=$(in_sid dpkg-query -W -f='${Depends}' linux-headers-amd64 |
	grep -o 'linux-headers-[^ ,]*' | head -n 1 | sed 's/^linux-headers-//')
gccv=$(in_sid gcc -dumpversion)
say "sid's newest kernel: $kver (gcc $gccv)"

# ------------------------------------------------------------ W=1 build
ko_dir=$TOP/build/kmod/$kver
rm -rf "$ROOT/src" && mkdir -p "$ROOT/src"
mount -t tmpfs tmpfs "$ROOT/src"
{ echo Kbuild; find driver include -name '*.[ch]'; } | cpio -pdm --quiet "$ROOT/src"
if in_sid make -C "/usr/src/linux-headers-$kver" M=/src W=1 modules \
	>"$LOGS/build.log" 2>&1 && ! grep -E 'warning:|error:' "$LOGS/build.log"; then
	mkdir -p "$ko_dir"
	cp "$ROOT/src/ttyrfc.ko" "$ko_dir/ttyrfc.ko"
	ok "ttyrfc.ko builds warning-free (W=1) for $kver (sid, gcc $gccv)"
else
	sed 's/^/#   /' "$LOGS/build.log" | tail -n 40
	not_ok "ttyrfc.ko builds warning-free (W=1) for $kver (sid, gcc $gccv)"
fi
umount "$ROOT/src"
lap "W=1 build"

# ------------------------------------------------------------ DKMS .deb
dkms_ko=
if [ -n "$deb_dir" ]; then
	deb=$(ls "$deb_dir"/ttyrfc-dkms_*_all.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		not_ok "ttyrfc-dkms .deb in $deb_dir (mk/deb.sh builds it)"
	else
		v=$(dpkg-deb -f "$deb" Version)
		cp "$deb" "$ROOT/tmp/"
		in_sid apt-get purge -y -q ttyrfc-dkms >/dev/null 2>&1
		# DKMS runs in the chroot's postinst: uname -r is the host's kernel,
		# which the chroot lacks, so it builds for each /lib/modules there
		if in_sid apt-get install -y -q --no-install-recommends "/tmp/${deb##*/}" \
			>"$LOGS/dkms-install.log" 2>&1 &&
			in_sid dkms status -m ttyrfc -v "$v" -k "$kver" | grep -q ': installed'; then
			f=$(ls "$ROOT/lib/modules/$kver/updates/dkms/"ttyrfc.ko* | head -n 1)
			mkdir -p "$ko_dir/dkms"
			case $f in
			*.xz) xz -dc "$f" >"$ko_dir/dkms/ttyrfc.ko" ;;
			*.zst) zstd -qdc "$f" >"$ko_dir/dkms/ttyrfc.ko" ;;
			*.gz) gzip -dc "$f" >"$ko_dir/dkms/ttyrfc.ko" ;;
			*) cp "$f" "$ko_dir/dkms/ttyrfc.ko" ;;
			esac
			dkms_ko=$ko_dir/dkms/ttyrfc.ko
			ok "ttyrfc-dkms $v: DKMS builds and installs the module for $kver (sid chroot)"
			# a kernel install: what linux-image's postinst runs for its
			# version must build and install the module again
			in_sid dkms unbuild -m ttyrfc -v "$v" -k "$kver" >>"$LOGS/dkms-install.log" 2>&1
			if ! ls "$ROOT/lib/modules/$kver/updates/dkms/"ttyrfc.ko* >/dev/null 2>&1 &&
				in_sid /etc/kernel/postinst.d/dkms "$kver" >>"$LOGS/dkms-install.log" 2>&1 &&
				ls "$ROOT/lib/modules/$kver/updates/dkms/"ttyrfc.ko* >/dev/null 2>&1; then
				ok "kernel install hook (/etc/kernel/postinst.d/dkms $kver) rebuilds ttyrfc"
			else
				tail -n 20 "$LOGS/dkms-install.log" | sed 's/^/#   /'
				not_ok "kernel install hook (/etc/kernel/postinst.d/dkms $kver) rebuilds ttyrfc"
			fi
		else
			tail -n 30 "$LOGS/dkms-install.log" | sed 's/^/#   /'
			not_ok "ttyrfc-dkms $v: DKMS builds and installs the module for $kver (sid chroot)"
		fi
		# an upgrade to a rebuilt version: the old DKMS tree and source go,
		# the new version is built and installed
		up=$(ls "${upgrade_dir:-/nonexistent}"/ttyrfc-dkms_*_all.deb 2>/dev/null | head -n 1)
		if [ -n "$up" ]; then
			v2=$(dpkg-deb -f "$up" Version)
			cp "$up" "$ROOT/tmp/"
			if in_sid apt-get install -y -q --no-install-recommends "/tmp/${up##*/}" \
				>>"$LOGS/dkms-install.log" 2>&1 &&
				in_sid dkms status -m ttyrfc -v "$v2" -k "$kver" | grep -q ': installed' &&
				[ ! -e "$ROOT/var/lib/dkms/ttyrfc/$v" ] && [ ! -e "$ROOT/usr/src/ttyrfc-$v" ]; then
				ok "ttyrfc-dkms upgrade $v -> $v2: DKMS rebuilds, $v's tree and source gone"
			else
				tail -n 20 "$LOGS/dkms-install.log" | sed 's/^/#   /'
				not_ok "ttyrfc-dkms upgrade $v -> $v2: DKMS rebuilds, $v's tree and source gone"
			fi
			rm -f "$ROOT/tmp/${up##*/}"
		fi
		if in_sid apt-get purge -y -q ttyrfc-dkms >>"$LOGS/dkms-install.log" 2>&1 &&
			[ ! -e "$ROOT/var/lib/dkms/ttyrfc" ] && ! ls -d "$ROOT"/usr/src/ttyrfc-* 2>/dev/null &&
			! ls "$ROOT"/lib/modules/*/updates/dkms/ttyrfc.ko* 2>/dev/null; then
			ok "ttyrfc-dkms purged from the sid chroot: no module, DKMS tree or source left"
		else
			not_ok "ttyrfc-dkms purged from the sid chroot: no module, DKMS tree or source left"
		fi
		rm -f "$ROOT/tmp/${deb##*/}"
		lap "DKMS install + purge of the .deb"
	fi
fi

# ------------------------------------------------------------ kernel image
# sid splits the image: linux-image-<ver> pulls linux-binary-<ver> (vmlinuz
# in /usr/lib/modules/<ver>/), linux-modules-<ver> (.ko.xz) and
# linux-base-<ver> (modules.builtin*, config): fetch every dependency that
# carries the version in its name
if [ $image = 1 ]; then
	kd=${TTYRFC_VM_CACHE:-$TTYRFC_CACHE/vm}/$kver
	if [ -e "$kd/deb/.complete" ]; then
		ok "kernel image $kver cached in $kd"
	else
		rm -rf "$ROOT/tmp/kimg" && mkdir -p "$ROOT/tmp/kimg" "$kd"
		names=$(in_sid apt-cache depends --no-recommends --no-suggests \
			"linux-image-$kver" 2>/dev/null | awk '/Depends:/ { print $2 }' |
			tr -d '<>' | grep -F -- "-$kver" | sort -u | tr '\n' ' ')
		if in_sid sh -c "cd /tmp/kimg && apt-get -o APT::Sandbox::User=root download linux-image-$kver $names" \
				>"$LOGS/image.log" 2>&1; then
			rm -rf "$kd/deb" "$kd/vmlinuz" "$kd/lib" && mkdir -p "$kd/deb"
			mv "$ROOT"/tmp/kimg/*.deb "$kd/deb/" && touch "$kd/deb/.complete"
			ok "kernel image $kver downloaded: $(cd "$kd/deb" && ls | tr '\n' ' ')"
		else
			tail -n 20 "$LOGS/image.log" | sed 's/^/#   /'
			not_ok "kernel image $kver downloads"
		fi
		rm -rf "$ROOT/tmp/kimg"
		lap "kernel image download"
	fi
fi

if [ -n "$envfile" ]; then
	{
		printf 'SID_KVER=%q\n' "$kver"
		[ -s "$ko_dir/ttyrfc.ko" ] && printf 'SID_KO=%q\n' "$ko_dir/ttyrfc.ko"
		[ -n "$dkms_ko" ] && printf 'SID_DKMS_KO=%q\n' "$dkms_ko"
	} >"$envfile"
fi
finish
