/*
 * Unit tests for http.c: the pure pieces (backoff, Retry-After, the default
 * classifier), then the engine against an in-process evhttp server on
 * 127.0.0.1 sharing the engine's event_base, scripted per URL path.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "s3batchd.h"
#include "http.h"
#include "unit.h"

#define BIG_LEN		(300 * 1024)
#define PUT_LEN		(200 * 1024 + 7)

static struct event_base	*base;
static struct evhttp		*srv;
static int			 srv_port;
static char			 url_base[64];

/* Per-path script state on the server side. */
struct path_state {
	const char	*path;
	int		 hits;
	uint64_t	 times[8];	/* arrival of the first hits, ms */
	struct buf	 bodies[4];	/* request bodies of the first hits */
	char		 method[16];
	char		 attempt_hdr[16];
	char		 user_agent[64];
	int		 had_expect;
	int		 had_content_length;
	long		 content_length;
};
static const char *path_names[] = {
	"/ok", "/flaky", "/retry-after", "/missing", "/close", "/slow", "/put",
	"/big", "/conc", "/rate", "/post", "/always503", "/head", "/slowdown",
};
static struct path_state paths[nitems(path_names)];
static int	 conc_cur, conc_max;

static struct path_state *
path_find(const char *path)
{
	size_t	 i;

	for (i = 0; i < nitems(paths); i++) {
		if (strcmp(paths[i].path, path) == 0)
			return (&paths[i]);
	}
	return (NULL);
}

static void
big_fill(char *p, size_t len, size_t off)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		p[i] = (char)('a' + (off + i) * 7 % 26);
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
srv_conc_reply_cb(evutil_socket_t fd, short what, void *arg)
{
	conc_cur--;
	reply(arg, 200, "done");
}

static void
srv_close_cb(evutil_socket_t fd, short what, void *arg)
{
	evhttp_connection_free(arg);
}

static void
srv_cb(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct evbuffer		*body = evhttp_request_get_input_buffer(req);
	const char		*path, *v;
	struct path_state	*ps;
	struct evbuffer		*b;
	struct timeval		 tv;
	char			*big;
	int			 n;

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path == NULL || (ps = path_find(path)) == NULL) {
		reply(req, 404, "no such path");
		return;
	}
	n = ++ps->hits;
	if (n <= (int)nitems(ps->times))
		ps->times[n - 1] = time_mono_ms();
	if (n <= (int)nitems(ps->bodies)) {
		buf_reset(&ps->bodies[n - 1]);
		buf_add(&ps->bodies[n - 1], evbuffer_pullup(body, -1),
		    evbuffer_get_length(body));
	}
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
		snprintf(ps->method, sizeof ps->method, "GET");
		break;
	case EVHTTP_REQ_HEAD:
		snprintf(ps->method, sizeof ps->method, "HEAD");
		break;
	case EVHTTP_REQ_PUT:
		snprintf(ps->method, sizeof ps->method, "PUT");
		break;
	case EVHTTP_REQ_POST:
		snprintf(ps->method, sizeof ps->method, "POST");
		break;
	case EVHTTP_REQ_DELETE:
		snprintf(ps->method, sizeof ps->method, "DELETE");
		break;
	default:
		snprintf(ps->method, sizeof ps->method, "?");
		break;
	}
	v = evhttp_find_header(in, "X-Attempt");
	snprintf(ps->attempt_hdr, sizeof ps->attempt_hdr, "%s", v ? v : "");
	v = evhttp_find_header(in, "User-Agent");
	snprintf(ps->user_agent, sizeof ps->user_agent, "%s", v ? v : "");
	ps->had_expect = evhttp_find_header(in, "Expect") != NULL;
	v = evhttp_find_header(in, "Content-Length");
	ps->had_content_length = v != NULL;
	ps->content_length = v != NULL ? strtol(v, NULL, 10) : -1;

	if (strcmp(path, "/ok") == 0 || strcmp(path, "/head") == 0) {
		evhttp_add_header(out, "ETag", "\"abc123\"");
		evhttp_add_header(out, "x-amz-request-id", "REQ42");
		reply(req, 200, "hello world");
	} else if (strcmp(path, "/flaky") == 0)
		reply(req, n <= 2 ? 503 : 200, n <= 2 ? "slow down" : "fine");
	else if (strcmp(path, "/retry-after") == 0) {
		if (n == 1)
			evhttp_add_header(out, "Retry-After", "1");
		reply(req, n == 1 ? 503 : 200, NULL);
	} else if (strcmp(path, "/missing") == 0)
		reply(req, 404, "<Error><Code>NoSuchKey</Code></Error>");
	else if (strcmp(path, "/close") == 0) {
		if (n <= 2) {
			/* Not from inside evhttp's own callback. */
			tv.tv_sec = tv.tv_usec = 0;
			event_base_once(base, -1, EV_TIMEOUT, srv_close_cb,
			    evhttp_request_get_connection(req), &tv);
			return;
		}
		reply(req, 200, "reopened");
	} else if (strcmp(path, "/slow") == 0) {
		/* Never answered; freed with its connection. */
	} else if (strcmp(path, "/put") == 0)
		reply(req, n == 1 ? 503 : 200, NULL);
	else if (strcmp(path, "/big") == 0) {
		big = xmalloc(BIG_LEN);
		big_fill(big, BIG_LEN, 0);
		b = evbuffer_new();
		evbuffer_add(b, big, BIG_LEN);
		evhttp_send_reply(req, 200, "OK", b);
		evbuffer_free(b);
		free(big);
	} else if (strcmp(path, "/conc") == 0) {
		if (++conc_cur > conc_max)
			conc_max = conc_cur;
		tv.tv_sec = 0;
		tv.tv_usec = 5000;
		event_base_once(base, -1, EV_TIMEOUT, srv_conc_reply_cb, req,
		    &tv);
	} else if (strcmp(path, "/slowdown") == 0)
		reply(req, n <= 3 ? 503 : 200, n <= 3 ? "<Error><Code>SlowDown"
		    "</Code></Error>" : NULL);
	else if (strcmp(path, "/always503") == 0) {
		evhttp_add_header(out, "Retry-After", "5");
		reply(req, 503, NULL);
	} else
		reply(req, 200, "ok");
}

