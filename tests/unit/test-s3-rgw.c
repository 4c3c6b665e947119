/*
 * s3.c against a real S3 server: Ceph RGW on loopback (docs/TESTING.md).
 * Skipped (exit 77) unless S3B_RGW_ENDPOINT is set, e.g. by tests/check.sh.
 *
 * Creates a bucket, puts the awkward keys and reads them back (GET, HEAD,
 * streamed GET), tags them (Content-MD5), copies them (a 200 that may carry
 * an error), checks a wrong secret, missing keys and HEAD 404s, does the
 * same through virtual-hosted addressing, and removes everything again.
 */
#include <unistd.h>

#include <event2/event.h>

#include "s3batchd.h"
#include "cfg.h"
#include "http.h"
#include "s3.h"
#include "s3xml.h"
#include "sigv4.h"
#include "unit.h"

static struct event_base	*base;
static struct s3		*s3;

static const char *keys[] = {
	"with space",
	"  leading and trailing  ",
	"plus+sign",
	"a+b c",
	"percent%",
	"already%20encoded",
	"tilde~star*paren()bang!",
	"dir/trailing/",
	"a//b",
	"./x",
	"dot/./dotdot/../x",
	"utf8/\xc3\xa9\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xf0\x9f\x99\x82",
	"quote'dquote\"",
	"amp&eq=semi;colon,comma",
	"hash#question?",
};

struct outcome {
	int		 done;
	int		 status;
	int		 attempts;
	char		 code[64];
	char		 etag[80];
	char		 version_id[80];
	int64_t		 content_length;
	struct buf	 body;
};

static void
done_cb(const struct s3_result *r, void *arg)
{
	struct outcome	*o = arg;

	o->done = 1;
	o->status = r->status;
	o->attempts = r->attempts;
	snprintf(o->code, sizeof o->code, "%s",
	    r->error_code != NULL ? r->error_code : "");
	snprintf(o->etag, sizeof o->etag, "%s", r->etag != NULL ? r->etag : "");
	snprintf(o->version_id, sizeof o->version_id, "%s",
	    r->version_id != NULL ? r->version_id : "");
	o->content_length = r->content_length;
	if (r->error_code != NULL)
		fprintf(stderr, "  -> %d %s: %s\n", r->status, r->error_code,
		    r->error_message);
	buf_reset(&o->body);
	if (r->http != NULL && r->http->body.len != 0)
		buf_add(&o->body, r->http->body.data, r->http->body.len);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	*(int *)arg = 1;
}

/* Run the loop until a call is done. */
static void
wait_done(struct outcome *o)
{
	struct event	*ev;
	struct timeval	 tv = { 30, 0 };
	int		 expired = 0;

	ev = evtimer_new(base, timeout_cb, &expired);
	evtimer_add(ev, &tv);
	while (!o->done && !expired)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(ev);
	CHECK(o->done);
}

static void
run(const struct s3_request *r, struct outcome *o)
{
	o->done = 0;
	s3_call(s3, r, done_cb, o);
	wait_done(o);
}

static void
request(struct s3_request *r, const char *method, const char *bucket,
    const char *key, const char *query)
{
	memset(r, 0, sizeof *r);
	r->method = method;
	r->bucket = bucket;
	r->key = key;
	r->query = query;
}

/* Streamed bodies: a string read in small pieces, and a sink. */
struct stream {
	const char	*data;
	size_t		 len;
	size_t		 off;
	struct buf	 sunk;
};

static long
stream_read(void *buf, size_t len, void *arg)
{
	struct stream	*s = arg;

	if (len > 3)
		len = 3;
	if (len > s->len - s->off)
		len = s->len - s->off;
	memcpy(buf, s->data + s->off, len);
	s->off += len;
	return ((long)len);
}

static int
stream_rewind(void *arg)
{
	((struct stream *)arg)->off = 0;
	return (0);
}

