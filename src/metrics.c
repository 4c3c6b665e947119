/*
 * Prometheus metrics (DESIGN.md §10): jobs by state, tasks by result, HTTP
 * requests per endpoint by method and status class, retries, errors by
 * kind, latency histograms, bytes, requests in flight and queued, the
 * bulk thread's queue. Served on metrics_listen (host:port), GET /metrics
 * only. Everything is read at scrape time from counters the subsystems
 * keep anyway.
 *
 * The HTTP is this file's own, one request per connection: libevent's
 * evhttp (2.1) can neither cap its connections nor pause on EMFILE, and
 * the listener is as open to local users as the control socket. So:
 * at most metrics_max_connections at once (more get 503), a request head
 * of METRICS_MAX_HEAD bytes, metrics_timeout to send it and to read the
 * answer, and the control socket's pausing listener.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "s3batchd.h"
#include "cfg.h"
#include "control.h"
#include "http.h"
#include "job.h"
#include "metrics.h"
#include "s3.h"
#include "sched.h"
#include "server.h"
#include "store.h"
#include "bulk.h"

#define METRICS_MAX_HEAD	8192	/* request line and headers */
#define METRICS_LOG_EVERY	10	/* seconds between like warnings */

struct metrics_conn {
	struct metrics		*m;
	struct bufferevent	*bev;
	int			 closing;	/* answered: close once sent */
	struct metrics_conn	*next;
	struct metrics_conn	*prev;
};

struct metrics {
	struct server		*srv;
	struct ctl_listen	*listener;
	struct metrics_conn	*conns;
	int			 nconns;
	int			 max_conns;
	struct timeval		 timeout;
	struct log_limit	 refuse_ll;
};

