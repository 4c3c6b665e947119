/*
 * Inventory row filters (invfilter.h): S3 Select's WHERE syntax over a
 * report's columns by position and by name, and the fence around SQLite:
 * every way out of "read this row" is refused when the text is compiled.
 */
#include <stdlib.h>
#include <string.h>

#include "s3batchd.h"
#include "invfilter.h"
#include "unit.h"

/* Bucket Key's example: the 6th column is BucketKeyStatus. */
static const char *const schema[] = {
	"Bucket", "Key", "Size", "LastModifiedDate", "EncryptionStatus",
	"BucketKeyStatus",
};

static const char *const row_a[] = {
	"bkt", "photos/a%20b.jpg", "1024", "2024-01-02T03:04:05.000Z",
	"SSE-KMS", "DISABLED",
};
static const char *const row_b[] = {
	"bkt", "logs/x", "99", "2023-06-01T00:00:00.000Z", "NOT-SSE", "",
};

/* 1, 0, or -1 for a compile or run error. */
static int
match(const char *where, const char *const *row)
{
	struct invfilter	*f;
	size_t			 lens[nitems(schema)], i;
	char			*cause = NULL;
	int			 r;

	if (invfilter_new(where, schema, nitems(schema), &f, &cause) != 0) {
		fprintf(stderr, "compile %s: %s\n", where, cause);
		free(cause);
		return (-1);
	}
	for (i = 0; i < nitems(schema); i++)
		lens[i] = strlen(row[i]);
	r = invfilter_match(f, row, lens, nitems(schema), &cause);
	if (r == -1) {
		fprintf(stderr, "match %s: %s\n", where, cause);
		free(cause);
	}
	invfilter_free(f);
	return (r);
}

/* Refused at compile with a message holding want. */
static void
refused(const char *where, const char *want, int line)
{
	struct invfilter	*f = NULL;
	char			*cause = NULL;
	int			 r;

	r = invfilter_new(where, schema, nitems(schema), &f, &cause);
	if (r != -1 || f != NULL || cause == NULL ||
	    strstr(cause, want) == NULL) {
		fprintf(stderr, "line %d: %.60s: got %d \"%s\", want \"%s\"\n",
		    line, where, r, cause == NULL ? "(null)" : cause, want);
		CHECK(0);
	} else
		CHECK(1);
	free(cause);
	invfilter_free(f);
}
#define REFUSED(w, want)	refused((w), (want), __LINE__)

static void
test_select(void)
{
	/* Positions and names, with and without s. */
	CHECK_INT(match("s._6 = 'DISABLED'", row_a), 1);
	CHECK_INT(match("s._6 = 'DISABLED'", row_b), 0);
	CHECK_INT(match("_6 = 'DISABLED'", row_a), 1);
	CHECK_INT(match("EncryptionStatus = 'NOT-SSE'", row_b), 1);
	CHECK_INT(match("s.EncryptionStatus = 'NOT-SSE'", row_a), 0);
	CHECK_INT(match("s.encryptionstatus <> 'NOT-SSE'", row_a), 1);
	CHECK_INT(match("s.\"BucketKeyStatus\" = 'DISABLED'", row_a), 1);
	/* Double quotes name a column, never a string. */
	CHECK_INT(match("s._6 = \"DISABLED\"", row_a), -1);
	/* Strings throughout; CAST for numbers. */
	CHECK_INT(match("s.Size = '1024'", row_a), 1);
	CHECK_INT(match("CAST(s.Size AS INT) > 100", row_a), 1);
	CHECK_INT(match("CAST(s.Size AS INT) > 100", row_b), 0);
	CHECK_INT(match("CAST(s._3 AS INTEGER) BETWEEN 50 AND 100", row_b), 1);
	CHECK_INT(match("CAST(s.Size AS FLOAT) < 1e3", row_b), 1);
	CHECK_INT(match("s.LastModifiedDate < '2024-01-01'", row_b), 1);
	CHECK_INT(match("s.LastModifiedDate < '2024-01-01'", row_a), 0);
	/* LIKE, GLOB, functions; Key is as the report writes it. */
	CHECK_INT(match("s.Key LIKE 'photos/%'", row_a), 1);
	CHECK_INT(match("s.Key LIKE 'PHOTOS/%'", row_a), 1);
	CHECK_INT(match("s.Key GLOB 'PHOTOS/*'", row_a), 0);
	CHECK_INT(match("s.Key LIKE '%a\\%20b%' ESCAPE '\\'", row_a), 1);
	CHECK_INT(match("s.Key = 'photos/a%20b.jpg'", row_a), 1);
	CHECK_INT(match("s.Key = 'photos/a b.jpg'", row_a), 0);
	CHECK_INT(match("lower(s._5) = 'sse-kms' AND "
	    "substr(s.Key, 1, 4) = 'phot'", row_a), 1);
	CHECK_INT(match("instr(s.Key, '/') = 5 OR length(s.Key) > 500",
	    row_b), 1);
	CHECK_INT(match("char_length('é') = 1 AND length('é') = 1", row_a), 1);
	CHECK_INT(match("trim(' x ') = 'x' AND upper(s._1) = 'BKT'", row_a),
	    1);
	CHECK_INT(match("coalesce(nullif(s._6, ''), 'none') = 'none'", row_b),
	    1);
	CHECK_INT(match("s._5 IN ('SSE-S3', 'SSE-KMS')", row_a), 1);
	/* AND/OR/NOT; an empty field is '' and never NULL. */
	CHECK_INT(match("NOT (s._6 = 'DISABLED') AND s._5 = 'NOT-SSE'", row_b),
	    1);
	CHECK_INT(match("s._6 = 'ENABLED' OR s._5 = 'SSE-KMS'", row_a), 1);
	CHECK_INT(match("s._6 = ''", row_b), 1);
	CHECK_INT(match("s._6 IS NULL", row_b), 0);
	CHECK_INT(match("s._6 IS NOT NULL", row_b), 1);
	/* A comment at the end does not swallow the closing parenthesis. */
	CHECK_INT(match("s._6 = 'DISABLED' -- the bucket key", row_a), 1);
	CHECK_INT(match("/* re-encrypt */ s._6 = 'DISABLED'", row_a), 1);
	CHECK_INT(match("1", row_b), 1);
	CHECK_INT(match("0", row_b), 0);
}

