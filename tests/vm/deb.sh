#!/bin/bash
# The Debian packages, inside the VM (tests/vm/run.sh tests/vm/deb.sh): the
# .debs `make deb` built (mk/deb.sh) are installed with apt-get on the VM's
# system, whose DKMS builds the module against the booted kernel's headers;
# the module then serves /dev/ttyRFC0 to ser2net with the packaged ttyrfcd.
# Then an upgrade of ttyrfc-tools to a rebuilt version that must keep the
# admin's edit of its conffile /etc/modprobe.d/ttyrfc.conf (ttyrfc-dkms too
# with TTYRFC_DEB_UPGRADE_DKMS=1), removal and purge, after which nothing of
# the packages may be left.
#
# The maintainer scripts run as if systemd were the init (/run/systemd/system
# exists) with systemctl and deb-systemd-invoke replaced by stand-ins that
# log each call, so the test sees what the packages would do to the unit.
#
# Env: TTYRFC_DEB_DIR      the .debs to install (default build/deb)
#      TTYRFC_DEB_UPGRADE  the rebuilt, newer .debs (default build/deb-upgrade)
#      TTYRFC_DEB_UPGRADE_DKMS=1  upgrade ttyrfc-dkms too (one more DKMS build)
#      TTYRFC_DEB_HOOK_KVER a second kernel with headers in /usr/src: also run
#                           the kernel-install hook for it (one more DKMS build)
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
PY=/usr/bin/python3
LOG=${TTYRFC_VM_RESULTS:-/tmp}
KV=$(uname -r)
DEBS=${TTYRFC_DEB_DIR:-build/deb}
UPG=${TTYRFC_DEB_UPGRADE:-build/deb-upgrade}
SHIMS=/usr/local/sbin
CALLS=$LOG/systemd-calls.log
HELPER_PID=
UDEVD_PID=
export DEBIAN_FRONTEND=noninteractive

cleanup() {
	[ -n "$HELPER_PID" ] && kill "$HELPER_PID" 2>/dev/null
	tests/servers/ser2net_pty.sh stop 4000 >/dev/null 2>&1
	[ -n "$UDEVD_PID" ] && kill "$UDEVD_PID" 2>/dev/null
}
trap cleanup EXIT

