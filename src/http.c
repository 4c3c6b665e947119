/*
 * The HTTP engine: libcurl multi on the libevent loop, in the shape of
 * curl's hiperfifo example. curl tells us which sockets to watch
 * (socket callback) and when to wake it up (timer callback); libevent calls
 * back into curl_multi_socket_action(), after which finished transfers are
 * drained from curl_multi_info_read().
 *
 * The caps live here, not in curl: a request waits in its pool's FIFO until
 * the global in-flight cap, the pool's connection cap and the pool's token
 * bucket all allow it, and only then gets an easy handle. A pool has two
 * FIFOs: background requests (inventory runs) start only when no
 * foreground request (jobs, commands) of the pool is waiting and every
 * pool's foreground requests have had their turn at a free slot. curl's own
 * connection limits are set so that they never bind before ours, so curl
 * never queues a transfer we have started (its timeouts would run while it
 * waits).
 *
 * A request moves NEW -> QUEUED -> PREPARE -> RUNNING -> (BACKOFF -> QUEUED
 * ...) -> DONE, and is in exactly one list at a time: its pool's queue, the
 * engine's running list or the engine's backoff list.
 *
 * Each pool's rate adapts (docs/HTTP.md, "Adaptive rate"): a throttling
 * answer (429, 503) halves its rate limit, at most once a second, starting
 * from the rate it achieved when it had none; each second that the limit
 * binds without throttling raises it by a twentieth (at least 1/s), up to
 * the configured ceiling, past which, without one, the limit is lifted.
 *
 * Each pool has a circuit breaker (docs/OUTAGES.md). Attempts that find the
 * endpoint unreachable (refused, reset, DNS, timeouts; not an HTTP answer,
 * whatever its status) HTTP_BREAKER_FAILURES times in a row open it. While
 * it is open the pool's queue is held: nothing is sent but one-shot
 * requests, and an attempt that failed for the outage without sending
 * its request (refused, no name) goes back to the queue without counting
 * as an attempt (it is "parked"). A probe timer,
 * with backoff, half-opens the breaker: the next queued request goes
 * alone, as the probe. Any HTTP answer closes the breaker and the queue
 * flows; another unreachable attempt opens it again. There is no limit on
 * how long requests wait: an outage is not the requests' failure. Callers
 * that stop waiting cancel their requests (a paused or cancelled job).
 */
#include <sys/queue.h>
#include <sys/random.h>

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "s3batchd.h"
#include "http.h"

#define HTTP_DEFAULT_INFLIGHT		256
#define HTTP_DEFAULT_ATTEMPTS		5
#define HTTP_DEFAULT_CONNECTIONS	64
#define HTTP_DEFAULT_BODY_LIMIT		(1024 * 1024)
/* Bodies below this are sent at once, without waiting for 100-continue. */
#define HTTP_EXPECT_THRESHOLD		(1024 * 1024)
#define HTTP_SMALL_BODY			(64 * 1024)	/* sent with POSTFIELDS */
/* Response headers kept per attempt: bounded against a hostile server. */
#define HTTP_MAX_HEADERS		128
#define HTTP_MAX_HEADER_BYTES		(64 * 1024)
/* A Retry-After is honoured up to this. */
#define HTTP_RETRY_AFTER_MAX_MS		(300 * 1000)
/*
 * The breaker: unreachable attempts in a row, with no answer in between,
 * that open it (a refused connection or two is what retries are for); the
 * probe delay, doubled after each failed probe up to the cap, so that an
 * endpoint that comes back is found within a few seconds; the interval of
 * the warning while it stays open.
 */
#define HTTP_BREAKER_FAILURES		5
#define HTTP_BREAKER_PROBE_MS		250
#define HTTP_BREAKER_PROBE_MAX_MS	(5 * 1000)
#define HTTP_BREAKER_LOG_S		60

enum http_state {
	HTTP_STATE_NEW,
	HTTP_STATE_QUEUED,
	HTTP_STATE_PREPARE,
	HTTP_STATE_RUNNING,
	HTTP_STATE_BACKOFF,
	HTTP_STATE_DONE
};

struct http_sock {
	struct http_engine	*engine;
	curl_socket_t		 fd;
	struct event		*ev;
	TAILQ_ENTRY(http_sock)	 entry;
};

struct http_request {
	struct http_engine	*engine;
	struct http_pool	*pool;
	enum http_state		 state;
	TAILQ_ENTRY(http_request) entry;

	char			*method;
	enum http_method	 midx;
	char			*url;
	struct http_header	*hdrs;
	size_t			 nhdrs;

	int			 has_body;
	char			*body_mem;	/* NULL when streamed */
	uint64_t		 body_len;
	uint64_t		 body_off;
	http_read_cb		 read_cb;
	http_rewind_cb		 rewind_cb;
	void			*body_arg;

	http_write_cb		 sink_cb;
	void			*sink_arg;
	uint64_t		 sink_off;

	http_prepare_cb		 prepare_cb;
	http_classify_cb	 classify_cb;
	http_done_cb		 done_cb;
	http_attempt_cb		 attempt_cb;
	void			*arg;

	int			 max_attempts;
	uint64_t		 timeout_ms;
	int			 path_as_is;

	CURL			*curl;
	struct curl_slist	*slist;
	char			 errbuf[CURL_ERROR_SIZE];
	enum http_error		 abort_error;	/* set by our curl callbacks */
	size_t			 header_bytes;
	struct http_response	 resp;
	uint64_t		 start_ms;
	struct event		*retry_ev;

	int			 in_cb;		/* inside a user callback */
	int			 cancelled;
	int			 probe;		/* its pool's breaker probe */
	int			 background;	/* after foreground requests */
};
TAILQ_HEAD(http_requests, http_request);

struct http_pool {
	struct http_engine	*engine;
	char			*name;
	int			 max_connections;
	int			 active;
	double			 rps;		/* the limit now; 0: none */
	double			 rps_max;	/* configured; 0: none */
	int			 adaptive;
	uint64_t		 win_us;	/* this second's start */
	uint64_t		 win_done;	/* attempts ended in it */
	double			 achieved;	/* attempts/s, last second */
	uint64_t		 cut_us;	/* last halving */
	uint64_t		 grow_us;	/* last increase */
	struct log_limit	 rate_log;
	double			 window;	/* <0 none, 0 paused, else /s */
	char			*window_name;
	double			 burst;
	double			 tokens;
	uint64_t		 tokens_us;
	struct event		*rate_ev;
	int			 tls_verify;
	char			*ca_file;
	struct http_requests	 queue;		/* foreground */
	struct http_requests	 bgqueue;	/* background */
	struct http_pool_stats	 stats;
	TAILQ_ENTRY(http_pool)	 entry;

	/* The circuit breaker. */
	enum http_breaker	 breaker;
	int			 unreachable;	/* attempts in a row */
	int			 probing;	/* a probe is running */
	uint64_t		 probe_ms;	/* the next probe's delay */
	uint64_t		 since_mono;	/* opened, for the logs */
	struct event		*probe_ev;
	struct log_limit	 breaker_log;
};

struct http_engine {
	struct event_base	*base;
	struct http_engine_opts	 opts;
	char			*user_agent;	/* opts.user_agent points here */
	CURLM			*multi;
	struct event		*timer_ev;
	struct event		*sched_ev;
	int			 sched_pending;
	TAILQ_HEAD(, http_pool)	 pools;
	struct http_requests	 running;
	struct http_requests	 backoff;
	TAILQ_HEAD(, http_sock)	 socks;
	CURL			**free_easy;
	int			 nfree;
	int			 inflight;
	int			 in_curl;	/* inside curl_multi_socket_action */
	int			 ncancelled;	/* running, cancelled from in there */
	uint64_t		 rng;
};

const double http_latency_bounds[HTTP_LATENCY_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120
};

static const char *http_method_names[HTTP_METHOD_COUNT] = {
	"GET", "HEAD", "PUT", "POST", "DELETE", "OTHER"
};