static void
srv_start(void)
{
	struct evhttp_bound_socket	*bs;
	struct sockaddr_in		 sin;
	socklen_t			 len = sizeof sin;
	size_t				 i, j;

	for (i = 0; i < nitems(paths); i++) {
		paths[i].path = path_names[i];
		for (j = 0; j < nitems(paths[i].bodies); j++)
			buf_init(&paths[i].bodies[j]);
	}
	srv = evhttp_new(base);
	if ((bs = evhttp_bind_socket_with_handle(srv, "127.0.0.1", 0)) == NULL)
		fatalx("cannot bind the test server");
	if (getsockname(evhttp_bound_socket_get_fd(bs),
	    (struct sockaddr *)&sin, &len) != 0)
		fatal("getsockname");
	srv_port = ntohs(sin.sin_port);
	snprintf(url_base, sizeof url_base, "http://127.0.0.1:%d", srv_port);
	evhttp_set_gencb(srv, srv_cb, NULL);
}

static void
srv_stop(void)
{
	size_t	 i, j;

	evhttp_free(srv);
	for (i = 0; i < nitems(paths); i++) {
		for (j = 0; j < nitems(paths[i].bodies); j++)
			buf_free(&paths[i].bodies[j]);
	}
}

/* Client side: what done_cb and friends saw. */
struct result {
	int		 done;
	int		 status;
	int		 attempts;
	int		 curl_code;
	enum http_error	 error;
	int		 reused;
	int		 prepares;
	int		 attempt_cbs;
	int		 retries_seen;
	uint64_t	 last_delay;
	char		 etag[32];
	char		 reqid[32];
	struct buf	 body;
	/* sink */
	struct buf	 sunk;
	int		 sink_bad_offset;
	/* streamed body */
	char		*src;
	uint64_t	 src_len;
	uint64_t	 src_off;
	int		 rewinds;
	int		 cancel_in_attempt;
	int		 cancel_in_sink;
	int		 order;		/* of done_cb calls, from 1 */
	struct http_request *req;
};

static int	 t_pending;
static int	 t_order;
static int	 t_timedout;

static void
result_init(struct result *r)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->body);
	buf_init(&r->sunk);
}

static void
result_free(struct result *r)
{
	buf_free(&r->body);
	buf_free(&r->sunk);
	free(r->src);
}

static void
t_finished(void)
{
	if (--t_pending == 0)
		event_base_loopbreak(base);
}

static int
t_prepare_cb(struct http_request *req, int attempt, void *arg)
{
	struct result	*r = arg;
	char		 s[16];

	r->prepares++;
	snprintf(s, sizeof s, "%d", attempt);
	http_request_header(req, "X-Attempt", s);
	return (0);
}

static void
t_attempt_cb(struct http_request *req, const struct http_response *resp,
    enum http_verdict v, uint64_t delay, void *arg)
{
	struct result	*r = arg;

	r->attempt_cbs++;
	if (v == HTTP_RETRY)
		r->retries_seen++;
	r->last_delay = delay;
	if (r->cancel_in_attempt) {
		http_request_cancel(req);
		t_finished();
	}
}

static void
t_done_cb(struct http_request *req, struct http_response *resp, void *arg)
{
	struct result	*r = arg;
	const char	*v;

	r->done++;
	r->order = ++t_order;
	r->status = resp->status;
	r->attempts = resp->attempts;
	r->curl_code = resp->curl_code;
	r->error = resp->error;
	r->reused = resp->reused;
	if ((v = http_response_header(resp, "etag")) != NULL)
		snprintf(r->etag, sizeof r->etag, "%s", v);
	if ((v = http_response_header(resp, "X-AMZ-REQUEST-ID")) != NULL)
		snprintf(r->reqid, sizeof r->reqid, "%s", v);
	/* Take the body rather than copy it. */
	buf_free(&r->body);
	r->body = resp->body;
	buf_init(&resp->body);
	t_finished();
}

