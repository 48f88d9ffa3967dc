#!/bin/bash
# Install and operate, inside the VM (tests/vm/run.sh tests/vm/install.sh):
# `make install` (module through DKMS against the booted kernel's headers),
# modprobe with hosts= and modprobe.d, ttyrfcctl list/show/add/del checked
# against /dev and sysfs, the udev rule (udevd runs here), the systemd unit
# (systemd-analyze verify, and ttyrfcd run with only the unit's privileges),
# bad input, then `make uninstall`.
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
PY=/usr/bin/python3
LOG=${TTYRFC_VM_RESULTS:-/tmp}
KV=$(uname -r)
CTL=/usr/sbin/ttyrfcctl
HELPER_PID=
UDEVD=0
UDEVD_PID=

# the lead's top-level Makefile may not include mk/install.mk yet
if grep -q '^include mk/install.mk' Makefile; then
	MAKE_INSTALL=(make)
else
	MAKE_INSTALL=(make -f Makefile -f mk/install.mk)
fi

nports() { ls -d /sys/class/tty/ttyRFC* 2>/dev/null | wc -l; }
# `udevadm settle` does nothing in a chroot: wait for udevd's queue instead
settle() {
	[ "$UDEVD" = 1 ] || return 0
	sleep 0.3
	for _ in $(seq 100); do
		[ -e /run/udev/queue ] || return 0
		sleep 0.1
	done
}
# wait_for CMD...: up to 10 s for CMD to succeed (udev works asynchronously)
wait_for() {
	for _ in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}
nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"
}

# expect RC PATTERN CMD...: CMD exits RC and its stderr matches PATTERN
expect() {
	local want=$1 pat=$2 rc
	shift 2
	"$@" >"$LOG/expect.out" 2>"$LOG/expect.err"; rc=$?
	cat "$LOG/expect.err"
	[ "$rc" = "$want" ] || { echo "exit $rc, wanted $want"; return 1; }
	grep -Eq -- "$pat" "$LOG/expect.err" ||
		{ echo "stderr lacks: $pat"; return 1; }
}

start_helper() { t_unit_helper /usr/sbin/ttyrfcd; }

cleanup() {
	[ -n "$HELPER_PID" ] && kill "$HELPER_PID" 2>/dev/null
	[ -n "${HOLDER:-}" ] && kill "$HOLDER" 2>/dev/null
	tests/servers/ser2net_pty.sh stop 4000 >/dev/null 2>&1
	[ -n "$UDEVD_PID" ] && kill "$UDEVD_PID" 2>/dev/null
}
trap cleanup EXIT

t_dmesg_mark

# ------------------------------------------------------------ install
[ -e "/lib/modules/$KV/build" ] ||
	ln -s "/usr/src/linux-headers-$KV" "/lib/modules/$KV/build"
if ! command -v dkms >/dev/null; then
	t_fail "dkms is installed (apt-get install dkms)"
	t_summary
	exit 1
fi
rm -f /etc/modprobe.d/ttyrfc.conf
T_TIMEOUT=900 t_run "make install (DKMS build for $KV)" "${MAKE_INSTALL[@]}" install ||
	{ t_summary; exit 1; }
t_run "dkms status: installed for $KV" \
	sh -c "dkms status -m ttyrfc -k $KV | grep -q ': installed'"
t_run "modinfo finds the DKMS module" \
	sh -c "modinfo -n ttyrfc | grep -q '^/lib/modules/$KV/updates/'"
installed_files() {
	local f
	for f in /usr/sbin/ttyrfcd /usr/sbin/ttyrfcctl /lib/udev/rules.d/60-ttyrfc.rules \
		/lib/systemd/system/ttyrfcd.service /etc/modprobe.d/ttyrfc.conf \
		/usr/src/ttyrfc-*/dkms.conf; do
		[ -e "$f" ] || { echo "missing $f"; return 1; }
	done
	for f in ttyrfc.4 ttyrfcd.8 ttyrfcctl.8; do
		man -w "${f%.*}" >/dev/null 2>&1 || [ -e "/usr/share/man/man${f##*.}/$f" ] ||
			{ echo "missing man page $f"; return 1; }
	done
	[ ! -e /usr/src/ttyrfc-*/build ] || { echo "build/ copied into /usr/src"; return 1; }
}
t_run "installed: tools, unit, udev rule, modprobe.d example, man pages" installed_files
t_run "systemd-analyze verify ttyrfcd.service" \
	systemd-analyze verify /lib/systemd/system/ttyrfcd.service