static const char *http_breaker_names[HTTP_BREAKER_COUNT] = {
	"closed", "open", "half-open"
};

static const char *http_class_names[HTTP_CLASS_COUNT] = {
	"none", "1xx", "2xx", "3xx", "4xx", "5xx"
};

static const char *http_error_names[HTTP_ERR_COUNT] = {
	"none", "dns", "connect", "timeout", "tls", "network", "too_large",
	"aborted", "prepare", "other"
};

/* curl's failures: what kind they are and whether trying again may help. */
static const struct {
	CURLcode	 code;
	enum http_error	 error;
	int		 retry;
} http_curl_errors[] = {
	{ CURLE_COULDNT_RESOLVE_HOST,		HTTP_ERR_DNS,		1 },
	{ CURLE_COULDNT_RESOLVE_PROXY,		HTTP_ERR_DNS,		1 },
	{ CURLE_COULDNT_CONNECT,		HTTP_ERR_CONNECT,	1 },
	{ CURLE_OPERATION_TIMEDOUT,		HTTP_ERR_TIMEOUT,	1 },
	{ CURLE_SSL_CONNECT_ERROR,		HTTP_ERR_TLS,		1 },
	{ CURLE_PEER_FAILED_VERIFICATION,	HTTP_ERR_TLS,		0 },
	{ CURLE_SSL_CERTPROBLEM,		HTTP_ERR_TLS,		0 },
	{ CURLE_SSL_CIPHER,			HTTP_ERR_TLS,		0 },
	{ CURLE_SSL_CACERT_BADFILE,		HTTP_ERR_TLS,		0 },
	{ CURLE_SSL_ENGINE_NOTFOUND,		HTTP_ERR_TLS,		0 },
	{ CURLE_SEND_ERROR,			HTTP_ERR_NETWORK,	1 },
	{ CURLE_RECV_ERROR,			HTTP_ERR_NETWORK,	1 },
	{ CURLE_GOT_NOTHING,			HTTP_ERR_NETWORK,	1 },
	{ CURLE_PARTIAL_FILE,			HTTP_ERR_NETWORK,	1 },
	{ CURLE_WEIRD_SERVER_REPLY,		HTTP_ERR_NETWORK,	1 },
	{ CURLE_HTTP2,				HTTP_ERR_NETWORK,	1 },
	{ CURLE_HTTP2_STREAM,			HTTP_ERR_NETWORK,	1 },
	{ CURLE_SEND_FAIL_REWIND,		HTTP_ERR_NETWORK,	0 },
	{ CURLE_WRITE_ERROR,			HTTP_ERR_ABORTED,	0 },
	{ CURLE_READ_ERROR,			HTTP_ERR_ABORTED,	0 },
	{ CURLE_ABORTED_BY_CALLBACK,		HTTP_ERR_ABORTED,	0 },
};

/* Statuses the default classifier retries. */
static const int http_retry_statuses[] = { 429, 500, 502, 503, 504 };

static void	 http_kick(struct http_engine *);
static void	 http_schedule(struct http_engine *);
static void	 http_check_multi_info(struct http_engine *);
static void	 http_aimd_note(struct http_pool *,
		     const struct http_response *);

void
http_engine_opts_default(struct http_engine_opts *o)
{
	memset(o, 0, sizeof *o);
	o->max_inflight = HTTP_DEFAULT_INFLIGHT;
	o->max_attempts = HTTP_DEFAULT_ATTEMPTS;
	o->retry_base_ms = 100;
	o->retry_max_ms = 20000;
	o->connect_timeout_ms = 10000;
	o->low_speed_time_ms = 60000;
	o->low_speed_limit = 1;
	o->total_timeout_ms = 0;
	o->body_limit = HTTP_DEFAULT_BODY_LIMIT;
}

const char *
http_method_name(enum http_method m)
{
	if ((unsigned)m >= HTTP_METHOD_COUNT)
		return ("OTHER");
	return (http_method_names[m]);
}

const char *
http_class_name(int c)
{
	if (c < 0 || c >= HTTP_CLASS_COUNT)
		return ("none");
	return (http_class_names[c]);
}

const char *
http_breaker_name(enum http_breaker b)
{
	return ((unsigned)b < HTTP_BREAKER_COUNT ? http_breaker_names[b] :
	    "unknown");
}

const char *
http_error_name(enum http_error e)
{
	if ((unsigned)e >= HTTP_ERR_COUNT)
		return ("other");
	return (http_error_names[e]);
}

static uint64_t
http_mono_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

/* xorshift64*: jitter needs spread, not secrecy. */
static uint64_t
http_random(struct http_engine *engine)
{
	uint64_t	 x = engine->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	engine->rng = x;
	return (x * 0x2545F4914F6CDD1DULL);
}

uint64_t
http_backoff_ms(uint64_t base_ms, uint64_t max_ms, int retry, uint64_t random)
{
	uint64_t	 cap;

	if (retry < 0)
		retry = 0;
	if (base_ms == 0 || max_ms == 0)
		return (0);
	if (retry >= 63 || base_ms > (max_ms >> retry))
		cap = max_ms;
	else
		cap = base_ms << retry;
	if (cap > max_ms)
		cap = max_ms;
	if (cap == UINT64_MAX)
		return (random);
	return (random % (cap + 1));
}

uint64_t
http_retry_after_ms(const char *value)
{
	uint64_t	 secs = 0;
	const char	*p;

	if (value == NULL)
		return (0);
	p = value;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!isdigit((u_char)*p))
		return (0);		/* an HTTP date: not honoured */
	for (; isdigit((u_char)*p); p++) {
		secs = secs * 10 + (uint64_t)(*p - '0');
		if (secs * 1000 > HTTP_RETRY_AFTER_MAX_MS)
			return (HTTP_RETRY_AFTER_MAX_MS);
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0')
		return (0);
	return (secs * 1000);
}

const char *
http_response_header(const struct http_response *resp, const char *name)
{
	size_t	 i;

	for (i = resp->nheaders; i > 0; i--) {
		if (strcasecmp(resp->headers[i - 1].name, name) == 0)
			return (resp->headers[i - 1].value);
	}
	return (NULL);
}

static void
http_headers_free(struct http_header **hdrs, size_t *n)
{
	size_t	 i;

	for (i = 0; i < *n; i++) {
		free((*hdrs)[i].name);
		free((*hdrs)[i].value);
	}
	free(*hdrs);
	*hdrs = NULL;
	*n = 0;
}

static int
http_curl_error(CURLcode code, enum http_error *error)
{
	size_t	 i;

	for (i = 0; i < nitems(http_curl_errors); i++) {
		if (http_curl_errors[i].code == code) {
			if (error != NULL)
				*error = http_curl_errors[i].error;
			return (http_curl_errors[i].retry);
		}
	}
	if (error != NULL)
		*error = HTTP_ERR_OTHER;
	return (0);
}

enum http_verdict
http_classify_default(const struct http_response *resp)
{
	size_t	 i;

	switch (resp->error) {
	case HTTP_ERR_TOO_LARGE:
	case HTTP_ERR_ABORTED:
	case HTTP_ERR_PREPARE:
		return (HTTP_FINAL);
	default:
		break;
	}
	if (resp->curl_code != CURLE_OK)
		return (http_curl_error(resp->curl_code, NULL) ?
		    HTTP_RETRY : HTTP_FINAL);
	for (i = 0; i < nitems(http_retry_statuses); i++) {
		if (resp->status == http_retry_statuses[i])
			return (HTTP_RETRY);
	}
	return (HTTP_FINAL);
}

static enum http_method
http_method_index(const char *method)
{
	int	 i;

	for (i = 0; i < HTTP_METHOD_OTHER; i++) {
		if (strcmp(method, http_method_names[i]) == 0)
			return (i);
	}
	return (HTTP_METHOD_OTHER);
}

