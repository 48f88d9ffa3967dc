#!/bin/bash
# tests/vm/suite.sh — the VM suite: for each kernel (tests/vm/kernels.sh list)
# build ttyrfc.ko against its headers, then boot it once per group of tests.
#   TTYRFC_KERNELS="6.1.0-56-amd64"   only these kernels
#   TTYRFC_GROUPS="tests/vm/foundation.sh"   only these groups
#   TTYRFC_KERNELS=debug              the debug kernel (tests/debug-kernel.sh: KASAN,
#                                     lockdep, kmemleak, ...; built on first use, ~12 min)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
GROUPS_ALL="tests/vm/foundation.sh tests/vm/control.sh tests/vm/delivery.sh tests/vm/install.sh tests/vm/esptool.sh tests/vm/selftests.sh tests/vm/quirks.sh tests/vm/abuse.sh tests/vm/torture.sh tests/vm/faults_ci.sh tests/vm/tls_mdns.sh"
status=0

# the tree to build modules against: Debian's headers, or the debug kernel's build tree
kbuild_for() {
	if [ "$1" = debug ]; then
		tests/debug-kernel.sh >&2 || return 1
		(eval "$(tests/debug-kernel.sh --env)" && echo "$DEBUG_KDIR")
	else
		echo "/usr/src/linux-headers-$1"
	fi
}

build_for() {	# kernel version -> path of a ttyrfc.ko built for it
	local kver=$1 dir=build/kmod/$1 kbuild
	kbuild=$(kbuild_for "$kver") || return 1
	# one object dir per debug build (.../debug-kernel/<version>-<hash>/src): objects
	# made against an older debug tree must not be reused
	[ "$kver" = debug ] && dir=build/kmod/debug-$(basename "$(dirname "$kbuild")")
	mkdir -p "$dir"
	# sources only: objects built in-tree for another kernel must not leak in
	{ echo Kbuild; find driver include -name '*.[ch]'; } |
		cpio -pdmu --quiet "$dir" || return 1
	make -s -C "$kbuild" M="$PWD/$dir" W=1 modules \
		>"$dir/build.log" 2>&1 || { cat "$dir/build.log" >&2; return 1; }
	# warning-free with W=1 is part of the contract
	if grep -E 'warning:|error:' "$dir/build.log" >&2; then
		return 1
	fi
	echo "$dir/ttyrfc.ko"
}

# esptool 4.7 (Debian trixie) is unpacked on the host: the VM sees build/ read-only
case " ${TTYRFC_GROUPS:-$GROUPS_ALL} " in
*" tests/vm/esptool.sh "*) tests/vm/fetch-esptool.sh >&2 || status=1 ;;
esac
# the selftests are built here: unpacking the kselftest headers from
# linux-source and compiling take minutes under TCG (the VM checks they
# are up to date and builds its own copy if not)
case " ${TTYRFC_GROUPS:-$GROUPS_ALL} " in
*" tests/vm/selftests.sh "*)
	make -s -C tests/selftests/ttyrfc OUTPUT="$PWD/build/selftests" \
		>&2 || status=1 ;;
esac
# the C programs of the abuse, torture and faults groups, likewise
case " ${TTYRFC_GROUPS:-$GROUPS_ALL} " in
*" tests/vm/abuse.sh "*|*" tests/vm/torture.sh "*|*" tests/vm/faults"*)
	make -s -C tests/vm/progs OUTPUT="$PWD/build/vmtests" >&2 || status=1 ;;
esac

first=1
for kver in $(tests/vm/kernels.sh list); do
	# the first kernel gets every test at full size; later ones the same
	# tests with smaller transfers, to keep CI within its time
	if [ $first = 0 ]; then
		export TTYRFC_XFER_SIZE=${TTYRFC_XFER_SIZE:-4194304}
		export TTYRFC_ESPTOOL_QUICK=${TTYRFC_ESPTOOL_QUICK:-1}
	fi
	first=0
	echo "# kernel $kver"
	if ! ko=$(build_for "$kver"); then
		echo "not ok - ttyrfc.ko builds warning-free (W=1) for $kver"
		echo "0 passed, 1 failed"
		status=1
		continue
	fi
	echo "ok - ttyrfc.ko builds warning-free (W=1) for $kver"
	echo "1 passed, 0 failed"
	for group in ${TTYRFC_GROUPS:-$GROUPS_ALL}; do
		echo "# VM $kver: $group"
		KVER=$kver TTYRFC_KO=$PWD/$ko tests/vm/run.sh "$group" || status=1
	done
done
exit $status
