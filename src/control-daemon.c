/*
 * Commands about the daemon itself rather than one job: status and
 * check-endpoint.
 */
#include <stdlib.h>
#include <unistd.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "s3.h"
#include "s3-probe.h"
#include "sched.h"
#include "cfg.h"
#include "control-cmd.h"
#include "control.h"
#include "invsched.h"
#include "job.h"
#include "protocol.h"
#include "server.h"
#include "store.h"
#include "bulk.h"

/*
 * What waits, and why (docs/OUTAGES.md): tasks held by an open circuit
 * breaker or sent back to pending unable to reach S3, results waiting for
 * a group commit that fails, and each endpoint's breaker.
 */
static void
cmd_status_outages(struct json_object *r, struct server *srv,
    const struct sched_stats *ss)
{
	struct s3_endpoint_state	 es;
	struct json_object		*eps, *ep;
	char				 since[32];
	size_t				 i;

	json_object_object_add(r, "TasksWaiting",
	    json_object_new_int64((int64_t)ss->tasks_waiting));
	json_object_object_add(r, "TasksRequeued",
	    json_object_new_int64((int64_t)ss->tasks_requeued));
	json_object_object_add(r, "CommitFailing",
	    json_object_new_boolean(ss->commit_failing));
	json_object_object_add(r, "ResultsBuffered",
	    json_object_new_int64((int64_t)ss->results_buffered));
	json_object_object_add(r, "JobsHeldByWindow",
	    json_object_new_int64((int64_t)ss->jobs_held_by_window));
	eps = json_object_new_array();
	for (i = 0; s3_endpoint_state(srv->s3, i, &es) == 0; i++) {
		ep = json_object_new_object();
		json_object_object_add(ep, "Name",
		    json_object_new_string(es.name));
		json_object_object_add(ep, "Breaker",
		    json_object_new_string(es.breaker));
		if (es.since_ms != 0) {
			time_format_utc(es.since_ms, since,
			    sizeof since);
			json_object_object_add(ep, "Since",
			    json_object_new_string(since));
		}
		json_object_object_add(ep, "CallsWaiting",
		    json_object_new_int64((int64_t)es.waiting));
		json_object_object_add(ep, "Opens",
		    json_object_new_int64((int64_t)es.opens));
		json_object_object_add(ep, "AttemptsParked",
		    json_object_new_int64((int64_t)es.parked));
		/* Requests a second allowed now (AIMD); absent: no limit. */
		if (es.rate_limit > 0)
			json_object_object_add(ep, "RateLimit",
			    json_object_new_double(es.rate_limit));
		json_object_object_add(ep, "Throttled",
		    json_object_new_int64((int64_t)es.throttled));
		json_object_object_add(ep, "RateCuts",
		    json_object_new_int64((int64_t)es.rate_cuts));
		/* The time window now, and what it allows. */
		if (es.window != NULL) {
			json_object_object_add(ep, "Window",
			    json_object_new_string(es.window));
			json_object_object_add(ep, "WindowRate",
			    es.window_rate == 0 ? json_object_new_string(
			    "pause") : es.window_rate < 0 ?
			    json_object_new_string("full") :
			    json_object_new_double(es.window_rate));
		}
		json_object_array_add(eps, ep);
	}
	json_object_object_add(r, "Endpoints", eps);
}

void
cmd_status(struct ctl_req *req)
{
	struct server		*srv = req->srv;
	struct json_object	*r, *jobs;
	struct sched_stats	 ss;
	uint64_t		 counts[JOB_NSTATUS];
	char			*cause = NULL;
	int			 i;

	if (store_job_counts(srv->store, counts, &cause) != 0) {
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
		free(cause);
		return;
	}
	r = json_object_new_object();
	json_object_object_add(r, "Version", json_object_new_string(VERSION));
	json_object_object_add(r, "ProtocolVersion",
	    json_object_new_int(PROTOCOL_VERSION));
	json_object_object_add(r, "Pid", json_object_new_int((int)getpid()));
	json_object_object_add(r, "UptimeSeconds", json_object_new_int64(
	    (int64_t)((time_now_ms() - srv->started_ms) / 1000)));
	json_object_object_add(r, "StateDir",
	    json_object_new_string(srv->cfg->state_dir));
	json_object_object_add(r, "Stopping",
	    json_object_new_boolean(srv->stopping));
	json_object_object_add(r, "ControlConnections", json_object_new_int64(
	    (int64_t)control_connections(srv->control)));
	json_object_object_add(r, "WorkerQueue", json_object_new_int64(
	    bulk_pending(srv->bulk)));
	jobs = json_object_new_object();
	for (i = 0; i < JOB_NSTATUS; i++)
		json_object_object_add(jobs, job_status_name((enum job_status)i),
		    json_object_new_int64((int64_t)counts[i]));
	json_object_object_add(r, "Jobs", jobs);
	sched_stats(srv->sched, &ss);
	json_object_object_add(r, "TasksInFlight",
	    json_object_new_int64((int64_t)ss.inflight));
	json_object_object_add(r, "TasksSucceeded",
	    json_object_new_int64((int64_t)ss.tasks_succeeded));
	json_object_object_add(r, "TasksFailed",
	    json_object_new_int64((int64_t)ss.tasks_failed));
	cmd_status_outages(r, srv, &ss);
	json_object_object_add(r, "InventoryRunsRunning", json_object_new_int64(
	    (int64_t)invsched_running(srv->invsched)));
	ctl_reply(req, r);
}

