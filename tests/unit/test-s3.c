/*
 * Unit tests for s3.c: the pure parts (URL building in both addressing
 * styles with awkward keys, the error tables, dates), then whole calls
 * against an in-process evhttp server on 127.0.0.1 that checks what was
 * signed and sent and answers as S3 would (errors, 200 with <Error>,
 * SlowDown, clock skew).
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "s3batchd.h"
#include "cfg.h"
#include "s3.h"
#include "sigv4.h"
#include "unit.h"

static struct event_base	*base;
static int			 srv_port;

/* ---- pure parts */

static void
check_url(const char *ep, int virtual_host, const char *bucket,
    const char *key, const char *version_id, const char *query,
    const char *want)
{
	struct s3_request	 r;
	struct buf		 url;
	char			*cause = NULL;

	memset(&r, 0, sizeof r);
	r.bucket = bucket;
	r.key = key;
	r.version_id = version_id;
	r.query = query;
	buf_init(&url);
	CHECK_INT(s3_build_url(ep, virtual_host, &r, &url, &cause), 0);
	CHECK_STR(url.data, want);
	if (cause != NULL)
		fprintf(stderr, "cause: %s\n", cause);
	free(cause);
	buf_free(&url);
}

static void
test_urls(void)
{
	static const struct {
		const char	*key;
		const char	*enc;
	} keys[] = {
		{ "with space",			"with%20space" },
		{ "  lead and trail  ",		"%20%20lead%20and%20trail%20%20" },
		{ "plus+sign",			"plus%2Bsign" },
		{ "percent%",			"percent%25" },
		{ "already%20encoded",		"already%2520encoded" },
		{ "utf8/\xc3\xa9\xe6\x97\xa5",	"utf8/%C3%A9%E6%97%A5" },
		{ "tilde~star*paren()bang!",	"tilde~star%2Aparen%28%29bang%21" },
		{ "dir/trailing/",		"dir/trailing/" },
		{ "a//b",			"a//b" },
		{ "./x",			"./x" },
		{ "dot/./dotdot/../x",		"dot/./dotdot/../x" },
		{ "hash#question?",		"hash%23question%3F" },
		{ "amp&eq=semi;",		"amp%26eq%3Dsemi%3B" },
		{ "quote'dq\"",			"quote%27dq%22" },
	};
	struct s3_request	 r;
	struct buf		 url;
	char			 want[512];
	char			*cause = NULL;
	size_t			 i;

	for (i = 0; i < nitems(keys); i++) {
		snprintf(want, sizeof want, "http://127.0.0.1:7480/bkt/%s",
		    keys[i].enc);
		check_url("http://127.0.0.1:7480", 0, "bkt", keys[i].key, NULL,
		    NULL, want);
		snprintf(want, sizeof want, "https://bkt.s3.example.com/%s",
		    keys[i].enc);
		check_url("https://s3.example.com", 1, "bkt", keys[i].key,
		    NULL, NULL, want);
	}

	/* Bucket-level and service-level calls. */
	check_url("http://h:1", 0, "bkt", NULL, NULL, "tagging",
	    "http://h:1/bkt?tagging");
	check_url("http://h:1", 1, "bkt", NULL, NULL, "list-type=2",
	    "http://bkt.h:1/?list-type=2");
	check_url("http://h:1", 0, NULL, NULL, NULL, NULL, "http://h:1/");
	check_url("http://h:1", 1, NULL, NULL, NULL, NULL, "http://h:1/");

	/* versionId encoded, the caller's query sent as is, before it. */
	check_url("http://h", 0, "bkt", "k", "3/L4kqtJl+cZ=", NULL,
	    "http://h/bkt/k?versionId=3%2FL4kqtJl%2BcZ%3D");
	check_url("http://h", 0, "bkt", "k", "null", "tagging",
	    "http://h/bkt/k?tagging&versionId=null");
	check_url("http://h", 0, "bkt", "k", NULL,
	    "partNumber=3&uploadId=a%2Fb", "http://h/bkt/k?partNumber=3&"
	    "uploadId=a%2Fb");

	/* A base path in the endpoint URL, trailing slash or not. */
	check_url("http://h:8080/s3/", 0, "bkt", "a b", NULL, NULL,
	    "http://h:8080/s3/bkt/a%20b");
	check_url("http://h:8080/s3", 1, "bkt", "k", NULL, NULL,
	    "http://bkt.h:8080/s3/k");

	/* Buckets that cannot be a host name go path-style. */
	check_url("https://s3.example.com", 1, "my.bucket", "k", NULL, NULL,
	    "https://s3.example.com/my.bucket/k");
	check_url("http://s3.example.com", 1, "my.bucket", "k", NULL, NULL,
	    "http://my.bucket.s3.example.com/k");
	check_url("http://h", 1, "Upper_Case", "k", NULL, NULL,
	    "http://h/Upper_Case/k");
	check_url("http://h", 1, "a..b", "k", NULL, NULL, "http://h/a..b/k");

	/* key_len: a key that is not NUL-terminated. */
	memset(&r, 0, sizeof r);
	r.bucket = "bkt";
	r.key = "abcdef";
	r.key_len = 3;
	buf_init(&url);
	CHECK_INT(s3_build_url("http://h", 0, &r, &url, &cause), 0);
	CHECK_STR(url.data, "http://h/bkt/abc");

	/* Bad endpoint URLs. */
	CHECK_INT(s3_build_url("ftp://h", 0, &r, &url, &cause), -1);
	CHECK(cause != NULL && strstr(cause, "ftp://h") != NULL);
	free(cause);
	cause = NULL;
	CHECK_INT(s3_build_url("http://", 0, &r, &url, &cause), -1);
	free(cause);
	cause = NULL;
	CHECK_INT(s3_build_url("http://u@h", 0, &r, &url, &cause), -1);
	free(cause);
	buf_free(&url);
}

