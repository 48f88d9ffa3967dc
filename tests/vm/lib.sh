# tests/vm/lib.sh — tiny TAP-ish helpers for in-VM test scripts (bash).
# shellcheck shell=bash
#
#   . "$(dirname "$0")/lib.sh"     (or: . tests/vm/lib.sh from the repo root)
#   t_ok NAME                  record a pass:  "ok N - NAME"
#   t_fail NAME [REASON...]    record a fail:  "not ok N - NAME" + "#   REASON"
#   t_skip NAME [REASON]       record a skip:  "ok N - NAME # SKIP REASON" (counts as passed)
#   t_run NAME CMD [ARGS...]   run CMD (stdout+stderr captured); pass if exit 0,
#                              else fail and print the last $T_TAIL (20) output lines
#                              indented. Set T_VERBOSE=1 to always show the output.
#                              Honours T_TIMEOUT (seconds, default none) via timeout(1).
#   t_tap CMD [ARGS...]        run CMD, a program printing "ok - NAME" / "not ok - NAME"
#                              lines, each after its "# ..." diagnostics (shown when it
#                              fails); "## ..." lines are always shown. Every result
#                              becomes a t_ok/t_fail; a CMD that fails (or times out,
#                              T_TIMEOUT) without reporting a failure fails one more.
#   t_progs                    set PROGS to a directory with up-to-date builds of
#                              tests/vm/progs (build/vmtests from the host, else built
#                              here into /tmp); fails the group's "build" test if not
#   t_diag MSG...              print "# MSG" lines
#   t_dmesg_clean [NAME]       fail if the kernel log (since t_dmesg_mark, else since
#                              boot) has WARNING:/BUG:/Oops/KASAN:/lockdep/... reports
#   t_dmesg_mark               write a unique marker line to /dev/kmsg: t_dmesg_clean
#                              judges only what follows it (boot-time noise isn't ours)
#   t_kmemleak_clean [NAME]    on a kernel with kmemleak (the debug kernel): scan, fail
#                              if a leak report names ttyrfc; other leaks are diagnostics.
#                              Does nothing on kernels without kmemleak.
#   t_unit_helper [BIN]        start ttyrfcd (default /usr/sbin/ttyrfcd) with only what
#                              ttyrfcd.service grants; HELPER_PID; waits until it registers
#   t_summary                  print "N passed, N failed"; returns 1 if any failed
# Counters: T_N (tests so far), T_PASS, T_FAIL. Output goes to stdout.

T_N=${T_N:-0}; T_PASS=${T_PASS:-0}; T_FAIL=${T_FAIL:-0}
T_TAIL=${T_TAIL:-20}
T_DMESG_MARK=${T_DMESG_MARK:-}

t_diag() { local l; for l in "$@"; do printf '# %s\n' "$l"; done; }

t_ok() {
    T_N=$((T_N + 1)); T_PASS=$((T_PASS + 1))
    printf 'ok %d - %s\n' "$T_N" "$1"
}

t_skip() {
    T_N=$((T_N + 1)); T_PASS=$((T_PASS + 1))
    printf 'ok %d - %s # SKIP %s\n' "$T_N" "$1" "${2:-}"
}

t_fail() {
    local name=$1; shift
    T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1))
    printf 'not ok %d - %s\n' "$T_N" "$name"
    [ $# -gt 0 ] && printf '%s\n' "$*" | sed 's/^/#   /'
    return 0
}

t_run() {
    local name=$1; shift
    local out rc start=$SECONDS
    out=$(mktemp "${TMPDIR:-/tmp}/t_run.XXXXXX")
    if [ -n "${T_TIMEOUT:-}" ] && declare -F "$1" >/dev/null; then
        # timeout(1) cannot run a shell function: a watchdog ends it (and its
        # children) instead, and the result reads like timeout's 124
        ( "$@" ) >"$out" 2>&1 </dev/null &
        local pid=$! dog
        ( sleep "$T_TIMEOUT"; touch "$out.timeout"; pkill -TERM -P "$pid"
          kill -TERM "$pid"; sleep 5; pkill -KILL -P "$pid"; kill -KILL "$pid" ) \
            >/dev/null 2>&1 &
        dog=$!
        wait "$pid"; rc=$?
        kill "$dog" 2>/dev/null; wait "$dog" 2>/dev/null
        [ -e "$out.timeout" ] && rc=124
        rm -f "$out.timeout"
    elif [ -n "${T_TIMEOUT:-}" ]; then
        timeout -k 5 "$T_TIMEOUT" "$@" >"$out" 2>&1 </dev/null; rc=$?
    else
        "$@" >"$out" 2>&1 </dev/null; rc=$?
    fi
    if [ "$rc" -eq 0 ]; then
        t_ok "$name"
        [ "${T_VERBOSE:-0}" = 1 ] && sed 's/^/#   /' "$out"
        # where a group's time goes, for CI's budget
        [ $((SECONDS - start)) -ge 20 ] && printf '#   (%d s)\n' $((SECONDS - start))
    else
        local why="exit $rc"; [ "$rc" -eq 124 ] && [ -n "${T_TIMEOUT:-}" ] && why="timeout after ${T_TIMEOUT}s"
        t_fail "$name" "$why: $*"
        tail -n "$T_TAIL" "$out" | sed 's/^/#   /'
    fi
    rm -f "$out"
    return "$rc"
}