static void
metrics_help(struct buf *b, const char *name, const char *type,
    const char *help)
{
	buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void	metrics_rate(struct buf *, struct server *);

static void
metrics_http(struct buf *b, struct server *srv)
{
	const struct http_pool_stats	*st;
	const char			*name;
	uint64_t			 cum;
	size_t				 i;
	int				 m, c, e;

	metrics_help(b, "s3batchd_http_requests_total", "counter",
	    "HTTP attempts by endpoint, method and status class.");
	for (i = 0; (st = s3_endpoint_stats(srv->s3, i, &name)) != NULL; i++)
		for (m = 0; m < HTTP_METHOD_COUNT; m++)
			for (c = 0; c < HTTP_CLASS_COUNT; c++) {
				if (st->requests[m][c] == 0)
					continue;
				buf_addf(b, "s3batchd_http_requests_total{"
				    "endpoint=\"%s\",method=\"%s\",status="
				    "\"%s\"} %llu\n", name,
				    http_method_name((enum http_method)m),
				    http_class_name(c),
				    (unsigned long long)st->requests[m][c]);
			}
	metrics_help(b, "s3batchd_http_retries_total", "counter",
	    "HTTP attempts after a first one.");
	for (i = 0; (st = s3_endpoint_stats(srv->s3, i, &name)) != NULL; i++)
		buf_addf(b, "s3batchd_http_retries_total{endpoint=\"%s\"} "
		    "%llu\n", name, (unsigned long long)st->retries);
	metrics_help(b, "s3batchd_http_errors_total", "counter",
	    "Transfers that failed without an HTTP answer, by kind.");
	for (i = 0; (st = s3_endpoint_stats(srv->s3, i, &name)) != NULL; i++)
		for (e = 1; e < HTTP_ERR_COUNT; e++)
			buf_addf(b, "s3batchd_http_errors_total{endpoint=\"%s\","
			    "kind=\"%s\"} %llu\n", name,
			    http_error_name((enum http_error)e),
			    (unsigned long long)st->errors[e]);
	metrics_help(b, "s3batchd_http_connections_total", "counter",
	    "New connections opened.");
	for (i = 0; (st = s3_endpoint_stats(srv->s3, i, &name)) != NULL; i++)
		buf_addf(b, "s3batchd_http_connections_total{endpoint=\"%s\"} "
		    "%llu\n", name, (unsigned long long)st->connects);
	metrics_help(b, "s3batchd_http_bytes_total", "counter",
	    "Body bytes sent and received.");
	for (i = 0; (st = s3_endpoint_stats(srv->s3, i, &name)) != NULL; i++) {
		buf_addf(b, "s3batchd_http_bytes_total{endpoint=\"%s\","
		    "direction=\"up\"} %llu\n", name,
		    (unsigned long long)st->bytes_up);
		buf_addf(b, "s3batchd_http_bytes_total{endpoint=\"%s\","
		    "direction=\"down\"} %llu\n", name,
		    (unsigned long long)st->bytes_down);
	}
	metrics_help(b, "s3batchd_http_inflight", "gauge",
	    "HTTP requests in flight, queued for a connection or rate token, "
	    "and waiting to retry.");
	for (i = 0; (st = s3_endpoint_stats(srv->s3, i, &name)) != NULL; i++) {
		buf_addf(b, "s3batchd_http_inflight{endpoint=\"%s\",state="
		    "\"running\"} %llu\n", name,
		    (unsigned long long)st->inflight);
		buf_addf(b, "s3batchd_http_inflight{endpoint=\"%s\",state="
		    "\"queued\"} %llu\n", name, (unsigned long long)st->queued);
		buf_addf(b, "s3batchd_http_inflight{endpoint=\"%s\",state="
		    "\"backoff\"} %llu\n", name,
		    (unsigned long long)st->backoff);
	}
	metrics_help(b, "s3batchd_http_request_duration_seconds", "histogram",
	    "HTTP attempt latency.");
	for (i = 0; (st = s3_endpoint_stats(srv->s3, i, &name)) != NULL; i++) {
		cum = 0;
		for (e = 0; e < HTTP_LATENCY_BUCKETS; e++) {
			cum += st->latency[e];
			buf_addf(b, "s3batchd_http_request_duration_seconds_bucket"
			    "{endpoint=\"%s\",le=\"%g\"} %llu\n", name,
			    http_latency_bounds[e], (unsigned long long)cum);
		}
		cum += st->latency[HTTP_LATENCY_BUCKETS];
		buf_addf(b, "s3batchd_http_request_duration_seconds_bucket{"
		    "endpoint=\"%s\",le=\"+Inf\"} %llu\n", name,
		    (unsigned long long)cum);
		buf_addf(b, "s3batchd_http_request_duration_seconds_sum{"
		    "endpoint=\"%s\"} %.6f\n", name, st->latency_sum);
		buf_addf(b, "s3batchd_http_request_duration_seconds_count{"
		    "endpoint=\"%s\"} %llu\n", name,
		    (unsigned long long)st->latency_count);
	}
	metrics_rate(b, srv);
}

/*
 * The rate each endpoint is held to now (docs/HTTP.md): its adaptive
 * limit (0: none), the throttling answers and halvings that set it, and
 * its time window (paused, or the window's limit; 0: none).
 */
static void
metrics_rate(struct buf *b, struct server *srv)
{
	const struct http_pool_stats	*st;
	const char			*name;
	size_t				 i;

	metrics_help(b, "s3batchd_endpoint_rate_limit", "gauge",
	    "Requests a second the endpoint is held to now by its adaptive "
	    "rate or max_requests_per_second; 0: no limit.");
	for (i = 0; (st = s3_endpoint_stats(srv->s3, i, &name)) != NULL; i++)
		buf_addf(b, "s3batchd_endpoint_rate_limit{endpoint=\"%s\"} "
		    "%g\n", name, st->rate_limit > 0 ? st->rate_limit : 0);
	metrics_help(b, "s3batchd_endpoint_throttled_total", "counter",
	    "Answers 429 or 503 (SlowDown) from the endpoint.");
	for (i = 0; (st = s3_endpoint_stats(srv->s3, i, &name)) != NULL; i++)
		buf_addf(b, "s3batchd_endpoint_throttled_total{endpoint=\"%s\"} "
		    "%llu\n", name, (unsigned long long)st->throttled);
	metrics_help(b, "s3batchd_endpoint_rate_cuts_total", "counter",
	    "Halvings of the endpoint's adaptive rate limit.");
	for (i = 0; (st = s3_endpoint_stats(srv->s3, i, &name)) != NULL; i++)
		buf_addf(b, "s3batchd_endpoint_rate_cuts_total{endpoint=\"%s\"} "
		    "%llu\n", name, (unsigned long long)st->rate_cuts);
	metrics_help(b, "s3batchd_endpoint_window_paused", "gauge",
	    "1 while a time window pauses the endpoint.");
	for (i = 0; (st = s3_endpoint_stats(srv->s3, i, &name)) != NULL; i++)
		buf_addf(b, "s3batchd_endpoint_window_paused{endpoint=\"%s\"} "
		    "%d\n", name, st->window != NULL && st->window_rate == 0);
	metrics_help(b, "s3batchd_endpoint_window_rate_limit", "gauge",
	    "Requests a second the endpoint's time window allows; 0: no "
	    "limit from a window (see window_paused).");
	for (i = 0; (st = s3_endpoint_stats(srv->s3, i, &name)) != NULL; i++)
		buf_addf(b, "s3batchd_endpoint_window_rate_limit{endpoint="
		    "\"%s\"} %g\n", name, st->window != NULL &&
		    st->window_rate > 0 ? st->window_rate : 0);
}

/* Outages and a full disk (docs/OUTAGES.md): what waits, and why. */
static void
metrics_outages(struct buf *b, struct server *srv,
    const struct sched_stats *ss)
{
	static const char *const	 states[] = {
		"closed", "open", "half-open"
	};
	struct s3_endpoint_state	 es;
	size_t				 i, k;

	metrics_help(b, "s3batchd_tasks_waiting", "gauge",
	    "Tasks in flight held by an endpoint's open circuit breaker.");
	buf_addf(b, "s3batchd_tasks_waiting %llu\n",
	    (unsigned long long)ss->tasks_waiting);
	metrics_help(b, "s3batchd_tasks_requeued_total", "counter",
	    "Tasks that could not reach their endpoint and went back to "
	    "pending without a verdict.");
	buf_addf(b, "s3batchd_tasks_requeued_total %llu\n",
	    (unsigned long long)ss->tasks_requeued);
	metrics_help(b, "s3batchd_commit_failing", "gauge",
	    "1 while group commits fail (a full disk): no task starts.");
	buf_addf(b, "s3batchd_commit_failing %d\n", ss->commit_failing != 0);
	metrics_help(b, "s3batchd_results_buffered", "gauge",
	    "Task results waiting for a group commit.");
	buf_addf(b, "s3batchd_results_buffered %llu\n",
	    (unsigned long long)ss->results_buffered);

	metrics_help(b, "s3batchd_endpoint_breaker_state", "gauge",
	    "1 for the state each endpoint's circuit breaker is in.");
	for (i = 0; s3_endpoint_state(srv->s3, i, &es) == 0; i++)
		for (k = 0; k < nitems(states); k++)
			buf_addf(b, "s3batchd_endpoint_breaker_state{endpoint="
			    "\"%s\",state=\"%s\"} %d\n", es.name, states[k],
			    strcmp(es.breaker, states[k]) == 0);
	metrics_help(b, "s3batchd_endpoint_calls_waiting", "gauge",
	    "S3 calls held while the endpoint's breaker is not closed.");
	for (i = 0; s3_endpoint_state(srv->s3, i, &es) == 0; i++)
		buf_addf(b, "s3batchd_endpoint_calls_waiting{endpoint=\"%s\"} "
		    "%llu\n", es.name, (unsigned long long)es.waiting);
	metrics_help(b, "s3batchd_endpoint_breaker_opens_total", "counter",
	    "Times the endpoint's circuit breaker opened.");
	for (i = 0; s3_endpoint_state(srv->s3, i, &es) == 0; i++)
		buf_addf(b, "s3batchd_endpoint_breaker_opens_total{endpoint="
		    "\"%s\"} %llu\n", es.name, (unsigned long long)es.opens);
	metrics_help(b, "s3batchd_endpoint_attempts_parked_total", "counter",
	    "Attempts that met an outage and were held, not counted.");
	for (i = 0; s3_endpoint_state(srv->s3, i, &es) == 0; i++)
		buf_addf(b, "s3batchd_endpoint_attempts_parked_total{endpoint="
		    "\"%s\"} %llu\n", es.name, (unsigned long long)es.parked);
}

/* A label value: bucket names may hold what the format escapes. */
static void
metrics_label(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			buf_addf(b, "\\%c", *s);
		else if (*s == '\n')
			buf_adds(b, "\\n");
		else
			buf_addf(b, "%c", *s);
	}
}