static void
test_refused(void)
{
	char	*big;
	size_t	 i;

	REFUSED("s.Foo = 'x'", "no such column: s.Foo");
	REFUSED("Foo = 'x'", "no such column: Foo");
	REFUSED("s._7 = 'x'", "no such column: s._7");
	REFUSED("s._0 = 'x'", "no such column: s._0");
	REFUSED("s._6 = 'DISABLED", "not closed");
	REFUSED("s._6 = 'x' /* open", "not closed");
	REFUSED("", "is empty");
	REFUSED("  \n", "is empty");
	REFUSED("s._6 = = 'x'", "syntax error");
	/* Out of the expression, into a second statement or select. */
	REFUSED("1) UNION SELECT name FROM sqlite_master --", "");
	REFUSED("1) UNION SELECT 1 --", "");
	REFUSED("1) UNION SELECT 1 /*", "not closed");
	REFUSED("1); DROP TABLE inventory; SELECT (1", "more than one");
	REFUSED("1; DROP TABLE inventory", "syntax error");
	REFUSED("1); ATTACH '/tmp/x.db' AS x; SELECT (1", "more than one");
	REFUSED("1) ; PRAGMA writable_schema=1; --", "more than one");
	REFUSED("EXISTS (SELECT 1)", "subquery");
	REFUSED("s._1 IN (SELECT name FROM sqlite_master)", "");
	REFUSED("(SELECT count(*) FROM sqlite_master) > 0", "");
	REFUSED("s._1 IN (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
	    "SELECT x + 1 FROM c) SELECT x FROM c)", "");
	REFUSED("(SELECT sql FROM sqlite_schema) <> ''", "");
	REFUSED("sqlite_version() <> ''", "sqlite_version() is not allowed");
	REFUSED("load_extension('/tmp/evil.so') IS NULL",
	    "load_extension() is not allowed");
	REFUSED("length(randomblob(1000000000)) > 0",
	    "randomblob() is not allowed");
	REFUSED("length(zeroblob(1000000000)) > 0",
	    "zeroblob() is not allowed");
	REFUSED("printf('%.*c', 1000000000, 'x') <> ''",
	    "printf() is not allowed");
	REFUSED("random() > 0", "random() is not allowed");
	REFUSED("changes() = 0", "changes() is not allowed");
	REFUSED("readfile('/etc/passwd') IS NULL", "");
	REFUSED("count(*) > 0", "count() is not allowed");
	/* Deep nesting and a huge text. */
	big = xmalloc(1024 * 1024 + 1);
	for (i = 0; i < 1024 * 1024; i++)
		big[i] = "NOT "[i % 4];
	big[i] = '\0';
	REFUSED(big, "longer than 4096 bytes");
	big[4000] = '\0';	/* a thousand NOTs */
	REFUSED(big, "overflow");
	for (i = 0; i < 2000; i++)
		big[i] = i < 1000 ? '(' : ')';
	big[1000] = '1';
	big[i] = '\0';
	REFUSED(big, "");
	free(big);
}