/* The URL without its query, which may hold a presigned signature. */
static int
http_url_loglen(const char *url)
{
	return ((int)strcspn(url, "?"));
}

/* curl's socket and timer callbacks, and the libevent side of them. */

static void
http_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_sock	*sock = arg;
	struct http_engine	*engine = sock->engine;
	int			 action = 0, running = 0;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	/* sock may be freed in here (CURL_POLL_REMOVE). */
	engine->in_curl = 1;
	curl_multi_socket_action(engine->multi, fd, action, &running);
	engine->in_curl = 0;
	http_check_multi_info(engine);
}

static void
http_timer_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_engine	*engine = arg;
	int			 running = 0;

	engine->in_curl = 1;
	curl_multi_socket_action(engine->multi, CURL_SOCKET_TIMEOUT, 0,
	    &running);
	engine->in_curl = 0;
	http_check_multi_info(engine);
}

static int
http_socket_cb(CURL *e, curl_socket_t s, int what, void *userp,
    void *socketp)
{
	struct http_engine	*engine = userp;
	struct http_sock	*sock = socketp;
	short			 flags;

	if (what == CURL_POLL_REMOVE) {
		if (sock != NULL) {
			event_free(sock->ev);
			TAILQ_REMOVE(&engine->socks, sock, entry);
			free(sock);
		}
		return (0);
	}
	flags = EV_PERSIST;
	if (what & CURL_POLL_IN)
		flags |= EV_READ;
	if (what & CURL_POLL_OUT)
		flags |= EV_WRITE;
	if (sock == NULL) {
		sock = xcalloc(1, sizeof *sock);
		sock->engine = engine;
		sock->fd = s;
		sock->ev = event_new(engine->base, s, flags, http_event_cb,
		    sock);
		if (sock->ev == NULL)
			fatalx("http: event_new failed");
		TAILQ_INSERT_TAIL(&engine->socks, sock, entry);
		curl_multi_assign(engine->multi, s, sock);
	} else {
		event_del(sock->ev);
		event_assign(sock->ev, engine->base, s, flags, http_event_cb,
		    sock);
	}
	event_add(sock->ev, NULL);
	return (0);
}

static int
http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_engine	*engine = userp;
	struct timeval		 tv;

	if (timeout_ms < 0) {
		evtimer_del(engine->timer_ev);
		return (0);
	}
	/* Never call curl from here: a zero timeout fires on the next turn. */
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(engine->timer_ev, &tv);
	return (0);
}

/* curl's per-transfer callbacks. They must not call into the multi handle. */

static size_t
http_header_cb(char *data, size_t size, size_t n, void *userp)
{
	struct http_request	*req = userp;
	struct http_response	*resp = &req->resp;
	size_t			 len = size * n, nlen;
	const char		*p, *end, *colon, *v;
	long			 status;

	if (req->cancelled)
		return (0);
	end = data + len;
	while (end > data && (end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if (end - data >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* A new status line: forget a 1xx's headers. */
		http_headers_free(&resp->headers, &resp->nheaders);
		req->header_bytes = 0;
		p = data + 5;
		while (p < end && *p != ' ')
			p++;
		while (p < end && *p == ' ')
			p++;
		status = 0;
		while (p < end && isdigit((u_char)*p) && status < 1000)
			status = status * 10 + (*p++ - '0');
		resp->status = (int)status;
		return (len);
	}
	if (end == data || *data == ' ' || *data == '\t')
		return (len);
	colon = memchr(data, ':', (size_t)(end - data));
	if (colon == NULL || colon == data)
		return (len);
	if (resp->nheaders >= HTTP_MAX_HEADERS ||
	    req->header_bytes + (size_t)(end - data) > HTTP_MAX_HEADER_BYTES)
		return (len);
	req->header_bytes += (size_t)(end - data);
	nlen = (size_t)(colon - data);
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	resp->headers = xreallocarray(resp->headers, resp->nheaders + 1,
	    sizeof *resp->headers);
	resp->headers[resp->nheaders].name = xstrndup(data, nlen);
	resp->headers[resp->nheaders].value = xstrndup(v, (size_t)(end - v));
	resp->nheaders++;
	return (len);
}

static size_t
http_write_data_cb(char *data, size_t size, size_t n, void *userp)
{
	struct http_request	*req = userp;
	struct http_response	*resp = &req->resp;
	size_t			 len = size * n;

	if (req->cancelled)
		return (0);
	if (req->sink_cb != NULL && resp->status >= 200 &&
	    resp->status < 300) {
		if (req->sink_cb(req->sink_off, data, len, req->sink_arg) != 0) {
			req->abort_error = HTTP_ERR_ABORTED;
			return (0);
		}
		req->sink_off += len;
		return (len);
	}
	if (resp->body.len + len > req->engine->opts.body_limit) {
		req->abort_error = HTTP_ERR_TOO_LARGE;
		return (0);
	}
	buf_add(&resp->body, data, len);
	return (len);
}

static size_t
http_read_data_cb(char *data, size_t size, size_t n, void *userp)
{
	struct http_request	*req = userp;
	size_t			 len = size * n;
	ssize_t			 r;

	if (req->cancelled)
		return (CURL_READFUNC_ABORT);
	if (len > req->body_len - req->body_off)
		len = (size_t)(req->body_len - req->body_off);
	if (len == 0)
		return (0);
	if (req->body_mem != NULL) {
		memcpy(data, req->body_mem + req->body_off, len);
		req->body_off += len;
		return (len);
	}
	r = req->read_cb(data, len, req->body_arg);
	if (r <= 0 || (size_t)r > len) {
		/* An error, or a body shorter than it said it was. */
		req->abort_error = HTTP_ERR_ABORTED;
		return (CURL_READFUNC_ABORT);
	}
	req->body_off += (uint64_t)r;
	return ((size_t)r);
}

/* curl rewinds by itself when a reused connection died under a request. */
static int
http_seek_cb(void *userp, curl_off_t offset, int origin)
{
	struct http_request	*req = userp;

	if (offset != 0 || origin != SEEK_SET || req->cancelled)
		return (CURL_SEEKFUNC_CANTSEEK);
	if (req->body_mem == NULL &&
	    (req->rewind_cb == NULL || req->rewind_cb(req->body_arg) != 0))
		return (CURL_SEEKFUNC_CANTSEEK);
	req->body_off = 0;
	return (CURL_SEEKFUNC_OK);
}

/* Only curl's own text: header and data traces may carry secrets. */
static int
http_debug_cb(CURL *c, curl_infotype type, char *data, size_t size,
    void *userp)
{
	if (type != CURLINFO_TEXT)
		return (0);
	while (size > 0 && (data[size - 1] == '\n' || data[size - 1] == '\r'))
		size--;
	log_debug("http: curl: %.*s", (int)size, data);
	return (0);
}

/* Easy handles are reset and kept for the next attempt. */

static CURL *
http_easy_get(struct http_engine *engine)
{
	CURL	*c;

	if (engine->nfree > 0)
		return (engine->free_easy[--engine->nfree]);
	if ((c = curl_easy_init()) == NULL)
		fatalx("http: curl_easy_init failed");
	return (c);
}

static void
http_easy_put(struct http_engine *engine, CURL *c)
{
	if (engine->nfree >= engine->opts.max_inflight) {
		curl_easy_cleanup(c);
		return;
	}
	curl_easy_reset(c);
	engine->free_easy[engine->nfree++] = c;
}

static void
http_request_free(struct http_request *req)
{
	/* A probe that ends any other way lets the next request probe. */
	if (req->probe)
		req->pool->probing = 0;
	http_headers_free(&req->hdrs, &req->nhdrs);
	http_headers_free(&req->resp.headers, &req->resp.nheaders);
	buf_free(&req->resp.body);
	if (req->slist != NULL)
		curl_slist_free_all(req->slist);
	if (req->retry_ev != NULL)
		event_free(req->retry_ev);
	free(req->body_mem);
	free(req->method);
	free(req->url);
	free(req);
}

static void
http_running_attach(struct http_request *req)
{
	struct http_engine	*engine = req->engine;

	req->state = HTTP_STATE_RUNNING;
	TAILQ_INSERT_TAIL(&engine->running, req, entry);
	engine->inflight++;
	req->pool->active++;
	req->pool->stats.inflight++;
}

static void
http_running_detach(struct http_request *req)
{
	struct http_engine	*engine = req->engine;

	curl_multi_remove_handle(engine->multi, req->curl);
	http_easy_put(engine, req->curl);
	req->curl = NULL;
	curl_slist_free_all(req->slist);
	req->slist = NULL;
	TAILQ_REMOVE(&engine->running, req, entry);
	engine->inflight--;
	req->pool->active--;
	req->pool->stats.inflight--;
}

static void
http_complete(struct http_request *req)
{
	req->state = HTTP_STATE_DONE;
	req->resp.total_ms = time_mono_ms() - req->start_ms;
	if (req->done_cb != NULL) {
		req->in_cb++;
		req->done_cb(req, &req->resp, req->arg);
	}
	http_request_free(req);
}

static void
http_fail_local(struct http_request *req, enum http_error error,
    const char *text)
{
	req->resp.error = error;
	snprintf(req->resp.error_text, sizeof req->resp.error_text, "%s", text);
	req->pool->stats.errors[error]++;
	http_complete(req);
}

static void
http_easy_setup(struct http_request *req)
{
	struct http_engine	*engine = req->engine;
	struct http_pool	*pool = req->pool;
	const struct http_engine_opts *o = &engine->opts;
	CURL			*c = req->curl;
	struct curl_slist	*sl = NULL;
	char			*line;
	size_t			 i;
	uint64_t		 timeout;
	int			 small = 0, typed = 0;

	curl_easy_setopt(c, CURLOPT_URL, req->url);
	if (req->path_as_is)
		curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_PRIVATE, req);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	req->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, req->errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP|CURLPROTO_HTTPS));
