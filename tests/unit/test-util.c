/* Unit tests for util.c, urlenc.c, buf.c and json.c. */
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "json.h"
#include "unit.h"

/* The child of a test wrote everything and said so. */
static void
waitpid_ok(pid_t pid)
{
	int	 status = -1;

	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

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

static void
test_time_iso(void)
{
	static const struct {
		const char	*in;
		int		 flags;
		int		 ok;
		int64_t		 ms;
	} cases[] = {
		{ "2026-11-22T02:13:03.123Z", 0, 1, INT64_C(1795313583123) },
		{ "2026-11-22T02:13:03.123+01:00", 0, 1,
		    INT64_C(1795309983123) },
		{ "2026-11-22T02:13:03.123+0100", 0, 1,
		    INT64_C(1795309983123) },
		{ "2026-11-22T02:13:03-05", 0, 1, INT64_C(1795331583000) },
		{ "2026-11-22 02:13:03,5", 0, 1, INT64_C(1795313583500) },
		{ "2026-11-22T07:13", 0, 1, INT64_C(1795331580000) },
		{ "2024-02-29", 0, 1, INT64_C(1709164800000) },
		{ "1969-12-31T23:59:59Z", 0, 1, INT64_C(-1000) },
		{ "0000-03-01", 0, 1, INT64_C(-62162035200000) },
		{ "2023-02-29", 0, 0, 0 },
		{ "2100-02-29", 0, 0, 0 },
		{ "2000-02-29", 0, 1, INT64_C(951782400000) },
		{ "2026-11-31", 0, 0, 0 },
		{ "2026-11-22T24:00", 0, 0, 0 },
		{ "2026-11-22T02:13:03.Z", 0, 0, 0 },
		{ "2026-11-22T02:13:03.1234567891Z", 0, 0, 0 },
		{ "2026-11-22T02:13:03+1", 0, 0, 0 },
		{ "2026-11-22T02:13:03Zjunk", 0, 0, 0 },
		{ "2026-11-22T", 0, 0, 0 },
		{ "2026-11-2", 0, 0, 0 },
		{ "", 0, 0, 0 },
		/* RFC 3339, as S3 writes times. */
		{ "2009-10-12T17:50:30.000Z", TIME_ISO_RFC3339, 1,
		    INT64_C(1255369830000) },
		{ "2009-10-12t17:50:30.123456z", TIME_ISO_RFC3339, 1,
		    INT64_C(1255369830123) },
		{ "2009-10-12T19:50:30+02:00", TIME_ISO_RFC3339, 1,
		    INT64_C(1255369830000) },
		{ "2009-10-12T19:50:30+0200", TIME_ISO_RFC3339, 0, 0 },
		{ "2009-10-12T19:50:30+02", TIME_ISO_RFC3339, 0, 0 },
		{ "2009-10-12 17:50:30Z", TIME_ISO_RFC3339, 0, 0 },
		{ "2009-10-12T17:50:30", TIME_ISO_RFC3339, 0, 0 },
		{ "2009-10-12T17:50Z", TIME_ISO_RFC3339, 0, 0 },
		{ "2009-10-12T17:50:30,1Z", TIME_ISO_RFC3339, 0, 0 },
		{ "2009-10-12", TIME_ISO_RFC3339, 0, 0 },
	};
	size_t		 i;
	int64_t		 ms;
	int		 r;

	for (i = 0; i < nitems(cases); i++) {
		ms = 0;
		r = time_parse_iso(cases[i].in, strlen(cases[i].in),
		    cases[i].flags, &ms);
		if ((r == 0) != cases[i].ok)
			fprintf(stderr, "time_parse_iso(\"%s\")\n", cases[i].in);
		CHECK_INT(r == 0, cases[i].ok);
		if (cases[i].ok)
			CHECK_INT(ms, cases[i].ms);
	}
	/* The length bounds the parse: no reading past it. */
	CHECK_INT(time_parse_iso("2024-02-29T00:00:00Zjunk", 20,
	    TIME_ISO_RFC3339, &ms), 0);
	CHECK_INT(ms, INT64_C(1709164800000));
	CHECK_INT(time_days_from_civil(1970, 1, 1), 0);
	CHECK_INT(time_days_from_civil(2000, 3, 1), 11017);
	CHECK_INT(time_days_from_civil(1969, 12, 31), -1);
}

static void
test_time_format(void)
{
	char		 ts[40];
	uint64_t	 ms;

	time_format_utc(1255369830123ULL, ts, sizeof ts);
	CHECK_STR(ts, "2009-10-12T17:50:30.123Z");
	time_format_utc(0, ts, sizeof ts);
	CHECK_STR(ts, "1970-01-01T00:00:00.000Z");
	CHECK_INT(time_parse_http("Sun, 06 Nov 1994 08:49:37 GMT", &ms), 0);
	CHECK_INT(ms, 784111777000ULL);
	CHECK_INT(time_parse_http("Thu, 01 Jan 1970 00:00:00 GMT", &ms), 0);
	CHECK_INT(ms, 0);
	CHECK_INT(time_parse_http("Tue, 29 Feb 2028 23:59:60 GMT", &ms), 0);
	CHECK_INT(ms, 1835481600000ULL);
	CHECK_INT(time_parse_http("Sun, 06 Foo 1994 08:49:37 GMT", &ms), -1);
	CHECK_INT(time_parse_http("Sun, 06 Nov 1994 08:49:37", &ms), -1);
	CHECK_INT(time_parse_http("Sun, 06 Nov 1994 08:49:37 GMTx", &ms), -1);
	CHECK_INT(time_parse_http("1994-11-06T08:49:37Z", &ms), -1);
	CHECK_INT(time_parse_http(NULL, &ms), -1);
}

static void
test_hex(void)
{
	static const unsigned char	 in[] = { 0x00, 0x0f, 0xa5, 0xff };
	char				 out[2 * sizeof in + 1];

	hex_encode(in, sizeof in, out);
	CHECK_STR(out, "000fa5ff");
	hex_encode(in, 0, out);
	CHECK_STR(out, "");
}

static void
test_io(void)
{
	struct buf	 b;
	char		 big[100000], back[100001];
	int		 fds[2];
	size_t		 i;
	pid_t		 pid;

	for (i = 0; i < sizeof big; i++)
		big[i] = (char)('a' + i % 26);
	/* More than a pipe holds: io_write_all must loop on short writes. */
	CHECK_INT(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		_exit(io_write_all(fds[1], big, sizeof big) == 0 ? 0 : 1);
	}
	close(fds[1]);
	CHECK_INT(io_read_full(fds[0], back, sizeof back), sizeof big);
	CHECK(memcmp(back, big, sizeof big) == 0);
	CHECK_INT(io_read_full(fds[0], back, sizeof back), 0);
	close(fds[0]);
	waitpid_ok(pid);

	CHECK_INT(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		_exit(io_write_all(fds[1], big, sizeof big) == 0 ? 0 : 1);
	}
	close(fds[1]);
	buf_init(&b);
	buf_adds(&b, "x");
	CHECK_INT(io_read_buf(fds[0], &b, sizeof big), 0);
	CHECK_INT(b.len, sizeof big + 1);
	CHECK(memcmp(b.data + 1, big, sizeof big) == 0);
	close(fds[0]);
	waitpid_ok(pid);

	CHECK_INT(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		_exit(io_write_all(fds[1], big, sizeof big) == 0 ? 0 : 1);
	}
	close(fds[1]);
	buf_reset(&b);
	errno = 0;
	CHECK_INT(io_read_buf(fds[0], &b, 1000), -1);
	CHECK_INT(errno, EFBIG);
	close(fds[0]);
	waitpid(pid, NULL, 0);
	buf_free(&b);

	/* A closed reader: the error, not a loop. */
	CHECK_INT(pipe(fds), 0);
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	CHECK_INT(io_write_all(fds[1], "x", 1), -1);
	CHECK_INT(errno, EPIPE);
	close(fds[1]);
	CHECK_INT(io_read_full(-1, back, 1), -1);
	CHECK_INT(errno, EBADF);
}

static void
test_json(void)
{
	struct json_object	*o;
	int64_t			 v = 0;

	o = json_tokener_parse("{\"Report\":{\"Bucket\":\"b\",\"Enabled\":true,"
	    "\"N\":42,\"D\":1.9e3,\"Big\":1e300,\"Off\":false},"
	    "\"S\":\"x\",\"L\":[1]}");
	CHECK(o != NULL);
	CHECK_STR(json_path_string(o, "Report.Bucket"), "b");
	CHECK_STR(json_path_string(o, "S"), "x");
	CHECK(json_path_string(o, "Report.N") == NULL);
	CHECK(json_path_string(o, "Report.Missing") == NULL);
	CHECK(json_path_string(o, "S.Deeper") == NULL);
	CHECK(json_path_string(o, "L.0") == NULL);
	CHECK(json_path_string(NULL, "S") == NULL);
	CHECK(json_path(o, "Report") != NULL);
	CHECK_INT(json_path_int64(o, "Report.N", &v), 0);
	CHECK_INT(v, 42);
	CHECK_INT(json_path_int64(o, "Report.D", &v), 0);
	CHECK_INT(v, 1900);
	CHECK_INT(json_path_int64(o, "Report.Big", &v), -1);
	CHECK_INT(json_path_int64(o, "S", &v), -1);
	CHECK_INT(json_path_int64(o, "Nope", &v), -1);
	CHECK_INT(json_path_bool(o, "Report.Enabled"), 1);
	CHECK_INT(json_path_bool(o, "Report.Off"), 0);
	CHECK_INT(json_path_bool(o, "Report.N"), -1);
	CHECK_INT(json_path_bool(o, "Report.Nope"), -1);
	json_object_put(o);
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
	test_time_iso();
	test_time_format();
	test_hex();
	test_io();
	test_json();
	return (unit_done("test-util"));
}