static void
test_tables(void)
{
	static const struct {
		const char	*code;
		int		 status;
		int		 retry;
	} t[] = {
		{ "SlowDown",			503, 1 },
		{ "SlowDown",			0,   1 },
		{ "InternalError",		500, 1 },
		{ "RequestTimeout",		400, 1 },
		{ "RequestTimeTooSkewed",	403, 1 },
		{ "ServiceUnavailable",		503, 1 },
		{ "ExpiredToken",		400, 0 },
		/* A final code wins over a retryable status. */
		{ "ExpiredToken",		500, 0 },
		{ "NotImplemented",		501, 0 },
		{ "NoSuchKey",			404, 0 },
		{ "AccessDenied",		403, 0 },
		{ "SignatureDoesNotMatch",	403, 0 },
		{ "PreconditionFailed",		412, 0 },
		{ "InvalidArgument",		400, 0 },
		{ "SomethingNew",		502, 1 },
		{ "SomethingNew",		400, 0 },
		{ NULL,				429, 1 },
		{ NULL,				500, 1 },
		{ NULL,				502, 1 },
		{ NULL,				503, 1 },
		{ NULL,				504, 1 },
		{ NULL,				501, 0 },
		{ NULL,				404, 0 },
		{ NULL,				200, 0 },
		{ "ConnectionError",		0,   1 },
		{ "Timeout",			0,   1 },
		{ "TLSError",			0,   0 },
		{ "NoSuchEndpoint",		0,   0 },
		{ "NoCredentials",		0,   0 },
		{ "InvalidResponse",		200, 0 },
	};
	size_t		 i;

	for (i = 0; i < nitems(t); i++) {
		if (s3_error_retryable(t[i].code, t[i].status) != t[i].retry) {
			fprintf(stderr, "retryable(%s, %d) != %d\n",
			    t[i].code ? t[i].code : "NULL", t[i].status,
			    t[i].retry);
			CHECK(0);
		} else
			CHECK(1);
	}
	CHECK_STR(s3_status_code(404), "NotFound");
	CHECK_STR(s3_status_code(403), "Forbidden");
	CHECK_STR(s3_status_code(412), "PreconditionFailed");
	CHECK_STR(s3_status_code(304), "NotModified");
	CHECK_STR(s3_status_code(503), "ServiceUnavailable");
	CHECK(s3_status_code(418) == NULL);
	CHECK(s3_status_code(200) == NULL);
}

