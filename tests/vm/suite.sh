#!/bin/bash
# tests/vm/suite.sh — the VM suite: for each kernel (tests/vm/kernels.sh list)
# build ttyrfc.ko against its headers, then boot it once per group of tests.
#   TTYRFC_KERNELS="6.1.0-56-amd64"   only these kernels
#   TTYRFC_GROUPS="tests/vm/foundation.sh"   only these groups
# The kernel "sid" (Debian sid's newest, in the default list) is built for in
# a sid chroot (tests/kbuild-sid.sh: W=1 build, DKMS install of the .deb
# against its headers, its image) and boots for the core groups only.
#   TTYRFC_KERNELS=debug              the debug kernel (tests/debug-kernel.sh: KASAN,
#                                     lockdep, kmemleak, ...; built on first use, ~10 min
#                                     idle; in the default list, the build runs in the
#                                     background at the lowest priority while the first
#                                     kernel's groups boot, and the first kernel leaves
#                                     torture and faults_ci to it)
# The first kernel runs every group; the others what their list below says,
# with smaller transfers, to keep CI within its time (TTYRFC_GROUPS overrides
# the lists). Kernels in TTYRFC_BUILD_ONLY (default: Debian 12's newest 6.12)
# are only built for, warning-free, not booted.
# Every part prints its cost as "# cost: PART: N s".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
GROUPS_ALL="tests/vm/foundation.sh tests/vm/control.sh tests/vm/delivery.sh tests/vm/selftests.sh tests/vm/install.sh tests/vm/esptool.sh tests/vm/quirks.sh tests/vm/abuse.sh tests/vm/torture.sh tests/vm/faults_ci.sh tests/vm/tls_mdns.sh tests/vm/deb.sh tests/vm/matrix.sh"
# the tty ABI and the delivery contract, on every other booted kernel
CORE_GROUPS=${TTYRFC_CORE_GROUPS:-"tests/vm/foundation.sh tests/vm/control.sh tests/vm/selftests.sh"}
# what the checkers (KASAN, lockdep, kmemleak) look at on the debug kernel
DEBUG_GROUPS=${TTYRFC_DEBUG_GROUPS:-"tests/vm/foundation.sh tests/vm/control.sh tests/vm/torture.sh tests/vm/faults_ci.sh"}
# the interop matrix is about the servers, not the kernel
FIRST_KERNEL_ONLY="tests/vm/deb.sh tests/vm/matrix.sh"
# with the debug kernel in the list these run there only: the checkers see them,
# and CI does not pay for them twice
DEBUG_INSTEAD="tests/vm/torture.sh tests/vm/faults_ci.sh"
groups=${TTYRFC_GROUPS:-$GROUPS_ALL}
kernels=$(tests/vm/kernels.sh list)
status=0
cost() { echo "# cost: $1: $(($SECONDS - $2)) s"; }

# The debug kernel, when it is not cached yet: built in the background while
# the other kernels' groups run (SCHED_IDLE and nice 19: the VMs' timing
# checks keep the CPU); wait_debug_build waits for it before its groups
debug_build_pid=
start_debug_build() {
	case " $kernels " in *" debug "*) ;; *) return 0 ;; esac
	tests/debug-kernel.sh --env >/dev/null 2>&1 && return 0
	echo "# debug kernel not cached: building it in the background (build/debug-kernel.log)"
	mkdir -p build
	chrt -i 0 nice -n 19 tests/debug-kernel.sh >build/debug-kernel.log 2>&1 &
	debug_build_pid=$!
	debug_build_t0=$SECONDS
}
# (in the main shell: build_for runs in a subshell, which cannot wait for it)
wait_debug_build() {
	local t=$SECONDS rc=0
	[ -n "$debug_build_pid" ] || return 0
	echo "# waiting for the debug kernel's background build"
	wait "$debug_build_pid" || rc=$?
	debug_build_pid=
	sed 's/^/# /' build/debug-kernel.log | tail -n $([ $rc = 0 ] && echo 2 || echo 40)
	echo "# cost: debug kernel build: waited $((SECONDS - t)) s, $((SECONDS - debug_build_t0)) s since it started"
}

# the tree to build modules against: Debian's headers, or the debug kernel's build tree
kbuild_for() {
	if [ "$1" = debug ]; then
		tests/debug-kernel.sh >&2 || return 1
		(eval "$(tests/debug-kernel.sh --env)" && echo "$DEBUG_KDIR")
	else
		echo "/usr/src/linux-headers-$1"
	fi
}