/* One metric family's lines for every configuration. */
struct metrics_inv {
	struct buf	*b;
	const char	*name;
	const char	*outcome;	/* a second label, or NULL */
	int		 field;
};

enum {
	METRICS_INV_SUCCEEDED,
	METRICS_INV_FAILED,
	METRICS_INV_RUNNING,
	METRICS_INV_OBJECTS,
	METRICS_INV_ROWS,
	METRICS_INV_LAST_DURATION,
	METRICS_INV_LAST_SUCCESS
};

static int
metrics_inv_cb(const struct store_inv_stats *is, void *arg)
{
	struct metrics_inv	*mi = arg;
	int64_t			 v = 0;

	switch (mi->field) {
	case METRICS_INV_SUCCEEDED:
		v = is->succeeded;
		break;
	case METRICS_INV_FAILED:
		v = is->failed;
		break;
	case METRICS_INV_RUNNING:
		v = is->running;
		break;
	case METRICS_INV_OBJECTS:
		v = is->objects;
		break;
	case METRICS_INV_ROWS:
		v = is->rows;
		break;
	}
	buf_addf(mi->b, "%s{bucket=\"", mi->name);
	metrics_label(mi->b, is->bucket);
	buf_adds(mi->b, "\",id=\"");
	metrics_label(mi->b, is->id);
	buf_adds(mi->b, "\"");
	if (mi->outcome != NULL)
		buf_addf(mi->b, ",outcome=\"%s\"", mi->outcome);
	if (mi->field == METRICS_INV_LAST_DURATION)
		buf_addf(mi->b, "} %.3f\n", (double)is->last_duration_ms / 1000);
	else if (mi->field == METRICS_INV_LAST_SUCCESS)
		buf_addf(mi->b, "} %lld\n",
		    (long long)(is->last_success_ms / 1000));
	else
		buf_addf(mi->b, "} %lld\n", (long long)v);
	return (0);
}