/* ---- whole calls against a scripted server */

/* What the server saw of the last request, and per-path hit counts. */
static struct {
	char		 uri[512];
	char		 method[8];
	char		 host[128];
	char		 auth[512];
	char		 date[32];
	char		 sha[80];
	char		 md5[40];
	char		 token[64];
	char		 custom[64];
	size_t		 body_len;
	int		 hits;
	char		 dates[4][32];
} seen;

static void
copy_hdr(struct evkeyvalq *in, const char *name, char *dst, size_t len)
{
	const char	*v = evhttp_find_header(in, name);

	snprintf(dst, len, "%s", v != NULL ? v : "");
}

static void
reply(struct evhttp_request *req, int code, const char *body)
{
	struct evbuffer	*b = evbuffer_new();

	if (body != NULL)
		evbuffer_add(b, body, strlen(body));
	evhttp_send_reply(req, code, code == 200 ? "OK" : "Error", b);
	evbuffer_free(b);
}

static void
srv_cb(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	const char		*uri = evhttp_request_get_uri(req);
	char			 date[64];
	time_t			 t;
	struct tm		 tm;

	seen.hits++;
	snprintf(seen.uri, sizeof seen.uri, "%s", uri);
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
		snprintf(seen.method, sizeof seen.method, "GET");
		break;
	case EVHTTP_REQ_HEAD:
		snprintf(seen.method, sizeof seen.method, "HEAD");
		break;
	case EVHTTP_REQ_PUT:
		snprintf(seen.method, sizeof seen.method, "PUT");
		break;
	case EVHTTP_REQ_POST:
		snprintf(seen.method, sizeof seen.method, "POST");
		break;
	case EVHTTP_REQ_DELETE:
		snprintf(seen.method, sizeof seen.method, "DELETE");
		break;
	default:
		snprintf(seen.method, sizeof seen.method, "?");
		break;
	}
	copy_hdr(in, "Host", seen.host, sizeof seen.host);
	copy_hdr(in, "Authorization", seen.auth, sizeof seen.auth);
	copy_hdr(in, "X-Amz-Date", seen.date, sizeof seen.date);
	copy_hdr(in, "x-amz-content-sha256", seen.sha, sizeof seen.sha);
	copy_hdr(in, "Content-MD5", seen.md5, sizeof seen.md5);
	copy_hdr(in, "X-Amz-Security-Token", seen.token, sizeof seen.token);
	copy_hdr(in, "x-amz-meta-test", seen.custom, sizeof seen.custom);
	if (seen.hits <= (int)nitems(seen.dates))
		snprintf(seen.dates[seen.hits - 1], sizeof seen.dates[0], "%s",
		    seen.date);
	seen.body_len = evbuffer_get_length(evhttp_request_get_input_buffer(
	    req));

	if (strncmp(uri, "/bkt/ok", 7) == 0 || strcmp(uri, "/vkey") == 0 ||
	    strcmp(uri, "/") == 0) {
		evhttp_add_header(out, "ETag", "\"0123abcd\"");
		evhttp_add_header(out, "x-amz-version-id", "v1");
		evhttp_add_header(out, "x-amz-request-id", "RID1");
		reply(req, 200, "hello");
	} else if (strcmp(uri, "/bkt/slow") == 0) {
		if (seen.hits <= 2)
			reply(req, 503, "<?xml version=\"1.0\"?>\n<Error><Code>"
			    "SlowDown</Code><Message>Reduce your request rate."
			    "</Message><RequestId>R-slow</RequestId></Error>");
		else
			reply(req, 200, NULL);
	} else if (strcmp(uri, "/bkt/missing") == 0) {
		if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD)
			reply(req, 404, NULL);
		else
			reply(req, 404, "<Error><Code>NoSuchKey</Code><Message>"
			    "The specified key does not exist.</Message><Key>"
			    "missing</Key><RequestId>R-404</RequestId></Error>");
	} else if (strcmp(uri, "/bkt/copy") == 0) {
		/* Amazon may pad a long copy with spaces before the body. */
		reply(req, 200, "  \n<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		    "\n<Error><Code>AccessDenied</Code><Message></Message>"
		    "<RequestId>R-200</RequestId></Error>");
	} else if (strcmp(uri, "/bkt/copyok") == 0) {
		reply(req, 200, "<?xml version=\"1.0\"?><CopyObjectResult>"
		    "<ETag>\"x\"</ETag></CopyObjectResult>");
	} else if (strcmp(uri, "/bkt/html") == 0) {
		reply(req, 502, "<html><body>Bad Gateway</body></html>");
	} else if (strcmp(uri, "/bkt/teapot") == 0) {
		reply(req, 418, NULL);
	} else if (strcmp(uri, "/bkt/skew") == 0) {
		/* The server is an hour ahead; the retry must follow it. */
		t = time(NULL) + 3600;
		gmtime_r(&t, &tm);
		strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		evhttp_remove_header(out, "Date");
		evhttp_add_header(out, "Date", date);
		if (seen.hits == 1)
			reply(req, 403, "<Error><Code>RequestTimeTooSkewed"
			    "</Code><Message>too skewed</Message></Error>");
		else
			reply(req, 200, NULL);
	} else
		reply(req, 400, "<Error><Code>UnexpectedPath</Code></Error>");
}

