#!/bin/bash
# tests/vm/kernel.sh — fetch and unpack the Debian kernel image the VM suite boots.
#
# Usage: tests/vm/kernel.sh            # prepare, then print the cache dir
#        eval "$(tests/vm/kernel.sh --env)"   # sets KVER, KDIR, VMLINUZ, KMODDIR,
#                                             # KBUILD (tree to build modules against), KFLAVOUR
#
# Env:   KVER               kernel version (default: newest /usr/src/linux-headers-*-amd64),
#                           or "debug": the debug kernel of tests/debug-kernel.sh (built
#                           if needed; its drivers are built in, KFLAVOUR=debug)
#        TTYRFC_VM_CACHE    cache root (default: $TTYRFC_CACHE/vm, see tests/cache.sh); image lands in $TTYRFC_VM_CACHE/$KVER
# Result: $KDIR/vmlinuz, $KDIR/lib/modules/$KVER/, $KDIR/boot/config-$KVER. Idempotent.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

if [ "${KVER:-}" = debug ]; then
    "$REPO/tests/debug-kernel.sh" >&2     # builds once, then cached
    eval "$("$REPO/tests/debug-kernel.sh" --env)"
    if [ "${1:-}" = --env ]; then
        printf 'KVER=%q\nKDIR=%q\nVMLINUZ=%q\nKMODDIR=%q\nKBUILD=%q\nKFLAVOUR=debug\n' \
            "$DEBUG_KVER" "$DEBUG_ROOT" "$DEBUG_IMAGE" "$DEBUG_MODDIR" "$DEBUG_KDIR"
    else
        echo "$DEBUG_ROOT"
    fi
    exit 0
fi

if [ -z "${KVER:-}" ]; then
    KVER=$("$REPO/tests/vm/kernels.sh" default)
    [ -n "$KVER" ] || { echo "kernel.sh: linux-headers-amd64 is not installed; run tests/vm/deps.sh or set KVER" >&2; exit 1; }
fi
. "$REPO/tests/cache.sh"
CACHE=${TTYRFC_VM_CACHE:-$TTYRFC_CACHE/vm}
KDIR=$CACHE/$KVER

log() { echo "kernel.sh: $*" >&2; }

if [ ! -s "$KDIR/vmlinuz" ] || [ ! -f "$KDIR/lib/modules/$KVER/modules.dep" ]; then
    mkdir -p "$KDIR/deb"
    deb=$(ls "$KDIR"/deb/linux-image-"$KVER"*.deb 2>/dev/null | head -1 || true)
    if [ -z "$deb" ]; then
        log "downloading linux-image-$KVER(-unsigned) into $KDIR/deb"
        ( cd "$KDIR/deb" &&
          { apt-get -o APT::Sandbox::User=root download "linux-image-$KVER-unsigned" >&2 ||
            apt-get -o APT::Sandbox::User=root download "linux-image-$KVER" >&2 ||
            { apt-get update >&2 && { apt-get -o APT::Sandbox::User=root download "linux-image-$KVER-unsigned" >&2 ||
                                      apt-get -o APT::Sandbox::User=root download "linux-image-$KVER" >&2; }; }; } )
        deb=$(ls "$KDIR"/deb/linux-image-"$KVER"*.deb | head -1)
    fi
    # sid splits the image: linux-image-<ver> depends on linux-binary-<ver>
    # (vmlinuz) and linux-modules-<ver>; tests/kbuild-sid.sh --image puts all
    # three into deb/, so unpack every package there
    log "extracting $(cd "$KDIR/deb" && ls -- *.deb | tr '\n' ' ')"
    rm -rf "$KDIR/x" && mkdir -p "$KDIR/x"
    for d in "$KDIR"/deb/*.deb; do dpkg-deb -x "$d" "$KDIR/x"; done
    # Newer packages (sid) put everything under usr/lib.
    for d in "$KDIR/x/lib/modules/$KVER" "$KDIR/x/usr/lib/modules/$KVER"; do
        [ -d "$d" ] && { mkdir -p "$KDIR/lib/modules"; rm -rf "$KDIR/lib/modules/$KVER"; mv "$d" "$KDIR/lib/modules/"; break; }
    done
    for f in "$KDIR/x/boot/vmlinuz-$KVER" "$KDIR/lib/modules/$KVER/vmlinuz"; do
        [ -f "$f" ] && { cp "$f" "$KDIR/vmlinuz.tmp"; break; }
    done
    for f in "$KDIR/x/boot/config-$KVER" "$KDIR/lib/modules/$KVER/config"; do
        [ -f "$f" ] && { mkdir -p "$KDIR/boot"; cp "$f" "$KDIR/boot/config-$KVER"; break; }
    done
    [ -d "$KDIR/lib/modules/$KVER" ] || { log "no modules dir in $deb"; exit 1; }
    [ -f "$KDIR/vmlinuz.tmp" ] || { log "no vmlinuz in $deb"; exit 1; }
    depmod -b "$KDIR" "$KVER"
    rm -rf "$KDIR/x"
    mv "$KDIR/vmlinuz.tmp" "$KDIR/vmlinuz"
    log "ready: $KDIR"
fi

if [ "${1:-}" = "--env" ]; then
    printf 'KVER=%q\nKDIR=%q\nVMLINUZ=%q\nKMODDIR=%q\nKBUILD=%q\nKFLAVOUR=debian\n' "$KVER" "$KDIR" "$KDIR/vmlinuz" \
        "$KDIR/lib/modules/$KVER" "/usr/src/linux-headers-$KVER"
else
    echo "$KDIR"
fi
