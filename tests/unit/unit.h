/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal harness for the host unit tests: TAP-style lines, a final
 * "N passed, N failed", exit status 1 on any failure.
 */
#ifndef TTYRFC_UNIT_H
#define TTYRFC_UNIT_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("# %s:%d: check failed: %s\n",			\
		       __FILE__, __LINE__, #cond);			\
		return false;						\
	}								\
} while (0)

#define CHECK_MEM(a, b, n) CHECK(!memcmp((a), (b), (n)))

struct unit_test {
	const char *name;
	bool (*fn)(void);
};

static inline int unit_run(const struct unit_test *t, size_t n)
{
	int pass = 0, fail = 0;
	size_t i;

	printf("1..%zu\n", n);
	for (i = 0; i < n; i++) {
		bool ok = t[i].fn();

		printf("%s %zu - %s\n", ok ? "ok" : "not ok", i + 1, t[i].name);
		fflush(stdout);
		if (ok)
			pass++;
		else
			fail++;
	}
	printf("%d passed, %d failed\n", pass, fail);
	return fail ? 1 : 0;
}

#define UNIT_MAIN(tests)						\
int main(void)								\
{									\
	return unit_run(tests, sizeof(tests) / sizeof(tests[0]));	\
}

#endif