static int
stream_sink(uint64_t off, const void *data, size_t len, void *arg)
{
	struct stream	*s = arg;

	if (off == 0)
		buf_reset(&s->sunk);
	buf_add(&s->sunk, data, len);
	return (0);
}

static void
round_trip(const char *bucket, const char *key, struct outcome *o)
{
	struct s3_request	 r;
	char			 etag[80];

	request(&r, "PUT", bucket, key, NULL);
	r.body = key;
	r.body_len = strlen(key);
	r.flags = S3_CONTENT_MD5;
	run(&r, o);
	CHECK_INT(o->status, 200);
	CHECK_INT(strlen(o->etag), 32);
	snprintf(etag, sizeof etag, "%s", o->etag);

	request(&r, "GET", bucket, key, NULL);
	run(&r, o);
	CHECK_INT(o->status, 200);
	CHECK(o->body.len == strlen(key) &&
	    memcmp(o->body.data, key, o->body.len) == 0);
	CHECK_STR(o->etag, etag);

	request(&r, "HEAD", bucket, key, NULL);
	run(&r, o);
	CHECK_INT(o->status, 200);
	CHECK_INT(o->content_length, strlen(key));
	CHECK_STR(o->etag, etag);
	if (o->status != 200)
		fprintf(stderr, "key \"%s\" failed\n", key);
}

static void
tagging(const char *bucket, const char *key, struct outcome *o)
{
	struct s3_request	 r;
	struct s3xml_tagging	 t;
	struct buf		 xml;
	char			*cause = NULL;

	memset(&t, 0, sizeof t);
	buf_init(&t.tags[0].key);
	buf_init(&t.tags[0].value);
	buf_adds(&t.tags[0].key, "k");
	buf_adds(&t.tags[0].value, "v w");
	t.ntags = 1;
	buf_init(&xml);
	CHECK_INT(s3xml_write_tagging(&xml, &t, &cause), 0);
	s3xml_tagging_free(&t);

	request(&r, "PUT", bucket, key, "tagging");
	r.body = xml.data;
	r.body_len = xml.len;
	r.flags = S3_CONTENT_MD5;
	run(&r, o);
	CHECK_INT(o->status, 200);

	request(&r, "GET", bucket, key, "tagging");
	run(&r, o);
	CHECK_INT(o->status, 200);
	memset(&t, 0, sizeof t);
	CHECK_INT(s3xml_parse_tagging(o->body.data, o->body.len, &t, &cause),
	    0);
	CHECK_INT(t.ntags, 1);
	if (t.ntags == 1) {
		CHECK_STR(t.tags[0].key.data, "k");
		CHECK_STR(t.tags[0].value.data, "v w");
	}
	s3xml_tagging_free(&t);

	request(&r, "DELETE", bucket, key, "tagging");
	run(&r, o);
	CHECK_INT(o->status, 204);
	request(&r, "GET", bucket, key, "tagging");
	run(&r, o);
	memset(&t, 0, sizeof t);
	CHECK_INT(s3xml_parse_tagging(o->body.data, o->body.len, &t, &cause),
	    0);
	CHECK_INT(t.ntags, 0);
	s3xml_tagging_free(&t);
	buf_free(&xml);
	free(cause);
}

static void
copy(const char *bucket, const char *key, const char *to, struct outcome *o)
{
	struct s3_request	 r;
	struct s3_header	 h;
	struct s3xml_copy	 c;
	struct buf		 src;
	char			*cause = NULL;

	buf_init(&src);
	buf_addf(&src, "/%s/", bucket);
	sigv4_encode_key(&src, key, strlen(key));
	h.name = "x-amz-copy-source";
	h.value = src.data;
	request(&r, "PUT", bucket, to, NULL);
	r.headers = &h;
	r.nheaders = 1;
	r.flags = S3_ERROR_IN_200;
	run(&r, o);
	CHECK_INT(o->status, 200);
	CHECK_STR(o->code, "");
	memset(&c, 0, sizeof c);
	CHECK_INT(s3xml_parse_copy(o->body.data, o->body.len, &c, &cause), 0);
	CHECK(c.etag.len >= 32);
	s3xml_copy_free(&c);
	free(cause);

	request(&r, "GET", bucket, to, NULL);
	run(&r, o);
	CHECK(o->body.len == strlen(key) &&
	    memcmp(o->body.data, key, o->body.len) == 0);
	buf_free(&src);
}