#endif
	/* One transfer, one connection: the pool caps count connections. */
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, o->user_agent);
	if (o->connect_timeout_ms != 0)
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
		    (long)o->connect_timeout_ms);
	if (o->low_speed_time_ms != 0) {
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT,
		    (long)(o->low_speed_limit != 0 ? o->low_speed_limit : 1));
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
		    (long)((o->low_speed_time_ms + 999) / 1000));
	}
	timeout = req->timeout_ms != 0 ? req->timeout_ms : o->total_timeout_ms;
	if (timeout != 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, pool->tls_verify ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, pool->tls_verify ? 2L : 0L);
	if (pool->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, pool->ca_file);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, req);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_write_data_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, req);
	if (o->verbose) {
		curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, http_debug_cb);
		curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	}

	if (req->midx == HTTP_METHOD_HEAD)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (req->has_body && req->body_mem != NULL &&
	    req->body_len < HTTP_SMALL_BODY) {
		/*
		 * A small body in memory goes with the headers in one send
		 * (POSTFIELDS under the request's own method), not through
		 * the read callback: a syscall fewer per request.
		 */
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body_mem);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
		small = 1;
	} else if (req->has_body) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)req->body_len);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, http_read_data_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, req);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, http_seek_cb);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, req);
		if (req->midx != HTTP_METHOD_PUT)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	} else if (req->midx == HTTP_METHOD_GET)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	else
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);

	for (i = 0; i < req->nhdrs; i++) {
		if (*req->hdrs[i].value == '\0')
			xasprintf(&line, "%s;", req->hdrs[i].name);
		else
			xasprintf(&line, "%s: %s", req->hdrs[i].name,
			    req->hdrs[i].value);
		sl = curl_slist_append(sl, line);
		free(line);
		if (sl == NULL)
			fatalx("http: curl_slist_append failed");
	}
	/* A small body goes at once rather than after a 100-continue wait. */
	if (req->has_body && req->body_len < HTTP_EXPECT_THRESHOLD) {
		if ((sl = curl_slist_append(sl, "Expect:")) == NULL)
			fatalx("http: curl_slist_append failed");
	}
	/* POSTFIELDS would add a form Content-Type nobody asked for. */
	for (i = 0; i < req->nhdrs; i++) {
		if (strcasecmp(req->hdrs[i].name, "Content-Type") == 0)
			typed = 1;
	}
	if (small && !typed) {
		if ((sl = curl_slist_append(sl, "Content-Type:")) == NULL)
			fatalx("http: curl_slist_append failed");
	}
	req->slist = sl;
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, sl);
}

/* Start one attempt of a request just taken off its pool's queue. */
static void
http_attempt_begin(struct http_request *req)
{
	struct http_engine	*engine = req->engine;
	struct http_response	*resp = &req->resp;
	CURLMcode		 mc;
	int			 r;

	req->state = HTTP_STATE_PREPARE;
	resp->attempts++;
	resp->status = 0;
	resp->curl_code = 0;
	resp->error = HTTP_ERR_NONE;
	resp->error_text[0] = '\0';
	resp->reused = 0;
	resp->attempt_ms = 0;
	resp->bytes_sent = resp->bytes_received = 0;
	http_headers_free(&resp->headers, &resp->nheaders);
	buf_reset(&resp->body);
	req->abort_error = HTTP_ERR_NONE;
	req->header_bytes = 0;
	req->body_off = 0;
	req->sink_off = 0;

	if (req->prepare_cb != NULL) {
		req->in_cb++;
		r = req->prepare_cb(req, resp->attempts, req->arg);
		req->in_cb--;
		if (req->cancelled) {
			http_request_free(req);
			return;
		}
		if (r != 0) {
			http_fail_local(req, HTTP_ERR_PREPARE,
			    "request preparation failed");
			return;
		}
	}

	req->curl = http_easy_get(engine);
	http_easy_setup(req);
	if ((mc = curl_multi_add_handle(engine->multi, req->curl)) !=
	    CURLM_OK) {
		curl_slist_free_all(req->slist);
		req->slist = NULL;
		http_easy_put(engine, req->curl);
		req->curl = NULL;
		http_fail_local(req, HTTP_ERR_OTHER, curl_multi_strerror(mc));
		return;
	}
	http_running_attach(req);
}

static void
http_stats_attempt(struct http_request *req, CURL *c)
{
	struct http_pool_stats	*st = &req->pool->stats;
	struct http_response	*resp = &req->resp;
	curl_off_t		 up = 0, down = 0, usecs = 0;
	long			 connects = 0;
	double			 secs;
	int			 class, i;

	curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &down);
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &usecs);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
	resp->bytes_sent = (uint64_t)up;
	resp->bytes_received = (uint64_t)down;
	resp->attempt_ms = (uint64_t)usecs / 1000;
	resp->reused = connects == 0 && resp->status != 0;

	class = resp->status >= 100 && resp->status < 600 ?
	    resp->status / 100 : 0;
	st->requests[req->midx][class]++;
	if (resp->error != HTTP_ERR_NONE)
		st->errors[resp->error]++;
	st->connects += (uint64_t)connects;
	st->bytes_up += (uint64_t)up;
	st->bytes_down += (uint64_t)down;
	secs = (double)usecs / 1e6;
	for (i = 0; i < HTTP_LATENCY_BUCKETS; i++) {
		if (secs <= http_latency_bounds[i])
			break;
	}
	st->latency[i]++;
	st->latency_sum += secs;
	st->latency_count++;
}

/* The FIFO of the request's pool that it waits in. */
static struct http_requests *
http_queue(struct http_request *req)
{
	return (req->background ? &req->pool->bgqueue : &req->pool->queue);
}

static void
http_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_request	*req = arg;
	struct http_engine	*engine = req->engine;

	TAILQ_REMOVE(&engine->backoff, req, entry);
	req->pool->stats.backoff--;
	/* It has waited its turn already: ahead of first attempts. */
	req->state = HTTP_STATE_QUEUED;
	TAILQ_INSERT_HEAD(http_queue(req), req, entry);
	req->pool->stats.queued++;
	http_kick(engine);
}