if command -v mandoc >/dev/null; then
	t_run "man pages lint clean" \
		mandoc -T lint -W warning docs/man/ttyrfc.4 docs/man/ttyrfcd.8 docs/man/ttyrfcctl.8
fi

# ------------------------------------------------------------ udev, modprobe
if [ -x /lib/systemd/systemd-udevd ]; then
	/lib/systemd/systemd-udevd 2>"$LOG/udevd.log" &
	UDEVD_PID=$!
	wait_for test -S /run/udev/control && UDEVD=1
fi
[ "$UDEVD" = 1 ] || t_diag "no systemd-udevd: udev checks skipped"

T_TIMEOUT=60 t_run "modprobe ttyrfc hosts=127.0.0.1:4000,[::1]:4001" \
	modprobe ttyrfc hosts=127.0.0.1:4000,[::1]:4001
settle

sysfs_matches() {
	local i r
	[ "$(nports)" = 2 ] || { echo "$(nports) ports in sysfs"; return 1; }
	for i in 0 1; do
		[ -c "/dev/ttyRFC$i" ] || { echo "no /dev/ttyRFC$i"; return 1; }
	done
	r=$(cat /sys/class/tty/ttyRFC1/remote)
	[ "$r" = "[::1]:4001" ] || { echo "remote: $r"; return 1; }
	[ "$(cat /sys/class/tty/ttyRFC0/link)" = down ] || return 1
}
t_run "hosts= gives /dev/ttyRFC0-1 with remote and link in sysfs" sysfs_matches

links_to() { [ "$(readlink -f "$1")" = "$2" ]; }
udev_effects() {
	local m
	m=$(stat -c '%G %a' /dev/ttyRFC0)
	[ "$m" = "dialout 660" ] || { echo "/dev/ttyRFC0: $m"; return 1; }
	wait_for links_to /dev/serial/rfc2217/127.0.0.1_4000 /dev/ttyRFC0 ||
		{ ls -lR /dev/serial; return 1; }
	wait_for links_to /dev/serial/rfc2217/::1_4001 /dev/ttyRFC1 ||
		{ ls -lR /dev/serial; return 1; }
	udevadm info -q property -p /module/ttyrfc >"$LOG/udev-module.txt"
	grep -q '^SYSTEMD_WANTS=.*ttyrfcd.service' "$LOG/udev-module.txt" ||
		{ cat "$LOG/udev-module.txt"; return 1; }
	grep -q '^TAGS=.*:systemd:' "$LOG/udev-module.txt" ||
		{ cat "$LOG/udev-module.txt"; return 1; }
}
if [ "$UDEVD" = 1 ]; then
	t_run "udev: dialout 0660, /dev/serial/rfc2217/<host>_<port>, module wants ttyrfcd.service" \
		udev_effects
else
	t_skip "udev rule effects" "no udevd"
fi

# ------------------------------------------------------------ helper + list/show
eval "$(tests/servers/ser2net_pty.sh start 4000)"
t_run "ttyrfcd runs as non-root with only CAP_NET_ADMIN (as the unit does)" \
	start_helper

list_matches_sysfs() {
	local dev remote rest
	"$CTL" list >"$LOG/list.txt" || return 1
	cat "$LOG/list.txt"
	[ "$(wc -l <"$LOG/list.txt")" = "$(nports)" ] || return 1
	while IFS=$'\t' read -r dev remote rest; do
		[ "$(cat "/sys/class/tty/$dev/remote")" = "$remote" ] ||
			{ echo "$dev: $remote"; return 1; }
	done <"$LOG/list.txt"
}
t_run "list: one line per sysfs port, same remotes" list_matches_sysfs