struct outcome {
	int		 done;
	int		 status;
	int		 attempts;
	char		 code[64];
	char		 message[128];
	char		 request_id[64];
	char		 etag[64];
	char		 version_id[64];
	char		 endpoint[32];
	int64_t		 content_length;
	int		 nattempt_cbs;
	int		 retry_flags[8];
};

static void
copy_str(char *dst, size_t len, const char *s)
{
	snprintf(dst, len, "%s", s != NULL ? s : "(null)");
}

static void
done_cb(const struct s3_result *r, void *arg)
{
	struct outcome	*o = arg;

	o->done++;
	o->status = r->status;
	o->attempts = r->attempts;
	copy_str(o->code, sizeof o->code, r->error_code);
	copy_str(o->message, sizeof o->message, r->error_message);
	copy_str(o->request_id, sizeof o->request_id, r->request_id);
	copy_str(o->etag, sizeof o->etag, r->etag);
	copy_str(o->version_id, sizeof o->version_id, r->version_id);
	copy_str(o->endpoint, sizeof o->endpoint, r->endpoint);
	o->content_length = r->content_length;
}

static void
attempt_cb(const struct s3_result *r, int retrying, void *arg)
{
	struct outcome	*o = arg;

	if (o->nattempt_cbs < (int)nitems(o->retry_flags))
		o->retry_flags[o->nattempt_cbs] = retrying;
	o->nattempt_cbs++;
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	*(int *)arg = 1;
}

/* Run the loop until the call is done (or 10 s have passed). */
static void
wait_done(struct outcome *o)
{
	struct event	*ev;
	struct timeval	 tv = { 10, 0 };
	int		 expired = 0;

	ev = evtimer_new(base, timeout_cb, &expired);
	evtimer_add(ev, &tv);
	while (!o->done && !expired)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(ev);
	CHECK(o->done == 1);
}

