# ttyrfc: kernel module + userspace helper.
#   make            build ttyrfc.ko (against KDIR) and the helper tools
#   make check      unit tests, then the VM suite (boots Debian's kernel in QEMU)
#   make demo       the README's demo
#   make bench      benchmarks into docs/benchmarks.md and docs/benchmarks.png
#   make kbuild-sid build warning-free against Debian sid's kernel (chroot)
#   make torture    10 minutes of tests/vm/torture.sh on the debug kernel
#   make faults     50 rounds of each fault (tests/vm/faults.sh), recovery times
#   make debug-kernel  build the KASAN/lockdep/kmemleak kernel (TTYRFC_KERNELS=debug)
#   make check-debug   the debug kernel's VM groups only
#   make deb        Debian packages ttyrfc-dkms + ttyrfc-tools into build/deb

# Default kernel: the one Debian's linux-headers-amd64 points at (the host
# kernel may have no headers, e.g. in a container); override with KVER=/KDIR=.
KVER ?= $(shell tests/vm/kernels.sh default)
KDIR ?= /usr/src/linux-headers-$(KVER)
export KVER

.PHONY: all module helper unit deps check vmtest demo bench kbuild-sid torture faults debug-kernel check-debug deb clean

all: module helper

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

helper:
	$(MAKE) -C userspace-helper

unit:
	$(MAKE) -C tests/unit

vmtest: all
	tests/vm/suite.sh

# the debug kernel's groups (foundation, control, torture, faults_ci) alone;
# TTYRFC_DEBUG_GROUPS picks others (make debug-kernel builds it, once)
check-debug: deps
	$(MAKE) all
	TTYRFC_KERNELS=debug TTYRFC_BUILD_ONLY= tests/vm/suite.sh

# check and demo install what they need first (Debian packages, as root)
deps:
	tests/vm/deps.sh

check: deps
	$(MAKE) all
	tests/check.sh

demo: deps
	$(MAKE) all
	tests/demo.sh

# one VM run: echo and round trip (raw TCP, ttyRFC0, socat PTY, pyserial),
# control latency, esptool vs rfc2217:// vs a local PTY, 1/8/64 ports
bench: deps
	$(MAKE) all
	tests/bench/run.sh

# the newest Debian kernel needs sid's compiler: build in a sid chroot
kbuild-sid:
	tests/kbuild-sid.sh

# The long runs of issue 9, outside CI's default list. The debug kernel is
# TTYRFC_KERNELS=debug (make debug-kernel); any of these can be overridden.
torture: all
	TTYRFC_KERNELS="$${TTYRFC_KERNELS:-debug}" \
	TTYRFC_TORTURE_SECS=$${TTYRFC_TORTURE_SECS:-600} \
	TTYRFC_TORTURE_ROUNDS=$${TTYRFC_TORTURE_ROUNDS:-5} \
	TTYRFC_VM_TIMEOUT=$${TTYRFC_VM_TIMEOUT:-3600} \
	TTYRFC_GROUPS=tests/vm/torture.sh tests/vm/suite.sh

faults: all
	TTYRFC_KERNELS="$${TTYRFC_KERNELS:-$(KVER)}" \
	TTYRFC_FAULTS_ROUNDS=$${TTYRFC_FAULTS_ROUNDS:-50} \
	TTYRFC_VM_TIMEOUT=$${TTYRFC_VM_TIMEOUT:-5400} \
	TTYRFC_GROUPS=tests/vm/faults.sh tests/vm/suite.sh

# linux-source of the default kernel with KASAN, KFENCE, lockdep, DEBUG_OBJECTS,
# UBSAN, kmemleak (tests/debug-kernel.config), cached in $TTYRFC_CACHE/debug-kernel
debug-kernel:
	tests/debug-kernel.sh

# dpkg-buildpackage in a copy of the tree, then lintian (installs the
# build dependencies from debian/control when they are missing)
deb:
	mk/deb.sh

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C userspace-helper clean
	$(MAKE) -C tests/unit clean
	$(MAKE) -C tests/vm/progs clean

# make install / make uninstall (DKMS, helper, systemd unit, udev rule, man pages)
include mk/install.mk