# groups to boot on kernel $1 ("first": the first in the list): the debug
# list on the debug kernel, all on the first, the core list on the others
groups_for() {
	local g out= want=$CORE_GROUPS
	if [ -n "${TTYRFC_GROUPS:-}" ]; then
		echo "$groups"
		return
	fi
	case $1 in
	debug) want=$DEBUG_GROUPS ;;
	first)
		case " $kernels " in
		*" debug "*)
			for g in $groups; do
				case " $DEBUG_INSTEAD " in *" $g "*) ;; *) out+="$g " ;; esac
			done
			echo "$out" ;;
		*) echo "$groups" ;;
		esac
		return ;;
	esac
	for g in $groups; do
		case " $want " in *" $g "*) out+="$g " ;; esac
	done
	echo "$out"
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

start_debug_build

# the groups some kernel will boot: the host prepares only what they need
planned=
for k in $kernels; do
	w=$k
	[ "$k" = "${kernels%% *}" ] && [ "$k" != debug ] && w=first
	planned+=" $(groups_for "$w")"
done

# esptool 4.7 (Debian trixie) is unpacked on the host: the VM sees build/ read-only
case " $planned " in
*" tests/vm/esptool.sh "*|*" tests/vm/matrix.sh "*) tests/vm/fetch-esptool.sh >&2 || status=1 ;;
esac
# the matrix's ser2net 4.6: a trixie chroot, made here (debootstrap) and
# cached outside the clone; the VM runs it by chroot
case " $planned " in
*" tests/vm/matrix.sh "*)
	t=$SECONDS
	tests/ser2net-trixie.sh || status=1
	cost "trixie chroot with ser2net 4.6" $t ;;
esac
# the selftests are built here: unpacking the kselftest headers from
# linux-source and compiling take minutes under TCG (the VM checks they
# are up to date and builds its own copy if not)
case " $planned " in
*" tests/vm/selftests.sh "*)
	make -s -C tests/selftests/ttyrfc OUTPUT="$PWD/build/selftests" \
		>&2 || status=1 ;;
esac
# the C programs of the abuse, torture and faults groups, likewise
case " $planned " in
*" tests/vm/abuse.sh "*|*" tests/vm/torture.sh "*|*" tests/vm/faults"*)
	make -s -C tests/vm/progs OUTPUT="$PWD/build/vmtests" >&2 || status=1 ;;
esac

# the .debs, built here for the same reason: deb.sh installs them (and an
# upgrade to a rebuilt, newer version), the sid step installs and upgrades
# ttyrfc-dkms
case " $planned $kernels " in
*" tests/vm/deb.sh "*|*" sid "*)
	t=$SECONDS
	echo "# Debian packages (make deb)"
	v=$(dpkg-parsechangelog -S Version)
	if mk/deb.sh build/deb >build/deb.log 2>&1; then
		echo "ok - make deb: ttyrfc-dkms, ttyrfc-tools $v build; lintian: no errors, no warnings"
		echo "1 passed, 0 failed"
	else
		sed 's/^/# /' build/deb.log | tail -n 40
		echo "not ok - make deb: ttyrfc-dkms, ttyrfc-tools $v build; lintian: no errors, no warnings"
		echo "0 passed, 1 failed"
		status=1
	fi
	cost "make deb (build + lintian)" $t
	t=$SECONDS
	mk/deb.sh --no-lintian --version "$v+upgrade1" build/deb-upgrade \
		>build/deb-upgrade.log 2>&1 || { cat build/deb-upgrade.log; status=1; }
	cost "rebuilt .debs for the upgrade tests" $t
	export TTYRFC_DEB_DIR=$PWD/build/deb TTYRFC_DEB_UPGRADE=$PWD/build/deb-upgrade
	;;
esac

