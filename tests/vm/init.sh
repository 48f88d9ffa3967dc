#!/bin/sh
# /init of the ttyrfc test VM initramfs (busybox). Built into the initrd by run.sh.
# Mounts the host's / (9p, read-only) under a tmpfs overlay, chroots into it and runs
# /run/vm-results/job.sh (written by run.sh), then records its exit code and powers off.
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

fail() { echo "vm-init: $*" >&2; echo "vm-init: $*" >/dev/ttyS1; echo 1 > /proc/sys/kernel/sysrq; echo o > /proc/sysrq-trigger; sleep 5; }

while read -r m; do insmod /modules/"$m" || fail "insmod $m"; done < /modules/order

O9P=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o $O9P,cache=none results /results || fail "mount results"
. /results/vm.conf

mount -t 9p -o $O9P,cache=loose,ro hostroot /lower || fail "mount hostroot"
mount -t tmpfs -o mode=755 tmpfs /upper
mkdir -p /upper/u /upper/w
mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w overlay /newroot || fail "mount overlay"
R=/newroot

# Modules of the booted kernel at the usual place (modprobe dummy, veth, ...).
mkdir -p "$R/lib/modules/$KVER"
mount -o bind "$R$KMODDIR" "$R/lib/modules/$KVER" || fail "bind $KMODDIR"

mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t debugfs debugfs $R/sys/kernel/debug 2>/dev/null
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
ln -sf /proc/self/fd $R/dev/fd
ln -sf /proc/self/fd/0 $R/dev/stdin
ln -sf /proc/self/fd/1 $R/dev/stdout
ln -sf /proc/self/fd/2 $R/dev/stderr
mount -t tmpfs -o mode=755 tmpfs $R/run
mkdir -p $R/run/lock $R/run/vm-results && chmod 1777 $R/run/lock
mount -o bind /results $R/run/vm-results
# fresh /tmp and /var/tmp, unless the repo itself lives there on the host
case $REPO/ in /tmp/*) ;; *) mount -t tmpfs -o mode=1777 tmpfs $R/tmp ;; esac
case $REPO/ in /var/tmp/*) ;; *) mount -t tmpfs -o mode=1777 tmpfs $R/var/tmp ;; esac

hostname ttyrfc-vm
echo ttyrfc-vm > $R/etc/hostname 2>/dev/null
ip link set lo up
# (a kernel with dummy built in, like the debug kernel, has made dummy0 already)
chroot $R /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin /bin/sh -c 'modprobe dummy numdummies=0 &&
    { ip link show dummy0 >/dev/null 2>&1 || ip link add dummy0 type dummy; } &&
    ip addr add 192.0.2.1/24 dev dummy0 && ip link set dummy0 up' || echo "vm-init: dummy0 setup failed" >&2

# The script talks on ttyS1 (host stdio); ttyS0 is the kernel console (console.log).
T=/dev/ttyS1
[ -c $T ] || T=/dev/console
if [ "$VM_ONLCR" = 1 ]; then stty -F $T onlcr; else stty -F $T -onlcr; fi 2>/dev/null
cut -d' ' -f1 /proc/uptime > /results/boot-time

chroot $R /usr/bin/env -i TERM=dumb /bin/bash /run/vm-results/job.sh <$T >$T 2>&1
rc=$?
echo "$rc" > /results/rc
sync
umount /results 2>/dev/null
poweroff -f
echo o > /proc/sysrq-trigger
sleep 10
