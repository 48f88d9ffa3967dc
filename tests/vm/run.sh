#!/bin/bash
# tests/vm/run.sh SCRIPT [ARGS...] — boot a Debian kernel under QEMU (TCG) with the
# host's / shared read-only over virtio-9p (+ tmpfs overlay), chroot into it, cd to
# this repo and run SCRIPT (path relative to the repo or absolute) with ARGS.
# SCRIPT's stdout/stderr stream to our stdout; our exit code is SCRIPT's.
#
# Env:
#   KVER                 kernel to boot (default: see tests/vm/kernel.sh)
#   TTYRFC_VM_CACHE      cache root (default $TTYRFC_CACHE/vm, see tests/cache.sh)
#   TTYRFC_VM_TIMEOUT    seconds before the VM is killed (default 900; debug kernel 5400)
#                        -> exit 124
#   TTYRFC_VM_MEM        guest RAM in MiB (default 2048; debug kernel 3072, for KASAN's
#                        shadow, kmemleak's and lockdep's tables)
#   TTYRFC_VM_SMP        guest CPUs (default 2)
#   TTYRFC_VM_APPEND     extra kernel command line
#   TTYRFC_VM_KEEP       host dir: copy the per-run results dir (logs the script left
#                        in $TTYRFC_VM_RESULTS) there after the run
#   TTYRFC_VM_QUIET=1    don't print run.sh's own progress lines (to stderr)
#   TMPDIR               where the per-run results dir is made (default /tmp)
#   TTYRFC_VM_CONSOLE=1 also stream the kernel console (ttyS0) to stdout; otherwise
#                        it goes to a log whose tail is printed when the script fails/crashes
# All other TTYRFC_* variables, plus V and VERBOSE, are passed into the guest.
# KVER=debug boots the debug kernel (tests/debug-kernel.sh): its drivers are built
# in, so the initramfs has no modules, and the guest gets TTYRFC_SLOW=1 (unless set)
# so groups can widen timing tolerances for a kernel ~10x slower under TCG.
# Inside the guest: TTYRFC_VM=1, TTYRFC_VM_RESULTS=/run/vm-results (RW, host-visible).
# Exit codes: SCRIPT's; 124 timeout; 125 VM ended without reporting (crash/panic);
#             126 SCRIPT not found.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$REPO/tests/vm
say() { [ "${TTYRFC_VM_QUIET:-0}" = 1 ] || echo "run.sh: $*" >&2; }