/*
 * Per inventory configuration, from the stored runs (so they survive a
 * restart): runs by outcome, objects listed, rows written, the newest
 * ended run's duration and the time of the last successful report (0:
 * never), for alerting on a stale inventory.
 */
static void
metrics_inventory(struct buf *b, struct server *srv)
{
	static const struct {
		const char	*name;
		const char	*type;
		const char	*help;
		const char	*outcome;
		int		 field;
	} families[] = {
		{ "s3batchd_inventory_runs_total", "counter",
		  "Inventory runs ended, by outcome.", "succeeded",
		  METRICS_INV_SUCCEEDED },
		{ "s3batchd_inventory_runs_total", NULL, NULL, "failed",
		  METRICS_INV_FAILED },
		{ "s3batchd_inventory_running", "gauge",
		  "Inventory runs under way.", NULL, METRICS_INV_RUNNING },
		{ "s3batchd_inventory_objects_listed_total", "counter",
		  "Objects (or versions) listed by inventory runs.", NULL,
		  METRICS_INV_OBJECTS },
		{ "s3batchd_inventory_rows_written_total", "counter",
		  "Rows written to inventory reports.", NULL,
		  METRICS_INV_ROWS },
		{ "s3batchd_inventory_last_duration_seconds", "gauge",
		  "Duration of the newest ended inventory run.", NULL,
		  METRICS_INV_LAST_DURATION },
		{ "s3batchd_inventory_last_success_timestamp_seconds", "gauge",
		  "When the last successful inventory report was written "
		  "(0: never).", NULL, METRICS_INV_LAST_SUCCESS },
	};
	struct metrics_inv	 mi;
	char			*cause = NULL;
	size_t			 i;

	for (i = 0; i < nitems(families); i++) {
		if (families[i].type != NULL)
			metrics_help(b, families[i].name, families[i].type,
			    families[i].help);
		mi.b = b;
		mi.name = families[i].name;
		mi.outcome = families[i].outcome;
		mi.field = families[i].field;
		if (store_inv_stats(srv->store, metrics_inv_cb, &mi,
		    &cause) != 0) {
			free(cause);
			return;
		}
	}
}

