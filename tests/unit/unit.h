/*
 * A minimal harness for the C unit tests: each test-*.c is one program of
 * checks; it prints each failure and exits 1 if any failed (automake's
 * harness counts it), 0 otherwise.
 */
#ifndef UNIT_H
#define UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_checks, unit_failures;

#define CHECK(cond) do {						\
	unit_checks++;							\
	if (!(cond)) {							\
		unit_failures++;					\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
	}								\
} while (0)

#define CHECK_STR(a, b) do {						\
	const char *unit_a = (a), *unit_b = (b);			\
	unit_checks++;							\
	if (unit_a == NULL || unit_b == NULL ||				\
	    strcmp(unit_a, unit_b) != 0) {				\
		unit_failures++;					\
		fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n",		\
		    __FILE__, __LINE__, unit_a ? unit_a : "(null)",	\
		    unit_b ? unit_b : "(null)");			\
	}								\
} while (0)

#define CHECK_INT(a, b) do {						\
	long long unit_x = (long long)(a), unit_y = (long long)(b);	\
	unit_checks++;							\
	if (unit_x != unit_y) {						\
		unit_failures++;					\
		fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n",	\
		    __FILE__, __LINE__, #a, unit_x, unit_y);		\
	}								\
} while (0)

static inline int
unit_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, unit_checks, unit_failures);
	return (unit_failures == 0 ? 0 : 1);
}

#ifdef JSON_C_VERSION
/*
 * JSON written with ' for " so that the cases stay readable (a test that
 * includes json-c before unit.h gets it).
 */
static inline struct json_object *
unit_json(const char *text)
{
	struct json_object	*v;
	char			*s, *p;

	if ((s = strdup(text)) == NULL)
		abort();
	for (p = s; *p != '\0'; p++) {
		if (*p == '\'')
			*p = '"';
	}
	v = json_tokener_parse(s);
	if (v == NULL && strcmp(s, "null") != 0)
		fprintf(stderr, "bad test JSON: %s\n", s);
	free(s);
	return (v);
}
#endif

#endif /* UNIT_H */
