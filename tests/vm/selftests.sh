#!/bin/bash
# The kselftest group, run inside the VM by tests/vm/suite.sh: builds the
# tty-ABI selftests in tests/selftests/ttyrfc (kernel kselftest harness, TAP),
# loads the module with open_timeout=3, runs ttyrfc_nohelper_test before
# ttyrfcd starts and ttyrfc_tty_test after, and turns every TAP result into
# one t_ok/t_fail line. Tests named issue9_<n>_* are regression tests for
# issue 9 item <n>: they fail until the driver fix lands.
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
LOG=${TTYRFC_VM_RESULTS:-/tmp}
HELPER=userspace-helper/ttyrfcd
SRC=tests/selftests/ttyrfc
export TTYRFCCTL=$PWD/userspace-helper/ttyrfcctl

t_dmesg_mark

# suite.sh builds them on the host (extracting the kselftest headers from
# linux-source and compiling are slow under TCG); build/ is read-only here,
# so if that copy is missing or stale, build another one in /tmp.
OUT=$PWD/build/selftests
if ! make -s -q -C "$SRC" OUTPUT="$OUT" 2>/dev/null; then
	KSFT=$OUT/kselftest
	[ -r "$KSFT/kselftest_harness.h" ] || KSFT=/tmp/ttyrfc-selftests/kselftest
	OUT=/tmp/ttyrfc-selftests
	t_diag "building the selftests in the VM"
	if ! make -s -C "$SRC" OUTPUT="$OUT" KSFT_DIR="$KSFT" \
		>"$LOG/selftests-build.log" 2>&1; then
		t_fail "build the selftests" "$(tail -n 20 "$LOG/selftests-build.log")"
		t_summary
		exit 1
	fi
fi

insmod "${TTYRFC_KO:-./ttyrfc.ko}" open_timeout=3 ||
	{ t_fail "insmod"; t_summary; exit 1; }

# kselftest TAP -> t_ok/t_fail. The harness prints "#  RUN  fixture.test",
# the test's "# ..." diagnostics, then "ok N fixture.test" or "not ok N
# fixture.test"; 6.1's harness leaves the name out of "ok N # SKIP why", so
# it comes from the RUN line.
ksft_run() {	# binary
	local line name="" diag="" item
	while IFS= read -r line; do
		printf '%s\n' "$line" >>"$LOG/selftests.tap"
		case $line in
		"#  RUN "*)
			name=${line#"#  RUN"}
			name=${name#"${name%%[! ]*}"}
			name=${name% ...}
			diag=""
			;;
		"ok "*"# SKIP"*)
			t_skip "$name" "${line#*# SKIP }"
			;;
		"ok "*)
			t_ok "${line#ok * }"
			;;
		"not ok "*)
			name=${line#not ok * }
			item=$(expr "$name" : '.*issue9_\([0-9]*\)_')
			[ -n "$item" ] && diag+="regression test for issue 9 item $item: fails until the driver fix lands"$'\n'
			t_fail "$name" "${diag%$'\n'}"
			;;
		"# Totals:"*|"# PASSED:"*|"# FAILED:"*)
			t_diag "${1##*/}: ${line#\# }"
			;;
		"# "*)
			# the test's own lines; the harness's OK/FAIL echo is noise
			case $line in "#"*" OK  "*|"#"*" FAIL  "*) ;;
			*) diag+="${line#\# }"$'\n' ;; esac
			;;
		esac
	done < <(timeout -k 5 900 "$1" 2>&1)
}

T0=$(date +%s)
ksft_run "$OUT/ttyrfc_nohelper_test"

$HELPER >>"$LOG/ttyrfcd.log" 2>&1 &
HELPER_PID=$!
for _ in $(seq 50); do
	grep -q "registered with" "$LOG/ttyrfcd.log" 2>/dev/null && break
	sleep 0.1
done
ksft_run "$OUT/ttyrfc_tty_test"
t_diag "selftests ran in $(($(date +%s) - T0)) s"

kill "$HELPER_PID" 2>/dev/null
wait "$HELPER_PID" 2>/dev/null
# a test that failed half-way may leave a port behind; rmmod removes it
rmmod ttyrfc || t_fail "rmmod after the selftests"
t_dmesg_clean "dmesg has no WARN/BUG/oops after the selftests"
t_kmemleak_clean
t_summary