static int
t_sink_cb(uint64_t off, const void *data, size_t len, void *arg)
{
	struct result	*r = arg;

	if (r->cancel_in_sink) {
		http_request_cancel(r->req);
		t_finished();
		return (0);
	}
	if (off == 0)
		buf_reset(&r->sunk);
	if (off != r->sunk.len)
		r->sink_bad_offset = 1;
	buf_add(&r->sunk, data, len);
	return (0);
}

static ssize_t
t_read_cb(void *p, size_t len, void *arg)
{
	struct result	*r = arg;

	/* Small pieces, to exercise many calls. */
	if (len > 10000)
		len = 10000;
	if (len > r->src_len - r->src_off)
		len = (size_t)(r->src_len - r->src_off);
	memcpy(p, r->src + r->src_off, len);
	r->src_off += len;
	return ((ssize_t)len);
}

static int
t_rewind_cb(void *arg)
{
	struct result	*r = arg;

	r->rewinds++;
	r->src_off = 0;
	return (0);
}

static void
t_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	t_timedout = 1;
	event_base_loopbreak(base);
}

/* Run the loop until every pending request is done, or ms pass. */
static int
run(int ms)
{
	struct event	*wd;
	struct timeval	 tv;

	t_timedout = 0;
	wd = evtimer_new(base, t_watchdog_cb, NULL);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(wd, &tv);
	if (t_pending > 0)
		event_base_loop(base, 0);
	event_free(wd);
	return (t_timedout ? -1 : 0);
}

/* Run the loop for ms whatever happens. */
static void
run_for(int ms)
{
	int	 saved = t_pending;

	t_pending = 1000000;	/* done_cb never reaches zero */
	run(ms);
	t_pending -= 1000000 - saved;
}

static struct http_request *
t_request(struct http_pool *pool, const char *method, const char *path,
    struct result *r)
{
	struct http_request	*req;
	char			*url;

	xasprintf(&url, "%s%s", url_base, path);
	req = http_request_new(pool, method, url);
	free(url);
	http_request_set_cbs(req, t_prepare_cb, NULL, t_done_cb, r);
	http_request_set_attempt_cb(req, t_attempt_cb);
	r->req = req;
	return (req);
}

