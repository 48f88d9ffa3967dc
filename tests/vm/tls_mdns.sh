#!/bin/bash
# TLS to ser2net and mDNS discovery (issue 12), inside the VM (tests/vm/run.sh).
#
# TLS: Debian's ser2net with telnet(rfc2217),ssl(key=...,cert=...),tcp accepters and
# certificates made here with openssl: the good case (data both ways, settings applied
# by ser2net; DTR/RTS and baud checked command by command on tests/servers/recorder.py
# behind a TLS terminator), an unknown CA, an expired certificate, a wrong name, a
# client certificate required and given / required and missing, a key open to others,
# a plain client on a TLS port and a TLS client on a plain port, and a reconnect that
# meets another certificate.
#
# mDNS: two hosts, each with its own D-Bus system bus and avahi-daemon
# (tests/servers/mdns_side.sh): "pi" in the network namespace mdnssrv with ser2net
# announcing its ports, "vm" (ttyrfcd, ttyrfcctl) in the initial one, joined by a veth
# pair, so multicast stays inside the VM. discover, add by name, the udev link, and
# the service moving to another address and host name under an open CLOCAL port.
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
PY=/usr/bin/python3
LOG=${TTYRFC_VM_RESULTS:-/tmp}
KO=${TTYRFC_KO:-./ttyrfc.ko}
CTL=$PWD/userspace-helper/ttyrfcctl
HELPER=$PWD/userspace-helper/ttyrfcd
SIZE=${TTYRFC_TLS_XFER_SIZE:-1048576}
K=/tmp/tls-keys
M=/tmp/mdns
HELPER_PID=
UDEVD_PID=
PIDS=()		# servers started here, stopped at the end

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
wait_for() {	# wait_for FILE REGEX [tenths]
	for _ in $(seq "${3:-100}"); do grep -Eq "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
# ttyrfcctl and other programs of the "vm" host: its mount namespace (D-Bus)
on_vm() { nsenter -t "$VM_HOLDER" -m --root --wd="$PWD" "$@"; }
on_pi() { nsenter -t "$PI_HOLDER" -m -n --root --wd="$PWD" "$@"; }
ctl() { on_vm "$CTL" "$@"; }
# with_open DEV CMD...: run CMD while DEV is held open (CLOCAL, as by default) by a
# process of its own: a descriptor of this shell would be inherited by the servers
# CMD starts, and they would keep the port (and the module) busy
with_open() {
	local dev=$1 holder rc
	shift
	sleep 3600 <>"/dev/$dev" &
	holder=$!
	for _ in $(seq 150); do
		[ "$(cat "/sys/class/tty/$dev/link" 2>/dev/null)" = up ] && break
		kill -0 "$holder" 2>/dev/null || { echo "open /dev/$dev failed"; return 1; }
		sleep 0.1
	done
	"$@"; rc=$?
	kill "$holder"; wait "$holder" 2>/dev/null
	return $rc
}

cleanup() {
	[ -n "$HELPER_PID" ] && kill "$HELPER_PID" 2>/dev/null
	[ -n "$UDEVD_PID" ] && kill "$UDEVD_PID" 2>/dev/null
	for p in 4300 4301 4302 4303 4304 4305 4306 4310; do
		tests/servers/ser2net_pty.sh stop $p >/dev/null 2>&1
	done
	[ -s $M/ser2net.pid ] && kill "$(cat $M/ser2net.pid)" 2>/dev/null
	tests/servers/mdns_side.sh stop $M/pi >/dev/null 2>&1
	tests/servers/mdns_side.sh stop $M/vm >/dev/null 2>&1
	[ ${#PIDS[@]} -gt 0 ] && kill "${PIDS[@]}" 2>/dev/null
	return 0
}
trap cleanup EXIT

t_dmesg_mark
T0=$(now)

# ------------------------------------------------------------ certificates
# A lab CA, another CA, and certificates signed at test time.
make_keys() (
	rm -rf $K && mkdir -p $K/db && cd $K || exit 1
	local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
	openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 30 \
		-subj "/CN=ttyrfc test lab CA" -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null || return 1
	openssl req -x509 "${ec[@]}" -keyout other-ca.key -out other-ca.pem -days 30 \
		-subj "/CN=someone else's CA" 2>/dev/null || return 1
	# openssl ca can sign with dates in the past (x509 -req cannot, in 3.0)
	: >db/index.txt; echo 1000 >db/serial
	cat >ca.cnf <<EOF
[ca]
default_ca = lab
[lab]
dir = $K/db
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
EOF
	sign() {	# NAME CN SAN CA [START END]
		openssl req -new "${ec[@]}" -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" \
			${3:+-addext "subjectAltName=$3"} 2>/dev/null || return 1
		chmod 600 "$1.key"
		if [ -n "${5:-}" ]; then
			openssl ca -batch -config ca.cnf -cert "$4.pem" -keyfile "$4.key" \
				-in "$1.csr" -out "$1.pem" -startdate "$5" -enddate "$6" \
				>/dev/null 2>&1 || return 1
		else
			openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" \
				-CAcreateserial -days 30 -copy_extensions copy \
				-out "$1.pem" 2>/dev/null || return 1
		fi
	}
	local san=DNS:pi1.lab,DNS:pi1.local,DNS:pi2.local,IP:127.0.0.1
	sign srv pi1.lab "$san" ca &&
	sign expired pi1.lab "$san" ca 20240101000000Z 20240201000000Z &&
	sign pi2 pi2.lab DNS:pi2.lab ca &&
	sign stranger pi1.lab "$san" other-ca &&
	sign client vm1 "" ca &&
	cp client.key client-open.key && chmod 644 client-open.key &&
	# ser2net checks a client certificate against <authdir>/<CN>/allowed_certs/
	# (not ssl(CA=...)): the lab CA there admits what it signed for CN vm1
	mkdir -p auth/vm1/allowed_certs && cp ca.pem auth/vm1/allowed_certs/ &&
	openssl rehash auth/vm1/allowed_certs
)
t_run "certificates made with openssl (lab CA, expired, wrong name, other CA, client)" make_keys ||
	{ t_summary; exit 1; }
openssl x509 -in $K/expired.pem -noout -enddate | sed 's/^/# expired.pem: /'

# ------------------------------------------------------------ the "vm" host
modprobe veth || t_fail "modprobe veth"
ip netns add mdnssrv &&
	ip link add vmd0 type veth peer name vmd1 && ip link set vmd1 netns mdnssrv &&
	ip addr add 10.78.0.1/24 dev vmd0 && ip link set vmd0 up &&
	ip -n mdnssrv addr add 10.78.0.2/24 dev vmd1 && ip -n mdnssrv link set vmd1 up &&
	ip -n mdnssrv link set lo up || t_fail "veth pair into netns mdnssrv"
mkdir -p $M
if out=$(tests/servers/mdns_side.sh start $M/vm ttyrfc-vm vmd0); then
	eval "$out"; VM_HOLDER=$HOLDER
else
	t_fail "avahi-daemon and D-Bus for the vm host" "$out"; t_summary; exit 1
fi
if out=$(ip netns exec mdnssrv tests/servers/mdns_side.sh start $M/pi pi1 vmd1); then
	eval "$out"; PI_HOLDER=$HOLDER
	t_ok "two hosts with their own D-Bus and avahi-daemon, joined by veth"
else
	t_fail "avahi-daemon and D-Bus for the pi host" "$out"; t_summary; exit 1
fi

insmod "$KO" || { t_fail "insmod $KO"; t_summary; exit 1; }
# ttyrfcd lives on the vm host: mDNS lookups go to its avahi-daemon
on_vm "$HELPER" >>"$LOG/ttyrfcd.log" 2>&1 &
HELPER_PID=$!
wait_for "$LOG/ttyrfcd.log" "registered with" 50 || t_fail "ttyrfcd registers" "$(cat "$LOG/ttyrfcd.log")"
# udev, for the /dev/serial/rfc2217 links of the repo's rule
mkdir -p /etc/udev/rules.d && cp packaging/60-ttyrfc.rules /etc/udev/rules.d/
if [ -x /lib/systemd/systemd-udevd ]; then
	/lib/systemd/systemd-udevd 2>"$LOG/udevd.log" &
	UDEVD_PID=$!
fi
t_diag "setup done after $(since "$T0")s"

# ------------------------------------------------------------ TLS servers
# tls_server PORT SSL-OPTIONS: ser2net with ssl(SSL-OPTIONS) on 127.0.0.1:PORT;
# sets DEV_PORT / PEER_PORT
tls_server() {
	local out
	out=$(S2N_ACCEPTER="telnet(rfc2217),ssl($2),tcp" S2N_OPTS="${3:-}" \
		tests/servers/ser2net_pty.sh start "$1") ||
		{ echo "$out"; return 1; }
	eval "$out"
	eval "DEV_$1=$DEV PEER_$1=$PEER"
}
ssl_srv="key=$K/srv.key,cert=$K/srv.pem"
tls_server 4300 "$ssl_srv" &&
tls_server 4301 "$ssl_srv" &&
tls_server 4302 "key=$K/expired.key,cert=$K/expired.pem" &&
tls_server 4303 "key=$K/pi2.key,cert=$K/pi2.pem" &&
tls_server 4304 "$ssl_srv,CA=$K/ca.pem,clientauth" "    authdir: $K/auth" &&
tls_server 4306 "$ssl_srv" &&
eval "$(tests/servers/ser2net_pty.sh start 4305)" && PEER_4305=$PEER ||
	t_fail "ser2net TLS accepters on 4300-4306"

add() {	# add VAR ARGS...: ttyrfcctl add, the device in $VAR
	local dev
	dev=$(ctl add "${@:2}") || { echo "ttyrfcctl add ${*:2} failed"; return 1; }
	eval "$1=$dev"
}

# ------------------------------------------------------------ TLS: the good case
add GOOD tls://127.0.0.1:4300 --ca $K/ca.pem --server-name pi1.lab --name tls-good ||
	t_fail "add tls://127.0.0.1:4300"
T_VERBOSE=1 t_run "TLS good: $((SIZE >> 10)) KiB each way through ser2net, every byte value" \
	$PY tests/vm/xfer.py "/dev/${GOOD:-none}" "$PEER_4300" "$SIZE"
t_run "TLS good: ser2net applies baud and framing to its device" \
	$PY tests/vm/control_tests.py ser2net "/dev/${GOOD:-none}" "$DEV_4300"

show_tls() {
	local dev=$1
	ctl show "$dev" | tee "$LOG/show-$dev.txt"
	ctl --json show "$dev" >"$LOG/show-$dev.json"
	grep -q "protocol: RFC 2217 over TLS" "$LOG/show-$dev.txt" &&
	grep -q "tls verify: CA file $K/ca.pem, name pi1.lab" "$LOG/show-$dev.txt" &&
	grep -Eq "tls session: TLSv1\.[23], [A-Z0-9_-]+" "$LOG/show-$dev.txt" &&
	grep -Eq "tls peer: CN=pi1.lab, issued by CN=ttyrfc test lab CA, expires 20[0-9-]+ [0-9:]+ UTC" \
		"$LOG/show-$dev.txt" &&
	$PY - "$LOG/show-$dev.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
assert p['tls'] is True and p['mdns'] is False, p
assert p['tls_server_name'] == 'pi1.lab' and p['tls_ca'].endswith('/ca.pem'), p
c = p['connection']
assert c and c['tls_protocol'].startswith('TLSv1.') and c['tls_cipher'], p
assert 'pi1.lab' in c['tls_peer_subject'] and c['tls_peer_not_after'], p
EOF
}
t_run "TLS good: show reports protocol, cipher, peer subject and expiry (text and JSON)" \
	with_open "${GOOD:-none}" show_tls "${GOOD:-none}"
t_run "TLS good: list marks the port tls" sh -c "\"$CTL\" list | grep -P '^${GOOD:-none}\t127.0.0.1:4300\t.*\ttls\ttls-good\$'"

# DTR/RTS and baud, command by command: recorder.py behind a TLS terminator
$PY tests/servers/recorder.py --port 4106 --log /tmp/rec.jsonl --ctl /tmp/rec.ctl \
	>"$LOG/recorder.out" 2>&1 &
PIDS+=($!)
socat OPENSSL-LISTEN:4307,bind=127.0.0.1,reuseaddr,fork,cert=$K/srv.pem,key=$K/srv.key,verify=0 \
	TCP:127.0.0.1:4106 >"$LOG/socat-tls.log" 2>&1 &
PIDS+=($!)
wait_for "$LOG/recorder.out" LISTENING
for _ in $(seq 50); do ss -Hltn 'sport = :4307' | grep -q . && break; sleep 0.1; done
add REC tls://127.0.0.1:4307 --ca $K/ca.pem || t_fail "add tls://127.0.0.1:4307"
CTL_DEV=/dev/${REC:-none} REC_LOG=/tmp/rec.jsonl REC_CTL=/tmp/rec.ctl \
	t_run "TLS good: TIOCMSET/BIS/BIC reach the server as SET-CONTROL, DTR/RTS order, one read" \
	$PY tests/vm/control_tests.py mctrl
CTL_DEV=/dev/${REC:-none} REC_LOG=/tmp/rec.jsonl REC_CTL=/tmp/rec.ctl \
	t_run "TLS good: baud rates (TCSETS, BOTHER) reach the server, only changes" \
	$PY tests/vm/control_tests.py baud

# ------------------------------------------------------------ TLS: refusals
# open_fails DEV ERRNO LOGTEXT: open() fails with ERRNO within 10 s (no hang) and
# ttyrfcd logged exactly why
open_fails() {
	local dev=$1 want=$2 text=$3
	$PY tests/vm/open_err.py "/dev/$dev" "$want" 14 || return 1
	sleep 0.2
	grep -F "$dev: " "$LOG/ttyrfcd.log" | grep -F -- "$text" | tail -1 | grep . ||
		{ echo "ttyrfcd.log lacks: $dev: ...$text"; grep -F "$dev:" "$LOG/ttyrfcd.log" | tail -3; return 1; }
}
add WRONGCA tls://127.0.0.1:4301 --ca $K/other-ca.pem --server-name pi1.lab
t_run "TLS unknown CA: open fails EKEYREJECTED, log names issuer and CA file" \
	open_fails "${WRONGCA:-none}" EKEYREJECTED \
	"cannot connect: TLS: the server's certificate is not trusted: unable to get local issuer certificate (CN=pi1.lab, issued by CN=ttyrfc test lab CA; trusting the CA file $K/other-ca.pem)"
add SYSCA tls://localhost:4301 --server-name pi1.lab
t_run "TLS lab CA not among the system's CAs: EKEYREJECTED" \
	open_fails "${SYSCA:-none}" EKEYREJECTED "trusting the system's CAs)"
add EXPIRED tls://127.0.0.1:4302 --ca $K/ca.pem --server-name pi1.lab
t_run "TLS expired certificate: open fails EKEYEXPIRED, log gives the date" \
	open_fails "${EXPIRED:-none}" EKEYEXPIRED \
	"cannot connect: TLS: the server's certificate has expired (CN=pi1.lab, not after 2024-02-01 00:00:00 UTC)"
add WRONGNAME tls://127.0.0.1:4303 --ca $K/ca.pem --server-name pi1.lab
t_run "TLS wrong name: open fails EKEYREJECTED, log gives both names" \
	open_fails "${WRONGNAME:-none}" EKEYREJECTED \
	"cannot connect: TLS: the server's certificate is for DNS:pi2.lab, not pi1.lab"

add CLIENT tls://127.0.0.1:4304 --ca $K/ca.pem --server-name pi1.lab \
	--cert $K/client.pem --key $K/client.key
T_VERBOSE=1 t_run "TLS client certificate required and given: data both ways" \
	$PY tests/vm/xfer.py "/dev/${CLIENT:-none}" "$PEER_4304" 65536
add NOCLIENT tls://localhost:4304 --ca $K/ca.pem --server-name pi1.lab
t_run "TLS client certificate required, none given: open fails ENOKEY" \
	open_fails "${NOCLIENT:-none}" ENOKEY \
	"cannot connect: TLS: the server requires a client certificate (ssl(clientauth)), and the port has none"

open_key_refused() {
	local rc
	ctl add tls://127.0.0.1:4399 --ca $K/ca.pem --cert $K/client.pem \
		--key $K/client-open.key 2>"$LOG/add-open-key.err"; rc=$?
	cat "$LOG/add-open-key.err"
	[ "$rc" = 1 ] && grep -q "key file $K/client-open.key is open to its group or others (mode 0644)" \
		"$LOG/add-open-key.err"
}
t_run "TLS key file mode 0644: ttyrfcctl add refuses it, exit 1" open_key_refused
# a key made readable after the port was added: ttyrfcd refuses it at the open
cp $K/client.key $K/later.key && chmod 600 $K/later.key
add LATER tls://localhost:4300 --ca $K/ca.pem --server-name pi1.lab --cert $K/client.pem --key $K/later.key
chmod 640 $K/later.key
t_run "TLS key file chmod 640 after add: open fails EACCES, ttyrfcd says why" \
	open_fails "${LATER:-none}" EACCES \
	"cannot connect: TLS: key file $K/later.key is open to its group or others (mode 0640); refused: chmod 600 it"

# A TLS accepter closes a plain client at once, without a word: ECONNRESET. A server
# slower than ttyrfcd's 1 s setup rule (seen under TCG on a loaded host) lets the
# open succeed first; either way ttyrfcd's log says what to do.
plain_on_tls() {
	local dev=$1
	$PY - "/dev/$dev" <<'EOF' || return 1
import errno, os, sys, time
t = time.monotonic()
try:
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
except OSError as e:
    print('open: %s after %.1f s' % (errno.errorcode[e.errno], time.monotonic() - t))
    sys.exit(0 if e.errno == errno.ECONNRESET else 1)
print('open succeeded after %.1f s: the server took more than 1 s to close' %
      (time.monotonic() - t))
time.sleep(3)
os.close(fd)
EOF
	grep -F "$dev: " "$LOG/ttyrfcd.log" |
		grep -F "(a TLS accepter, ssl(...)? then add the port as tls://HOST:PORT)" | tail -1 | grep .
}
add PLAINTOTLS localhost:4306
t_run "plain client on a TLS port: ECONNRESET, the log suggests tls://" \
	plain_on_tls "${PLAINTOTLS:-none}"
add TLSTOPLAIN tls://127.0.0.1:4305 --ca $K/ca.pem
t_run "TLS client on a plain telnet port: open fails EPROTO, the log says it is not TLS" \
	open_fails "${TLSTOPLAIN:-none}" EPROTO \
	"cannot connect: TLS: the server does not speak TLS (wrong version number)"

# ------------------------------------------------------------ TLS: reconnects verify again
# An open CLOCAL port; the server comes back with another certificate, then the right one
reverify() {
	local out
	tests/servers/ser2net_pty.sh stop 4300
	out=$(S2N_ACCEPTER="telnet(rfc2217),ssl(key=$K/pi2.key,cert=$K/pi2.pem),tcp" \
		tests/servers/ser2net_pty.sh start 4300) || { echo "$out"; return 1; }
	wait_for "$LOG/ttyrfcd.log" "$GOOD: 127.0.0.1:4300: cannot connect: TLS: the server's certificate is for DNS:pi2.lab, not pi1.lab" 150 ||
		{ echo "no verification failure on reconnect"; tail -5 "$LOG/ttyrfcd.log"; return 1; }
	[ "$(cat /sys/class/tty/$GOOD/link)" != up ] || { echo "link up with the wrong certificate"; return 1; }
	tests/servers/ser2net_pty.sh stop 4300
	out=$(S2N_ACCEPTER="telnet(rfc2217),ssl($ssl_srv),tcp" tests/servers/ser2net_pty.sh start 4300) ||
		{ echo "$out"; return 1; }
	eval "$out"
	for _ in $(seq 150); do [ "$(cat /sys/class/tty/$GOOD/link)" = up ] && break; sleep 0.1; done
	[ "$(cat /sys/class/tty/$GOOD/link)" = up ] || { echo "no reconnect"; tail -5 "$LOG/ttyrfcd.log"; return 1; }
	grep "$GOOD: 127.0.0.1:4300: connected" "$LOG/ttyrfcd.log" | tail -1
	$PY tests/vm/xfer.py "/dev/$GOOD" "$PEER" 65536
}
T_VERBOSE=1 t_run "TLS reconnect verifies again: a wrong certificate is refused, the right one reconnects" \
	with_open "${GOOD:-none}" reverify
t_diag "TLS part done after $(since "$T0")s"

# ------------------------------------------------------------ mDNS: the pi announces
start_pi_ser2net() {
	local i dev=/tmp/mdns-dev
	# the boards: a PTY pair each (the device end for ser2net, the peer for the test)
	for i in 1 2 3; do
		[ -L /tmp/mdns-dev$i ] && continue
		$PY tests/servers/ptypair.py --dev /tmp/mdns-dev$i --peer /tmp/mdns-peer$i \
			>"$LOG/ptypair-mdns$i.log" 2>&1 &
		PIDS+=($!)
		for _ in $(seq 50); do [ -L /tmp/mdns-dev$i ] && break; sleep 0.1; done
	done
	cat >$M/ser2net.yaml <<EOF
%YAML 1.1
---
connection: &board1
  accepter: telnet(rfc2217),tcp,4400
  connector: serialdev,/tmp/mdns-dev1,115200n81,local
  enable: on
  options:
    kickolduser: true
    chardelay: false
    mdns: true
    mdns-sysattrs: true
    mdns-txt: devicetype=serialusb
    mdns-txt: idVendor=10c4
    mdns-txt: idProduct=ea60
    mdns-txt: serial=0001
    mdns-txt: manufacturer=Silicon Labs
    mdns-txt: product=CP2102 USB to UART Bridge Controller
connection: &console
  accepter: tcp,4401
  connector: serialdev,/tmp/mdns-dev2,115200n81,local
  enable: on
  options:
    mdns: true
    mdns-name: "pi console"
connection: &secure
  accepter: telnet(rfc2217),ssl($ssl_srv),tcp,4402
  connector: serialdev,/tmp/mdns-dev3,115200n81,local
  enable: on
  options:
    mdns: true
    mdns-name: "secure board"
EOF
	on_pi sh -c "setsid ser2net -n -c $M/ser2net.yaml -P $M/ser2net.pidfile </dev/null >>$M/ser2net.log 2>&1 & echo \$! >$M/ser2net.pid"
	for _ in $(seq 50); do on_pi ss -Hltn 'sport = :4400' | grep -q . && return 0; sleep 0.1; done
	cat $M/ser2net.log; return 1
}
t_run "ser2net on the pi host with mdns: true" start_pi_ser2net

discover() {
	local i
	# announcements take a moment to reach the other avahi-daemon
	for i in $(seq 10); do
		ctl discover >"$LOG/discover.txt" 2>"$LOG/discover.err"
		[ "$(wc -l <"$LOG/discover.txt")" -ge 3 ] && break
		sleep 0.5
	done
	cat "$LOG/discover.txt" "$LOG/discover.err"
	grep -P '^board1\tpi1\.local:4400\t10\.78\.0\.2\trfc2217\tusb 10c4:ea60 serial 0001 \(Silicon Labs CP2102 USB to UART Bridge Controller\)$' \
		"$LOG/discover.txt" || { echo "board1 line"; return 1; }
	grep -P '^pi console\tpi1\.local:4401\t10\.78\.0\.2\traw \(no telnet\)\t' "$LOG/discover.txt" ||
		{ echo "console line"; return 1; }
	grep -P '^secure board\tpi1\.local:4402\t10\.78\.0\.2\trfc2217 tls\t' "$LOG/discover.txt" ||
		{ echo "secure board line"; return 1; }
	grep -F "\"pi console\" has no telnet(rfc2217) in its stack (tcp): data only, no settings or modem lines; add it with: ttyrfcctl add --mdns 'pi console' --raw" \
		"$LOG/discover.err" || { echo "no --raw advice"; return 1; }
	ctl --json discover >"$LOG/discover.json" 2>/dev/null
	$PY - "$LOG/discover.json" <<'EOF'
import json, sys
s = {x['name']: x for x in json.load(open(sys.argv[1]))}
b = s['board1']
assert b['port'] == 4400 and b['address'] == '10.78.0.2' and b['rfc2217'] and not b['tls'], b
assert b['provider'] == 'ser2net' and b['gensiostack'] == 'telnet(rfc2217),tcp', b
assert b['usb'] == {'vendor': '10c4', 'product': 'ea60', 'serial': '0001',
                    'manufacturer': 'Silicon Labs',
                    'product_name': 'CP2102 USB to UART Bridge Controller'}, b
assert not s['pi console']['telnet'] and s['secure board']['tls'], s
EOF
}
T_VERBOSE=1 t_run "discover: name, host:port, address, stack, USB identity; --raw advice; JSON" discover

add_tls_needs_flag() {
	local rc
	ctl add --mdns "secure board" 2>"$LOG/add-secure.err"; rc=$?
	cat "$LOG/add-secure.err"
	[ "$rc" = 1 ] && grep -q 'announces TLS (gensiostack=telnet(rfc2217),ssl,tcp): add it with --tls' "$LOG/add-secure.err"
}
t_run "add --mdns of a TLS service without --tls: refused, says --tls" add_tls_needs_flag

add_by_name() {
	MD=$(ctl add --mdns board1) || return 1
	[ "$(cat /sys/class/tty/$MD/remote)" = "mdns://board1" ] || { cat /sys/class/tty/$MD/remote; return 1; }
	$PY tests/vm/xfer.py "/dev/$MD" /tmp/mdns-peer1 262144 || return 1
	ctl show board1 | tee "$LOG/show-mdns.txt"
	grep -q "remote: mdns://board1" "$LOG/show-mdns.txt"
}
T_VERBOSE=1 t_run "add --mdns board1: remote mdns://board1, data both ways, show by service name" add_by_name
add_secure() {
	SEC=$(ctl add mdns://"secure board" --tls --ca $K/ca.pem 2>"$LOG/add-secure2.err") || return 1
	cat "$LOG/add-secure2.err"
	grep -q "checked for the host the announcement names (now pi1.local)" "$LOG/add-secure2.err" || return 1
	with_open "$SEC" sh -c "\"$CTL\" show $SEC | tee $LOG/show-secure.txt"
	grep -q "connected to: 10.78.0.2:4402 (pi1.local)" "$LOG/show-secure.txt" &&
	grep -q "tls peer: CN=pi1.lab" "$LOG/show-secure.txt"
}
T_VERBOSE=1 t_run "add mdns://'secure board' --tls: verified against the announced host pi1.local" add_secure

udev_link() {
	[ -n "$UDEVD_PID" ] || { echo "no udevd"; return 1; }
	udevadm trigger --action=add --subsystem-match=tty >/dev/null 2>&1
	for _ in $(seq 100); do
		[ "$(readlink -f /dev/serial/rfc2217/board1)" = "/dev/$MD" ] &&
		[ "$(readlink -f /dev/serial/rfc2217/secure_board)" != "" ] && break
		sleep 0.1
	done
	ls -l /dev/serial/rfc2217/
	[ "$(readlink -f /dev/serial/rfc2217/board1)" = "/dev/$MD" ] &&
	[ -e /dev/serial/rfc2217/secure_board ]
}
if [ -n "$UDEVD_PID" ]; then
	t_run "udev: /dev/serial/rfc2217/<service> (a space becomes _)" udev_link
else
	t_skip "udev link for mDNS ports" "no systemd-udevd"
fi

# ------------------------------------------------------------ mDNS: the board moves
# While an open CLOCAL port holds on: ser2net stops, the pi gets another address and
# host name (as if the board were plugged into another Pi), ser2net announces again.
moved() {
	kill "$(cat $M/ser2net.pid)"
	for _ in $(seq 50); do on_pi ss -Hltn 'sport = :4400' | grep -q . || break; sleep 0.1; done
	ip -n mdnssrv addr del 10.78.0.2/24 dev vmd1 &&
	ip -n mdnssrv addr add 10.78.0.7/24 dev vmd1 || return 1
	on_pi tests/servers/mdns_side.sh avahi-restart $M/pi pi2 vmd1 || return 1
	start_pi_ser2net || return 1
	for _ in $(seq 300); do
		grep -q "$MD: mdns://board1: connected (10.78.0.7:4400)" "$LOG/ttyrfcd.log" && break
		sleep 0.1
	done
	grep "$MD: mdns://board1:" "$LOG/ttyrfcd.log" | tail -4
	grep -q "$MD: mdns://board1: connected (10.78.0.7:4400)" "$LOG/ttyrfcd.log" ||
		{ echo "no reconnect to the new address"; return 1; }
	$PY tests/vm/xfer.py "/dev/$MD" /tmp/mdns-peer1 65536 || return 1
	ctl show "$MD" | grep "connected to:" | tee "$LOG/show-moved.txt"
	grep -q "connected to: 10.78.0.7:4400 (pi2.local)" "$LOG/show-moved.txt"
}
T_VERBOSE=1 t_run "mDNS service moves to another address and host under an open CLOCAL port: reconnects there" \
	with_open "${MD:-none}" moved

# ------------------------------------------------------------ the end
kill "$HELPER_PID" 2>/dev/null; wait "$HELPER_PID" 2>/dev/null; HELPER_PID=
for d in $(ls /sys/class/tty | grep ttyRFC); do "$CTL" del "$d" >/dev/null 2>&1; done
for f in /tmp/ttyrfc-s2n.*/ser2net.log $M/ser2net.log; do
	[ -e "$f" ] && cp "$f" "$LOG/$(basename "$(dirname "$f")")-ser2net.log"
done
unload() {
	for _ in $(seq 50); do rmmod ttyrfc 2>/dev/null && return 0; sleep 0.2; done
	echo "still held open by:"
	for f in /proc/[0-9]*/fd/*; do
		case $(readlink "$f" 2>/dev/null) in /dev/ttyRFC*) echo "$f: $(readlink "$f") $(tr '\0' ' ' <"${f%/fd/*}/cmdline")" ;; esac
	done
	rmmod ttyrfc
}
t_run "rmmod ttyrfc after the ports are deleted" unload
t_diag "group done after $(since "$T0")s"
t_dmesg_clean "dmesg has no WARN/BUG/oops after the TLS and mDNS tests"
t_summary
