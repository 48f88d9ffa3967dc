// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfc without its helper. Run it before ttyrfcd is started (it skips
 * itself if one runs): ttyrfc_tty_test needs the helper, this one its
 * absence. Needs ttyrfc.ko loaded, ttyrfcctl in $PATH or $TTYRFCCTL, root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "ttyrfc_util.h"

/* Does /dev/kmsg, read from @fd on, have a record containing @text? */
static bool kmsg_has(int fd, const char *text)
{
	char rec[1024];
	ssize_t n;

	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 ||
	       (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;	/* EPIPE: overwritten records */
		rec[n] = '\0';
		if (strstr(rec, text))
			return true;
	}
	return false;
}

/*
 * With no ttyrfcd running, open() must fail at once with ENXIO (as for a
 * device that is not there), blocking or not, and the kernel log must
 * say in one line what to do: start ttyrfcd. Without that a user waits
 * for a timeout and guesses.
 */
TEST(open_without_helper_enxio)
{
	char dev[256], want[320];
	int fd, err, kmsg, flags;
	long long t0, ms;
	bool logged;

	if (helper_running())
		SKIP(return, "ttyrfcd is running: run this before it");
	ASSERT_LE(0, port_add(unused_port(), false, dev, sizeof(dev))) {
		TH_LOG("%s", dev);
	}
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);

	for (flags = O_NONBLOCK; flags >= 0; flags -= O_NONBLOCK) {
		t0 = now_ms();
		fd = dev_open(dev, O_RDWR | O_NOCTTY | flags);
		err = errno;
		ms = now_ms() - t0;
		if (fd >= 0)
			close(fd);
		EXPECT_EQ(-1, fd);
		EXPECT_EQ(ENXIO, err) {
			TH_LOG("open%s: %s", flags ? "(O_NONBLOCK)" : "",
			       fd >= 0 ? "succeeded" : strerror(err));
		}
		EXPECT_GT(1000, ms) {
			TH_LOG("open took %lld ms", ms);
		}
	}
	snprintf(want, sizeof(want), "%s: no helper registered; start ttyrfcd",
		 dev);
	logged = kmsg >= 0 && kmsg_has(kmsg, want);
	if (kmsg >= 0)
		close(kmsg);
	port_del(dev);
	EXPECT_TRUE(logged) {
		TH_LOG("no kernel log line \"%s\"", want);
	}
}

TEST_HARNESS_MAIN
