# ttyrfc: kernel module + userspace helper.
#   make            build ttyrfc.ko (against KDIR) and the helper tools
#   make check      unit tests, then the VM suite (boots Debian's kernel in QEMU)
#   make demo       the README's demo
#   make bench      benchmarks into docs/benchmarks.md and docs/benchmarks.png
#   make kbuild-sid build warning-free against Debian sid's kernel (chroot)

# Default kernel: the one Debian's linux-headers-amd64 points at (the host
# kernel may have no headers, e.g. in a container); override with KVER=/KDIR=.
KVER ?= $(shell tests/vm/kernels.sh default)
KDIR ?= /usr/src/linux-headers-$(KVER)
export KVER

.PHONY: all module helper unit deps check vmtest demo bench kbuild-sid clean

all: module helper

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

helper:
	$(MAKE) -C userspace-helper

unit:
	$(MAKE) -C tests/unit

vmtest: all
	tests/vm/suite.sh

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

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C userspace-helper clean
	$(MAKE) -C tests/unit clean

# make install / make uninstall (DKMS, helper, systemd unit, udev rule, man pages)
include mk/install.mk
