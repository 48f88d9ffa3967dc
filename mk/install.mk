# mk/install.mk: `make install` / `make uninstall`, included by the top-level
# Makefile. The module goes through DKMS (rebuilt for each new kernel); the
# helper tools, systemd unit, udev rule, modprobe.d example and man pages are
# copied. As root:
#
#   make install                  everything, module built for `uname -r`
#   make install DKMS_KVER=6.12.x module built for that kernel instead
#   make uninstall
#
# Packagers: DESTDIR=/tmp/stage installs the files only; the DKMS source
# tree lands in $(DESTDIR)/usr/src/ttyrfc-<version> and no dkms command runs
# (the package's postinst does `dkms install ttyrfc/<version>`).

PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
UDEVRULESDIR ?= $(or $(shell pkg-config --variable=udevdir udev 2>/dev/null),/lib/udev)/rules.d
MODPROBEDIR ?= $(SYSCONFDIR)/modprobe.d
INSTALL ?= install
DKMS ?= dkms

DKMS_NAME := ttyrfc
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="*\([^"]*\)"*/\1/p' dkms.conf)
DKMS_SRCDIR := /usr/src/$(DKMS_NAME)-$(DKMS_VERSION)
DKMS_KVER ?= $(shell uname -r)
# what `dkms build` needs: the top-level Kbuild and the module's sources
# (never build/, the VM test cache); build products are left out
DKMS_FILES ?= Kbuild dkms.conf driver include
DKMS_EXCLUDE := '*.o' '*.ko' '*.mod' '*.mod.c' '.*.cmd' '.*.d' '*.a' \
	modules.order Module.symvers

MAN_PAGES := docs/man/ttyrfc.4 docs/man/ttyrfcd.8 docs/man/ttyrfcctl.8
MODPROBE_EXAMPLE := packaging/ttyrfc.conf

# true when installing into the running system, not a staging DESTDIR
live = [ -z "$(DESTDIR)" ]
reload = if $(live) && [ -d /run/systemd/system ]; then \
		systemctl daemon-reload; fi; \
	if $(live) && [ -S /run/udev/control ]; then \
		udevadm control --reload-rules; fi

.PHONY: install uninstall install-dkms install-tools install-config \
	install-man uninstall-dkms

install: install-tools install-config install-man install-dkms
	@echo "install: done; load with: modprobe ttyrfc hosts=HOST:PORT"

install-tools: helper
	$(INSTALL) -d $(DESTDIR)$(SBINDIR)
	$(INSTALL) -m 0755 userspace-helper/ttyrfcd userspace-helper/ttyrfcctl \
		$(DESTDIR)$(SBINDIR)/

install-config:
	$(INSTALL) -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(UDEVRULESDIR) \
		$(DESTDIR)$(MODPROBEDIR)
	sed 's,^ExecStart=/usr/sbin/,ExecStart=$(SBINDIR)/,' \
		packaging/ttyrfcd.service > $(DESTDIR)$(SYSTEMDUNITDIR)/ttyrfcd.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/ttyrfcd.service
	$(INSTALL) -m 0644 packaging/60-ttyrfc.rules $(DESTDIR)$(UDEVRULESDIR)/
	@# never overwrite the admin's own options
	if [ -e $(DESTDIR)$(MODPROBEDIR)/ttyrfc.conf ]; then \
		echo "install: keeping $(DESTDIR)$(MODPROBEDIR)/ttyrfc.conf"; \
	else \
		$(INSTALL) -m 0644 $(MODPROBE_EXAMPLE) $(DESTDIR)$(MODPROBEDIR)/ttyrfc.conf; \
	fi
	$(reload)

install-man:
	$(INSTALL) -d $(DESTDIR)$(MANDIR)/man4 $(DESTDIR)$(MANDIR)/man8
	$(INSTALL) -m 0644 docs/man/ttyrfc.4 $(DESTDIR)$(MANDIR)/man4/
	$(INSTALL) -m 0644 docs/man/ttyrfcd.8 docs/man/ttyrfcctl.8 \
		$(DESTDIR)$(MANDIR)/man8/

# a reinstall of the same version replaces it
install-dkms: uninstall-dkms
	@test -n "$(DKMS_VERSION)" || { echo "install: no PACKAGE_VERSION in dkms.conf" >&2; exit 1; }
	$(INSTALL) -d $(DESTDIR)$(DKMS_SRCDIR)
	tar -cf - $(addprefix --exclude=,$(DKMS_EXCLUDE)) $(DKMS_FILES) | \
		tar -xf - -C $(DESTDIR)$(DKMS_SRCDIR)
	$(live) || exit 0; \
	$(DKMS) add -m $(DKMS_NAME) -v $(DKMS_VERSION) && \
	$(DKMS) build -m $(DKMS_NAME) -v $(DKMS_VERSION) -k $(DKMS_KVER) && \
	$(DKMS) install -m $(DKMS_NAME) -v $(DKMS_VERSION) -k $(DKMS_KVER)

uninstall: uninstall-dkms
	if $(live) && [ -d /run/systemd/system ]; then \
		systemctl disable --now ttyrfcd.service 2>/dev/null || true; fi
	rm -f $(DESTDIR)$(SBINDIR)/ttyrfcd $(DESTDIR)$(SBINDIR)/ttyrfcctl
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/ttyrfcd.service
	rm -f $(DESTDIR)$(UDEVRULESDIR)/60-ttyrfc.rules
	rm -f $(DESTDIR)$(MANDIR)/man4/ttyrfc.4 $(DESTDIR)$(MANDIR)/man8/ttyrfcd.8 \
		$(DESTDIR)$(MANDIR)/man8/ttyrfcctl.8
	@# the modprobe.d file goes only if it is still the untouched example
	if cmp -s $(MODPROBE_EXAMPLE) $(DESTDIR)$(MODPROBEDIR)/ttyrfc.conf; then \
		rm -f $(DESTDIR)$(MODPROBEDIR)/ttyrfc.conf; \
	elif [ -e $(DESTDIR)$(MODPROBEDIR)/ttyrfc.conf ]; then \
		echo "uninstall: keeping edited $(DESTDIR)$(MODPROBEDIR)/ttyrfc.conf"; \
	fi
	$(reload)
	if $(live) && [ -d /sys/module/$(DKMS_NAME) ]; then \
		echo "uninstall: the ttyrfc module is still loaded (rmmod ttyrfc)"; fi

uninstall-dkms:
	if $(live) && $(DKMS) status -m $(DKMS_NAME) -v $(DKMS_VERSION) 2>/dev/null | grep -q .; then \
		$(DKMS) remove -m $(DKMS_NAME) -v $(DKMS_VERSION) --all; fi
	rm -rf $(DESTDIR)$(DKMS_SRCDIR)