version_of() { dpkg-deb -f "$1" Version; }
deb_of() {	# dir package -> path of the one .deb of package in dir
	local f
	f=$(ls "$1/$2"_*.deb 2>/dev/null | grep -v dbgsym | head -n 1)
	[ -n "$f" ] && echo "$PWD/${f#"$PWD"/}"
}
case $DEBS in /*) ;; *) DEBS=$PWD/$DEBS ;; esac
case $UPG in /*) ;; *) UPG=$PWD/$UPG ;; esac
D1=$(deb_of "$DEBS" ttyrfc-dkms) T1=$(deb_of "$DEBS" ttyrfc-tools)
D2=$(deb_of "$UPG" ttyrfc-dkms) T2=$(deb_of "$UPG" ttyrfc-tools)
if [ -z "$D1" ] || [ -z "$T1" ] || [ -z "$D2" ] || [ -z "$T2" ]; then
	t_fail "the .debs are there" "build them first: mk/deb.sh $DEBS;" \
		"mk/deb.sh --version <newer> $UPG (tests/vm/suite.sh does)"
	t_summary
	exit 1
fi
V1=$(version_of "$D1") V2=$(version_of "$D2")
t_diag "installing $V1, upgrading to $V2, kernel $KV"
dpkg --compare-versions "$V2" gt "$V1" ||
	{ t_fail "upgrade version $V2 > $V1"; t_summary; exit 1; }

t_dmesg_mark

# ------------------------------------------------------------ the system
# the kernel's headers, where DKMS looks for them (the headers package's
# link is hidden under the bind mount of the image's modules)
[ -e "/lib/modules/$KV/build" ] ||
	ln -s "/usr/src/linux-headers-$KV" "/lib/modules/$KV/build"
# DKMS's postinst builds for the running kernel and for the newest one in
# /boot; the host's /boot says nothing about this VM, so hide it: the
# kernel-install hook below covers a second kernel explicitly
mount -t tmpfs -o mode=755 tmpfs /boot
mkdir -p /run/systemd/system
# stand-ins that log; systemctl's offline work (--root: deb-systemd-helper
# enables units through "systemctl --root=/ preset") still needs the real one
for tool in systemctl deb-systemd-invoke; do
	{
		printf '#!/bin/sh\necho "%s $*" >>%s\n' "$tool" "$CALLS"
		[ "$tool" = systemctl ] &&
			printf 'case " $* " in *" --root="*) exec /usr/bin/systemctl "$@" ;; esac\n'
	} >"$SHIMS/$tool"
	chmod 755 "$SHIMS/$tool"
done
: >"$CALLS"
calls_since() { tail -n +"$(($1 + 1))" "$CALLS"; }
ncalls() { wc -l <"$CALLS"; }

# what may exist before the packages (the host's own files), to compare the
# purged system with
traces() {
	local g
	shopt -s nullglob globstar
	for g in /etc/modprobe.d/*ttyrfc* /etc/systemd/system/**/ttyrfcd* \
		/var/lib/systemd/deb-systemd-helper-enabled/**/ttyrfcd* \
		/usr/src/ttyrfc-* /var/lib/dkms/ttyrfc /lib/modules/*/updates/dkms/ttyrfc.ko* \
		/lib/systemd/system/ttyrfcd* /lib/udev/rules.d/*ttyrfc* /usr/sbin/ttyrfc* \
		/usr/share/man/man?/ttyrfc* /usr/share/doc/ttyrfc* /var/lib/dpkg/info/ttyrfc*; do
		echo "$g"
	done
	shopt -u nullglob globstar
}
traces >"$LOG/traces-before.txt"
dpkg-query -W 'ttyrfc-*' >/dev/null 2>&1 &&
	t_diag "ttyrfc packages already installed on this system:" \
		"$(dpkg-query -W 'ttyrfc-*')"

# each step's time, for CI's budget
lap_t=$SECONDS
lap() { t_diag "$1: $((SECONDS - lap_t)) s"; lap_t=$SECONDS; }

apt_get() {	# apt-get (local .debs: no download), output in a log
	local rc
	echo "### apt-get $*" >>"$LOG/apt.log"
	local t0=$SECONDS
	# apt runs dpkg with its own PATH (DPkg::Path), without /usr/local: put
	# the stand-ins first, or the maintainer scripts call the real tools
	timeout -k 5 1800 apt-get -y -q -o Dpkg::Use-Pty=0 \
		-o DPkg::Path="$SHIMS:/usr/sbin:/usr/bin:/sbin:/bin" "$@" >>"$LOG/apt.log" 2>&1
	rc=$?
	echo "### apt-get $1: $((SECONDS - t0)) s" >>"$LOG/apt.log"
	[ $rc = 0 ] || tail -n 30 "$LOG/apt.log"
	return $rc
}

# ------------------------------------------------------------ install
n=$(ncalls)
t_run "apt-get install ./ttyrfc-dkms_${V1}_all.deb ./ttyrfc-tools_${V1}_*.deb (DKMS build for $KV)" \
	apt_get install "$D1" "$T1" || { t_summary; exit 1; }
lap "install (DKMS build)"
t_run "dkms status: ttyrfc/$V1 installed for $KV" \
	sh -c "dkms status -m ttyrfc -v $V1 -k $KV | grep ': installed'"
t_run "modinfo: the DKMS module in /lib/modules/$KV/updates/dkms" \
	sh -c "modinfo -n ttyrfc | grep -x '/lib/modules/$KV/updates/dkms/ttyrfc.ko.*'"
installed() {
	local f
	for f in /usr/sbin/ttyrfcd /usr/sbin/ttyrfcctl /lib/systemd/system/ttyrfcd.service \
		/lib/udev/rules.d/60-ttyrfc.rules /etc/modprobe.d/ttyrfc.conf \
		/usr/share/man/man4/ttyrfc.4.gz /usr/share/man/man8/ttyrfcd.8.gz \
		/usr/share/man/man8/ttyrfcctl.8.gz "/usr/src/ttyrfc-$V1/dkms.conf"; do
		[ -e "$f" ] || { echo "missing $f"; return 1; }
	done
	grep -x "PACKAGE_VERSION=\"$V1\"" "/usr/src/ttyrfc-$V1/dkms.conf"
	dpkg-query -W -f='${Conffiles}\n' ttyrfc-tools | grep -q '/etc/modprobe.d/ttyrfc.conf ' ||
		{ echo "/etc/modprobe.d/ttyrfc.conf is no conffile"; return 1; }
}
dpkg -L ttyrfc-dkms ttyrfc-tools 2>/dev/null | sort -u >"$LOG/owned.txt"
t_run "files: tools, unit, udev rule, modprobe.d conffile, man pages, /usr/src/ttyrfc-$V1" installed
enabled() {
	[ "$(readlink /etc/systemd/system/multi-user.target.wants/ttyrfcd.service)" = \
		/lib/systemd/system/ttyrfcd.service ] || { ls -lR /etc/systemd/system; return 1; }
}
t_run "unit enabled (multi-user.target.wants) on install" enabled
# a start, or a restart that would start a stopped unit (try-restart only
# restarts a running one)
not_started() {
	calls_since "$1"
	! calls_since "$1" | grep -v ' try-restart ' | grep -Ew 'start|restart|reload-or-restart'
}
t_run "install starts nothing (ttyrfcd needs the module)" not_started "$n"
t_run "systemd-analyze verify: the packaged unit" \
	systemd-analyze verify /lib/systemd/system/ttyrfcd.service

# ------------------------------------------------------------ use it
if [ -x /lib/systemd/systemd-udevd ]; then
	/lib/systemd/systemd-udevd 2>"$LOG/udevd.log" &
	UDEVD_PID=$!
	for _ in $(seq 100); do [ -S /run/udev/control ] && break; sleep 0.1; done
fi
T_TIMEOUT=60 t_run "modprobe ttyrfc hosts=127.0.0.1:4000" modprobe ttyrfc hosts=127.0.0.1:4000
eval "$(tests/servers/ser2net_pty.sh start 4000)"
start_helper() { t_unit_helper /usr/sbin/ttyrfcd; }
t_run "packaged /usr/sbin/ttyrfcd registers (unit's privileges)" start_helper
T_VERBOSE=1 T_TIMEOUT=300 t_run "/dev/ttyRFC0 to ser2net: 1 MiB each way, byte-exact" \
	$PY tests/vm/xfer.py /dev/ttyRFC0 "$PEER" 1048576
if [ -n "$UDEVD_PID" ]; then
	t_run "packaged udev rule: /dev/ttyRFC0 is dialout 0660" \
		sh -c '[ "$(stat -c "%G %a" /dev/ttyRFC0)" = "dialout 660" ]'
fi
kill "$HELPER_PID"; wait "$HELPER_PID" 2>/dev/null; HELPER_PID=
sleep 0.5
t_run "rmmod ttyrfc" rmmod ttyrfc
lap "checks and use"

# ------------------------------------------------------------ a new kernel
# what a linux-image package's postinst runs for the kernel it installs.
# Another DKMS build under TCG costs minutes, so CI checks the hook in the
# sid chroot instead (tests/kbuild-sid.sh); here only on request
hook_kver=${TTYRFC_DEB_HOOK_KVER:-}
if [ -n "$hook_kver" ]; then
	[ -e "/lib/modules/$hook_kver/build" ] ||
		ln -s "/usr/src/linux-headers-$hook_kver" "/lib/modules/$hook_kver/build"
	T_TIMEOUT=1200 t_run "kernel install hook (/etc/kernel/postinst.d/dkms $hook_kver) builds ttyrfc for it" \
		sh -c "/etc/kernel/postinst.d/dkms $hook_kver >>$LOG/hook.log 2>&1 &&
			ls /lib/modules/$hook_kver/updates/dkms/ttyrfc.ko* &&
			dkms status -m ttyrfc -v $V1 -k $hook_kver | grep ': installed'"
	lap "kernel install hook (DKMS build)"
fi

# ------------------------------------------------------------ upgrade
# the admin's edit: it must survive the upgrade and take effect.
# The conffile is ttyrfc-tools'. Upgrading ttyrfc-dkms too means one more
# DKMS build under TCG (minutes): CI proves that upgrade in the sid chroot
# (tests/kbuild-sid.sh --upgrade), here only with TTYRFC_DEB_UPGRADE_DKMS=1
printf '# local edit\noptions ttyrfc open_timeout=7\n' >>/etc/modprobe.d/ttyrfc.conf
cp /etc/modprobe.d/ttyrfc.conf "$LOG/ttyrfc.conf.edited"
n=$(ncalls)
if [ "${TTYRFC_DEB_UPGRADE_DKMS:-0}" = 1 ]; then
	up=("$D2" "$T2") upnames="ttyrfc-dkms and ttyrfc-tools" dkms_v=$V2
else
	up=("$T2") upnames="ttyrfc-tools" dkms_v=$V1
fi
t_run "upgrade $upnames to $V2 (apt-get install the rebuilt .debs)" \
	apt_get install "${up[@]}"
lap "upgrade"
upgraded() {
	[ "$(dpkg-query -W -f='${Version}' ttyrfc-tools)" = "$V2" ] || return 1
	[ "$(dpkg-query -W -f='${Version}' ttyrfc-dkms)" = "$dkms_v" ] || return 1
	dkms status -m ttyrfc
	dkms status -m ttyrfc -v "$dkms_v" -k "$KV" | grep -q ': installed' || return 1
	if [ "$dkms_v" != "$V1" ]; then
		[ ! -e "/var/lib/dkms/ttyrfc/$V1" ] || { echo "DKMS tree of $V1 left"; return 1; }
		[ ! -e "/usr/src/ttyrfc-$V1" ] || { echo "/usr/src/ttyrfc-$V1 left"; return 1; }
	fi
	modinfo -n ttyrfc | grep -x "/lib/modules/$KV/updates/dkms/ttyrfc.ko.*"
}
t_run "upgraded: tools $V2, DKMS ttyrfc/$dkms_v installed for $KV" upgraded
t_run "upgrade kept the edited /etc/modprobe.d/ttyrfc.conf" \
	cmp "$LOG/ttyrfc.conf.edited" /etc/modprobe.d/ttyrfc.conf
upgrade_calls() {
	not_started "$1" &&
		calls_since "$1" | grep -qx 'deb-systemd-invoke try-restart ttyrfcd.service'
}
t_run "upgrade starts nothing; restarts only a running unit (try-restart)" \
	upgrade_calls "$n"
edit_applies() {
	modprobe ttyrfc hosts=127.0.0.1:4000 || return 1
	local t
	t=$(cat /sys/module/ttyrfc/parameters/open_timeout)
	rmmod ttyrfc
	[ "$t" = 7 ] || { echo "open_timeout=$t"; return 1; }
}
t_run "the upgraded module loads with the edited options (open_timeout=7)" edit_applies

# ------------------------------------------------------------ remove, purge
n=$(ncalls)
t_run "apt-get remove ttyrfc-dkms ttyrfc-tools" \
	apt_get remove ttyrfc-dkms ttyrfc-tools
stopped() { calls_since "$1" | grep -x 'deb-systemd-invoke stop ttyrfcd.service'; }
t_run "remove stops the unit (deb-systemd-invoke stop ttyrfcd.service)" stopped "$n"
removed() {
	local f
	for f in /usr/sbin/ttyrfcd /usr/sbin/ttyrfcctl /lib/systemd/system/ttyrfcd.service \
		/lib/udev/rules.d/60-ttyrfc.rules /var/lib/dkms/ttyrfc /usr/src/ttyrfc-*; do
		[ ! -e "$f" ] || { echo "left: $f"; return 1; }
	done
	! ls /lib/modules/*/updates/dkms/ttyrfc.ko* 2>/dev/null || return 1
	! modinfo -n ttyrfc 2>/dev/null || return 1
	# policy: removal keeps the configuration, purge deletes it
	[ -e /etc/modprobe.d/ttyrfc.conf ] || { echo "conffile gone before purge"; return 1; }
}
t_run "removed: module (every kernel), DKMS tree, /usr/src, tools, unit gone; config kept" removed
t_run "apt-get purge ttyrfc-dkms ttyrfc-tools" \
	apt_get purge ttyrfc-dkms ttyrfc-tools
purged() {
	traces >"$LOG/traces-after.txt"
	if ! cmp -s "$LOG/traces-before.txt" "$LOG/traces-after.txt"; then
		diff "$LOG/traces-before.txt" "$LOG/traces-after.txt"
		return 1
	fi
	# every file the packages owned (directories shared with others stay)
	local f
	while read -r f; do
		# directories (/lib is a link to usr/lib on merged-/usr) are shared
		[ -d "$f" ] && continue
		[ ! -e "$f" ] && [ ! -L "$f" ] || { echo "left: $f"; return 1; }
	done <"$LOG/owned.txt"
	[ ! -e /etc/modprobe.d/ttyrfc.conf ] || return 1
	[ ! -L /etc/systemd/system/multi-user.target.wants/ttyrfcd.service ] || return 1
	! dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 'ttyrfc-*' 2>/dev/null |
		grep -v '^un ' | grep .
}
t_run "purged: nothing left (config, unit links, dpkg state, files)" purged

lap "upgrade checks, remove, purge"
t_dmesg_clean "dmesg has no WARN/BUG/oops after the run"
t_summary