io_and_show() {
	$PY - <<'EOF' || return 1
import os, termios
fd = os.open('/dev/ttyRFC0', os.O_RDWR | os.O_NOCTTY)
a = termios.tcgetattr(fd)
a[4] = a[5] = termios.B9600
a[2] = (a[2] & ~termios.CSIZE) | termios.CS7 | termios.PARENB
termios.tcsetattr(fd, termios.TCSANOW, a)
os.write(fd, b'hello world\n')
termios.tcdrain(fd)
link = open('/sys/class/tty/ttyRFC0/link').read().strip()
assert link == 'up', link
os.close(fd)
EOF
	"$CTL" show ttyRFC0 | tee "$LOG/show.txt"
	grep -q "settings: 9600 7E1" "$LOG/show.txt" || return 1
	grep -Eq "tx_bytes: (1[2-9]|[2-9][0-9]|[0-9]{3,})$" "$LOG/show.txt" || return 1
	grep -q "opens: 1" "$LOG/show.txt" || return 1
	grep -q "link: down" "$LOG/show.txt"
}
t_run "show: settings, bytes sent and opens after a session" io_and_show

json_ok() {
	"$CTL" --json list >"$LOG/list.json" || return 1
	"$CTL" show --json /dev/ttyRFC1 >"$LOG/show.json" || return 1
	$PY - "$LOG/list.json" "$LOG/show.json" <<'EOF'
import json, sys
ports = json.load(open(sys.argv[1]))
one = json.load(open(sys.argv[2]))
assert [p['device'] for p in ports] == ['ttyRFC0', 'ttyRFC1'], ports
p = ports[0]
assert p['remote'] == '127.0.0.1:4000' and p['port'] == 4000, p
assert p['baud'] == 9600 and p['data_bits'] == 7 and p['parity'] == 'even', p
assert p['stop_bits'] == '1' and p['tx_bytes'] >= 12 and p['opens'] == 1, p
assert p['raw'] is False and p['link'] == 'down', p
assert one['host'] == '::1' and one['remote'] == '[::1]:4001', one
for k in ('rx_bytes', 'rx_dropped', 'link_losses', 'protocol_errors', 'tx_resent',
          'tx_flushed', 'tx_discarded', 'stale_dropped', 'name', 'dtr', 'rts'):
    assert k in p, k
EOF
}
t_run "--json list and show parse and agree" json_ok

# ------------------------------------------------------------ add / del
add_named() {
	local dev
	dev=$("$CTL" add 127.0.0.1:4002 --name board-a) || return 1
	[ "$dev" = ttyRFC2 ] || { echo "add printed: $dev"; return 1; }
	settle
	[ -c /dev/ttyRFC2 ] || { echo "no /dev/ttyRFC2"; return 1; }
	[ "$(cat /sys/class/tty/ttyRFC2/name)" = board-a ] || return 1
	[ "$(cat /sys/class/tty/ttyRFC2/remote)" = 127.0.0.1:4002 ] || return 1
	"$CTL" show board-a | grep -q "port: ttyRFC2" || return 1
	if [ "$UDEVD" = 1 ]; then
		wait_for links_to /dev/serial/rfc2217/board-a /dev/ttyRFC2 ||
			{ ls -lR /dev/serial; return 1; }
	fi
}
t_run "add --name: device, sysfs name, show by name, /dev/serial/rfc2217/NAME" add_named

add_raw() {
	"$CTL" add [::1]:4003 --raw >/dev/null || return 1
	"$CTL" show ttyRFC3 | grep -q "protocol: raw TCP" || return 1
	"$CTL" list | grep -P '^ttyRFC3\t\[::1\]:4003\t.*\traw' >/dev/null
}
t_run "add --raw, IPv6 remote" add_raw

del_named() {
	"$CTL" del board-a || return 1
	settle
	[ ! -e /dev/ttyRFC2 ] && [ ! -e /sys/class/tty/ttyRFC2 ] || return 1
	wait_for test ! -e /dev/serial/rfc2217/board-a || { echo "link left"; return 1; }
	"$CTL" del /dev/ttyRFC3 || return 1
	[ "$(nports)" = 2 ]
}
t_run "del by name and by /dev path: device, sysfs and link gone" del_named