void
metrics_render(struct server *srv, struct buf *b)
{
	struct sched_stats	 ss;
	uint64_t		 counts[JOB_NSTATUS];
	char			*cause = NULL;
	int			 i;

	metrics_help(b, "s3batchd_build_info", "gauge", "The running version.");
	buf_addf(b, "s3batchd_build_info{version=\"%s\"} 1\n", VERSION);
	metrics_help(b, "s3batchd_uptime_seconds", "gauge",
	    "Seconds since the daemon started.");
	buf_addf(b, "s3batchd_uptime_seconds %llu\n",
	    (unsigned long long)((time_now_ms() - srv->started_ms) / 1000));
	if (store_job_counts(srv->store, counts, &cause) == 0) {
		metrics_help(b, "s3batchd_jobs", "gauge", "Jobs by state.");
		for (i = 0; i < JOB_NSTATUS; i++)
			buf_addf(b, "s3batchd_jobs{status=\"%s\"} %llu\n",
			    job_status_name((enum job_status)i),
			    (unsigned long long)counts[i]);
	} else
		free(cause);
	sched_stats(srv->sched, &ss);
	metrics_help(b, "s3batchd_tasks_total", "counter",
	    "Tasks finished since start, by result.");
	buf_addf(b, "s3batchd_tasks_total{result=\"succeeded\"} %llu\n",
	    (unsigned long long)ss.tasks_succeeded);
	buf_addf(b, "s3batchd_tasks_total{result=\"failed\"} %llu\n",
	    (unsigned long long)ss.tasks_failed);
	metrics_help(b, "s3batchd_tasks_started_total", "counter",
	    "Tasks started since start (a task may start again after a "
	    "restart).");
	buf_addf(b, "s3batchd_tasks_started_total %llu\n",
	    (unsigned long long)ss.tasks_started);
	metrics_help(b, "s3batchd_tasks_inflight", "gauge",
	    "Tasks being run now.");
	buf_addf(b, "s3batchd_tasks_inflight %llu\n",
	    (unsigned long long)ss.inflight);
	metrics_help(b, "s3batchd_jobs_running", "gauge",
	    "Jobs the scheduler is running.");
	buf_addf(b, "s3batchd_jobs_running %llu\n", (unsigned long long)ss.jobs);
	metrics_help(b, "s3batchd_store_commits_total", "counter",
	    "Group commits of task results.");
	buf_addf(b, "s3batchd_store_commits_total %llu\n",
	    (unsigned long long)ss.commits);
	metrics_help(b, "s3batchd_jobs_held_by_window", "gauge",
	    "Running jobs whose time window (tag s3batchd:window) holds them.");
	buf_addf(b, "s3batchd_jobs_held_by_window %llu\n",
	    (unsigned long long)ss.jobs_held_by_window);
	metrics_help(b, "s3batchd_worker_queue", "gauge",
	    "Bulk thread items queued or running (preparing, cloning, "
	    "purging, reports).");
	buf_addf(b, "s3batchd_worker_queue %u\n", bulk_pending(srv->bulk));
	metrics_outages(b, srv, &ss);
	metrics_http(b, srv);
	metrics_inventory(b, srv);
}

static void
metrics_conn_free(struct metrics_conn *c)
{
	struct metrics	*m = c->m;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		m->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	m->nconns--;
	bufferevent_free(c->bev);
	free(c);
}

/* The whole answer, then close: one request per connection. */
static void
metrics_answer(struct metrics_conn *c, const char *status, const char *type,
    const char *extra, const void *body, size_t len)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	evbuffer_add_printf(out, "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n%sConnection: close\r\n\r\n", status,
	    type, len, extra);
	evbuffer_add(out, body, len);
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
}

static void
metrics_error(struct metrics_conn *c, const char *status, const char *extra)
{
	char	body[128];

	snprintf(body, sizeof body, "%s\n", status);
	metrics_answer(c, status, "text/plain; charset=utf-8", extra, body,
	    strlen(body));
}

static void
metrics_read_cb(struct bufferevent *bev, void *arg)
{
	struct metrics_conn	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 end;
	struct buf		 b;
	char			 line[METRICS_MAX_HEAD + 1], *sp, *target, *q;
	size_t			 n;

	if (c->closing)
		return;
	end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (end.pos == -1)
		end = evbuffer_search(in, "\n\n", 2, NULL);
	if (end.pos == -1) {
		if (evbuffer_get_length(in) > METRICS_MAX_HEAD)
			metrics_error(c, "431 Request Header Fields Too Large",
			    "");
		return;
	}
	if ((size_t)end.pos > METRICS_MAX_HEAD) {
		metrics_error(c, "431 Request Header Fields Too Large", "");
		return;
	}
	/* The request line: METHOD SP TARGET SP VERSION. */
	n = evbuffer_copyout(in, line, (size_t)end.pos);
	line[n] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if ((sp = strchr(line, ' ')) == NULL) {
		metrics_error(c, "400 Bad Request", "");
		return;
	}
	*sp = '\0';
	target = sp + 1;
	if ((sp = strchr(target, ' ')) == NULL ||
	    strncmp(sp + 1, "HTTP/1.", 7) != 0) {
		metrics_error(c, "400 Bad Request", "");
		return;
	}
	*sp = '\0';
	if ((q = strchr(target, '?')) != NULL)
		*q = '\0';
	if (strcmp(line, "GET") != 0) {
		metrics_error(c, "405 Method Not Allowed", "Allow: GET\r\n");
		return;
	}
	if (strcmp(target, "/metrics") != 0) {
		metrics_error(c, "404 Not Found", "");
		return;
	}
	buf_init(&b);
	metrics_render(c->m->srv, &b);
	metrics_answer(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8",
	    "", b.data, b.len);
	buf_free(&b);
}

