/*
 * Prometheus metrics (DESIGN.md §10): jobs by state, tasks by result, HTTP
 * requests per endpoint by method and status class, retries, errors by
 * kind, latency histograms, bytes, requests in flight and queued, the
 * bulk thread's queue. Served by libevent's evhttp on metrics_listen
 * (host:port), GET /metrics only. Everything is read at scrape time from
 * counters the subsystems keep anyway.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "s3batchd.h"
#include "cfg.h"
#include "http.h"
#include "job.h"
#include "metrics.h"
#include "s3.h"
#include "sched.h"
#include "server.h"
#include "store.h"
#include "bulk.h"

struct metrics {
	struct server		*srv;
	struct evhttp		*http;
};

static void
metrics_help(struct buf *b, const char *name, const char *type,
    const char *help)
{
	buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

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
	metrics_help(b, "s3batchd_worker_queue", "gauge",
	    "Bulk thread items queued or running (preparing, cloning, "
	    "purging, reports).");
	buf_addf(b, "s3batchd_worker_queue %u\n", bulk_pending(srv->bulk));
	metrics_http(b, srv);
}

static void
metrics_request_cb(struct evhttp_request *req, void *arg)
{
	struct metrics	*m = arg;
	struct evbuffer	*out;
	struct buf	 b;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET ||
	    strcmp(evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req)),
	    "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, "only GET /metrics");
		return;
	}
	buf_init(&b);
	metrics_render(m->srv, &b);
	out = evbuffer_new();
	evbuffer_add(out, b.data, b.len);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
	buf_free(&b);
}

struct metrics *
metrics_new(struct server *srv, const char *listen, char **cause)
{
	struct metrics	*m;
	char		*host, *port;
	long		 p;

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
	m = xcalloc(1, sizeof *m);
	m->srv = srv;
	m->http = evhttp_new(srv->base);
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET);
	evhttp_set_gencb(m->http, metrics_request_cb, m);
	if (p <= 0 || p > 65535 || evhttp_bind_socket(m->http, host,
	    (uint16_t)p) != 0) {
		xasprintf(cause, "metrics: cannot listen on %s", listen);
		evhttp_free(m->http);
		free(m);
		free(host);
		return (NULL);
	}
	log_info("metrics: serving http://%s/metrics", listen);
	free(host);
	return (m);
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	evhttp_free(m->http);
	free(m);
}