/* ---- the circuit breaker */

/* Whether an attempt failed because the endpoint could not be reached. */
static int
http_error_unreachable(enum http_error e)
{
	switch (e) {
	case HTTP_ERR_DNS:
	case HTTP_ERR_CONNECT:
	case HTTP_ERR_TIMEOUT:
	case HTTP_ERR_NETWORK:
		return (1);
	default:
		return (0);
	}
}

static int
http_request_attempts(const struct http_request *req)
{
	return (req->max_attempts != 0 ? req->max_attempts :
	    req->engine->opts.max_attempts);
}

static void
http_breaker_probe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_pool	*pool = arg;

	pool->breaker = pool->stats.breaker = HTTP_BREAKER_HALF_OPEN;
	http_kick(pool->engine);
}

static void
http_breaker_open(struct http_pool *pool, const struct http_response *resp)
{
	struct timeval	 tv;

	if (pool->breaker == HTTP_BREAKER_CLOSED) {
		pool->since_mono = time_mono_ms();
		pool->stats.breaker_since_ms = time_now_ms();
		pool->stats.breaker_opens++;
		pool->probe_ms = HTTP_BREAKER_PROBE_MS;
	} else if ((pool->probe_ms *= 2) > HTTP_BREAKER_PROBE_MAX_MS)
		pool->probe_ms = HTTP_BREAKER_PROBE_MAX_MS;
	pool->breaker = pool->stats.breaker = HTTP_BREAKER_OPEN;
	log_limited(&pool->breaker_log, HTTP_BREAKER_LOG_S, LOG_WARNING, NULL,
	    "http: endpoint %s unreachable for %llu s (%s): %llu requests "
	    "wait without spending attempts; probing", pool->name,
	    (unsigned long long)((time_mono_ms() - pool->since_mono) / 1000),
	    resp->error_text, (unsigned long long)(pool->stats.queued +
	    pool->stats.backoff + pool->stats.inflight));
	tv.tv_sec = (time_t)(pool->probe_ms / 1000);
	tv.tv_usec = (suseconds_t)((pool->probe_ms % 1000) * 1000);
	evtimer_add(pool->probe_ev, &tv);
}

static void
http_breaker_close(struct http_pool *pool)
{
	pool->unreachable = 0;
	if (pool->breaker == HTTP_BREAKER_CLOSED)
		return;
	evtimer_del(pool->probe_ev);
	pool->breaker = pool->stats.breaker = HTTP_BREAKER_CLOSED;
	pool->stats.breaker_since_ms = time_now_ms();
	/* Not limited: at most one per opening, which is. */
	log_info("http: endpoint %s answers again after %llu s; %llu waiting "
	    "requests go", pool->name,
	    (unsigned long long)((time_mono_ms() - pool->since_mono) / 1000),
	    (unsigned long long)(pool->stats.queued + pool->stats.backoff));
	http_kick(pool->engine);
}

/* What one attempt says of its endpoint. */
static void
http_breaker_note(struct http_request *req, const struct http_response *resp)
{
	struct http_pool	*pool = req->pool;

	if (req->probe) {
		req->probe = 0;
		pool->probing = 0;
	}
	if (resp->status != 0) {
		/* Any answer, even a 503: the endpoint is there. */
		http_breaker_close(pool);
		return;
	}
	if (!http_error_unreachable(resp->error))
		return;
	pool->unreachable++;
	if (pool->breaker == HTTP_BREAKER_HALF_OPEN ||
	    (pool->breaker == HTTP_BREAKER_CLOSED &&
	    pool->unreachable >= HTTP_BREAKER_FAILURES))
		http_breaker_open(pool, resp);
}

/*
 * The request a pool may start next from one of its FIFOs, or NULL: the
 * head while the breaker is closed, or the probe when it is half open;
 * else, or while a time window pauses the pool, only one-shot requests
 * (check-endpoint), which report an outage instead of waiting.
 */
static struct http_request *
http_breaker_pick(struct http_pool *pool, struct http_requests *q)
{
	struct http_request	*req;

	if (pool->window != 0 && (pool->breaker == HTTP_BREAKER_CLOSED ||
	    (pool->breaker == HTTP_BREAKER_HALF_OPEN && !pool->probing)))
		return (TAILQ_FIRST(q));
	TAILQ_FOREACH(req, q, entry) {
		if (http_request_attempts(req) == 1)
			return (req);
	}
	return (NULL);
}

/* Called with curl's verdict on one attempt. */
static void
http_attempt_end(struct http_request *req, CURLcode code)
{
	struct http_engine	*engine = req->engine;
	struct http_response	*resp = &req->resp;
	enum http_verdict	 verdict;
	struct timeval		 tv;
	uint64_t		 delay = 0, ra;
	long			 status = 0;
	int			 max_attempts, park, r;

	if (req->cancelled) {
		engine->ncancelled--;
		http_running_detach(req);
		http_request_free(req);
		http_kick(engine);
		return;
	}

	curl_easy_getinfo(req->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 0)
		resp->status = (int)status;
	resp->curl_code = (int)code;
	if (code != CURLE_OK) {
		if (req->abort_error != HTTP_ERR_NONE)
			resp->error = req->abort_error;
		else
			http_curl_error(code, &resp->error);
		if (req->abort_error == HTTP_ERR_TOO_LARGE)
			snprintf(resp->error_text, sizeof resp->error_text,
			    "response body larger than %zu bytes",
			    engine->opts.body_limit);
		else if (req->errbuf[0] != '\0')
			snprintf(resp->error_text, sizeof resp->error_text,
			    "%s", req->errbuf);
		else
			snprintf(resp->error_text, sizeof resp->error_text,
			    "%s", curl_easy_strerror(code));
	}
	http_stats_attempt(req, req->curl);
	http_aimd_note(req->pool, resp);
	http_running_detach(req);
	req->state = HTTP_STATE_PREPARE;	/* between attempts */
	http_breaker_note(req, resp);

	req->in_cb++;
	if (req->classify_cb != NULL)
		verdict = req->classify_cb(req, resp, req->arg);
	else
		verdict = http_classify_default(resp);
	max_attempts = http_request_attempts(req);
	/*
	 * An attempt lost to an outage waits for the endpoint, uncounted,
	 * but only if its request never left (no name, connection refused):
	 * one that may have been sent (a reset, a timeout, a lost answer)
	 * may have acted, and operations that tell "done by an earlier
	 * attempt" apart (op-restore's 409) need it counted.
	 */
	park = verdict == HTTP_RETRY && max_attempts > 1 &&
	    req->pool->breaker != HTTP_BREAKER_CLOSED &&
	    (resp->error == HTTP_ERR_CONNECT || resp->error == HTTP_ERR_DNS);
	if (verdict == HTTP_RETRY && !park && resp->attempts >= max_attempts)
		verdict = HTTP_FINAL;
	if (verdict == HTTP_RETRY && !req->cancelled && req->has_body &&
	    req->body_mem == NULL) {
		r = req->rewind_cb != NULL ? req->rewind_cb(req->body_arg) : -1;
		if (r != 0)
			verdict = HTTP_FINAL;
	}
	if (verdict != HTTP_RETRY)
		park = 0;
	if (park) {
		resp->attempts--;
		req->in_cb--;
		if (req->cancelled) {
			http_request_free(req);
			http_kick(engine);
			return;
		}
		req->pool->stats.parked++;
		req->state = HTTP_STATE_QUEUED;
		TAILQ_INSERT_HEAD(http_queue(req), req, entry);
		req->pool->stats.queued++;
		http_kick(engine);
		return;
	}
	if (verdict == HTTP_RETRY) {
		delay = http_backoff_ms(engine->opts.retry_base_ms,
		    engine->opts.retry_max_ms, resp->attempts - 1,
		    http_random(engine));
		ra = http_retry_after_ms(http_response_header(resp,
		    "Retry-After"));
		if (ra > delay)
			delay = ra;
	}
	if (req->attempt_cb != NULL && !req->cancelled)
		req->attempt_cb(req, resp, verdict, delay, req->arg);
	req->in_cb--;
	if (req->cancelled) {
		http_request_free(req);
		http_kick(engine);
		return;
	}

	if (verdict == HTTP_FINAL) {
		http_complete(req);
		http_kick(engine);
		return;
	}
	log_debug("http: %s %s %.*s: attempt %d: %s%s%d, retry in %llu ms",
	    req->pool->name, req->method, http_url_loglen(req->url), req->url,
	    resp->attempts, resp->error_text,
	    resp->error_text[0] != '\0' ? ", status " : "status ",
	    resp->status, (unsigned long long)delay);
	req->pool->stats.retries++;
	if (req->retry_ev == NULL &&
	    (req->retry_ev = evtimer_new(engine->base, http_retry_cb, req)) ==
	    NULL)
		fatalx("http: evtimer_new failed");
	req->state = HTTP_STATE_BACKOFF;
	TAILQ_INSERT_TAIL(&engine->backoff, req, entry);
	req->pool->stats.backoff++;
	tv.tv_sec = (time_t)(delay / 1000);
	tv.tv_usec = (suseconds_t)((delay % 1000) * 1000);
	evtimer_add(req->retry_ev, &tv);
	http_kick(engine);
}