static void
metrics_write_cb(struct bufferevent *bev, void *arg)
{
	struct metrics_conn	*c = arg;

	if (c->closing &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		metrics_conn_free(c);
}

static void
metrics_event_cb(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF|BEV_EVENT_ERROR|BEV_EVENT_TIMEOUT))
		metrics_conn_free(arg);
}

static void
metrics_accept_cb(int fd, void *arg)
{
	struct metrics		*m = arg;
	struct metrics_conn	*c;
	static const char	 busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n";

	if (m->nconns >= m->max_conns) {
		log_limited(&m->refuse_ll, METRICS_LOG_EVERY, LOG_WARNING, NULL,
		    "metrics: %d connections open; refusing more", m->nconns);
		if (send(fd, busy, sizeof busy - 1, MSG_DONTWAIT|
		    MSG_NOSIGNAL) == -1)
			log_debug("metrics: send: %s", strerror(errno));
		close(fd);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	c = xcalloc(1, sizeof *c);
	c->m = m;
	if ((c->bev = bufferevent_socket_new(m->srv->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatalx("metrics: bufferevent_socket_new");
	bufferevent_setcb(c->bev, metrics_read_cb, metrics_write_cb,
	    metrics_event_cb, c);
	bufferevent_set_timeouts(c->bev, &m->timeout, &m->timeout);
	/* Read no more than a request head (and a little) ever holds. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, METRICS_MAX_HEAD + 4);
	bufferevent_enable(c->bev, EV_READ|EV_WRITE);
	c->next = m->conns;
	if (m->conns != NULL)
		m->conns->prev = c;
	m->conns = c;
	m->nconns++;
}

/* The first address of host:port that binds. */
static int
metrics_bind(const char *host, const char *port, char **cause)
{
	struct addrinfo	 hints, *res, *ai;
	int		 fd = -1, on = 1, r, err = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE|AI_NUMERICSERV;
	if ((r = getaddrinfo(*host != '\0' ? host : NULL, port, &hints,
	    &res)) != 0) {
		xasprintf(cause, "%s", gai_strerror(r));
		return (-1);
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype|SOCK_CLOEXEC|
		    SOCK_NONBLOCK, ai->ai_protocol)) == -1) {
			err = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 64) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		xasprintf(cause, "%s", strerror(err));
	return (fd);
}

struct metrics *
metrics_new(struct server *srv, const char *listen, char **cause)
{
	struct metrics	*m;
	char		*host, *port, *err = NULL;
	long		 p;
	int		 fd;

	if (listen == NULL)
		return (NULL);
	host = xstrdup(listen);
	if ((port = strrchr(host, ':')) == NULL) {
		xasprintf(cause, "metrics_listen \"%s\" is not host:port",
		    listen);
		free(host);
		return (NULL);
	}
	*port++ = '\0';
	p = strtol(port, NULL, 10);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if (p <= 0 || p > 65535 || (fd = metrics_bind(host, port,
	    &err)) == -1) {
		xasprintf(cause, "metrics: cannot listen on %s%s%s", listen,
		    err != NULL ? ": " : "", err != NULL ? err : "");
		free(err);
		free(host);
		return (NULL);
	}
	free(host);
	m = xcalloc(1, sizeof *m);
	m->srv = srv;
	m->max_conns = srv->cfg->metrics_max_connections;
	m->timeout.tv_sec = (time_t)(srv->cfg->metrics_timeout_ms / 1000);
	m->timeout.tv_usec = (suseconds_t)
	    (srv->cfg->metrics_timeout_ms % 1000) * 1000;
	if ((m->listener = ctl_listen_new(srv->base, &srv->cfg, fd, "metrics",
	    metrics_accept_cb, m)) == NULL) {
		xasprintf(cause, "metrics: cannot listen on %s", listen);
		close(fd);
		free(m);
		return (NULL);
	}
	log_info("metrics: serving http://%s/metrics", listen);
	return (m);
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	while (m->conns != NULL)
		metrics_conn_free(m->conns);
	ctl_listen_free(m->listener);
	free(m);
}