[ $# -ge 1 ] || { echo "usage: $0 SCRIPT [ARGS...]" >&2; exit 2; }
SCRIPT=$1; shift
case $SCRIPT in /*) ;; *) SCRIPT=$REPO/$SCRIPT ;; esac
[ -f "$SCRIPT" ] || { echo "run.sh: no such script: $SCRIPT" >&2; exit 126; }

eval "$("$HERE/kernel.sh" --env)"      # KVER KDIR VMLINUZ KMODDIR KBUILD KFLAVOUR
if [ "$KFLAVOUR" = debug ]; then
    : "${TTYRFC_VM_TIMEOUT:=5400}" "${TTYRFC_VM_MEM:=3072}"
    export TTYRFC_SLOW=${TTYRFC_SLOW:-1}
fi

T0=$(date +%s.%N)

# ---------------------------------------------------------------- initramfs
BUSYBOX=$(command -v busybox || echo /bin/busybox)
file_is_static() { ! ldd "$1" >/dev/null 2>&1; }
file_is_static "$BUSYBOX" || { echo "run.sh: $BUSYBOX is not static; install busybox-static" >&2; exit 1; }

# What init.sh must insmod before it can mount the host's /: module files with their
# dependencies, in order. A kernel with them built in (the debug kernel) prints
# "builtin NAME" instead, and the initramfs then carries no modules.
INIT_MODULES="virtio_pci 9pnet_virtio 9p overlay virtio_rng"
mods=()
for m in $INIT_MODULES; do
    deps=$(modprobe -d "$KDIR" -S "$KVER" --show-depends "$m" 2>&1) ||
        { echo "run.sh: $KVER has no $m (neither a module nor built in): $deps" >&2; exit 1; }
    while read -r kind path _; do
        [ "$kind" = insmod ] || continue
        case " ${mods[*]-} " in *" $path "*) ;; *) mods+=("$path") ;; esac
    done <<<"$deps"
done

key=$( { echo "$KVER"; sha256sum "$BUSYBOX" "$HERE/init.sh" "$0"; printf '%s\n' "${mods[@]+"${mods[@]}"}"; } | sha256sum | cut -c1-16)
INITRD=$KDIR/initrd-$key.cpio.gz
if [ ! -s "$INITRD" ]; then
    say "building initramfs $INITRD"
    stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
    mkdir -p "$stage"/{bin,dev,proc,sys,lower,upper,newroot,results,modules}
    cp "$BUSYBOX" "$stage/bin/busybox"
    ln -s busybox "$stage/bin/sh"
    cp "$HERE/init.sh" "$stage/init"; chmod 755 "$stage/init"
    : > "$stage/modules/order"
    for p in "${mods[@]+"${mods[@]}"}"; do
        b=$(basename "$p"); b=${b%.xz}; b=${b%.zst}; b=${b%.gz}
        case $p in
            *.xz)  xz -dc "$p" > "$stage/modules/$b" ;;
            *.zst) zstd -qdc "$p" > "$stage/modules/$b" ;;
            *.gz)  gzip -dc "$p" > "$stage/modules/$b" ;;
            *)     cp "$p" "$stage/modules/$b" ;;
        esac
        echo "$b" >> "$stage/modules/order"
    done
    ( cd "$stage" && find . | sort | cpio -o -H newc --quiet -R 0:0 | gzip -1 ) > "$INITRD.tmp$$"
    mv "$INITRD.tmp$$" "$INITRD"
    rm -rf "$stage"; trap - EXIT
    # drop stale initrds for this kernel (old enough not to be in use by a parallel run)
    find "$KDIR" -maxdepth 1 -name 'initrd-*.cpio.gz*' -mmin +60 ! -path "$INITRD" -delete
fi

# ---------------------------------------------------------------- results dir + job
RES=$(mktemp -d "${TMPDIR:-/tmp}/ttyrfc-vm.XXXXXX")
cleanup() {
    if [ -n "${TTYRFC_VM_KEEP:-}" ]; then mkdir -p "$TTYRFC_VM_KEEP" && cp -a "$RES/." "$TTYRFC_VM_KEEP/" || true; fi
    rm -rf "$RES"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

{
    printf 'KVER=%q\nKMODDIR=%q\nREPO=%q\n' "$KVER" "$KMODDIR" "$REPO"
    # keep the guest's \n -> \r\n mapping only when a human is watching a terminal
    if [ -t 1 ]; then echo VM_ONLCR=1; else echo VM_ONLCR=0; fi
} > "$RES/vm.conf"

{
    echo '#!/bin/bash'
    echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    echo 'export HOME=/root TERM=${TERM:-dumb} LANG=C.UTF-8 USER=root LOGNAME=root SHELL=/bin/bash'
    echo 'export TTYRFC_VM=1 TTYRFC_VM_RESULTS=/run/vm-results'
    printf 'export TTYRFC_REPO=%q\n' "$REPO"
    while IFS= read -r v; do
        case $v in TTYRFC_VM_KEEP|TTYRFC_VM_RESULTS|TTYRFC_VM|TTYRFC_REPO) continue ;; esac
        printf 'export %s=%q\n' "$v" "${!v}"
    done < <(compgen -e | grep -E '^(TTYRFC_[A-Za-z0-9_]*|V|VERBOSE)$' || true)
    printf 'cd %q || exit 126\n' "$REPO"
    if [ -x "$SCRIPT" ]; then printf 'exec %q' "$SCRIPT"; else printf 'exec /bin/bash %q' "$SCRIPT"; fi
    for a in "$@"; do printf ' %q' "$a"; done
    echo
} > "$RES/job.sh"
chmod 755 "$RES/job.sh"

# ---------------------------------------------------------------- boot
TIMEOUT=${TTYRFC_VM_TIMEOUT:-900}
APPEND="console=ttyS0 quiet panic=-1 mitigations=off nokaslr random.trust_cpu=on"
APPEND+=" i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd 8250.nr_uarts=2 tsc=reliable no_timer_check"
# KASAN prints only its first report unless told otherwise: a boot-time one under TCG
# (not ours, see DESIGN.md) must not hide the module's; a big log ring keeps the
# tests' dmesg marker (tests/vm/lib.sh) from scrolling out under the checkers' output
[ "$KFLAVOUR" = debug ] && APPEND+=" kasan_multi_shot log_buf_len=8M"
# The i440fx _PRT method loops over 128 slots in AML; on the debug kernel under TCG
# each evaluation runs into ACPICA's 30 s loop timeout (AE_AML_LOOP_TIMEOUT, once per
# PCI device: +90 s of boot). Route PCI interrupts by the BIOS's PIRQ table instead.
[ "$KFLAVOUR" = debug ] && APPEND+=" pci=noacpi"
APPEND+=" rdinit=/init ${TTYRFC_VM_APPEND:-}"

# ttyS0 = kernel console -> $RES/console.log (or also stdout with TTYRFC_VM_CONSOLE=1)
# ttyS1 = the script's stdin/stdout/stderr <-> our stdio
if [ "${TTYRFC_VM_CONSOLE:-0}" = 1 ]; then
    SERIAL=(-chardev stdio,id=out,mux=on,logfile="$RES/console.log" -serial chardev:out -serial chardev:out)
else
    SERIAL=(-chardev file,id=con,path="$RES/console.log" -serial chardev:con -serial stdio)
fi
say "booting $KVER (timeout ${TIMEOUT}s): ${SCRIPT#$REPO/} $*"
set +e
timeout --foreground -k 5 "$TIMEOUT" qemu-system-x86_64 \
    -accel tcg -cpu "${TTYRFC_VM_CPU:-max}" -m "${TTYRFC_VM_MEM:-2048}" -smp "${TTYRFC_VM_SMP:-2}" \
    -nodefaults -no-user-config -display none -no-reboot \
    "${SERIAL[@]}" -monitor none \
    -kernel "$VMLINUZ" -initrd "$INITRD" -append "$APPEND" \
    -fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
    -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
    -fsdev local,id=results,path="$RES",security_model=none \
    -device virtio-9p-pci,fsdev=results,mount_tag=results \
    -device virtio-rng-pci
qrc=$?
set -e

T1=$(date +%s.%N)
dur=$(awk -v a="$T0" -v b="$T1" 'BEGIN{printf "%.1f", b-a}')
console_tail() {
    [ "${TTYRFC_VM_CONSOLE:-0}" = 1 ] && return 0
    echo "run.sh: --- last kernel console lines ($1) ---" >&2
    tail -n "${TTYRFC_VM_CONSOLE_LINES:-60}" "$RES/console.log" 2>/dev/null | tr -d '\r' >&2
    echo "run.sh: --- end of kernel console ---" >&2
}
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
    echo "run.sh: TIMEOUT after ${TIMEOUT}s (VM killed)" >&2; console_tail timeout; exit 124
fi
if [ ! -s "$RES/rc" ]; then
    echo "run.sh: VM ended without an exit code (crash/panic?) qemu rc=$qrc after ${dur}s" >&2
    console_tail crash; exit 125
fi
rc=$(cat "$RES/rc")
[ "$rc" = 0 ] || console_tail "exit $rc"
[ -s "$RES/boot-time" ] && say "guest reached script at $(cat "$RES/boot-time")s uptime"
say "script exited $rc; VM total ${dur}s"
exit "$rc"