t_tap() {
	local line diag="" nfail=0 rc rcf
	rcf=$(mktemp "${TMPDIR:-/tmp}/t_tap.XXXXXX")
	while IFS= read -r line; do
		case $line in
		"ok - "*"# SKIP"*)
			line=${line#ok - }
			t_skip "${line%% # SKIP*}" "${line#* # SKIP }"; diag="" ;;
		"ok - "*) t_ok "${line#ok - }"; diag="" ;;
		"not ok - "*)
			t_fail "${line#not ok - }" "${diag%$'\n'}"
			nfail=$((nfail + 1)); diag="" ;;
		"## "*) printf '# %s\n' "${line#\#\# }" ;;
		"# "*) diag+="${line#\# }"$'\n'
			[ "${T_VERBOSE:-0}" = 1 ] && printf '%s\n' "$line" ;;
		*) diag+="$line"$'\n' ;;
		esac
	done < <(if [ -n "${T_TIMEOUT:-}" ]; then
			timeout -k 5 "$T_TIMEOUT" "$@" 2>&1 </dev/null
		 else
			"$@" 2>&1 </dev/null
		 fi; echo $? >"$rcf")
	rc=$(cat "$rcf"); rm -f "$rcf"
	if [ "$rc" != 0 ] && [ "$nfail" = 0 ]; then
		local why="exit $rc"
		[ "$rc" = 124 ] && [ -n "${T_TIMEOUT:-}" ] && why="timeout after ${T_TIMEOUT}s"
		t_fail "$* ($why)" "$(printf '%s' "$diag" | tail -n "$T_TAIL")"
	fi
	[ "$rc" = 0 ]
}

t_progs() {
	PROGS=$PWD/build/vmtests
	make -s -q -C tests/vm/progs OUTPUT="$PROGS" 2>/dev/null && return 0
	PROGS=/tmp/vmtests
	t_diag "building tests/vm/progs in the VM (slow under TCG)"
	make -s -C tests/vm/progs OUTPUT="$PROGS" >"${TTYRFC_VM_RESULTS:-/tmp}/progs-build.log" 2>&1 &&
		return 0
	t_fail "build tests/vm/progs" "$(tail -n 20 "${TTYRFC_VM_RESULTS:-/tmp}/progs-build.log")"
	return 1
}

# Reports, not boot chatter: the debug kernel's checkers print e.g. "BUG: KASAN: ...",
# "BUG: KFENCE: ...", "WARNING: possible circular locking dependency detected",
# "ODEBUG: free active ...", "UBSAN: shift-out-of-bounds in ..."; its boot lines
# ("RCU lockdep checking is enabled.", "kasan: KernelAddressSANitizer initialized",
# "kmemleak: Kernel memory leak detector initialized") must not match.
T_DMESG_PATTERN_LIST=(
    'WARNING:' 'BUG:' 'Oops' 'kernel BUG' 'general protection' 'Call Trace:'
    'scheduling while atomic' 'refcount_t' 'use-after-free' 'INFO: task .* blocked'
    'list_add corruption' 'list_del corruption'
    'KASAN:' 'KFENCE:' 'UBSAN:' 'ODEBUG:'
    'possible circular locking' 'possible recursive locking' 'inconsistent lock state'
    'suspicious RCU usage' 'sleeping function called from invalid context'
    'possible irq lock inversion' 'bad unlock balance' 'held lock freed'
    'INFO: trying to register non-static key' 'DEBUG_LOCKS_WARN_ON'
    'unreferenced object'
)
T_DMESG_PATTERN=$(IFS='|'; echo "${T_DMESG_PATTERN_LIST[*]}")
T_DMESG_MARKER=

# lockdep switches itself off after its first report: say so if that happened at boot
t_lockdep_state() {
    [ -r /proc/lockdep_stats ] || return 0
    awk '$1 == "debug_locks:" {print $2}' /proc/lockdep_stats
}

t_dmesg_mark() {
    T_DMESG_MARKER="ttyrfc-test-mark $(cat /proc/sys/kernel/random/uuid 2>/dev/null || echo "$$.$RANDOM")"
    if ! { echo "$T_DMESG_MARKER" >/dev/kmsg; } 2>/dev/null; then
        T_DMESG_MARKER=
        T_DMESG_MARK=$(dmesg | wc -l)   # no /dev/kmsg (not root?): count lines instead
    fi
    [ "$(t_lockdep_state)" != 0 ] ||
        t_diag "lockdep was already off before the tests (a boot-time report?): no lock checking"
    # leaks found before the tests (none of ours: the module is not loaded yet) are
    # not reported again
    [ -w /sys/kernel/debug/kmemleak ] && { echo clear >/sys/kernel/debug/kmemleak; } 2>/dev/null
    return 0
}