static void
http_check_multi_info(struct http_engine *engine)
{
	struct http_request	*req;
	CURLMsg			*msg;
	CURLcode		 code;
	CURL			*c;
	char			*priv;
	int			 left;

	while ((msg = curl_multi_info_read(engine->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg is invalid once its handle is removed. */
		c = msg->easy_handle;
		code = msg->data.result;
		priv = NULL;
		curl_easy_getinfo(c, CURLINFO_PRIVATE, &priv);
		req = (struct http_request *)(void *)priv;
		if (req == NULL || req->curl != c)
			fatalx("http: finished transfer without a request");
		http_attempt_end(req, code);
	}
}

/* The scheduler: runs from its own event so no callback is synchronous. */

static void
http_kick(struct http_engine *engine)
{
	if (engine->sched_pending)
		return;
	engine->sched_pending = 1;
	event_active(engine->sched_ev, EV_TIMEOUT, 1);
}

static void
http_sched_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_engine	*engine = arg;

	engine->sched_pending = 0;
	http_schedule(engine);
}

/* The token bucket's burst for a rate: 10 ms worth, at least one. */
static void
http_pool_set_rps(struct http_pool *pool, double rps)
{
	pool->rps = rps;
	pool->burst = rps / 100 > 1 ? rps / 100 : 1;
	if (pool->tokens > pool->burst)
		pool->tokens = pool->burst;
	pool->stats.rate_limit = rps;
}

/*
 * AIMD on one ended attempt (see the top of the file). The achieved rate
 * is counted over whole seconds of attempts ended, whatever their answer.
 */
static void
http_aimd_note(struct http_pool *pool, const struct http_response *resp)
{
	uint64_t	 now = http_mono_us();
	double		 achieved, base, step;
	int		 throttled;

	if (now - pool->win_us >= 1000000) {
		pool->achieved = (double)pool->win_done * 1e6 /
		    (double)(now - pool->win_us);
		pool->win_us = now;
		pool->win_done = 0;
	}
	pool->win_done++;
	throttled = resp->status == 429 || resp->status == 503;
	if (throttled)
		pool->stats.throttled++;
	if (!pool->adaptive)
		return;
	if (throttled) {
		/* Answers in flight still reflect the rate before a cut. */
		if (now - pool->cut_us < 1000000)
			return;
		achieved = pool->achieved;
		if (achieved == 0 && now - pool->win_us >= 100000)
			achieved = (double)pool->win_done * 1e6 /
			    (double)(now - pool->win_us);
		base = pool->rps > 0 ? pool->rps : achieved;
		if (achieved > 0 && achieved < base)
			base = achieved;
		if (base < 2 * HTTP_AIMD_MIN_RPS)
			base = 2 * HTTP_AIMD_MIN_RPS;
		http_pool_set_rps(pool, base / 2);
		pool->cut_us = now;
		pool->grow_us = now;
		pool->stats.rate_cuts++;
		log_limited(&pool->rate_log, HTTP_BREAKER_LOG_S, LOG_WARNING,
		    NULL, "http: %s throttles "
		    "(HTTP %d): its rate limit is now %.1f requests/s",
		    pool->name, resp->status, pool->rps);
		return;
	}
	if (pool->rps <= 0 || resp->status < 200 || resp->status >= 500 ||
	    now - pool->cut_us < 1000000 || now - pool->grow_us < 1000000)
		return;
	pool->grow_us = now;
	/* Raise it only while it binds: an idle limit says nothing. */
	if (pool->achieved < pool->rps * 0.8)
		return;
	step = pool->rps / 20 > 1 ? pool->rps / 20 : 1;
	if (pool->rps_max > 0 && pool->rps + step >= pool->rps_max)
		http_pool_set_rps(pool, pool->rps_max);
	else if (pool->rps_max <= 0 && pool->rps + step >= 2 * pool->achieved &&
	    pool->rps > HTTP_AIMD_LIFT_RPS) {
		log_info("http: %s: no throttling at %.1f requests/s: its "
		    "rate limit is lifted", pool->name, pool->achieved);
		http_pool_set_rps(pool, 0);
	} else
		http_pool_set_rps(pool, pool->rps + step);
}

void
http_pool_set_window(struct http_pool *pool, double rate, const char *name)
{
	if (rate == pool->window && (name == NULL ? pool->window_name == NULL :
	    pool->window_name != NULL && strcmp(name, pool->window_name) == 0))
		return;
	if (rate == 0)
		log_info("http: %s: window %s: paused", pool->name, name);
	else if (rate > 0)
		log_info("http: %s: window %s: at most %.1f requests/s",
		    pool->name, name, rate);
	else if (pool->window >= 0)
		log_info("http: %s: %s%s%s", pool->name,
		    name != NULL ? "window " : "no window: full rate",
		    name != NULL ? name : "", name != NULL ? ": full rate" : "");
	pool->window = rate < 0 ? -1 : rate;
	free(pool->window_name);
	pool->window_name = name != NULL ? xstrdup(name) : NULL;
	pool->stats.window_rate = pool->window;
	pool->stats.window = pool->window_name;
	http_kick(pool->engine);
}

void
http_pool_set_adaptive(struct http_pool *pool, int on)
{
	pool->adaptive = on;
	if (!on)
		http_pool_set_rps(pool, pool->rps_max);
}

static void
http_rate_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_pool	*pool = arg;

	http_schedule(pool->engine);
}

/* Take a token from the pool's bucket, or arm its timer for the next one. */
static int
http_pool_token(struct http_pool *pool)
{
	struct timeval	 tv;
	uint64_t	 now, wait_us;
	double		 rps = pool->rps, burst = pool->burst;

	/* A time window's limit, when lower, is the limit. */
	if (pool->window > 0 && (rps <= 0 || pool->window < rps)) {
		rps = pool->window;
		burst = rps / 100 > 1 ? rps / 100 : 1;
	}
	if (rps <= 0)
		return (1);
	now = http_mono_us();
	pool->tokens += (double)(now - pool->tokens_us) * rps / 1e6;
	if (pool->tokens > burst)
		pool->tokens = burst;
	pool->tokens_us = now;
	if (pool->tokens >= 1) {
		pool->tokens -= 1;
		return (1);
	}
	if (!evtimer_pending(pool->rate_ev, NULL)) {
		wait_us = (uint64_t)ceil((1 - pool->tokens) * 1e6 / rps);
		if (wait_us < 1000)
			wait_us = 1000;
		tv.tv_sec = (time_t)(wait_us / 1000000);
		tv.tv_usec = (suseconds_t)(wait_us % 1000000);
		evtimer_add(pool->rate_ev, &tv);
	}
	return (0);
}

