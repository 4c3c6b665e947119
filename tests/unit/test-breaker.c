/*
 * Unit tests for the HTTP engine's circuit breaker (http.c,
 * docs/OUTAGES.md): an endpoint whose port refuses connections, then an
 * in-process evhttp server started on that same port, on the engine's
 * event_base. Every wait has a deadline; no check depends on timing.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "s3batchd.h"
#include "http.h"
#include "unit.h"

#define NREQ		8
#define DEADLINE_MS	20000

static struct event_base	*base;
static struct evhttp		*srv;
static int			 port;
static char			 url[64];

struct result {
	int			 done;
	int			 status;
	int			 attempts;
	enum http_error		 error;
};

static void
srv_ok_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer	*b = evbuffer_new();

	evbuffer_add_printf(b, "fine");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

/* Listen on port (0: any); returns the port. */
static int
srv_up(int want)
{
	struct evhttp_bound_socket	*h;
	struct sockaddr_in		 sin;
	socklen_t			 len = sizeof sin;

	if ((srv = evhttp_new(base)) == NULL)
		fatalx("evhttp_new");
	evhttp_set_gencb(srv, srv_ok_cb, NULL);
	if ((h = evhttp_bind_socket_with_handle(srv, "127.0.0.1",
	    (ev_uint16_t)want)) == NULL)
		fatalx("cannot listen on 127.0.0.1:%d", want);
	if (getsockname(evhttp_bound_socket_get_fd(h),
	    (struct sockaddr *)&sin, &len) != 0)
		fatal("getsockname");
	return (ntohs(sin.sin_port));
}

static void
srv_down(void)
{
	evhttp_free(srv);
	srv = NULL;
}

static void
t_done_cb(struct http_request *req, struct http_response *resp, void *arg)
{
	struct result	*r = arg;

	r->done++;
	r->status = resp->status;
	r->attempts = resp->attempts;
	r->error = resp->error;
}

static struct http_request *
t_get(struct http_pool *pool, struct result *r, int max_attempts)
{
	struct http_request	*req;

	memset(r, 0, sizeof *r);
	req = http_request_new(pool, "GET", url);
	http_request_set_cbs(req, NULL, NULL, t_done_cb, r);
	if (max_attempts != 0)
		http_request_set_max_attempts(req, max_attempts);
	http_request_start(req);
	return (req);
}

static void
run_for(uint64_t ms)
{
	struct timeval	 tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static int
count_done(struct result *r, int n)
{
	int	 i, d = 0;

	for (i = 0; i < n; i++)
		d += r[i].done;
	return (d);
}

/* Run the loop until cond holds or the deadline passes; cond's value. */
#define RUN_UNTIL(cond) do {						\
	uint64_t unit_t0 = time_mono_ms();				\
	while (!(cond) && time_mono_ms() - unit_t0 < DEADLINE_MS)	\
		run_for(20);						\
} while (0)

int
main(void)
{
	struct http_engine_opts		 o;
	struct http_engine		*engine;
	struct http_pool		*pool;
	struct http_request		*req[NREQ], *lone;
	const struct http_pool_stats	*st;
	struct result			 r[NREQ], one, shot;
	int				 i;

	log_init(LOG_TO_STDERR, 0);
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	/* A port nobody listens on: connections are refused. */
	port = srv_up(0);
	srv_down();
	snprintf(url, sizeof url, "http://127.0.0.1:%d/ok", port);

	http_engine_opts_default(&o);
	o.retry_base_ms = 10;
	o.retry_max_ms = 50;
	o.max_attempts = 3;
	o.connect_timeout_ms = 2000;
	engine = http_engine_new(base, &o);
	pool = http_pool_new(engine, "down", 4, 0, 1, NULL);
	st = http_pool_stats(pool);
	CHECK_INT(st->breaker, HTTP_BREAKER_CLOSED);
	CHECK_STR(http_breaker_name(st->breaker), "closed");

	/*
	 * Down: without the breaker all eight would fail after three
	 * attempts each; with it they wait, none done, none past its cap.
	 */
	for (i = 0; i < NREQ; i++)
		req[i] = t_get(pool, &r[i], 0);
	RUN_UNTIL(http_pool_stats(pool)->breaker != HTTP_BREAKER_CLOSED &&
	    http_pool_stats(pool)->waiting + http_pool_stats(pool)->inflight
	    == NREQ);
	st = http_pool_stats(pool);
	CHECK_INT(count_done(r, NREQ), 0);
	CHECK(st->breaker != HTTP_BREAKER_CLOSED);
	CHECK_INT(st->breaker_opens, 1);
	CHECK(st->breaker_since_ms != 0);
	CHECK(st->parked >= 1);
	/* A probe may be in flight: every other request is waiting. */
	CHECK(st->waiting + st->inflight == NREQ);
	CHECK(st->errors[HTTP_ERR_CONNECT] >= 5);
	/* Probes go on with backoff and fail: still waiting. */
	run_for(1000);
	CHECK_INT(count_done(r, NREQ), 0);
	CHECK_INT(http_pool_stats(pool)->breaker_opens, 1);
	for (i = 0; i < NREQ; i++) {
		if (http_request_waiting(req[i]))
			break;
	}
	CHECK(i < NREQ);

	/* A one-shot request (check-endpoint) is not held: it fails now. */
	t_get(pool, &shot, 1);
	RUN_UNTIL(shot.done);
	CHECK_INT(shot.done, 1);
	CHECK_INT(shot.error, HTTP_ERR_CONNECT);
	CHECK_INT(shot.attempts, 1);

	/* Cancelling a waiting request: it leaves the count, no callback. */
	lone = t_get(pool, &one, 0);
	RUN_UNTIL(http_request_waiting(lone));
	CHECK(http_request_waiting(lone));
	http_request_cancel(lone);
	run_for(50);
	CHECK_INT(one.done, 0);
	CHECK(http_pool_stats(pool)->waiting + http_pool_stats(pool)->inflight
	    == NREQ);

	/* Back: the next probe is answered, the breaker closes, all go. */
	CHECK_INT(srv_up(port), port);
	RUN_UNTIL(count_done(r, NREQ) == NREQ);
	st = http_pool_stats(pool);
	CHECK_INT(count_done(r, NREQ), NREQ);
	for (i = 0; i < NREQ; i++) {
		CHECK_INT(r[i].status, 200);
		/* Attempts lost to the outage did not count. */
		CHECK(r[i].attempts >= 1 && r[i].attempts <= o.max_attempts);
	}
	CHECK_INT(st->breaker, HTTP_BREAKER_CLOSED);
	CHECK_INT(st->waiting, 0);
	CHECK_INT(st->breaker_opens, 1);

	/* Closed again: a refusal or two is retried as before, not held. */
	srv_down();
	t_get(pool, &one, 2);
	RUN_UNTIL(one.done);
	CHECK_INT(one.done, 1);
	CHECK_INT(one.attempts, 2);
	CHECK_INT(one.error, HTTP_ERR_CONNECT);
	CHECK_INT(http_pool_stats(pool)->breaker, HTTP_BREAKER_CLOSED);

	http_engine_free(engine);
	event_base_free(base);
	curl_global_cleanup();
	return (unit_done("test-breaker"));
}