static void
test_backoff(void)
{
	uint64_t	 x = 88172645463325252ULL, v, hi = 0;
	int		 i;

	CHECK_INT(http_backoff_ms(100, 20000, 0, 100), 100);
	CHECK_INT(http_backoff_ms(100, 20000, 0, 101), 0);
	CHECK_INT(http_backoff_ms(100, 20000, 0, 57), 57);
	CHECK_INT(http_backoff_ms(100, 20000, 3, 800), 800);
	CHECK_INT(http_backoff_ms(100, 20000, 3, 801), 0);
	CHECK_INT(http_backoff_ms(100, 20000, 8, 20000), 20000);
	CHECK_INT(http_backoff_ms(100, 20000, 20, 20000), 20000);
	CHECK_INT(http_backoff_ms(100, 20000, 20, 20001), 0);
	CHECK_INT(http_backoff_ms(100, 20000, 1000, 20000), 20000);
	CHECK_INT(http_backoff_ms(100, 20000, -1, 100), 100);
	CHECK_INT(http_backoff_ms(0, 20000, 3, 12345), 0);
	CHECK_INT(http_backoff_ms(1ULL << 62, UINT64_MAX, 5, 7), 7);
	CHECK(http_backoff_ms(100, 20000, 4, UINT64_MAX) <= 1600);
	/* Full jitter: spread over the whole of [0, cap]. */
	for (i = 0; i < 1000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = http_backoff_ms(100, 20000, 2, x);
		CHECK(v <= 400);
		if (v > hi)
			hi = v;
	}
	CHECK(hi > 350);

	CHECK_INT(http_retry_after_ms("1"), 1000);
	CHECK_INT(http_retry_after_ms(" 2 "), 2000);
	CHECK_INT(http_retry_after_ms("0"), 0);
	CHECK_INT(http_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT"), 0);
	CHECK_INT(http_retry_after_ms("1x"), 0);
	CHECK_INT(http_retry_after_ms(""), 0);
	CHECK_INT(http_retry_after_ms(NULL), 0);
	CHECK_INT(http_retry_after_ms("99999999999999999999999"), 300000);
}

static void
test_classify(void)
{
	static const struct {
		int		 status;
		int		 curl_code;
		enum http_error	 error;
		enum http_verdict v;
	} cases[] = {
		{ 200, 0, HTTP_ERR_NONE, HTTP_FINAL },
		{ 204, 0, HTTP_ERR_NONE, HTTP_FINAL },
		{ 404, 0, HTTP_ERR_NONE, HTTP_FINAL },
		{ 400, 0, HTTP_ERR_NONE, HTTP_FINAL },
		{ 412, 0, HTTP_ERR_NONE, HTTP_FINAL },
		{ 501, 0, HTTP_ERR_NONE, HTTP_FINAL },
		{ 429, 0, HTTP_ERR_NONE, HTTP_RETRY },
		{ 500, 0, HTTP_ERR_NONE, HTTP_RETRY },
		{ 502, 0, HTTP_ERR_NONE, HTTP_RETRY },
		{ 503, 0, HTTP_ERR_NONE, HTTP_RETRY },
		{ 504, 0, HTTP_ERR_NONE, HTTP_RETRY },
		{ 0, CURLE_COULDNT_CONNECT, HTTP_ERR_CONNECT, HTTP_RETRY },
		{ 0, CURLE_OPERATION_TIMEDOUT, HTTP_ERR_TIMEOUT, HTTP_RETRY },
		{ 0, CURLE_GOT_NOTHING, HTTP_ERR_NETWORK, HTTP_RETRY },
		{ 200, CURLE_RECV_ERROR, HTTP_ERR_NETWORK, HTTP_RETRY },
		{ 0, CURLE_PEER_FAILED_VERIFICATION, HTTP_ERR_TLS, HTTP_FINAL },
		{ 0, CURLE_URL_MALFORMAT, HTTP_ERR_OTHER, HTTP_FINAL },
		{ 200, CURLE_WRITE_ERROR, HTTP_ERR_TOO_LARGE, HTTP_FINAL },
		{ 503, CURLE_READ_ERROR, HTTP_ERR_ABORTED, HTTP_FINAL },
		{ 0, 0, HTTP_ERR_PREPARE, HTTP_FINAL },
	};
	struct http_response	 resp;
	char			 n0[] = "ETag", v0[] = "\"one\"";
	char			 n1[] = "Content-Length", v1[] = "3";
	char			 n2[] = "etag", v2[] = "\"two\"";
	struct http_header	 h[3] = {
		{ n0, v0 }, { n1, v1 }, { n2, v2 }
	};
	size_t			 i;

	for (i = 0; i < nitems(cases); i++) {
		memset(&resp, 0, sizeof resp);
		resp.status = cases[i].status;
		resp.curl_code = cases[i].curl_code;
		resp.error = cases[i].error;
		CHECK_INT(http_classify_default(&resp), cases[i].v);
	}
	memset(&resp, 0, sizeof resp);
	resp.headers = h;
	resp.nheaders = nitems(h);
	CHECK_STR(http_response_header(&resp, "ETAG"), "\"two\"");
	CHECK_STR(http_response_header(&resp, "content-length"), "3");
	CHECK(http_response_header(&resp, "Retry-After") == NULL);

	CHECK_STR(http_method_name(HTTP_METHOD_DELETE), "DELETE");
	CHECK_STR(http_class_name(5), "5xx");
	CHECK_STR(http_class_name(0), "none");
	CHECK_STR(http_error_name(HTTP_ERR_TIMEOUT), "timeout");
}

static void
test_headers(struct http_pool *pool)
{
	struct http_request	*req;

	req = http_request_new(pool, "GET", "http://127.0.0.1/");
	CHECK_INT(http_request_header(req, "X-A", "1"), 0);
	CHECK_INT(http_request_header(req, "x-a", "2"), 0);
	CHECK_INT(http_request_header(req, "X-B", "bad\r\nInjected: 1"), -1);
	CHECK_INT(http_request_header(req, "Bad:Name", "v"), -1);
	CHECK_INT(http_request_header(req, "", "v"), -1);
	CHECK_INT(http_request_header(req, "X-A", NULL), 0);
	CHECK_INT(http_request_header(req, "X-None", NULL), 0);
	CHECK_STR(http_request_method(req), "GET");
	CHECK_STR(http_request_url(req), "http://127.0.0.1/");
	http_request_cancel(req);	/* never started: just freed */
}

static void
test_basic(struct http_pool *pool)
{
	struct result		 r, r2, r3, r4;
	struct path_state	*ps;

	result_init(&r);
	http_request_start(t_request(pool, "GET", "/ok", &r));
	CHECK_INT(r.prepares, 0);	/* nothing runs inside start */
	t_pending = 1;
	CHECK_INT(run(5000), 0);
	CHECK_INT(r.done, 1);
	CHECK_INT(r.status, 200);
	CHECK_INT(r.attempts, 1);
	CHECK_INT(r.error, HTTP_ERR_NONE);
	CHECK_INT(r.curl_code, 0);
	CHECK_STR(r.body.data, "hello world");
	CHECK_STR(r.etag, "\"abc123\"");
	CHECK_STR(r.reqid, "REQ42");
	ps = path_find("/ok");
	CHECK_STR(ps->method, "GET");
	CHECK_STR(ps->attempt_hdr, "1");
	CHECK_STR(ps->user_agent, "s3batchd-test/1");

	/* Keep-alive: the next request reuses the connection. */
	result_init(&r2);
	http_request_start(t_request(pool, "GET", "/ok", &r2));
	t_pending = 1;
	CHECK_INT(run(5000), 0);
	CHECK_INT(r2.status, 200);
	CHECK_INT(r2.reused, 1);

	/* HEAD: headers, no body. */
	result_init(&r3);
	http_request_start(t_request(pool, "HEAD", "/head", &r3));
	t_pending = 1;
	CHECK_INT(run(5000), 0);
	CHECK_INT(r3.status, 200);
	CHECK_INT(r3.body.len, 0);
	CHECK_STR(r3.etag, "\"abc123\"");
	CHECK_STR(path_find("/head")->method, "HEAD");

	/* POST without a body still says Content-Length: 0. */
	result_init(&r4);
	http_request_start(t_request(pool, "POST", "/post", &r4));
	t_pending = 1;
	CHECK_INT(run(5000), 0);
	CHECK_INT(r4.status, 200);
	ps = path_find("/post");
	CHECK_STR(ps->method, "POST");
	CHECK_INT(ps->content_length, 0);
	CHECK_INT(ps->had_expect, 0);

	result_free(&r);
	result_free(&r2);
	result_free(&r3);
	result_free(&r4);
}

static void
test_retries(struct http_pool *pool)
{
	struct result		 r, r2, r3, r4;
	struct path_state	*ps;
	uint64_t		 retries0 = http_pool_stats(pool)->retries;

	/* 503 twice, then 200. */
	result_init(&r);
	http_request_start(t_request(pool, "GET", "/flaky", &r));
	t_pending = 1;
	CHECK_INT(run(5000), 0);
	CHECK_INT(r.status, 200);
	CHECK_INT(r.attempts, 3);
	CHECK_INT(r.prepares, 3);
	CHECK_INT(r.attempt_cbs, 3);
	CHECK_INT(r.retries_seen, 2);
	CHECK_STR(r.body.data, "fine");
	ps = path_find("/flaky");
	CHECK_INT(ps->hits, 3);
	CHECK_STR(ps->attempt_hdr, "3");	/* re-prepared each time */
	CHECK_INT(http_pool_stats(pool)->retries - retries0, 2);
	CHECK(http_pool_stats(pool)->requests[HTTP_METHOD_GET][5] >= 2);

	/* Retry-After: 1 is a lower bound on the sleep. */
	result_init(&r2);
	http_request_start(t_request(pool, "GET", "/retry-after", &r2));
	t_pending = 1;
	CHECK_INT(run(5000), 0);
	CHECK_INT(r2.status, 200);
	CHECK_INT(r2.attempts, 2);
	ps = path_find("/retry-after");
	CHECK_INT(ps->hits, 2);
	CHECK(ps->times[1] - ps->times[0] >= 1000);

	/* 404 is final. */
	result_init(&r3);
	http_request_start(t_request(pool, "GET", "/missing", &r3));
	t_pending = 1;
	CHECK_INT(run(5000), 0);
	CHECK_INT(r3.status, 404);
	CHECK_INT(r3.attempts, 1);
	CHECK(r3.body.data != NULL && strstr(r3.body.data, "NoSuchKey"));

	/*
	 * Connection closed without a response: retried. curl may itself
	 * retry once on a reused connection, so count server hits.
	 */
	result_init(&r4);
	http_request_start(t_request(pool, "GET", "/close", &r4));
	t_pending = 1;
	CHECK_INT(run(5000), 0);
	CHECK_INT(r4.status, 200);
	CHECK(r4.attempts >= 2);
	CHECK_STR(r4.body.data, "reopened");
	CHECK_INT(path_find("/close")->hits, 3);

	result_free(&r);
	result_free(&r2);
	result_free(&r3);
	result_free(&r4);
}

static void
test_timeout(struct http_pool *pool)
{
	struct result		 r;
	struct http_request	*req;
	uint64_t		 t0 = time_mono_ms(), errs;

	errs = http_pool_stats(pool)->errors[HTTP_ERR_TIMEOUT];
	result_init(&r);
	req = t_request(pool, "GET", "/slow", &r);
	http_request_set_timeout(req, 300);
	http_request_set_max_attempts(req, 2);
	http_request_start(req);
	t_pending = 1;
	CHECK_INT(run(5000), 0);
	CHECK_INT(r.done, 1);
	CHECK_INT(r.status, 0);
	CHECK_INT(r.attempts, 2);
	CHECK_INT(r.error, HTTP_ERR_TIMEOUT);
	CHECK_INT(r.curl_code, CURLE_OPERATION_TIMEDOUT);
	CHECK_INT(path_find("/slow")->hits, 2);
	CHECK(time_mono_ms() - t0 >= 600);
	CHECK_INT(http_pool_stats(pool)->errors[HTTP_ERR_TIMEOUT] - errs, 2);
	result_free(&r);
}

static void
test_stream_put(struct http_pool *pool)
{
	struct result		 r, r2;
	struct http_request	*req;
	struct path_state	*ps;

	result_init(&r);
	r.src_len = PUT_LEN;
	r.src = xmalloc(PUT_LEN);
	big_fill(r.src, PUT_LEN, 3);
	req = t_request(pool, "PUT", "/put", &r);
	http_request_body_cb(req, PUT_LEN, t_read_cb, t_rewind_cb, &r);
	http_request_start(req);
	t_pending = 1;
	CHECK_INT(run(5000), 0);
	CHECK_INT(r.status, 200);
	CHECK_INT(r.attempts, 2);
	CHECK(r.rewinds >= 1);
	ps = path_find("/put");
	CHECK_INT(ps->hits, 2);
	CHECK_INT(ps->bodies[0].len, PUT_LEN);
	CHECK_INT(ps->bodies[1].len, PUT_LEN);
	CHECK(ps->bodies[0].len == PUT_LEN &&
	    memcmp(ps->bodies[0].data, r.src, PUT_LEN) == 0);
	CHECK(ps->bodies[1].len == PUT_LEN &&
	    memcmp(ps->bodies[1].data, r.src, PUT_LEN) == 0);
	CHECK_STR(ps->method, "PUT");
	CHECK_INT(ps->content_length, PUT_LEN);
	CHECK_INT(ps->had_expect, 0);

	/* No rewind: the 503 is final. */
	result_init(&r2);
	r2.src_len = 100;
	r2.src = xmalloc(100);
	big_fill(r2.src, 100, 0);
	ps->hits = 0;
	req = t_request(pool, "PUT", "/put", &r2);
	http_request_body_cb(req, 100, t_read_cb, NULL, &r2);
	http_request_start(req);
	t_pending = 1;
	CHECK_INT(run(5000), 0);
	CHECK_INT(r2.status, 503);
	CHECK_INT(r2.attempts, 1);

	result_free(&r);
	result_free(&r2);
}

static void
test_sink(struct http_pool *pool)
{
	struct result		 r, r2;
	struct http_request	*req;
	char			*expect;

	result_init(&r);
	req = t_request(pool, "GET", "/big", &r);
	http_request_sink_cb(req, t_sink_cb, &r);
	http_request_start(req);
	t_pending = 1;
	CHECK_INT(run(5000), 0);
	CHECK_INT(r.status, 200);
	CHECK_INT(r.body.len, 0);
	CHECK_INT(r.sunk.len, BIG_LEN);
	CHECK_INT(r.sink_bad_offset, 0);
	expect = xmalloc(BIG_LEN);
	big_fill(expect, BIG_LEN, 0);
	CHECK(r.sunk.len == BIG_LEN &&
	    memcmp(r.sunk.data, expect, BIG_LEN) == 0);
	free(expect);

	/* An error body goes to resp->body, not to the sink. */
	result_init(&r2);
	req = t_request(pool, "GET", "/missing", &r2);
	http_request_sink_cb(req, t_sink_cb, &r2);
	http_request_start(req);
	t_pending = 1;
	CHECK_INT(run(5000), 0);
	CHECK_INT(r2.status, 404);
	CHECK_INT(r2.sunk.len, 0);
	CHECK(r2.body.data != NULL && strstr(r2.body.data, "NoSuchKey"));

	result_free(&r);
	result_free(&r2);
}

static void
test_too_large(const struct http_engine_opts *base_opts)
{
	struct http_engine_opts	 o = *base_opts;
	struct http_engine	*e;
	struct http_pool	*pool;
	struct result		 r;

	o.body_limit = 1024;
	e = http_engine_new(base, &o);
	pool = http_pool_new(e, "small", 2, 0, 1, NULL);
	result_init(&r);
	http_request_start(t_request(pool, "GET", "/big", &r));
	t_pending = 1;
	CHECK_INT(run(5000), 0);
	CHECK_INT(r.error, HTTP_ERR_TOO_LARGE);
	CHECK_INT(r.attempts, 1);
	CHECK_INT(http_pool_stats(pool)->errors[HTTP_ERR_TOO_LARGE], 1);
	result_free(&r);
	http_engine_free(e);
}

static void
test_concurrency(struct http_engine *engine)
{
	struct http_pool	*pool;
	struct result		*r;
	int			 i, ok = 0;
	const int		 n = 200;

	pool = http_pool_new(engine, "capped", 4, 0, 1, NULL);
	r = xcalloc(n, sizeof *r);
	for (i = 0; i < n; i++) {
		result_init(&r[i]);
		http_request_start(t_request(pool, "GET", "/conc", &r[i]));
	}
	CHECK_INT(http_pool_stats(pool)->queued, n);
	t_pending = n;
	CHECK_INT(run(10000), 0);
	for (i = 0; i < n; i++) {
		if (r[i].status == 200 && r[i].attempts == 1)
			ok++;
		result_free(&r[i]);
	}
	free(r);
	CHECK_INT(ok, n);
	CHECK(conc_max <= 4);
	CHECK(conc_max >= 2);
	CHECK_INT(path_find("/conc")->hits, n);
	/* Keep-alive: four connections carry the 200 requests. */
	CHECK(http_pool_stats(pool)->connects <= 4);
	CHECK_INT(http_pool_stats(pool)->requests[HTTP_METHOD_GET][2], n);
	CHECK_INT(http_pool_stats(pool)->latency_count, n);
	CHECK_INT(http_pool_stats(pool)->inflight, 0);
	CHECK_INT(http_pool_stats(pool)->queued, 0);
	CHECK_INT(http_engine_inflight(engine), 0);
}

static void
test_rate(struct http_engine *engine)
{
	struct http_pool	*pool;
	struct result		*r;
	int			 i, ok = 0;
	const int		 n = 100;
	uint64_t		 t0, dt;

	pool = http_pool_new(engine, "rated", 8, 50, 1, NULL);
	CHECK(http_pool_find(engine, "rated") == pool);
	r = xcalloc(n, sizeof *r);
	t0 = time_mono_ms();
	for (i = 0; i < n; i++) {
		result_init(&r[i]);
		http_request_start(t_request(pool, "GET", "/rate", &r[i]));
	}
	t_pending = n;
	CHECK_INT(run(10000), 0);
	dt = time_mono_ms() - t0;
	for (i = 0; i < n; i++) {
		if (r[i].status == 200)
			ok++;
		result_free(&r[i]);
	}
	free(r);
	CHECK_INT(ok, n);
	/* 100 requests at 50/s with a burst of 1: at least ~2 s. */
	CHECK(dt >= 1900);
}

/*
 * Background requests wait while foreground requests of their pool wait:
 * on a pool of one connection, two background requests queued before two
 * foreground ones (behind a first foreground one) run after them; alone,
 * background requests run.
 */
static void
test_priority(struct http_engine *engine)
{
	struct http_pool	*one;
	struct http_request	*req;
	struct result		 r[5];
	int			 i;

	one = http_pool_new(engine, "priority", 1, 0, 1, NULL);
	for (i = 0; i < 5; i++)
		result_init(&r[i]);
	http_request_start(t_request(one, "GET", "/conc", &r[0]));
	for (i = 1; i < 5; i++) {
		req = t_request(one, "GET", "/ok", &r[i]);
		http_request_set_background(req, i <= 2);
		http_request_start(req);
	}
	CHECK_INT(http_pool_stats(one)->queued, 5);
	t_order = 0;
	t_pending = 5;
	CHECK_INT(run(10000), 0);
	CHECK_INT(r[0].order, 1);
	CHECK_INT(r[3].order, 2);
	CHECK_INT(r[4].order, 3);
	CHECK_INT(r[1].order, 4);
	CHECK_INT(r[2].order, 5);
	for (i = 0; i < 5; i++) {
		CHECK_INT(r[i].status, 200);
		result_free(&r[i]);
	}

	for (i = 0; i < 2; i++) {
		result_init(&r[i]);
		req = t_request(one, "GET", "/ok", &r[i]);
		http_request_set_background(req, 1);
		http_request_start(req);
	}
	t_pending = 2;
	CHECK_INT(run(10000), 0);
	for (i = 0; i < 2; i++) {
		CHECK_INT(r[i].status, 200);
		result_free(&r[i]);
	}
	CHECK_INT(http_pool_stats(one)->queued, 0);
}

/*
 * A pool that adapts halves its limit (here the ceiling of 200/s, or the
 * rate achieved when lower) on the first throttling answers; the requests
 * all succeed on retry. One that does not adapt keeps its limit.
 */
static void
test_adaptive(struct http_engine *engine)
{
	struct http_pool	*pool, *fixed;
	struct result		 r[6];
	int			 i;

	pool = http_pool_new(engine, "adaptive", 2, 200, 1, NULL);
	http_pool_set_adaptive(pool, 1);
	CHECK(http_pool_stats(pool)->rate_limit == 200);
	for (i = 0; i < 6; i++) {
		result_init(&r[i]);
		http_request_start(t_request(pool, "GET", "/slowdown", &r[i]));
	}
	t_pending = 6;
	CHECK_INT(run(30000), 0);
	for (i = 0; i < 6; i++) {
		CHECK_INT(r[i].status, 200);
		result_free(&r[i]);
	}
	CHECK_INT(http_pool_stats(pool)->throttled, 3);
	CHECK(http_pool_stats(pool)->rate_cuts >= 1);
	CHECK(http_pool_stats(pool)->rate_limit >= HTTP_AIMD_MIN_RPS);
	CHECK(http_pool_stats(pool)->rate_limit <= 100);

	path_find("/slowdown")->hits = 0;
	fixed = http_pool_new(engine, "fixed", 2, 200, 1, NULL);
	for (i = 0; i < 4; i++) {
		result_init(&r[i]);
		http_request_start(t_request(fixed, "GET", "/slowdown", &r[i]));
	}
	t_pending = 4;
	CHECK_INT(run(30000), 0);
	for (i = 0; i < 4; i++) {
		CHECK_INT(r[i].status, 200);
		result_free(&r[i]);
	}
	CHECK_INT(http_pool_stats(fixed)->throttled, 3);
	CHECK_INT(http_pool_stats(fixed)->rate_cuts, 0);
	CHECK(http_pool_stats(fixed)->rate_limit == 200);
}

static void
test_cancel(struct http_engine *engine, struct http_pool *pool)
{
	struct http_pool	*one;
	struct result		 a, b, c, d, e;
	struct http_request	*ra, *rb, *rc;

	one = http_pool_new(engine, "one", 1, 0, 1, NULL);
	result_init(&a);
	result_init(&b);
	result_init(&c);
	result_init(&d);
	result_init(&e);

	/* Running and queued behind it. */
	ra = t_request(one, "GET", "/slow", &a);
	rb = t_request(one, "GET", "/ok", &b);
	http_request_start(ra);
	http_request_start(rb);
	run_for(100);
	CHECK_INT(http_pool_stats(one)->inflight, 1);
	CHECK_INT(http_pool_stats(one)->queued, 1);
	http_request_cancel(rb);
	http_request_cancel(ra);
	CHECK_INT(http_pool_stats(one)->inflight, 0);
	CHECK_INT(http_pool_stats(one)->queued, 0);

	/* Sleeping in backoff (Retry-After: 5), cancelled from outside. */
	rc = t_request(pool, "GET", "/always503", &c);
	http_request_start(rc);
	run_for(200);
	CHECK_INT(c.attempt_cbs, 1);
	CHECK(c.last_delay >= 5000);
	CHECK_INT(http_pool_stats(pool)->backoff, 1);
	http_request_cancel(rc);
	CHECK_INT(http_pool_stats(pool)->backoff, 0);

	/* Cancelled from its own attempt_cb. */
	d.cancel_in_attempt = 1;
	http_request_start(t_request(pool, "GET", "/always503", &d));
	t_pending = 1;
	CHECK_INT(run(2000), 0);
	CHECK_INT(d.attempt_cbs, 1);

	/* Cancelled from inside curl (its sink). */
	e.cancel_in_sink = 1;
	rc = t_request(pool, "GET", "/big", &e);
	http_request_sink_cb(rc, t_sink_cb, &e);
	http_request_start(rc);
	t_pending = 1;
	CHECK_INT(run(2000), 0);
	run_for(50);

	CHECK_INT(a.done + b.done + c.done + d.done + e.done, 0);
	CHECK_INT(http_engine_inflight(engine), 0);
	CHECK_INT(http_pool_stats(pool)->backoff, 0);

	/* The engine itself still works after all that. */
	result_init(&a);
	http_request_start(t_request(one, "GET", "/ok", &a));
	t_pending = 1;
	CHECK_INT(run(5000), 0);
	CHECK_INT(a.status, 200);

	result_free(&a);
	result_free(&b);
	result_free(&c);
	result_free(&d);
	result_free(&e);
}

static void
test_free_inflight(const struct http_engine_opts *o)
{
	struct http_engine	*e;
	struct http_pool	*pool;
	struct result		 r, r2;

	e = http_engine_new(base, o);
	pool = http_pool_new(e, "doomed", 1, 0, 1, NULL);
	result_init(&r);
	result_init(&r2);
	http_request_start(t_request(pool, "GET", "/slow", &r));
	http_request_start(t_request(pool, "GET", "/slow", &r2));
	run_for(100);
	CHECK_INT(http_engine_inflight(e), 1);
	http_engine_free(e);
	run_for(20);
	CHECK_INT(r.done + r2.done, 0);
	result_free(&r);
	result_free(&r2);
}

int
main(void)
{
	struct http_engine_opts	 o;
	struct http_engine	*engine;
	struct http_pool	*pool;

	log_init(LOG_TO_STDERR, 0);
	test_backoff();
	test_classify();

	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	srv_start();
	http_engine_opts_default(&o);
	o.retry_base_ms = 10;
	o.retry_max_ms = 50;
	o.max_attempts = 4;
	o.connect_timeout_ms = 2000;
	o.user_agent = "s3batchd-test/1";
	engine = http_engine_new(base, &o);
	pool = http_pool_new(engine, "main", 8, 0, 1, NULL);
	CHECK_STR(http_pool_name(pool), "main");
	CHECK(http_pool_next(engine, NULL) == pool);
	CHECK(http_pool_next(engine, pool) == NULL);

	test_headers(pool);
	test_basic(pool);
	test_retries(pool);
	test_timeout(pool);
	test_stream_put(pool);
	test_sink(pool);
	test_too_large(&o);
	test_concurrency(engine);
	test_rate(engine);
	test_priority(engine);
	test_adaptive(engine);
	test_cancel(engine, pool);
	test_free_inflight(&o);

	http_engine_free(engine);
	srv_stop();
	event_base_free(base);
	curl_global_cleanup();
	return (unit_done("test-http"));
}
