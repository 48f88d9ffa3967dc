#!/bin/bash
# restart_helper.sh LOG — SIGKILL the running ttyrfcd, start a new one, wait
# until it has registered with the module.
cd "$(dirname "$0")/../.." || exit 1
log=$1
pkill -9 -x ttyrfcd || { echo "no ttyrfcd to kill"; exit 1; }
while pgrep -x ttyrfcd >/dev/null; do sleep 0.05; done
n=$(grep -c "registered with" "$log")
setsid userspace-helper/ttyrfcd >>"$log" 2>&1 </dev/null &
for _ in $(seq 50); do
	[ "$(grep -c "registered with" "$log")" -gt "$n" ] && exit 0
	sleep 0.1
done
echo "new ttyrfcd did not register"; exit 1