/* Runaway work per row is stopped, with a message, not an abort. */
static void
test_bounds(void)
{
	struct invfilter	*f;
	char			*cause = NULL, *big;
	const char		*v[nitems(schema)];
	size_t			 lens[nitems(schema)], i;

	/* replace() growing a value past the limit. */
	CHECK_INT(invfilter_new("length(replace(replace(replace(replace("
	    "replace(s._1 || s._1 || s._1 || s._1, 'b', s._2 || s._2 || s._2), "
	    "'p', s._2 || s._2 || s._2 || s._2), 'o', s._2 || s._2 || s._2), "
	    "'h', s._2 || s._2 || s._2), '/', s._2 || s._2 || s._2)) > 0",
	    schema, nitems(schema), &f, &cause), 0);
	big = xmalloc(60000);
	memset(big, 'p', 59999);
	big[59999] = '\0';
	for (i = 0; i < nitems(schema); i++) {
		v[i] = i == 1 ? big : row_a[i];
		lens[i] = strlen(v[i]);
	}
	CHECK_INT(invfilter_match(f, v, lens, nitems(schema), &cause), -1);
	CHECK(cause != NULL && strstr(cause, "too big") != NULL);
	free(cause);
	cause = NULL;
	/* The wrong number of fields. */
	CHECK_INT(invfilter_match(f, v, lens, 3, &cause), -1);
	CHECK(cause != NULL && strstr(cause, "3 fields") != NULL);
	free(cause);
	cause = NULL;
	invfilter_free(f);
	free(big);

	/* Any ORs chain within the limits runs; 10,000 LIKEs on 60 KB. */
	CHECK_INT(invfilter_new("s._2 LIKE '%a%a%a%a%a%a%a%a%a%a%a%a%b%'",
	    schema, nitems(schema), &f, &cause), 0);
	big = xmalloc(60001);
	memset(big, 'a', 60000);
	big[60000] = '\0';
	v[1] = big;
	lens[1] = 60000;
	CHECK_INT(invfilter_match(f, v, lens, nitems(schema), &cause), 0);
	invfilter_free(f);
	free(big);
}

static void
test_schema(void)
{
	static const char *const odd[] = {
		"Bucket", "Key", "_1", "key", "we\"ird name", "",
	};
	static const char *const vals[] = { "b", "k", "x", "y", "z", "w" };
	struct invfilter	*f;
	char			*cause = NULL;
	size_t			 lens[6] = { 1, 1, 1, 1, 1, 1 };

	/* A name that is a position or a repeat is reachable by position. */
	CHECK_INT(invfilter_new("s._1 = 'b' AND s._3 = 'x' AND s.Key = 'k' "
	    "AND s.\"we\"\"ird name\" = 'z' AND s._6 = 'w'", odd, nitems(odd),
	    &f, &cause), 0);
	CHECK_INT(invfilter_match(f, vals, lens, 6, &cause), 1);
	invfilter_free(f);

	/* Before the report: Amazon's names, any position up to 64. */
	CHECK_INT(invfilter_check("s._64 = 'x' AND s.BucketKeyStatus = 'y' "
	    "AND ObjectOwner <> ''", NULL, 0, &cause), 0);
	CHECK_INT(invfilter_check("s._65 = 'x'", NULL, 0, &cause), -1);
	CHECK(cause != NULL && strstr(cause, "no such column") != NULL);
	free(cause);
	cause = NULL;
	CHECK_INT(invfilter_check("s.Owner = 'x'", NULL, 0, &cause), -1);
	free(cause);
	cause = NULL;
	/* With the schema: only its columns. */
	CHECK_INT(invfilter_check("s._6 = 'DISABLED'", schema, nitems(schema),
	    &cause), 0);
	CHECK_INT(invfilter_check("s.ObjectOwner = 'x'", schema,
	    nitems(schema), &cause), -1);
	free(cause);
	cause = NULL;
	CHECK_INT(invfilter_new("1", schema, 0, &f, &cause), -1);
	CHECK(f == NULL);
	free(cause);
}

/* One compiled filter, many rows. */
static void
test_reuse(void)
{
	struct invfilter	*f;
	char			*cause = NULL;
	size_t			 lens[nitems(schema)], i, n = 0;
	char			 key[32];
	const char		*v[nitems(schema)];

	CHECK_INT(invfilter_new("s._6 = 'DISABLED' AND s.Key LIKE 'k1%'",
	    schema, nitems(schema), &f, &cause), 0);
	for (i = 0; i < nitems(schema); i++) {
		v[i] = row_a[i];
		lens[i] = strlen(row_a[i]);
	}
	v[1] = key;
	for (i = 0; i < 2000; i++) {
		/* Not NUL-terminated where the length ends. */
		lens[1] = (size_t)snprintf(key, sizeof key, "k%zuXXXX", i) - 4;
		if (invfilter_match(f, v, lens, nitems(schema), &cause) == 1)
			n++;
	}
	CHECK_INT(n, 1 + 10 + 100 + 1000);
	invfilter_free(f);
}

int
main(void)
{
	test_select();
	test_refused();
	test_bounds();
	test_schema();
	test_reuse();
	return (unit_done("test-invfilter"));
}
