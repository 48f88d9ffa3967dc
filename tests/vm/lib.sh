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
#                              boot) has WARNING:/BUG:/Oops/... lines
#   t_dmesg_mark               remember the current end of dmesg for t_dmesg_clean
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
    local out rc
    out=$(mktemp "${TMPDIR:-/tmp}/t_run.XXXXXX")
    if [ -n "${T_TIMEOUT:-}" ]; then
        timeout -k 5 "$T_TIMEOUT" "$@" >"$out" 2>&1 </dev/null; rc=$?
    else
        "$@" >"$out" 2>&1 </dev/null; rc=$?
    fi
    if [ "$rc" -eq 0 ]; then
        t_ok "$name"
        [ "${T_VERBOSE:-0}" = 1 ] && sed 's/^/#   /' "$out"
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

T_DMESG_PATTERN='WARNING:|BUG:|Oops|scheduling while atomic|general protection|KASAN|refcount_t|list_del corruption|list_add corruption|INFO: task .* blocked|Call Trace:|kernel BUG|UBSAN|use-after-free'

t_dmesg_mark() { T_DMESG_MARK=$(dmesg | wc -l); }

t_dmesg_clean() {
    local name=${1:-dmesg clean} log
    log=$(dmesg)
    [ -n "$T_DMESG_MARK" ] && log=$(printf '%s\n' "$log" | tail -n +"$((T_DMESG_MARK + 1))")
    if printf '%s\n' "$log" | grep -Eq "$T_DMESG_PATTERN"; then
        t_fail "$name" "kernel log has warnings/oopses:"
        printf '%s\n' "$log" | grep -E -A12 "$T_DMESG_PATTERN" | head -n 60 | sed 's/^/#   /'
        return 1
    fi
    t_ok "$name"
}

t_summary() {
    [ "$T_N" -gt 0 ] && printf '1..%d\n' "$T_N"
    printf '%d passed, %d failed\n' "$T_PASS" "$T_FAIL"
    [ "$T_FAIL" -eq 0 ]
}
