/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What ttyrfcd knows about a port's current connection that the kernel
 * does not keep (yet): where an mDNS service was found, and the TLS
 * protocol, cipher and the server's certificate. One file per port in
 * /run/ttyrfcd (RUNTIME_DIRECTORY under systemd), key=value lines, the
 * first one the kernel's session id: ttyrfcctl show reads it and believes
 * it only for the session the kernel says is current.
 */
#ifndef TTYRFC_RUNINFO_H
#define TTYRFC_RUNINFO_H

#define RUNINFO_DIR	"/run/ttyrfcd"

struct port;

/* Make the directory and empty it (start-up, module reloaded). */
void runinfo_init(void);
/* The port's session is up: write (or remove) its file. */
void runinfo_write(struct port *p);

#endif
