#!/bin/bash
# tests/debug-kernel.sh — build the debug kernel the VM suite boots with
# TTYRFC_KERNELS=debug: Debian's linux-source for the default kernel's version
# (tests/vm/kernels.sh default), configured as allnoconfig + tests/debug-kernel.config
# (what the VM needs, built in, plus KASAN, KFENCE, lockdep, DEBUG_OBJECTS, UBSAN,
# kmemleak): about 10 minutes on 2 idle cores, half of a defconfig-based build.
# `make debug-kernel` runs it; needs root the first time (build dependencies).
#
# Usage: tests/debug-kernel.sh                build if needed; last line KDIR=... IMAGE=...
#        tests/debug-kernel.sh --env          only print shell assignments (for eval):
#                                             DEBUG_KVER DEBUG_ROOT DEBUG_KDIR DEBUG_IMAGE DEBUG_MODDIR
#        tests/debug-kernel.sh --config-only  configure and check the .config, don't build
# Env:   TTYRFC_CACHE  cache root (tests/cache.sh); the result lives in
#                      $TTYRFC_CACHE/debug-kernel/<source version>-<hash of fragment+script>/
#        TTYRFC_JOBS   make -j (default 2)
# Layout of that dir: src/ (the built tree: KDIR for `make -C $KDIR M=... modules`),
# bzImage, lib/modules/<release>/ (modules_install, with modules.dep), config,
# build-time (seconds), stamp (written last: its presence means "complete").
# A build that was interrupted resumes (make is incremental) on the next run.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FRAG=$REPO/tests/debug-kernel.config
SELF=$REPO/tests/debug-kernel.sh
JOBS=${TTYRFC_JOBS:-2}
MODE=build
case ${1:-} in
"") ;;
--env) MODE=env ;;
--config-only) MODE=config ;;
*) echo "usage: $0 [--env|--config-only]" >&2; exit 2 ;;
esac
say() { echo "debug-kernel: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

. "$REPO/tests/cache.sh"

# ---------------------------------------------------------------- which source
defkver=$("$REPO/tests/vm/kernels.sh" default)
[ -n "$defkver" ] || die "linux-headers-amd64 is not installed (run tests/vm/deps.sh)"
series=$(echo "$defkver" | grep -oE '^[0-9]+\.[0-9]+')	# 6.1.0-57-amd64 -> 6.1
want=$(dpkg-query -W -f='${Version}' "linux-headers-$defkver")	# e.g. 6.1.192-3
SRCPKG=linux-source-$series
TARBALL=/usr/src/$SRCPKG.tar.xz

have_src() {
	[ -f "$TARBALL" ] &&
		[ "$(dpkg-query -W -f='${Version}' "$SRCPKG" 2>/dev/null)" = "$want" ]
}
if [ "$MODE" != env ]; then
	# build dependencies (the list is in tests/vm/deps.sh) and the matching source
	"$REPO/tests/vm/deps.sh" kbuild >&2
	if ! have_src; then
		[ "$(id -u)" = 0 ] || die "need root to install $SRCPKG=$want"
		say "installing $SRCPKG=$want (the source of $defkver)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			"$SRCPKG=$want" >&2 ||
			{ apt-get update -q >&2 &&
			  DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
				--no-install-recommends "$SRCPKG=$want" >&2; } ||
			die "cannot install $SRCPKG=$want"
	fi
fi

key=$(cat "$FRAG" "$SELF" | sha256sum | cut -c1-12)
ROOT=$TTYRFC_CACHE/debug-kernel/$want-$key
KDIR=$ROOT/src
IMAGE=$ROOT/bzImage

print_env() {
	local rel
	rel=$(cat "$ROOT/release")
	printf 'DEBUG_KVER=%q\nDEBUG_ROOT=%q\nDEBUG_KDIR=%q\nDEBUG_IMAGE=%q\nDEBUG_MODDIR=%q\n' \
		"$rel" "$ROOT" "$KDIR" "$IMAGE" "$ROOT/lib/modules/$rel"
}
if [ "$MODE" = env ]; then
	[ -f "$ROOT/stamp" ] || die "not built yet: run make debug-kernel ($ROOT)"
	print_env
	exit 0
fi

mkdir -p "$TTYRFC_CACHE/debug-kernel"
exec 9>"$TTYRFC_CACHE/debug-kernel/.lock"
flock 9	# one build at a time; a second caller waits, then finds it done

if [ -f "$ROOT/stamp" ] && [ "$MODE" = build ]; then
	say "cached: $ROOT ($(cat "$ROOT/release"), built in $(cat "$ROOT/build-time") s)"
	echo "KDIR=$KDIR IMAGE=$IMAGE"
	exit 0
fi

# ---------------------------------------------------------------- source tree
mkdir -p "$ROOT"
if [ ! -f "$KDIR/.extracted" ]; then
	say "extracting $TARBALL ($want) into $KDIR"
	rm -rf "$KDIR" "$ROOT/src.tmp"
	mkdir -p "$ROOT/src.tmp"
	tar -xJf "$TARBALL" -C "$ROOT/src.tmp" --strip-components=1
	mv "$ROOT/src.tmp" "$KDIR"
	touch "$KDIR/.extracted"
fi

# ---------------------------------------------------------------- config
kmake() { make -C "$KDIR" -j"$JOBS" "$@"; }
if [ ! -f "$KDIR/.config" ] || ! cmp -s "$FRAG" "$KDIR/.ttyrfc-fragment"; then
	say "configuring: allnoconfig + ${FRAG#$REPO/}"
	KCONFIG_ALLCONFIG=$FRAG kmake -s allnoconfig >"$ROOT/merge.log" 2>&1 ||
		{ cat "$ROOT/merge.log" >&2; die "make allnoconfig failed"; }
	cp "$FRAG" "$KDIR/.ttyrfc-fragment"
fi

# every option the fragment asks for must be in the final .config as asked:
# olddefconfig silently drops what an unmet dependency forbids
bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		grep -qxF -- "$line" "$KDIR/.config" || {
			got=$(grep -E "^(# )?${line%%=*}[= ]" "$KDIR/.config" || echo "absent")
			say "asked for $line, got: $got"; bad=1; }
		;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		if grep -q "^$opt=" "$KDIR/.config"; then
			say "asked for '$line', got: $(grep "^$opt=" "$KDIR/.config")"; bad=1
		fi
		;;
	esac
done <"$FRAG"
[ "$bad" = 0 ] || die "the .config differs from ${FRAG#$REPO/} (dependencies?); see $KDIR/.config"
say "config checked: all $(grep -cE '^(CONFIG_|# CONFIG_.* is not set)' "$FRAG") options of the fragment are as asked"
cp "$KDIR/.config" "$ROOT/config"
[ "$MODE" = config ] && exit 0

# ---------------------------------------------------------------- build
say "building bzImage + modules with -j$JOBS (log: $ROOT/build.log)"
t0=$(date +%s)
if ! kmake bzImage modules >"$ROOT/build.log" 2>&1; then
	tail -n 40 "$ROOT/build.log" >&2
	die "kernel build failed (log: $ROOT/build.log)"
fi
rel=$(cat "$KDIR/include/config/kernel.release")
rm -rf "$ROOT/lib"
kmake -s INSTALL_MOD_PATH="$ROOT" modules_install >>"$ROOT/build.log" 2>&1 ||
	{ tail -n 20 "$ROOT/build.log" >&2; die "modules_install failed"; }
# the build/source links point into the tree; keep them valid but harmless
[ -f "$ROOT/lib/modules/$rel/modules.dep" ] || die "no modules.dep after modules_install"
cp "$KDIR/arch/x86/boot/bzImage" "$IMAGE"
t1=$(date +%s)
echo "$rel" >"$ROOT/release"
echo $((t1 - t0)) >"$ROOT/build-time"
date -u +%FT%TZ >"$ROOT/stamp"
say "built $rel in $((t1 - t0)) s: $ROOT"
echo "KDIR=$KDIR IMAGE=$IMAGE"