static struct cfg *
load_cfg(const char *extra)
{
	struct cfg	*cfg;
	char		*text, *cause = NULL;

	xasprintf(&text, "[daemon]\nmax_attempts = 4\nretry_base = 1ms\n"
	    "retry_max = 5ms\n\n[endpoint default]\nurl = http://127.0.0.1:%d\n"
	    "region = us-east-1\naccess_key_id = AKDEFAULT\n"
	    "secret_access_key = SKDEFAULT\n\n"
	    "[endpoint virt]\nurl = http://localhost:%d\naddressing = virtual\n"
	    "access_key_id = AKVIRT\nsecret_access_key = SKVIRT\n"
	    "session_token = TOKVIRT\n\n"
	    "[bucket vbkt]\nendpoint = virt\n\n"
	    "[credentials batch]\naccess_key_id = AKROLE\n"
	    "secret_access_key = SKROLE\n%s", srv_port, srv_port, extra);
	cfg = cfg_load_buffer("test-s3.conf", text, strlen(text), &cause);
	if (cfg == NULL)
		fatalx("config: %s", cause);
	free(text);
	return (cfg);
}

static struct s3_call *
start(struct s3 *s3, struct s3_request *r, struct outcome *o)
{
	struct s3_call	*call;

	memset(o, 0, sizeof *o);
	memset(&seen, 0, sizeof seen);
	call = s3_call(s3, r, done_cb, o);
	s3_call_set_attempt_cb(call, attempt_cb);
	/* Never from inside s3_call. */
	CHECK_INT(o->done, 0);
	return (call);
}

