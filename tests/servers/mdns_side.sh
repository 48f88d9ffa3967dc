#!/bin/bash
# tests/servers/mdns_side.sh — one host of an mDNS test network: a D-Bus system bus
# and an avahi-daemon of its own, in the caller's network namespace and in a new mount
# namespace whose /run/dbus and /run/avahi-daemon are private (two avahi-daemons in
# one machine would otherwise share the bus socket and the pid file).
#
#   tests/servers/mdns_side.sh start DIR HOSTNAME IFACE
#       prints HOLDER=<pid>; run programs on that host with
#       nsenter -t $HOLDER -m [-n] --root --wd="$PWD" CMD...  (-n: its own netns;
#       --root: the holder's root, which matters in a chroot such as the test VM)
#   tests/servers/mdns_side.sh stop DIR
#   tests/servers/mdns_side.sh avahi-restart DIR HOSTNAME IFACE
#       (inside the namespaces: a new avahi-daemon under another host name)
# Announces IPv4 only on IFACE; logs in DIR/{avahi,dbus}.log.
set -euo pipefail

avahi_conf() {	# DIR HOSTNAME IFACE
	cat >"$1/avahi-daemon.conf" <<CONF
[server]
host-name=$2
domain-name=local
use-ipv4=yes
use-ipv6=no
allow-interfaces=$3
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
[reflector]
[rlimits]
CONF
}

avahi_start() {	# DIR
	avahi-daemon -f "$1/avahi-daemon.conf" --no-chroot --no-drop-root --no-rlimits \
		>>"$1/avahi.log" 2>&1 &
	echo $! >"$1/avahi.pid"
	for _ in $(seq 100); do
		grep -q "Server startup complete" "$1/avahi.log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "mdns_side.sh: avahi-daemon did not start:" >&2
	cat "$1/avahi.log" >&2
	return 1
}

case ${1:-} in
start)
	D=$2
	mkdir -p "$D" /run/dbus /run/avahi-daemon
	rm -f "$D/holder.pid" "$D/ready"
	avahi_conf "$D" "$3" "$4"
	# the holder keeps the mount namespace alive; everything else joins it
	unshare -m --propagation private bash -c '
		set -e
		D=$1
		mount -t tmpfs -o mode=755 tmpfs /run/dbus
		mount -t tmpfs -o mode=755 tmpfs /run/avahi-daemon
		dbus-daemon --system --fork --print-pid >"$D/dbus.pid" 2>"$D/dbus.log"
		echo $$ >"$D/holder.pid"
		"$2" avahi-run "$D" && touch "$D/ready"
		exec sleep infinity' holder "$D" "$0" </dev/null >/dev/null 2>&1 &
	for _ in $(seq 150); do
		[ -e "$D/ready" ] && break
		sleep 0.1
	done
	[ -e "$D/ready" ] || { echo "mdns_side.sh: $3 did not come up" >&2; cat "$D"/*.log >&2; exit 1; }
	echo "HOLDER=$(cat "$D/holder.pid")"
	;;
avahi-run)	# inside the namespaces
	avahi_start "$2"
	;;
avahi-restart)	# inside the namespaces
	[ -s "$2/avahi.pid" ] && kill "$(cat "$2/avahi.pid")" 2>/dev/null || true
	for _ in $(seq 50); do [ -e /run/avahi-daemon/pid ] || break; sleep 0.1; done
	rm -f /run/avahi-daemon/pid
	avahi_conf "$2" "$3" "$4"
	mv "$2/avahi.log" "$2/avahi.log.1" 2>/dev/null || true
	avahi_start "$2"
	;;
stop)
	D=$2
	for f in avahi dbus holder; do
		[ -s "$D/$f.pid" ] && kill "$(cat "$D/$f.pid")" 2>/dev/null || true
	done
	;;
*)
	sed -n '2,15p' "$0" >&2
	exit 2
	;;
esac