# del of an open port is an unplug: the holder is hung up, the device goes,
# and the minor comes back only once the holder has let go
unplug() {
	$PY - /dev/ttyRFC0 "$LOG/unplug.ready" <<'PY' &
import errno, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
open(sys.argv[2], 'w').close()
for _ in range(100):
    try:
        if os.read(fd, 1) == b'':
            break                   # hung up: end of file
    except BlockingIOError:
        time.sleep(0.1)
    except OSError as e:
        if e.errno == errno.EIO:
            break
else:
    sys.exit('no hangup after del')
try:
    os.write(fd, b'x')
    sys.exit('write after the unplug succeeded')
except OSError as e:
    print('after del: read gives end of file, write', errno.errorcode[e.errno])
time.sleep(1)                       # still held while del is checked
os.close(fd)
PY
	local holder=$!
	wait_for test -e "$LOG/unplug.ready" || return 1
	"$CTL" del ttyRFC0 || return 1
	wait_for test ! -e /dev/ttyRFC0 || { echo "/dev/ttyRFC0 still there"; return 1; }
	wait "$holder" || return 1
	# let go: the minor is free again, for a port with its own remote
	[ "$("$CTL" add 127.0.0.1:4000)" = ttyRFC0 ] || { echo "re-add did not get ttyRFC0"; return 1; }
	wait_for test -c /dev/ttyRFC0
}
t_run "del of an open port: the holder is hung up, EIO on write, minor reused after close" unplug

# ------------------------------------------------------------ bad input
before=$(nports)
t_run "add with no port: usage, exit 2" expect 2 "expected HOST:PORT" "$CTL" add 127.0.0.1
t_run "add port 0: exit 2" expect 2 "1-65535" "$CTL" add 127.0.0.1:0
t_run "add port 70000: exit 2" expect 2 "1-65535" "$CTL" add 127.0.0.1:70000
t_run "add empty host: exit 2" expect 2 "host is empty" "$CTL" add :4000
t_run "add bare IPv6: exit 2" expect 2 "brackets" "$CTL" add ::1:4000
t_run "add bad name: exit 2" expect 2 "name" "$CTL" add h:1 --name 'a b/c'
t_run "unknown command: exit 2" expect 2 "unknown command" "$CTL" frob
t_run "del unknown name: 'no such port', exit 1" expect 1 "nope: no such port" "$CTL" del nope
t_run "del ttyRFC99: 'no such port', exit 1" expect 1 "no such port" "$CTL" del ttyRFC99
t_run "add duplicate remote refused: 'is already ttyRFC0', exit 1" \
	expect 1 "127.0.0.1:4000 is already ttyRFC0" "$CTL" add 127.0.0.1:4000
t_run "unprivileged add: 'needs CAP_NET_ADMIN', exit 1" \
	expect 1 "permission denied: needs CAP_NET_ADMIN \(run as root\)" \
	nobody "$CTL" add 127.0.0.1:5000
t_run "unprivileged list: 'needs CAP_NET_ADMIN', exit 1" \
	expect 1 "needs CAP_NET_ADMIN" nobody "$CTL" list
[ "$(nports)" = "$before" ] && t_ok "bad input created nothing" ||
	t_fail "bad input created nothing" "$(ls /sys/class/tty | grep RFC)"

# the kernel's own policy on duplicates, past ttyrfcctl's check
kernel_dup() {
	$PY - <<'EOF'
import os, socket, struct, sys
sys.path.insert(0, 'tests/vm')
from nl_eperm import attr, msg, call, family_id, NLM_F_REQUEST, NLM_F_ACK
from ttyrfc_abi import CMD, ATTR
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
s.bind((0, 0))
fam = family_id(s)
err, _ = call(s, msg(fam, CMD['ADD'], [attr(ATTR['HOST'], b'127.0.0.1\0'),
                     attr(ATTR['PORT'], struct.pack('H', 4000))]))
print('kernel ADD of a duplicate:', os.strerror(err) if err else 'accepted')
sys.exit(0 if err else 1)
EOF
}
if kernel_dup >"$LOG/dup.txt" 2>&1; then
	t_ok "kernel refuses a duplicate remote"