static void
test_calls(void)
{
	static const char	 body[] = "some body to hash";
	struct evhttp		*srv;
	struct evhttp_bound_socket *bs;
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof sin;
	struct cfg		*cfg, *cfg2;
	struct s3		*s3;
	struct s3_request	 r;
	struct s3_header	 hdrs[2];
	struct s3_call		*call;
	struct outcome		 o;
	char			 sha[SIGV4_HEX_SIZE], want[128];
	const char		*name;
	char			*cause = NULL;

	base = event_base_new();
	srv = evhttp_new(base);
	evhttp_set_allowed_methods(srv, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE);
	if ((bs = evhttp_bind_socket_with_handle(srv, "127.0.0.1", 0)) == NULL)
		fatalx("cannot bind the test server");
	if (getsockname(evhttp_bound_socket_get_fd(bs),
	    (struct sockaddr *)&sin, &slen) != 0)
		fatal("getsockname");
	srv_port = ntohs(sin.sin_port);
	evhttp_set_gencb(srv, srv_cb, NULL);

	cfg = load_cfg("");
	s3 = s3_new(base, cfg, &cause);
	CHECK(s3 != NULL);
	cfg_free(cfg);		/* s3 keeps its own copies */

	CHECK_STR(s3_bucket_endpoint(s3, "bkt"), "default");
	CHECK_STR(s3_bucket_endpoint(s3, "vbkt"), "virt");

	/* PUT: body hash, Content-MD5, Host, path sent as is. */
	memset(&r, 0, sizeof r);
	r.method = "PUT";
	r.bucket = "bkt";
	r.key = "ok/./a//b c";
	r.body = body;
	r.body_len = strlen(body);
	r.flags = S3_CONTENT_MD5;
	hdrs[0].name = "x-amz-meta-test";
	hdrs[0].value = "v";
	r.headers = hdrs;
	r.nheaders = 1;
	call = start(s3, &r, &o);
	CHECK_INT(s3_inflight(s3, NULL), 1);
	CHECK_INT(s3_inflight(s3, "default"), 1);
	CHECK_INT(s3_inflight(s3, "virt"), 0);
	wait_done(&o);
	CHECK_INT(s3_inflight(s3, NULL), 0);
	CHECK_STR(seen.method, "PUT");
	CHECK_STR(seen.uri, "/bkt/ok/./a//b%20c");
	snprintf(want, sizeof want, "127.0.0.1:%d", srv_port);
	CHECK_STR(seen.host, want);
	sigv4_sha256_hex(body, strlen(body), sha);
	CHECK_STR(seen.sha, sha);
	/* openssl dgst -md5 -binary | base64 */
	CHECK_STR(seen.md5, "vfiUBqbHtrzEw9ajvWcmnQ==");
	CHECK(strncmp(seen.auth, "AWS4-HMAC-SHA256 Credential=AKDEFAULT/",
	    38) == 0);
	CHECK(strstr(seen.auth, "content-md5;host;x-amz-content-sha256;"
	    "x-amz-date;x-amz-meta-test") != NULL);
	CHECK_STR(seen.custom, "v");
	CHECK_INT(seen.body_len, strlen(body));
	CHECK_INT(o.status, 200);
	CHECK_STR(o.code, "(null)");
	CHECK_STR(o.message, "(null)");
	CHECK_STR(o.etag, "0123abcd");
	CHECK_STR(o.version_id, "v1");
	CHECK_STR(o.request_id, "RID1");
	CHECK_STR(o.endpoint, "default");
	CHECK_INT(o.attempts, 1);
	CHECK_INT(o.nattempt_cbs, 1);
	CHECK_INT(o.retry_flags[0], 0);

	/* GET: empty payload hash, content length. */
	memset(&r, 0, sizeof r);
	r.method = "GET";
	r.bucket = "bkt";
	r.key = "ok";
	start(s3, &r, &o);
	wait_done(&o);
	CHECK_STR(seen.sha, SIGV4_EMPTY_SHA256);
	CHECK_STR(seen.md5, "");
	CHECK_INT(o.content_length, 5);

	/* Streamed-body style: UNSIGNED-PAYLOAD. */
	r.flags = S3_UNSIGNED_PAYLOAD;
	start(s3, &r, &o);
	wait_done(&o);
	CHECK_STR(seen.sha, "UNSIGNED-PAYLOAD");

	/* SlowDown twice: retried, every attempt signed. */
	memset(&r, 0, sizeof r);
	r.method = "GET";
	r.bucket = "bkt";
	r.key = "slow";
	start(s3, &r, &o);
	wait_done(&o);
	CHECK_INT(seen.hits, 3);
	CHECK_INT(o.status, 200);
	CHECK_STR(o.code, "(null)");
	CHECK_INT(o.attempts, 3);
	CHECK_INT(o.nattempt_cbs, 3);
	CHECK_INT(o.retry_flags[0], 1);
	CHECK_INT(o.retry_flags[1], 1);
	CHECK_INT(o.retry_flags[2], 0);
	CHECK(seen.dates[0][0] != '\0' && seen.dates[2][0] != '\0');

	/* ... and with S3_NO_RETRY, one attempt only. */
	r.flags = S3_NO_RETRY;
	start(s3, &r, &o);
	wait_done(&o);
	CHECK_INT(o.attempts, 1);
	CHECK_INT(o.status, 503);
	CHECK_STR(o.code, "SlowDown");
	CHECK_STR(o.message, "Reduce your request rate.");
	CHECK_STR(o.request_id, "R-slow");

	/* max_attempts of the request. */
	r.flags = 0;
	r.max_attempts = 2;
	start(s3, &r, &o);
	wait_done(&o);
	CHECK_INT(o.attempts, 2);
	CHECK_STR(o.code, "SlowDown");

	/* 404 with an error document; HEAD 404 without one. */
	memset(&r, 0, sizeof r);
	r.method = "GET";
	r.bucket = "bkt";
	r.key = "missing";
	start(s3, &r, &o);
	wait_done(&o);
	CHECK_INT(o.status, 404);
	CHECK_INT(o.attempts, 1);
	CHECK_STR(o.code, "NoSuchKey");
	CHECK_STR(o.message, "The specified key does not exist.");
	CHECK_STR(o.request_id, "R-404");
	r.method = "HEAD";
	start(s3, &r, &o);
	wait_done(&o);
	CHECK_STR(seen.method, "HEAD");
	CHECK_INT(o.status, 404);
	CHECK_STR(o.code, "NotFound");
	CHECK_STR(o.message, "HTTP 404");

	/* A 200 carrying <Error>, when the operation says it may. */
	memset(&r, 0, sizeof r);
	r.method = "PUT";
	r.bucket = "bkt";
	r.key = "copy";
	r.flags = S3_ERROR_IN_200;
	start(s3, &r, &o);
	wait_done(&o);
	CHECK_INT(o.status, 200);
	CHECK_STR(o.code, "AccessDenied");
	CHECK_STR(o.message, "HTTP 200");
	CHECK_STR(o.request_id, "R-200");
	CHECK_INT(o.attempts, 1);
	r.flags = 0;
	start(s3, &r, &o);
	wait_done(&o);
	CHECK_STR(o.code, "(null)");
	r.key = "copyok";
	r.flags = S3_ERROR_IN_200;
	start(s3, &r, &o);
	wait_done(&o);
	CHECK_STR(o.code, "(null)");

	/* Answers without an S3 document. */
	r.method = "GET";
	r.key = "html";
	r.flags = 0;
	r.max_attempts = 2;
	start(s3, &r, &o);
	wait_done(&o);
	CHECK_INT(o.attempts, 2);
	CHECK_STR(o.code, "BadGateway");
	r.key = "teapot";
	start(s3, &r, &o);
	wait_done(&o);
	CHECK_INT(o.attempts, 1);
	CHECK_STR(o.code, "Http418");

	/* RequestTimeTooSkewed: the retry is signed with the server's time. */
	memset(&r, 0, sizeof r);
	r.method = "GET";
	r.bucket = "bkt";
	r.key = "skew";
	start(s3, &r, &o);
	wait_done(&o);
	CHECK_INT(o.attempts, 2);
	CHECK_STR(o.code, "(null)");
	CHECK(strcmp(seen.dates[1], seen.dates[0]) > 0);
	{
		char	 soon[SIGV4_AMZ_DATE_SIZE];

		sigv4_amz_date(time_now_ms() + 3500 * 1000, soon);
		CHECK(strcmp(seen.dates[1], soon) > 0);
		sigv4_amz_date(time_now_ms() + 3700 * 1000, soon);
		CHECK(strcmp(seen.dates[1], soon) < 0);
	}

	/* Credentials: a RoleArn's profile, else the endpoint's. */
	memset(&r, 0, sizeof r);
	r.method = "GET";
	r.bucket = "bkt";
	r.key = "ok";
	r.role_arn = "arn:aws:iam::123456789012:role/path/batch";
	start(s3, &r, &o);
	wait_done(&o);
	CHECK(strncmp(seen.auth, "AWS4-HMAC-SHA256 Credential=AKROLE/",
	    35) == 0);
	r.role_arn = "arn:aws:iam::123456789012:role/nosuchprofile";
	start(s3, &r, &o);
	wait_done(&o);
	CHECK(strncmp(seen.auth, "AWS4-HMAC-SHA256 Credential=AKDEFAULT/",
	    38) == 0);

	/* Virtual-hosted style, with a session token. */
	memset(&r, 0, sizeof r);
	r.method = "GET";
	r.bucket = "vbkt";
	r.key = "vkey";
	start(s3, &r, &o);
	wait_done(&o);
	snprintf(want, sizeof want, "vbkt.localhost:%d", srv_port);
	CHECK_STR(seen.host, want);
	CHECK_STR(seen.uri, "/vkey");
	CHECK_STR(seen.token, "TOKVIRT");
	CHECK(strstr(seen.auth, "x-amz-security-token") != NULL);
	CHECK_STR(o.endpoint, "virt");
	CHECK_STR(o.code, "(null)");

	/* check-endpoint: GET / with the endpoint's keys. */
	memset(&o, 0, sizeof o);
	call = s3_check_endpoint(s3, "default", done_cb, &o);
	CHECK_INT(o.done, 0);
	wait_done(&o);
	CHECK_STR(seen.uri, "/");
	CHECK_STR(o.code, "(null)");
	memset(&o, 0, sizeof o);
	s3_check_endpoint(s3, "nonesuch", done_cb, &o);
	CHECK_INT(o.done, 0);
	wait_done(&o);
	CHECK_STR(o.code, "NoSuchEndpoint");

	/* Refused before HTTP, completed from the loop. */
	memset(&r, 0, sizeof r);
	r.method = "GET";
	r.bucket = "bkt";
	r.key = "ok";
	hdrs[0].name = "Authorization";
	hdrs[0].value = "x";
	r.headers = hdrs;
	r.nheaders = 1;
	start(s3, &r, &o);
	wait_done(&o);
	CHECK_STR(o.code, "InvalidArgument");
	CHECK_INT(o.status, 0);
	CHECK_INT(seen.hits, 0);
	hdrs[0].name = "x-amz-meta-bad";
	hdrs[0].value = "line\r\nbreak";
	start(s3, &r, &o);
	wait_done(&o);
	CHECK_STR(o.code, "InvalidArgument");
	CHECK_INT(seen.hits, 0);

	/* Cancel: no callback. */
	r.nheaders = 0;
	call = start(s3, &r, &o);
	s3_call_cancel(call);
	CHECK_INT(s3_inflight(s3, NULL), 0);
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK_INT(o.done, 0);

	/* Reload: no default endpoint any more, new keys for "virt". */
	name = "[endpoint virt]\nurl = http://localhost:1\n"
	    "access_key_id = AK2\nsecret_access_key = SK2\n";
	cfg2 = cfg_load_buffer("t2.conf", name, strlen(name), &cause);
	CHECK(cfg2 != NULL);
	call = start(s3, &r, &o);	/* started before: keeps its endpoint */
	CHECK_INT(s3_reconfigure(s3, cfg2, &cause), 0);
	cfg_free(cfg2);
	wait_done(&o);
	CHECK_STR(o.code, "(null)");
	CHECK_STR(o.endpoint, "default");
	CHECK(s3_bucket_endpoint(s3, "bkt") == NULL);
	start(s3, &r, &o);
	wait_done(&o);
	CHECK_STR(o.code, "NoSuchEndpoint");
	CHECK(s3_endpoint_stats(s3, 0, &name) != NULL);
	CHECK_STR(name, "virt");
	CHECK(s3_endpoint_stats(s3, 1, &name) == NULL);

	/* s3_free with a call in flight: no callback, nothing leaks. */
	cfg = load_cfg("");
	CHECK_INT(s3_reconfigure(s3, cfg, &cause), 0);
	cfg_free(cfg);
	start(s3, &r, &o);
	s3_free(s3);
	CHECK_INT(o.done, 0);

	/* A bad endpoint URL fails s3_new with a cause. */
	cfg = cfg_default();
	CHECK(cfg != NULL);
	s3 = s3_new(base, cfg, &cause);
	CHECK(s3 != NULL);
	memset(&r, 0, sizeof r);
	r.bucket = "bkt";
	r.key = "k";
	start(s3, &r, &o);
	wait_done(&o);
	CHECK_STR(o.code, "NoSuchEndpoint");
	s3_free(s3);
	cfg_free(cfg);

	evhttp_free(srv);
	event_base_free(base);
}

int
main(void)
{
	log_init(LOG_TO_STDERR, 0);
	test_urls();
	test_tables();
	test_calls();
	return (unit_done("test-s3"));
}
