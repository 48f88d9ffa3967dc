#!/bin/bash
# tests/vm/smoke.sh — proves the VM harness: run with  tests/vm/run.sh tests/vm/smoke.sh
cd "$(dirname "$0")/../.." || exit 2
. tests/vm/lib.sh
PY=/usr/bin/python3

[ "${TTYRFC_VM:-}" = 1 ] || { echo "smoke.sh: run me via tests/vm/run.sh" >&2; exit 2; }
t_diag "kernel $(uname -r) on $(hostname), uptime $(cut -d' ' -f1 /proc/uptime)s"
t_dmesg_mark

t_run "kernel is the VM kernel ($(uname -r))" test -f "/lib/modules/$(uname -r)/modules.dep"
t_run "/dev/ptmx, /dev/null, /dev/pts" sh -c 'test -c /dev/ptmx && test -c /dev/null && test -c /dev/pts/ptmx && test -L /dev/fd'
t_run "/run/lock exists" test -d /run/lock
t_run "root fs is writable (overlay)" sh -c 'echo x > /etc/ttyrfc-smoke && rm /etc/ttyrfc-smoke'
t_run "results share writable" sh -c 'echo hello > "$TTYRFC_VM_RESULTS/smoke.txt"'
t_run "dummy0 has 192.0.2.1" sh -c 'ip -4 addr show dev dummy0 | grep -q 192.0.2.1/24'
t_run "modprobe veth" modprobe veth
t_run "module build tree for $(uname -r)" test -f "/lib/modules/$(uname -r)/build/Makefile"

if out=$(tests/servers/ser2net_pty.sh start 4000 2>&1); then
    eval "$out"
    t_ok "ser2net listening on 127.0.0.1:$PORT"
    t_run "pyserial rfc2217:// -> ser2net -> PTY byte-exact" \
        $PY tests/servers/rfc2217_check.py "rfc2217://127.0.0.1:$PORT" "$PEER" 65536
    t_run "second client after disconnect" \
        $PY tests/servers/rfc2217_check.py "rfc2217://127.0.0.1:$PORT" "$PEER" 1000
    tests/servers/ser2net_pty.sh stop 4000
else
    t_fail "ser2net listening" "$out"
fi

$PY tests/servers/ptypair.py --dev /tmp/pm-dev --peer /tmp/pm-peer </dev/null >/tmp/pp.out 2>&1 & pp=$!
for _ in $(seq 50); do [ -L /tmp/pm-peer ] && break; sleep 0.1; done
$PY tests/servers/pm_server.py -p 4001 /tmp/pm-dev >/tmp/pm.out 2>&1 & pm=$!
for _ in $(seq 50); do grep -q LISTENING /tmp/pm.out && break; sleep 0.1; done
t_run "pyserial rfc2217:// -> pm_server.py -> PTY byte-exact" \
    $PY tests/servers/rfc2217_check.py rfc2217://127.0.0.1:4001 /tmp/pm-peer 65536
kill "$pm" "$pp" 2>/dev/null; wait "$pm" 2>/dev/null

t_dmesg_clean
t_kmemleak_clean
t_summary