else
	cat "$LOG/dup.txt" | sed 's/^/# /'
	t_fail "kernel refuses a duplicate remote"
	for d in /sys/class/tty/ttyRFC*; do
		d=${d##*/}; [ "${d#ttyRFC}" -ge 2 ] && "$CTL" del "$d"
	done
fi

# ------------------------------------------------------------ module load paths
kill "$HELPER_PID"; wait "$HELPER_PID" 2>/dev/null; HELPER_PID=
t_run "rmmod ttyrfc" rmmod ttyrfc
settle
absent_module() {
	local rc
	"$CTL" list >"$LOG/absent.out" 2>"$LOG/absent.err"; rc=$?
	cat "$LOG/absent.err"
	if [ -d /sys/module/ttyrfc ]; then
		echo "(the family lookup autoloaded the module)"
		rmmod ttyrfc
		return 0
	fi
	[ "$rc" = 1 ] &&
		grep -q "the ttyrfc module is not loaded (modprobe ttyrfc)" "$LOG/absent.err"
}
T_VERBOSE=1 t_run "module absent: autoloaded, or 'modprobe ttyrfc' hint with exit 1" \
	absent_module

echo "options ttyrfc hosts=127.0.0.1:4005" >/etc/modprobe.d/zz-ttyrfc-test.conf
modprobe_d() {
	modprobe ttyrfc || return 1
	settle
	[ "$(cat /sys/class/tty/ttyRFC0/remote)" = 127.0.0.1:4005 ] || return 1
	[ "$(nports)" = 1 ]
}
t_run "modprobe.d options hosts= apply" modprobe_d
rmmod ttyrfc
rm -f /etc/modprobe.d/zz-ttyrfc-test.conf

hosts300=$(for i in $(seq 300); do printf 'h:%d,' "$i"; done)
hosts100=$(for i in $(seq 100); do printf 'h:%d,' "$i"; done)
want_refused() {
	if modprobe ttyrfc "$@" 2>/dev/null; then
		rmmod ttyrfc
		echo "modprobe $* succeeded"
		return 1
	fi
	[ "$(nports)" = 0 ] || { echo "ports left behind"; return 1; }
	dmesg | tail -5 | grep -Eq "$want" || { echo "no dmesg line: $want"; return 1; }
}
# 300 entries exceed the kernel's 1024-byte limit for string parameters
want="string parameter too long|more than ports_max" \
	t_run "modprobe with 300 hosts= entries refused" \
	want_refused hosts="${hosts300%,}"
want="more than ports_max=64" t_run "modprobe with 100 hosts= entries (ports_max=64) refused" \
	want_refused hosts="${hosts100%,}"
want="is not host:port" t_run "modprobe hosts= with empty host refused" \
	want_refused hosts=:4000
want="port must be 1-65535" t_run "modprobe hosts= with port 0 refused" \
	want_refused hosts=127.0.0.1:0

# ------------------------------------------------------------ uninstall
T_TIMEOUT=300 t_run "make uninstall" "${MAKE_INSTALL[@]}" uninstall
uninstalled() {
	local f
	for f in /usr/sbin/ttyrfcd /usr/sbin/ttyrfcctl /lib/udev/rules.d/60-ttyrfc.rules \
		/lib/systemd/system/ttyrfcd.service /etc/modprobe.d/ttyrfc.conf \
		/usr/share/man/man8/ttyrfcctl.8 /usr/src/ttyrfc-*/dkms.conf; do
		[ ! -e "$f" ] || { echo "left: $f"; return 1; }
	done
	! dkms status -m ttyrfc | grep -q . || { dkms status; return 1; }
	! modinfo -n ttyrfc 2>/dev/null || return 1
}
t_run "uninstalled: nothing left, modprobe no longer finds it" uninstalled

t_dmesg_clean "dmesg has no WARN/BUG/oops after the run"
t_kmemleak_clean
t_summary