/* Start a request that http_schedule picked from pool's FIFO q. */
static void
http_schedule_one(struct http_pool *pool, struct http_requests *q,
    struct http_request *req)
{
	TAILQ_REMOVE(q, req, entry);
	pool->stats.queued--;
	if (pool->breaker == HTTP_BREAKER_HALF_OPEN && !pool->probing) {
		req->probe = 1;
		pool->probing = 1;
	}
	http_attempt_begin(req);
}

static void
http_schedule(struct http_engine *engine)
{
	struct http_request	*req, *next;
	struct http_pool	*pool;
	struct http_requests	*q;
	int			 progress, bg;

	/* Cancelled from inside curl: it can be removed from here. */
	for (req = TAILQ_FIRST(&engine->running);
	    req != NULL && engine->ncancelled > 0; req = next) {
		next = TAILQ_NEXT(req, entry);
		if (req->cancelled) {
			engine->ncancelled--;
			http_running_detach(req);
			http_request_free(req);
		}
	}

	/*
	 * One request per pool per pass, so that pools share fairly: every
	 * pool's foreground FIFO first; then the background FIFOs of the
	 * pools with no foreground request waiting.
	 */
	for (bg = 0; bg < 2; bg++) {
		do {
			progress = 0;
			TAILQ_FOREACH(pool, &engine->pools, entry) {
				if (engine->inflight >=
				    engine->opts.max_inflight)
					return;
				q = bg ? &pool->bgqueue : &pool->queue;
				if (bg && !TAILQ_EMPTY(&pool->queue))
					continue;
				if (pool->active >= pool->max_connections ||
				    (req = http_breaker_pick(pool, q)) == NULL)
					continue;
				if (!http_pool_token(pool))
					continue;
				http_schedule_one(pool, q, req);
				progress = 1;
			}
		} while (progress);
	}
}

/* Engine and pools. */

static void
http_multi_limits(struct http_engine *engine)
{
	struct http_pool	*pool;
	long			 sum = 0, max = engine->opts.max_inflight;

	TAILQ_FOREACH(pool, &engine->pools, entry)
		sum += pool->max_connections;
	if (sum > max)
		sum = max;
	if (sum < 1)
		sum = 1;
	/*
	 * Safety nets that never bind before the scheduler's caps; the cache
	 * keeps as many idle connections as the pools may use at once.
	 */
	curl_multi_setopt(engine->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max);
	curl_multi_setopt(engine->multi, CURLMOPT_MAX_HOST_CONNECTIONS, sum);
	curl_multi_setopt(engine->multi, CURLMOPT_MAXCONNECTS, sum);
}

struct http_engine *
http_engine_new(struct event_base *base, const struct http_engine_opts *opts)
{
	static int		 curl_ready;
	struct http_engine	*engine;
	struct http_engine_opts	 defaults;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			fatalx("http: curl_global_init failed");
		curl_ready = 1;
	}
	http_engine_opts_default(&defaults);
	engine = xcalloc(1, sizeof *engine);
	engine->base = base;
	engine->opts = opts != NULL ? *opts : defaults;
	if (engine->opts.max_inflight <= 0)
		engine->opts.max_inflight = defaults.max_inflight;
	if (engine->opts.max_attempts <= 0)
		engine->opts.max_attempts = defaults.max_attempts;
	if (engine->opts.body_limit == 0)
		engine->opts.body_limit = defaults.body_limit;
	if (engine->opts.retry_max_ms < engine->opts.retry_base_ms)
		engine->opts.retry_max_ms = engine->opts.retry_base_ms;
	engine->user_agent = xstrdup(engine->opts.user_agent != NULL ?
	    engine->opts.user_agent : PACKAGE_NAME "/" PACKAGE_VERSION);
	engine->opts.user_agent = engine->user_agent;
	TAILQ_INIT(&engine->pools);
	TAILQ_INIT(&engine->running);
	TAILQ_INIT(&engine->backoff);
	TAILQ_INIT(&engine->socks);
	engine->free_easy = xcalloc((size_t)engine->opts.max_inflight,
	    sizeof *engine->free_easy);
	if (getrandom(&engine->rng, sizeof engine->rng, GRND_NONBLOCK) !=
	    (ssize_t)sizeof engine->rng)
		engine->rng = http_mono_us() ^ ((uint64_t)getpid() << 32);
	if (engine->rng == 0)
		engine->rng = 0x9E3779B97F4A7C15ULL;

	if ((engine->multi = curl_multi_init()) == NULL)
		fatalx("http: curl_multi_init failed");
	engine->timer_ev = evtimer_new(base, http_timer_event_cb, engine);
	engine->sched_ev = event_new(base, -1, 0, http_sched_cb, engine);
	if (engine->timer_ev == NULL || engine->sched_ev == NULL)
		fatalx("http: event_new failed");
	curl_multi_setopt(engine->multi, CURLMOPT_SOCKETFUNCTION,
	    http_socket_cb);
	curl_multi_setopt(engine->multi, CURLMOPT_SOCKETDATA, engine);
	curl_multi_setopt(engine->multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
	curl_multi_setopt(engine->multi, CURLMOPT_TIMERDATA, engine);
	curl_multi_setopt(engine->multi, CURLMOPT_PIPELINING,
	    (long)CURLPIPE_NOTHING);
	http_multi_limits(engine);
	return (engine);
}

void
http_engine_free(struct http_engine *engine)
{
	struct http_pool	*pool;
	struct http_request	*req;
	struct http_sock	*sock;

	if (engine == NULL)
		return;
	while ((req = TAILQ_FIRST(&engine->running)) != NULL) {
		http_running_detach(req);
		http_request_free(req);
	}
	while ((req = TAILQ_FIRST(&engine->backoff)) != NULL) {
		TAILQ_REMOVE(&engine->backoff, req, entry);
		http_request_free(req);
	}
	while (engine->nfree > 0)
		curl_easy_cleanup(engine->free_easy[--engine->nfree]);
	/* This may still call http_socket_cb for cached connections. */
	curl_multi_cleanup(engine->multi);
	while ((sock = TAILQ_FIRST(&engine->socks)) != NULL) {
		TAILQ_REMOVE(&engine->socks, sock, entry);
		event_free(sock->ev);
		free(sock);
	}
	while ((pool = TAILQ_FIRST(&engine->pools)) != NULL) {
		TAILQ_REMOVE(&engine->pools, pool, entry);
		while ((req = TAILQ_FIRST(&pool->queue)) != NULL) {
			TAILQ_REMOVE(&pool->queue, req, entry);
			http_request_free(req);
		}
		while ((req = TAILQ_FIRST(&pool->bgqueue)) != NULL) {
			TAILQ_REMOVE(&pool->bgqueue, req, entry);
			http_request_free(req);
		}
		event_free(pool->rate_ev);
		event_free(pool->probe_ev);
		free(pool->window_name);
		free(pool->name);
		free(pool->ca_file);
		free(pool);
	}
	event_free(engine->timer_ev);
	event_free(engine->sched_ev);
	free(engine->free_easy);
	free(engine->user_agent);
	free(engine);
}

int
http_engine_inflight(const struct http_engine *engine)
{
	return (engine->inflight);
}

