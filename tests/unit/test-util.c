/* Unit tests for util.c, urlenc.c and buf.c. */
#include "s3batchd.h"
#include "unit.h"

static void
test_duration(void)
{
	static const struct {
		const char	*in;
		int		 ok;
		uint64_t	 ms;
	} cases[] = {
		{ "2s", 1, 2000 }, { "500ms", 1, 500 }, { "30d", 1, 2592000000ULL },
		{ "1h30m", 1, 5400000 }, { "10", 1, 10000 }, { "0s", 1, 0 },
		{ "1w", 1, 604800000ULL },
		{ "", 0, 0 }, { "s", 0, 0 }, { "5x", 0, 0 }, { "-1s", 0, 0 },
		{ "1.5s", 0, 0 }, { "10 s", 0, 0 }, { "5s10", 0, 0 },
		{ "99999999999999999999999d", 0, 0 },
	};
	size_t		 i;
	uint64_t	 ms;
	char		*cause;
	int		 r;

	for (i = 0; i < nitems(cases); i++) {
		cause = NULL;
		ms = 0;
		r = parse_duration(cases[i].in, &ms, &cause);
		CHECK_INT(r == 0, cases[i].ok);
		if (cases[i].ok)
			CHECK_INT(ms, cases[i].ms);
		else
			CHECK(cause != NULL);
		free(cause);
	}
}

static void
test_size(void)
{
	uint64_t	 v;
	char		*cause = NULL;

	CHECK_INT(parse_size("5GiB", &v, &cause), 0);
	CHECK_INT(v, 5ULL << 30);
	CHECK_INT(parse_size("64k", &v, &cause), 0);
	CHECK_INT(v, 65536);
	CHECK_INT(parse_size("123", &v, &cause), 0);
	CHECK_INT(v, 123);
	CHECK_INT(parse_size("12q", &v, &cause), -1);
	free(cause);
}

static void
test_urlenc(void)
{
	struct buf	 b;
	char		*cause = NULL;

	buf_init(&b);
	url_encode(&b, "a b+c/d~e*", 10, URLENC_KEEP_SLASH);
	CHECK_STR(b.data, "a%20b%2Bc/d~e%2A");
	buf_reset(&b);
	url_encode(&b, "a/b", 3, 0);
	CHECK_STR(b.data, "a%2Fb");
	buf_reset(&b);
	CHECK_INT(url_decode(&b, "a%20b%2fc+d", 11, 0, &cause), 0);
	CHECK_STR(b.data, "a b/c+d");
	buf_reset(&b);
	CHECK_INT(url_decode(&b, "a+b", 3, URLENC_PLUS_SPACE, &cause), 0);
	CHECK_STR(b.data, "a b");
	buf_reset(&b);
	CHECK_INT(url_decode(&b, "abc%2", 5, 0, &cause), -1);
	free(cause);
	cause = NULL;
	buf_reset(&b);
	CHECK_INT(url_decode(&b, "abc%zz", 6, 0, &cause), -1);
	free(cause);
	cause = NULL;
	buf_reset(&b);
	CHECK_INT(url_decode(&b, "%", 1, 0, &cause), -1);
	free(cause);
	buf_free(&b);
}

static void
test_utf8(void)
{
	CHECK(utf8_valid("abc", 3));
	CHECK(utf8_valid("\xc3\xa9", 2));
	CHECK(utf8_valid("\xf0\x9f\x98\x80", 4));
	CHECK(!utf8_valid("\xc3", 1));
	CHECK(!utf8_valid("\xc0\xaf", 2));		/* overlong */
	CHECK(!utf8_valid("\xed\xa0\x80", 3));		/* surrogate */
	CHECK(!utf8_valid("\xff", 1));
}

static void
test_misc(void)
{
	char		 id[37], ts[40], d[32];
	struct buf	 b;

	uuid_generate_v4(id);
	CHECK_INT(strlen(id), 36);
	CHECK(id[14] == '4');
	time_format_iso(1588703261390ULL, ts, sizeof ts);
	CHECK_STR(ts, "2020-05-05T18:27:41.390000+00:00");
	format_duration(5400000, d, sizeof d);
	CHECK_STR(d, "1h30m");
	buf_init(&b);
	buf_addf(&b, "%d-%s", 42, "x");
	buf_consume(&b, 1);
	CHECK_STR(b.data, "2-x");
	buf_free(&b);
}

int
main(void)
{
	log_init(LOG_TO_STDERR, 0);
	test_duration();
	test_size();
	test_urlenc();
	test_utf8();
	test_misc();
	return (unit_done("test-util"));
}