# Debian sid's newest kernel: its headers need sid's gcc and libc, so the
# module is built in a sid chroot, warning-free (W=1), and the ttyrfc-dkms
# .deb is installed there: its DKMS build is the module the VM loads
sid_kernel() {
	local t=$SECONDS env=build/sid.env group
	echo "# kernel sid (newest Debian)"
	rm -f "$env"
	tests/kbuild-sid.sh --deb build/deb --upgrade build/deb-upgrade --image \
		--env "$env" || status=1
	cost "sid chroot: W=1 build, DKMS install/hook/upgrade/purge of the .deb, kernel image" $t
	[ -s "$env" ] && . "$env"
	if [ -z "${SID_KVER:-}" ] || [ -z "${SID_DKMS_KO:-}" ]; then
		status=1
		return
	fi
	for group in $(groups_for sid); do
		echo "# VM $SID_KVER: $group"
		t=$SECONDS
		# one vCPU: with two, sid's 7.2 oopsed at boot under bookworm's
		# QEMU 7.2 TCG (int3 left by text patching, in set_next_task_fair)
		# 1 MiB transfers (the first kernel moves 16): one vCPU
		KVER=$SID_KVER TTYRFC_KO=$SID_DKMS_KO TTYRFC_VM_SMP=${TTYRFC_SID_SMP:-1} \
			TTYRFC_XFER_SIZE=${TTYRFC_SID_XFER_SIZE:-1048576} \
			tests/vm/run.sh "$group" || status=1
		cost "VM $SID_KVER: $group" $t
	done
}

for kver in ${TTYRFC_BUILD_ONLY-$(tests/vm/kernels.sh newest612)}; do
	t=$SECONDS
	echo "# kernel $kver (built for, not booted)"
	if build_for "$kver" >/dev/null; then
		echo "ok - ttyrfc.ko builds warning-free (W=1) for $kver"
		echo "1 passed, 0 failed"
	else
		echo "not ok - ttyrfc.ko builds warning-free (W=1) for $kver"
		echo "0 passed, 1 failed"
		status=1
	fi
	cost "W=1 build for $kver" $t
done

first=1 first_kver=
for kver in $kernels; do
	first_kver=${first_kver:-$kver}
	# the first kernel gets every test at full size; later ones the same
	# tests with smaller transfers, to keep CI within its time
	if [ $first = 0 ]; then
		export TTYRFC_XFER_SIZE=${TTYRFC_XFER_SIZE:-4194304}
		export TTYRFC_ESPTOOL_QUICK=${TTYRFC_ESPTOOL_QUICK:-1}
	fi
	first=0
	# about 10x slower than the others under TCG: smaller transfers, 2
	# rounds of each fault (torture keeps its 2 minutes)
	xfer=${TTYRFC_XFER_SIZE:-} rounds=${TTYRFC_FAULTS_ROUNDS:-}
	if [ "$kver" = debug ]; then
		xfer=${TTYRFC_DEBUG_XFER_SIZE:-262144}
		rounds=${TTYRFC_FAULTS_ROUNDS:-2}
	fi
	if [ "$kver" = sid ]; then
		sid_kernel
		continue
	fi
	echo "# kernel $kver"
	[ "$kver" = debug ] && wait_debug_build
	if ! ko=$(build_for "$kver"); then
		echo "not ok - ttyrfc.ko builds warning-free (W=1) for $kver"
		echo "0 passed, 1 failed"
		status=1
		continue
	fi
	echo "ok - ttyrfc.ko builds warning-free (W=1) for $kver"
	echo "1 passed, 0 failed"
	which=$kver
	[ "$kver" = "$first_kver" ] && [ "$kver" != debug ] && which=first
	for group in $(groups_for "$which"); do
		# each DKMS build takes minutes under TCG: the packages' group
		# runs on the first kernel only (install.sh's make install covers
		# DKMS on the others, the sid step the newest kernel)
		case " $FIRST_KERNEL_ONLY " in
		*" $group "*) [ "$kver" = "$first_kver" ] || continue ;;
		esac
		echo "# VM $kver: $group"
		t=$SECONDS
		# two DKMS builds under TCG: minutes each on an idle machine,
		# a quarter of an hour each when other VMs share its 2 cores
		tmo=${TTYRFC_VM_TIMEOUT:-900}
		[ "$group" = tests/vm/deb.sh ] && tmo=${TTYRFC_VM_TIMEOUT:-3600}
		[ "$kver" = debug ] && tmo=${TTYRFC_VM_TIMEOUT:-3600}
		KVER=$kver TTYRFC_KO=$PWD/$ko TTYRFC_VM_TIMEOUT=$tmo \
			TTYRFC_XFER_SIZE=${xfer:-${TTYRFC_XFER_SIZE:-}} \
			TTYRFC_FAULTS_ROUNDS=$rounds \
			tests/vm/run.sh "$group" || status=1
		cost "VM $kver: $group" $t
	done
done
exit $status
