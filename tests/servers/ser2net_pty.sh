#!/bin/bash
# tests/servers/ser2net_pty.sh — Debian's ser2net (RFC 2217) in front of a PTY "board".
#
#   eval "$(tests/servers/ser2net_pty.sh start [PORT])"   # PORT default 4000
#   ... test talks rfc2217 to 127.0.0.1:$PORT; reads/writes the board side via $PEER
#   tests/servers/ser2net_pty.sh stop [PORT]
#   tests/servers/ser2net_pty.sh status [PORT]
#   tests/servers/ser2net_pty.sh stop-server|start-server [PORT]
#                                  only ser2net (a server restart); the PTY pair
#                                  and whoever holds PEER stay
#
# start prints (for eval):  PORT=4000 DEV=/tmp/ttyrfc-dev.4000 PEER=/tmp/ttyrfc-peer.4000
#                           S2N_DIR=/tmp/ttyrfc-s2n.4000
# Layout: ptypair.py joins two PTYs: ser2net opens DEV (connector serialdev,DEV,
# 115200n81,local); whatever a client sends arrives, byte-exact, at PEER and whatever
# is written to PEER goes to the client. Use peer.py on $PEER (sink/source/echo/cat).
# A PTY has no modem lines: ser2net never acknowledges DTR/RTS there.
# Logs, config and pids: $S2N_DIR/{ser2net.yaml,ser2net.log,ptypair.log,*.pid}.
# Env: S2N_OPTS  extra YAML lines for the connection's "options:" block, e.g.
#                S2N_OPTS=$'    max-connections: 2'
#      S2N_DEBUG=1 run ser2net with -d (debug I/O into ser2net.log)
#      S2N_KICK=false  no kickolduser: a second client is refused ("Port already in
#                    use") while the first one is connected, instead of ending it
#      S2N_ACCEPTER  default "telnet(rfc2217),tcp"; "tcp" gives a plain TCP
#                    accepter (no RFC 2217: the common Pi-side mistake)
#      S2N_ROOT      run the ser2net of this chroot (tests/ser2net-trixie.sh's 4.6);
#                    the caller binds /dev, /dev/pts and /tmp into it
#      S2N_ADDR      address to listen on (default 127.0.0.1), e.g. inside a
#                    network namespace: ip netns exec NS env S2N_ADDR=10.99.0.2 ...
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3

cmd=${1:-}; PORT=${2:-4000}
D=/tmp/ttyrfc-s2n.$PORT
DEV=/tmp/ttyrfc-dev.$PORT
PEER=/tmp/ttyrfc-peer.$PORT

listening() { ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q .; }
killpid() {
    local f=$1 p
    [ -s "$f" ] || return 0
    p=$(cat "$f")
    kill "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    rm -f "$f"
}

start_ser2net() {
    local dbg=-n root
    [ "$(cat "$D/debug" 2>/dev/null)" = 1 ] && dbg=-d
    root=$(cat "$D/root" 2>/dev/null)
    # its UUCP lock dir, in the chroot's own /run
    [ -z "$root" ] || mkdir -p "$root/run/lock"
    setsid ${root:+chroot "$root"} ser2net $dbg -c "$D/ser2net.yaml" -P "$D/ser2net.pidfile" </dev/null >>"$D/ser2net.log" 2>&1 &
    echo $! > "$D/ser2net.pid"
    for _ in $(seq 100); do listening && break; sleep 0.05; done
    if ! listening; then
        echo "ser2net_pty.sh: ser2net is not listening on ${S2N_ADDR:-127.0.0.1}:$PORT:" >&2
        cat "$D/ser2net.log" >&2
        killpid "$D/ser2net.pid"
        return 1
    fi
}

case $cmd in
start)
    if listening; then echo "ser2net_pty.sh: port $PORT already in use" >&2; exit 1; fi
    mkdir -p "$D"
    [ -d /run/lock ] || mkdir -p /run/lock   # ser2net's UUCP lock dir (fresh /run in the VM)
    setsid "$PY" "$HERE/ptypair.py" --dev "$DEV" --peer "$PEER" </dev/null >"$D/ptypair.log" 2>&1 &
    echo $! > "$D/ptypair.pid"
    for _ in $(seq 100); do [ -L "$DEV" ] && [ -L "$PEER" ] && break; sleep 0.05; done
    [ -L "$DEV" ] || { echo "ser2net_pty.sh: ptypair did not start:" >&2; cat "$D/ptypair.log" >&2; exit 1; }
    cat > "$D/ser2net.yaml" <<YAML
%YAML 1.1
---
connection: &ttyrfc$PORT
  accepter: ${S2N_ACCEPTER:-telnet(rfc2217),tcp},${S2N_ADDR:-127.0.0.1},$PORT
  connector: serialdev,$DEV,115200n81,local
  enable: on
  options:
    kickolduser: ${S2N_KICK:-true}
    chardelay: false
    dev-to-net-bufsize: 65536
    net-to-dev-bufsize: 65536
    max-connections: 1
    mdns: false
${S2N_OPTS:-}
YAML
    echo "${S2N_DEBUG:-0}" > "$D/debug"
    echo "${S2N_ROOT:-}" > "$D/root"
    start_ser2net || { killpid "$D/ptypair.pid"; exit 1; }
    echo "PORT=$PORT DEV=$DEV PEER=$PEER S2N_DIR=$D"
    ;;
stop-server)
    killpid "$D/ser2net.pid"
    for _ in $(seq 100); do listening || break; sleep 0.05; done
    ;;
start-server)
    [ -s "$D/ser2net.yaml" ] || { echo "ser2net_pty.sh: nothing started on $PORT" >&2; exit 1; }
    listening || start_ser2net
    ;;
stop)
    killpid "$D/ser2net.pid"
    killpid "$D/ptypair.pid"
    rm -f "$DEV" "$PEER"
    ;;
status)
    listening && echo "ser2net listening on 127.0.0.1:$PORT (dev $DEV, peer $PEER)" || { echo "not running"; exit 1; }
    ;;
*)
    sed -n '2,20p' "$0" >&2; exit 2 ;;
esac