/*
 * check-endpoint NAME [Bucket]: a signed ListBuckets proves reachability,
 * TLS and the keys; with a bucket of that endpoint, the capability probe
 * (s3-probe.h) follows and its table is part of the reply.
 */
struct cmd_check {
	struct ctl_pending	*pending;
	struct server		*srv;
	char			*endpoint;
	char			*bucket;	/* NULL: no probe */
	struct json_object	*res;
	uint64_t		 t0;
};

static void
cmd_check_free(struct cmd_check *c)
{
	if (c->res != NULL)
		json_object_put(c->res);
	free(c->endpoint);
	free(c->bucket);
	free(c);
}

/* The capability table: {"Tagging": {"Supported": "no", "Detail": ...}}. */
static struct json_object *
cmd_check_caps(const struct s3_caps *caps)
{
	struct json_object		*o, *row;
	const struct s3_cap_result	*r;
	int				 i;

	o = json_object_new_object();
	for (i = 0; i < S3_NCAPS; i++) {
		r = &caps->cap[i];
		row = json_object_new_object();
		json_object_object_add(row, "Supported", json_object_new_string(
		    s3_cap_state_name(r->state)));
		if (r->detail != NULL)
			json_object_object_add(row, "Detail",
			    json_object_new_string(r->detail));
		json_object_object_add(o, s3_cap_name((enum s3_cap)i), row);
	}
	return (o);
}

static void
cmd_check_probe_cb(const struct s3_caps *caps, const char *error, void *arg)
{
	struct cmd_check	*c = arg;

	if (caps == NULL) {
		ctl_pending_error(c->pending, ERR_BAD_REQUEST, "endpoint %s: "
		    "capability probe: %s", c->endpoint, error);
		cmd_check_free(c);
		return;
	}
	json_object_object_add(c->res, "ProbeBucket",
	    json_object_new_string(caps->bucket));
	json_object_object_add(c->res, "ProbeMilliseconds",
	    json_object_new_int64((int64_t)caps->took_ms));
	json_object_object_add(c->res, "Capabilities", cmd_check_caps(caps));
	json_object_object_add(c->res, "Milliseconds", json_object_new_int64(
	    (int64_t)(time_mono_ms() - c->t0)));
	ctl_pending_reply(c->pending, c->res);
	c->res = NULL;
	cmd_check_free(c);
}

static void
cmd_check_done_cb(const struct s3_result *r, void *arg)
{
	struct cmd_check	*c = arg;
	struct json_object	*res;

	if (r->error_code != NULL) {
		ctl_pending_error(c->pending, ERR_BAD_REQUEST, "endpoint %s: "
		    "%s%s%s (HTTP %d, %d attempts)", c->endpoint,
		    r->error_code, r->error_message != NULL ? ": " : "",
		    r->error_message != NULL ? r->error_message : "",
		    r->status, r->attempts);
		cmd_check_free(c);
		return;
	}
	res = json_object_new_object();
	json_object_object_add(res, "Endpoint",
	    json_object_new_string(c->endpoint));
	json_object_object_add(res, "HTTPStatusCode",
	    json_object_new_int(r->status));
	json_object_object_add(res, "Attempts",
	    json_object_new_int(r->attempts));
	json_object_object_add(res, "Milliseconds", json_object_new_int64(
	    (int64_t)(time_mono_ms() - c->t0)));
	if (r->request_id != NULL)
		json_object_object_add(res, "RequestId",
		    json_object_new_string(r->request_id));
	if (c->bucket == NULL) {
		ctl_pending_reply(c->pending, res);
		cmd_check_free(c);
		return;
	}
	c->res = res;
	s3_probe_start(c->srv->base, c->srv->s3, c->endpoint, c->bucket,
	    cmd_check_probe_cb, c);
}

void
cmd_check_endpoint(struct ctl_req *req)
{
	struct json_object	*v;
	struct cmd_check	*c;
	const char		*name = NULL, *bucket = NULL;

	if (json_object_object_get_ex(req->args, "Endpoint", &v) &&
	    json_object_is_type(v, json_type_string))
		name = json_object_get_string(v);
	if (name == NULL) {
		ctl_reply_error(req, ERR_BAD_REQUEST, "Endpoint: required");
		return;
	}
	if (json_object_object_get_ex(req->args, "Bucket", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) == 0) {
			ctl_reply_error(req, ERR_BAD_REQUEST, "Bucket: "
			    "expected a bucket name");
			return;
		}
		bucket = json_object_get_string(v);
	}
	if (cfg_endpoint_find(req->srv->cfg, name) == NULL) {
		ctl_reply_error(req, ERR_NO_SUCH_ENDPOINT, "no [endpoint %.64s] "
		    "in %s", name, req->srv->cfg_path);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->srv = req->srv;
	c->endpoint = xstrdup(name);
	if (bucket != NULL)
		c->bucket = xstrdup(bucket);
	c->t0 = time_mono_ms();
	c->pending = ctl_defer(req);
	s3_check_endpoint(req->srv->s3, name, cmd_check_done_cb, c);
}
