// SPDX-License-Identifier: GPL-2.0
/* ttyrfcd: per-port connection details for ttyrfcctl show; see runinfo.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runinfo.h"
#include "session.h"

static char dir[512];
static bool usable;

void runinfo_init(void)
{
	const char *d = getenv("RUNTIME_DIRECTORY");	/* systemd's */
	struct dirent *e;
	DIR *dh;

	snprintf(dir, sizeof(dir), "%s", d && *d ? d : RUNINFO_DIR);
	/* systemd may list several, separated by ':' */
	if (strchr(dir, ':'))
		*strchr(dir, ':') = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		log_msg("cannot create %s (%s): ttyrfcctl show will not have TLS and mDNS details",
			dir, strerror(errno));
		usable = false;
		return;
	}
	usable = true;
	dh = opendir(dir);
	if (!dh)
		return;
	while ((e = readdir(dh)))
		if (!strncmp(e->d_name, "ttyRFC", 6))
			unlinkat(dirfd(dh), e->d_name, 0);
	closedir(dh);
}

void runinfo_write(struct port *p)
{
	char path[600], tmp[620], body[2048];
	int fd, n;

	if (!usable)
		return;
	snprintf(path, sizeof(path), "%s/ttyRFC%u", dir, p->index);
	if (!(p->flags & (TTYRFC_F_TLS | TTYRFC_F_MDNS))) {
		unlink(path);
		return;
	}
	n = snprintf(body, sizeof(body), "session=%u\n", p->sid);
	conn_describe(&p->conn, body + n, sizeof(body) - n);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	/* not secret: the peer's certificate is public; readable by all */
	fchmod(fd, 0644);
	n = strlen(body);
	if (write(fd, body, n) != n || close(fd) < 0) {
		unlink(tmp);
		return;
	}
	rename(tmp, path);
}