static void
remove_key(const char *bucket, const char *key, struct outcome *o)
{
	struct s3_request	 r;

	request(&r, "DELETE", bucket, key, NULL);
	run(&r, o);
	CHECK_INT(o->status, 204);
}

int
main(void)
{
	const char		*endpoint, *port;
	struct s3_request	 r;
	struct s3_header	 h;
	struct outcome		 o;
	struct stream		 st;
	struct cfg		*cfg;
	struct buf		 copyname;
	char			*text, *cause = NULL;
	char			 bucket[48], vbucket[64];
	size_t			 i;

	if ((endpoint = getenv("S3B_RGW_ENDPOINT")) == NULL ||
	    *endpoint == '\0') {
		printf("test-s3-rgw: S3B_RGW_ENDPOINT is not set: skipped\n");
		return (77);
	}
	log_init(LOG_TO_STDERR, 0);
	if ((port = strrchr(endpoint, ':')) == NULL)
		fatalx("S3B_RGW_ENDPOINT=%s has no port", endpoint);
	snprintf(bucket, sizeof bucket, "s3b-s3test-%d-%llu", (int)getpid(),
	    (unsigned long long)(time_now_ms() % 1000000));
	snprintf(vbucket, sizeof vbucket, "%s-v", bucket);

	/* rgw_dns_name is localhost: BUCKET.localhost is virtual hosting. */
	xasprintf(&text, "[daemon]\nmax_attempts = 3\nretry_base = 10ms\n"
	    "[endpoint default]\nurl = %s\naccess_key_id = TESTAK\n"
	    "secret_access_key = TESTSK\n"
	    "[endpoint bad]\nurl = %s\naccess_key_id = TESTAK\n"
	    "secret_access_key = WRONGSECRET\n"
	    "[endpoint virt]\nurl = http://localhost%s\naddressing = virtual\n"
	    "access_key_id = TESTAK\nsecret_access_key = TESTSK\n"
	    "[bucket %s]\nendpoint = virt\n"
	    "[credentials wrong]\naccess_key_id = TESTAK\n"
	    "secret_access_key = NOTIT\n",
	    endpoint, endpoint, port, vbucket);
	if ((cfg = cfg_load_buffer("rgw.conf", text, strlen(text),
	    &cause)) == NULL)
		fatalx("config: %s", cause);
	free(text);
	base = event_base_new();
	if ((s3 = s3_new(base, cfg, &cause)) == NULL)
		fatalx("s3_new: %s", cause);
	cfg_free(cfg);
	memset(&o, 0, sizeof o);
	buf_init(&o.body);
	memset(&st, 0, sizeof st);
	buf_init(&st.sunk);
	buf_init(&copyname);

	/* The keys, through path-style addressing. */
	request(&r, "PUT", bucket, NULL, NULL);
	run(&r, &o);
	CHECK_INT(o.status, 200);
	for (i = 0; i < nitems(keys); i++) {
		round_trip(bucket, keys[i], &o);
		tagging(bucket, keys[i], &o);
		buf_reset(&copyname);
		buf_addf(&copyname, "%s.copy", keys[i]);
		copy(bucket, keys[i], copyname.data, &o);
	}

	/* versionId=null is the only version of an unversioned object. */
	request(&r, "GET", bucket, keys[0], NULL);
	r.version_id = "null";
	run(&r, &o);
	CHECK_INT(o.status, 200);

	/* A streamed PUT (UNSIGNED-PAYLOAD) and a streamed GET. */
	st.data = "streamed body, in pieces of three bytes";
	st.len = strlen(st.data);
	request(&r, "PUT", bucket, "streamed", NULL);
	r.stream_len = st.len;
	r.stream_read = stream_read;
	r.stream_rewind = stream_rewind;
	r.stream_arg = &st;
	r.flags = S3_UNSIGNED_PAYLOAD;
	run(&r, &o);
	CHECK_INT(o.status, 200);
	request(&r, "GET", bucket, "streamed", NULL);
	r.sink = stream_sink;
	r.sink_arg = &st;
	run(&r, &o);
	CHECK_INT(o.status, 200);
	CHECK_STR(st.sunk.data, st.data);
	CHECK_INT(o.body.len, 0);

	/* Errors: a missing key, with and without a body; a copy of one. */
	request(&r, "GET", bucket, "no/such key", NULL);
	run(&r, &o);
	CHECK_INT(o.status, 404);
	CHECK_STR(o.code, "NoSuchKey");
	CHECK_INT(o.attempts, 1);
	request(&r, "HEAD", bucket, "no/such key", NULL);
	run(&r, &o);
	CHECK_INT(o.status, 404);
	CHECK_STR(o.code, "NotFound");
	h.name = "x-amz-copy-source";
	h.value = "/nosuchbucket-s3b/k";
	request(&r, "PUT", bucket, "copy-of-nothing", NULL);
	r.headers = &h;
	r.nheaders = 1;
	r.flags = S3_ERROR_IN_200;
	run(&r, &o);
	CHECK_INT(o.status, 404);
	CHECK_STR(o.code, "NoSuchBucket");

	/* A wrong secret: final at once, whichever way it is chosen. */
	o.done = 0;
	s3_check_endpoint(s3, "bad", done_cb, &o);
	wait_done(&o);
	CHECK_INT(o.status, 403);
	CHECK_STR(o.code, "SignatureDoesNotMatch");
	CHECK_INT(o.attempts, 1);
	request(&r, "GET", bucket, keys[0], NULL);
	r.role_arn = "arn:aws:iam::123456789012:role/wrong";
	run(&r, &o);
	CHECK_INT(o.status, 403);
	CHECK_STR(o.code, "SignatureDoesNotMatch");
	CHECK_INT(o.attempts, 1);
	/* A role without a profile: the endpoint's keys. */
	r.role_arn = "arn:aws:iam::123456789012:role/no-such-profile";
	run(&r, &o);
	CHECK_INT(o.status, 200);

	/* Virtual-hosted addressing. */
	request(&r, "PUT", vbucket, NULL, NULL);
	run(&r, &o);
	CHECK_INT(o.status, 200);
	for (i = 0; i < nitems(keys); i++) {
		round_trip(vbucket, keys[i], &o);
		remove_key(vbucket, keys[i], &o);
	}
	request(&r, "DELETE", vbucket, NULL, NULL);
	run(&r, &o);
	CHECK_INT(o.status, 204);

	/* Clean up. */
	for (i = 0; i < nitems(keys); i++) {
		remove_key(bucket, keys[i], &o);
		buf_reset(&copyname);
		buf_addf(&copyname, "%s.copy", keys[i]);
		remove_key(bucket, copyname.data, &o);
	}
	remove_key(bucket, "streamed", &o);
	request(&r, "DELETE", bucket, NULL, NULL);
	run(&r, &o);
	CHECK_INT(o.status, 204);
	request(&r, "HEAD", bucket, NULL, NULL);
	run(&r, &o);
	CHECK_STR(o.code, "NotFound");

	s3_free(s3);
	event_base_free(base);
	buf_free(&o.body);
	buf_free(&st.sunk);
	buf_free(&copyname);
	return (unit_done("test-s3-rgw"));
}