# the kernel log after the marker (all of it if the marker scrolled out of the ring)
# -> T_DMESG_LOG
t_dmesg_since_mark() {
    T_DMESG_LOG=$(dmesg)
    if [ -n "$T_DMESG_MARKER" ]; then
        if printf '%s\n' "$T_DMESG_LOG" | grep -qF -- "$T_DMESG_MARKER"; then
            T_DMESG_LOG=$(printf '%s\n' "$T_DMESG_LOG" | awk -v m="$T_DMESG_MARKER" 'seen; index($0, m) {seen = 1}')
        else
            t_diag "dmesg marker not found (ring buffer wrapped?): judging the whole log"
        fi
    elif [ -n "$T_DMESG_MARK" ]; then
        T_DMESG_LOG=$(printf '%s\n' "$T_DMESG_LOG" | tail -n +"$((T_DMESG_MARK + 1))")
    fi
}

t_dmesg_clean() {
    local name=${1:-dmesg clean}
    t_dmesg_since_mark
    if printf '%s\n' "$T_DMESG_LOG" | grep -Eq "$T_DMESG_PATTERN"; then
        t_fail "$name" "kernel log has warnings/oopses/checker reports:"
        printf '%s\n' "$T_DMESG_LOG" | grep -E -B2 -A40 "$T_DMESG_PATTERN" | head -n "${T_DMESG_LINES:-200}" | sed 's/^/#   /'
        return 1
    fi
    t_ok "$name"
}

# kmemleak only reports an object after it has been unreferenced for 5 s and seen so
# by a scan, and a pointer left in a register or on a stack can hide one scan: scan,
# wait, scan again. A leak is ours if its backtrace names ttyrfc, or has a frame that
# no longer resolves to a symbol: a module unloaded since, i.e. ttyrfc (the debug
# kernel builds everything else in).
t_kmemleak_clean() {
    local name=${1:-kmemleak: nothing allocated by ttyrfc leaked} f=/sys/kernel/debug/kmemleak
    local out ours
    [ -e "$f" ] || return 0
    if ! { echo scan >"$f"; } 2>/dev/null; then
        if grep -qw 'kmemleak=off' /proc/cmdline; then
            t_skip "$name" "kmemleak=off"
        else
            t_fail "$name" "kmemleak is disabled, nothing was checked:" \
                "$(dmesg | grep -i kmemleak | tail -n 5)"
        fi
        return 0
    fi
    sleep "${T_KMEMLEAK_WAIT:-6}"
    echo scan >"$f"
    out=$(cat "$f")
    ours=$(printf '%s\n' "$out" | awk '
        /^unreferenced object/ { if (mine) printf "%s", rec; rec = ""; mine = 0 }
        { rec = rec $0 "\n" }
        /ttyrfc/ || /\] 0x[0-9a-f]+$/ { mine = 1 }
        END { if (mine) printf "%s", rec }')
    if [ -n "$ours" ]; then
        t_fail "$name" "kmemleak reports leaks from ttyrfc ($(printf '%s\n' "$ours" | grep -c '^unreferenced object')):"
        printf '%s\n' "$ours" | head -n "${T_DMESG_LINES:-200}" | sed 's/^/#   /'
        return 1
    fi
    t_ok "$name"
    if [ -n "$out" ]; then
        t_diag "kmemleak: $(printf '%s\n' "$out" | grep -c '^unreferenced object') leak(s) not from ttyrfc (diagnostic only):"
        printf '%s\n' "$out" | head -n 40 | sed 's/^/#   /'
    fi
    return 0
}

t_summary() {
    [ "$T_N" -gt 0 ] && printf '1..%d\n' "$T_N"
    printf '%d passed, %d failed\n' "$T_PASS" "$T_FAIL"
    [ "$T_FAIL" -eq 0 ]
}

t_unit_helper() {
	# what ttyrfcd.service grants: a dynamic non-root user whose only
	# capability is CAP_NET_ADMIN (ambient), no new privileges
	setpriv --reuid=61234 --regid=61234 --clear-groups \
		--inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin \
		--bounding-set=-all,+net_admin --no-new-privs \
		"${1:-/usr/sbin/ttyrfcd}" >>"${TTYRFC_VM_RESULTS:-/tmp}/ttyrfcd.log" 2>&1 &
	HELPER_PID=$!
	for _ in $(seq 100); do
		grep -q "registered with" "${TTYRFC_VM_RESULTS:-/tmp}/ttyrfcd.log" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "${TTYRFC_VM_RESULTS:-/tmp}/ttyrfcd.log"
	return 1
}