struct http_pool *
http_pool_new(struct http_engine *engine, const char *name,
    int max_connections, double max_rps, int tls_verify, const char *ca_file)
{
	struct http_pool	*pool;

	if (http_pool_find(engine, name) != NULL)
		fatalx("http: pool %s already exists", name);
	pool = xcalloc(1, sizeof *pool);
	pool->engine = engine;
	pool->name = xstrdup(name);
	pool->max_connections = max_connections > 0 ? max_connections :
	    HTTP_DEFAULT_CONNECTIONS;
	/* A burst of 10 ms worth: smooth, yet not one timer per request. */
	pool->rps_max = max_rps > 0 ? max_rps : 0;
	http_pool_set_rps(pool, pool->rps_max);
	pool->tokens = pool->burst;
	pool->win_us = http_mono_us();
	pool->window = -1;
	pool->stats.window_rate = -1;
	pool->tokens_us = http_mono_us();
	pool->tls_verify = tls_verify;
	pool->ca_file = ca_file != NULL ? xstrdup(ca_file) : NULL;
	TAILQ_INIT(&pool->queue);
	TAILQ_INIT(&pool->bgqueue);
	if ((pool->rate_ev = evtimer_new(engine->base, http_rate_cb, pool)) ==
	    NULL || (pool->probe_ev = evtimer_new(engine->base,
	    http_breaker_probe_cb, pool)) == NULL)
		fatalx("http: evtimer_new failed");
	TAILQ_INSERT_TAIL(&engine->pools, pool, entry);
	http_multi_limits(engine);
	if (!tls_verify)
		log_warnx("http: pool %s: TLS certificates are not verified",
		    name);
	return (pool);
}

struct http_pool *
http_pool_find(struct http_engine *engine, const char *name)
{
	struct http_pool	*pool;

	TAILQ_FOREACH(pool, &engine->pools, entry) {
		if (strcmp(pool->name, name) == 0)
			return (pool);
	}
	return (NULL);
}

const char *
http_pool_name(const struct http_pool *pool)
{
	return (pool->name);
}

struct http_pool *
http_pool_next(struct http_engine *engine, struct http_pool *prev)
{
	if (prev == NULL)
		return (TAILQ_FIRST(&engine->pools));
	return (TAILQ_NEXT(prev, entry));
}

const struct http_pool_stats *
http_pool_stats(struct http_pool *pool)
{
	struct http_pool_stats	*st = &pool->stats;

	st->waiting = pool->breaker == HTTP_BREAKER_CLOSED ? 0 :
	    st->queued + st->backoff;
	return (st);
}

/* Requests. */

struct http_request *
http_request_new(struct http_pool *pool, const char *method, const char *url)
{
	struct http_request	*req;

	req = xcalloc(1, sizeof *req);
	req->engine = pool->engine;
	req->pool = pool;
	req->state = HTTP_STATE_NEW;
	req->method = xstrdup(method);
	req->midx = http_method_index(method);
	req->url = xstrdup(url);
	buf_init(&req->resp.body);
	/* S3 wants a Content-Length on these even when there is no body. */
	if (req->midx == HTTP_METHOD_PUT || req->midx == HTTP_METHOD_POST)
		req->has_body = 1;
	return (req);
}

int
http_request_header(struct http_request *req, const char *name,
    const char *value)
{
	size_t	 i;

	if (*name == '\0' || strpbrk(name, ":\r\n \t") != NULL)
		return (-1);
	if (value != NULL && strpbrk(value, "\r\n") != NULL)
		return (-1);
	for (i = 0; i < req->nhdrs; i++) {
		if (strcasecmp(req->hdrs[i].name, name) == 0)
			break;
	}
	if (i < req->nhdrs) {
		free(req->hdrs[i].value);
		if (value != NULL) {
			req->hdrs[i].value = xstrdup(value);
			return (0);
		}
		free(req->hdrs[i].name);
		memmove(&req->hdrs[i], &req->hdrs[i + 1],
		    (req->nhdrs - i - 1) * sizeof *req->hdrs);
		req->nhdrs--;
		return (0);
	}
	if (value == NULL)
		return (0);
	req->hdrs = xreallocarray(req->hdrs, req->nhdrs + 1, sizeof *req->hdrs);
	req->hdrs[req->nhdrs].name = xstrdup(name);
	req->hdrs[req->nhdrs].value = xstrdup(value);
	req->nhdrs++;
	return (0);
}

void
http_request_body_mem(struct http_request *req, const void *data, size_t len)
{
	free(req->body_mem);
	/* One spare byte so an empty body is still "in memory". */
	req->body_mem = xmalloc(len + 1);
	if (len != 0)
		memcpy(req->body_mem, data, len);
	req->body_len = len;
	req->read_cb = NULL;
	req->rewind_cb = NULL;
	req->has_body = 1;
}

void
http_request_body_cb(struct http_request *req, uint64_t len,
    http_read_cb read_cb, http_rewind_cb rewind_cb, void *arg)
{
	free(req->body_mem);
	req->body_mem = NULL;
	req->body_len = len;
	req->read_cb = read_cb;
	req->rewind_cb = rewind_cb;
	req->body_arg = arg;
	req->has_body = 1;
}

void
http_request_sink_cb(struct http_request *req, http_write_cb cb, void *arg)
{
	req->sink_cb = cb;
	req->sink_arg = arg;
}

void
http_request_set_cbs(struct http_request *req, http_prepare_cb prepare_cb,
    http_classify_cb classify_cb, http_done_cb done_cb, void *arg)
{
	req->prepare_cb = prepare_cb;
	req->classify_cb = classify_cb;
	req->done_cb = done_cb;
	req->arg = arg;
}

void
http_request_set_attempt_cb(struct http_request *req, http_attempt_cb cb)
{
	req->attempt_cb = cb;
}

void
http_request_set_max_attempts(struct http_request *req, int n)
{
	req->max_attempts = n > 0 ? n : 0;
}

void
http_request_set_timeout(struct http_request *req, uint64_t ms)
{
	req->timeout_ms = ms;
}

void
http_request_set_background(struct http_request *req, int on)
{
	if (req->state != HTTP_STATE_NEW)
		fatalx("http: request class set after its start");
	req->background = on;
}

void
http_request_set_path_as_is(struct http_request *req, int on)
{
	req->path_as_is = on;
}

const char *
http_request_url(const struct http_request *req)
{
	return (req->url);
}

int
http_request_waiting(const struct http_request *req)
{
	return ((req->pool->breaker != HTTP_BREAKER_CLOSED ||
	    req->pool->window == 0) && (req->state == HTTP_STATE_QUEUED ||
	    req->state == HTTP_STATE_BACKOFF));
}

const char *
http_request_method(const struct http_request *req)
{
	return (req->method);
}

void
http_request_start(struct http_request *req)
{
	if (req->state != HTTP_STATE_NEW)
		fatalx("http: request started twice");
	if (req->has_body && req->body_mem == NULL && req->read_cb == NULL)
		http_request_body_mem(req, "", 0);
	req->start_ms = time_mono_ms();
	req->state = HTTP_STATE_QUEUED;
	TAILQ_INSERT_TAIL(http_queue(req), req, entry);
	req->pool->stats.queued++;
	http_kick(req->engine);
}

void
http_request_cancel(struct http_request *req)
{
	struct http_engine	*engine;

	if (req == NULL)
		return;
	engine = req->engine;
	if (req->in_cb) {
		/* Freed by whoever called the callback, once it returns. */
		req->cancelled = 1;
		return;
	}
	switch (req->state) {
	case HTTP_STATE_NEW:
		http_request_free(req);
		return;
	case HTTP_STATE_QUEUED:
		TAILQ_REMOVE(http_queue(req), req, entry);
		req->pool->stats.queued--;
		break;
	case HTTP_STATE_BACKOFF:
		evtimer_del(req->retry_ev);
		TAILQ_REMOVE(&engine->backoff, req, entry);
		req->pool->stats.backoff--;
		break;
	case HTTP_STATE_RUNNING:
		if (engine->in_curl) {
			/* curl's callbacks must not touch the multi handle. */
			if (!req->cancelled) {
				req->cancelled = 1;
				engine->ncancelled++;
			}
			http_kick(engine);
			return;
		}
		http_running_detach(req);
		break;
	case HTTP_STATE_PREPARE:
	case HTTP_STATE_DONE:
		/* Only reachable from a callback, handled above. */
		return;
	}
	http_request_free(req);
	http_kick(engine);
}
