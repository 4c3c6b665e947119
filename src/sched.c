/*
 * The scheduler. Everything here runs on the event loop. A tracked job
 * holds a window of tasks read from the store (never the whole list) and
 * the tasks it has in flight; results wait in one buffer until the next
 * group commit, after which a job may change state. Status changes re-read
 * the job inside their transaction, so a control command in between
 * (priority, pause, cancel) is never overwritten.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "s3batchd.h"
#include "cfg.h"
#include "job.h"
#include "op.h"
#include "report.h"
#include "s3.h"
#include "sched.h"
#include "server.h"
#include "store.h"
#include "worker.h"

#define SCHED_WINDOW		512	/* tasks read from the store at once */

struct sched_job;

struct sched_task {
	struct sched_job		*sj;
	int64_t				 seq;
	char				*bucket;
	char				*key;
	size_t				 key_len;
	char				*version_id;
	char				*etag;
	int				 attempts;	/* before this run */
	struct op_run			 run;
	TAILQ_ENTRY(sched_task)		 entry;
};
TAILQ_HEAD(sched_tasks, sched_task);

struct sched_report;

struct sched_job {
	struct sched			*s;
	struct job			 job;
	const struct op_def		*op;
	void				*ctx;
	char				*role_arn;
	int64_t				 cursor;	/* last seq read */
	int				 read_all;	/* no pending beyond */
	struct sched_tasks		 queue;		/* read, not started */
	size_t				 nqueue;
	struct sched_tasks		 running;
	size_t				 inflight;
	uint64_t			 started;	/* for fairness */
	int				 failing;	/* threshold crossed */
	int				 dirty;		/* counters to commit */
	int				 finishing;	/* report under way */
	struct sched_report		*report;
	TAILQ_ENTRY(sched_job)		 entry;
};
TAILQ_HEAD(sched_jobs, sched_job);

struct sched_result {
	struct sched_job		*sj;
	struct store_task		 t;	/* points at the strings below */
	char				*code;
	char				*message;
	char				*etag;
};

struct sched_report {
	struct sched			*s;
	struct sched_job		*sj;
	struct job			 job;		/* a copy for the worker */
	struct report_files		 files;
	char				*cause;
	struct report_upload		*upload;
	int				 cancelled;
	TAILQ_ENTRY(sched_report)	 entry;
};
TAILQ_HEAD(sched_reports, sched_report);

struct sched {
	struct server			*srv;
	struct s3			*s3;
	struct sched_jobs		 jobs;
	struct sched_reports		 reports;
	size_t				 inflight;
	struct sched_result		*results;
	size_t				 nresults;
	size_t				 sresults;
	struct event			*ev_commit;
	struct event			*ev_pump;
	struct event			*ev_drain;
	int				 draining;
	void				 (*drained)(void *);
	void				*drained_arg;
	struct sched_stats		 stats;
};

static void	sched_pump(struct sched *);
static void	sched_check(struct sched_job *);
static void	sched_untrack(struct sched_job *);

static struct sched_job *
sched_find(struct sched *s, const char *id)
{
	struct sched_job	*sj;

	TAILQ_FOREACH(sj, &s->jobs, entry) {
		if (strcmp(sj->job.id, id) == 0)
			return (sj);
	}
	return (NULL);
}

static void
sched_task_free(struct sched_task *t)
{
	cfg_free(t->run.cfg);
	free(t->bucket);
	free(t->key);
	free(t->version_id);
	free(t->etag);
	free(t->run.recorded_etag);
	free(t);
}

static void
sched_result_clear(struct sched_result *r)
{
	free(r->code);
	free(r->message);
	free(r->etag);
}

/* Arrange a pump from the loop, not from inside a callback chain. */
static void
sched_kick(struct sched *s)
{
	event_active(s->ev_pump, EV_TIMEOUT, 0);
}

/* Commit buffered results and the counters of the jobs they touch. */
static int
sched_commit(struct sched *s)
{
	struct store		*st = s->srv->store;
	struct sched_job	*sj;
	char			*cause = NULL;
	size_t			 i;

	if (s->nresults == 0) {
		TAILQ_FOREACH(sj, &s->jobs, entry) {
			if (sj->dirty)
				break;
		}
		if (sj == NULL)
			return (0);
	}
	if (store_begin(st, &cause) != 0)
		goto fail;
	for (i = 0; i < s->nresults; i++) {
		if (store_task_result(st, s->results[i].sj->job.rowid,
		    &s->results[i].t, &cause) != 0)
			goto fail_tx;
	}
	TAILQ_FOREACH(sj, &s->jobs, entry) {
		if (sj->dirty && store_job_progress(st, &sj->job, &cause) != 0)
			goto fail_tx;
	}
	if (store_commit(st, &cause) != 0)
		goto fail;
	for (i = 0; i < s->nresults; i++)
		sched_result_clear(&s->results[i]);
	s->nresults = 0;
	TAILQ_FOREACH(sj, &s->jobs, entry)
		sj->dirty = 0;
	s->stats.commits++;
	return (0);
fail_tx:
	store_rollback(st);
fail:
	/* Results stay buffered; the next commit tries again. */
	log_warnx("scheduler: committing results: %s", cause);
	free(cause);
	return (-1);
}

static void
sched_commit_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sched		*s = arg;
	struct sched_job	*sj, *next;

	sched_commit(s);
	TAILQ_FOREACH_SAFE(sj, &s->jobs, entry, next)
		sched_check(sj);
	if (s->nresults != 0)
		sched_kick(s);
}

static void
sched_arm_commit(struct sched *s)
{
	const struct cfg	*cfg = s->srv->cfg;
	struct timeval		 tv;

	if (evtimer_pending(s->ev_commit, NULL))
		return;
	tv.tv_sec = (time_t)(cfg->commit_interval_ms / 1000);
	tv.tv_usec = (suseconds_t)(cfg->commit_interval_ms % 1000) * 1000;
	evtimer_add(s->ev_commit, &tv);
}

/*
 * Move a tracked job to another state: re-read it in the transaction,
 * keep our counters, stamp, audit. Returns -1 if it is not in the state
 * we think (a control command moved it); sj->job is refreshed either way.
 */
static int
sched_transition(struct sched_job *sj, enum job_status from,
    enum job_status to, const char *code, const char *reason)
{
	struct store	*st = sj->s->srv->store;
	struct job	 fresh;
	char		*cause = NULL;

	if (store_begin(st, &cause) != 0)
		goto fail;
	if (store_job_get(st, sj->job.id, &fresh, &cause) != 0) {
		store_rollback(st);
		goto fail;
	}
	fresh.succeeded = sj->job.succeeded;
	fresh.failed = sj->job.failed;
	if (fresh.status != from) {
		store_rollback(st);
		job_clear(&sj->job);
		sj->job = fresh;
		return (-1);
	}
	if (code != NULL) {
		free(fresh.failure_code);
		free(fresh.failure_reason);
		fresh.failure_code = xstrdup(code);
		fresh.failure_reason = xstrdup(reason);
	}
	if (store_job_transition(st, &fresh, to, JOB_BY_DAEMON,
	    STORE_UID_DAEMON, reason, &cause) != 0 ||
	    store_commit(st, &cause) != 0) {
		store_rollback(st);
		job_clear(&fresh);
		goto fail;
	}
	job_clear(&sj->job);
	sj->job = fresh;
	log_job(LOG_INFO, sj->job.id, "now %s (%llu succeeded, %llu failed)",
	    job_status_name(to), (unsigned long long)sj->job.succeeded,
	    (unsigned long long)sj->job.failed);
	return (0);
fail:
	log_job(LOG_WARNING, sj->job.id, "scheduler: %s", cause);
	free(cause);
	return (-1);
}

static int
sched_window_cb(const struct store_task *t, void *arg)
{
	struct sched_job	*sj = arg;
	struct sched_task	*st;

	st = xcalloc(1, sizeof *st);
	st->sj = sj;
	st->seq = t->seq;
	st->bucket = xstrdup(t->bucket);
	st->key = xmalloc(t->key_len + 1);
	memcpy(st->key, t->key, t->key_len);
	st->key[t->key_len] = '\0';
	st->key_len = t->key_len;
	if (t->version_id != NULL)
		st->version_id = xstrdup(t->version_id);
	if (t->etag != NULL)
		st->etag = xstrdup(t->etag);
	st->attempts = t->attempts;
	TAILQ_INSERT_TAIL(&sj->queue, st, entry);
	sj->nqueue++;
	sj->cursor = t->seq;
	return (0);
}

static void
sched_refill(struct sched_job *sj)
{
	size_t	 before = sj->nqueue;
	char	*cause = NULL;

	if (sj->read_all)
		return;
	if (store_task_window(sj->s->srv->store, sj->job.rowid, sj->cursor,
	    SCHED_WINDOW, sched_window_cb, sj, &cause) != 0) {
		log_job(LOG_WARNING, sj->job.id, "reading tasks: %s", cause);
		free(cause);
		return;
	}
	if (sj->nqueue - before < SCHED_WINDOW)
		sj->read_all = 1;
}

static void
sched_task_done(struct op_run *run, enum task_state state, int status,
    const char *code, const char *message)
{
	struct sched_task	*t = run->owner;
	struct sched_job	*sj = t->sj;
	struct sched		*s = sj->s;
	struct sched_result	*r;
	const struct cfg	*cfg = s->srv->cfg;
	uint64_t		 ran;

	if (s->nresults == s->sresults) {
		s->sresults = s->sresults == 0 ? 256 : s->sresults * 2;
		s->results = xreallocarray(s->results, s->sresults,
		    sizeof *s->results);
	}
	r = &s->results[s->nresults++];
	memset(r, 0, sizeof *r);
	r->sj = sj;
	r->t.seq = t->seq;
	r->t.state = state;
	r->t.attempts = t->attempts + run->attempts;
	r->t.http_status = status;
	r->code = code != NULL ? xstrdup(code) : NULL;
	r->message = message != NULL ? xstrdup(message) : NULL;
	if (t->etag == NULL && run->recorded_etag != NULL)
		r->etag = xstrdup(run->recorded_etag);
	r->t.result_code = r->code;
	r->t.result_message = r->message;
	r->t.etag = r->etag;
	if (state == TASK_SUCCEEDED) {
		sj->job.succeeded++;
		s->stats.tasks_succeeded++;
	} else {
		sj->job.failed++;
		s->stats.tasks_failed++;
	}
	sj->dirty = 1;
	TAILQ_REMOVE(&sj->running, t, entry);
	sj->inflight--;
	s->inflight--;
	sched_task_free(t);

	ran = sj->job.succeeded + sj->job.failed;
	if (!sj->failing && ran >= cfg->failure_min_tasks &&
	    sj->job.failed * 100 > (uint64_t)cfg->failure_percent * ran) {
		sj->failing = 1;
		log_job(LOG_WARNING, sj->job.id, "%llu of %llu tasks failed: "
		    "stopping the job", (unsigned long long)sj->job.failed,
		    (unsigned long long)ran);
	}
	if (s->nresults >= (size_t)cfg->commit_batch)
		sched_commit(s);
	else
		sched_arm_commit(s);
	sched_kick(s);
}

static void
sched_task_start(struct sched_job *sj, struct sched_task *t)
{
	struct sched	*s = sj->s;

	TAILQ_REMOVE(&sj->queue, t, entry);
	sj->nqueue--;
	TAILQ_INSERT_TAIL(&sj->running, t, entry);
	sj->inflight++;
	sj->started++;
	s->inflight++;
	s->stats.tasks_started++;
	memset(&t->run, 0, sizeof t->run);
	t->run.bucket = t->bucket;
	t->run.key = t->key;
	t->run.key_len = t->key_len;
	t->run.version_id = t->version_id;
	t->run.etag = t->etag;
	t->run.role_arn = sj->role_arn;
	t->run.job_id = sj->job.id;
	t->run.ctx = sj->ctx;
	t->run.s3 = s->s3;
	t->run.cfg = cfg_ref(s->srv->cfg);
	t->run.done = sched_task_done;
	t->run.owner = t;
	sj->op->start(&t->run);
}

/* Whether a job may start tasks now. */
static int
sched_runnable(struct sched_job *sj)
{
	if (sj->job.status != JOB_ACTIVE || sj->failing || sj->finishing)
		return (0);
	return (sj->nqueue != 0 || !sj->read_all);
}

/* Highest priority first; among equals, the one that has started least. */
static struct sched_job *
sched_pick(struct sched *s)
{
	struct sched_job	*sj, *best = NULL;

	TAILQ_FOREACH(sj, &s->jobs, entry) {
		if (!sched_runnable(sj))
			continue;
		if (best == NULL || sj->job.priority > best->job.priority ||
		    (sj->job.priority == best->job.priority &&
		    sj->started < best->started))
			best = sj;
	}
	return (best);
}

static void
sched_pump(struct sched *s)
{
	struct sched_job	*sj;
	size_t			 max = (size_t)s->srv->cfg->max_inflight;

	while (!s->draining && s->inflight < max &&
	    (sj = sched_pick(s)) != NULL) {
		if (sj->nqueue == 0) {
			sched_refill(sj);
			if (sj->nqueue == 0) {
				sj->read_all = 1;
				sched_check(sj);
				continue;
			}
		}
		sched_task_start(sj, TAILQ_FIRST(&sj->queue));
	}
}

static void
sched_pump_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sched		*s = arg;
	struct sched_job	*sj, *next;

	sched_pump(s);
	TAILQ_FOREACH_SAFE(sj, &s->jobs, entry, next) {
		if (sj->inflight == 0)
			sched_check(sj);
	}
}

static void
sched_report_free(struct sched_report *rp)
{
	TAILQ_REMOVE(&rp->s->reports, rp, entry);
	if (rp->upload != NULL)
		report_upload_cancel(rp->upload);
	report_files_free(&rp->files);
	job_clear(&rp->job);
	free(rp->cause);
	free(rp);
}

/* The report is up (or failed): the job reaches its terminal state. */
static void
sched_finish(struct sched_job *sj, const char *report_error)
{
	enum job_status	 from = sj->job.status, to;
	const char	*code = NULL;
	char		*reason = NULL;

	if (report_error != NULL) {
		to = JOB_FAILED;
		code = "ReportFailed";
		xasprintf(&reason, "The completion report could not be "
		    "written: %s", report_error);
	} else if (from == JOB_FAILING) {
		to = JOB_FAILED;
		code = "TaskFailureThresholdExceeded";
		xasprintf(&reason, "%llu of %llu tasks failed, more than %d%% "
		    "of at least %llu run",
		    (unsigned long long)sj->job.failed,
		    (unsigned long long)(sj->job.succeeded + sj->job.failed),
		    sj->s->srv->cfg->failure_percent,
		    (unsigned long long)sj->s->srv->cfg->failure_min_tasks);
	} else
		to = JOB_COMPLETE;
	if (sched_transition(sj, from, to, code, reason) != 0)
		log_job(LOG_WARNING, sj->job.id, "could not end as %s",
		    job_status_name(to));
	free(reason);
	sched_untrack(sj);
}

static void
sched_report_uploaded_cb(const char *error, void *arg)
{
	struct sched_report	*rp = arg;
	struct sched_job	*sj = rp->sj;

	rp->upload = NULL;
	if (sj == NULL) {
		sched_report_free(rp);
		return;
	}
	if (error != NULL)
		log_job(LOG_WARNING, sj->job.id, "report: %s", error);
	else
		log_job(LOG_INFO, sj->job.id, "completion report written to "
		    "s3://%s/%s/", rp->files.bucket, rp->files.prefix);
	sj->report = NULL;
	sched_report_free(rp);
	sched_finish(sj, error);
}

/* Worker thread: write the result files from the store. */
static void
sched_report_write(struct store *st, void *arg)
{
	struct sched_report	*rp = arg;
	char			*dir;

	xasprintf(&dir, "%s/spool", rp->s->srv->cfg->state_dir);
	if (report_write(st, &rp->job, dir, &rp->files, &rp->cause) != 0 &&
	    rp->cause == NULL)
		rp->cause = xstrdup("writing the report failed");
	free(dir);
}

static void
sched_report_written(void *arg)
{
	struct sched_report	*rp = arg;
	struct sched_job	*sj = rp->sj;
	char			*cause;

	if (rp->cancelled) {
		sched_report_free(rp);
		return;
	}
	if (rp->cause != NULL) {
		cause = rp->cause;
		rp->cause = NULL;
		sj->report = NULL;
		sched_report_free(rp);
		sched_finish(sj, cause);
		free(cause);
		return;
	}
	rp->upload = report_upload(rp->s->s3, &rp->job, &rp->files,
	    sched_report_uploaded_cb, rp);
}

/* Completing or Failing: write the report if asked for, then end. */
static void
sched_wrap_up(struct sched_job *sj)
{
	struct sched_report	*rp;

	if (sj->finishing)
		return;
	sj->finishing = 1;
	if (!report_enabled(&sj->job)) {
		sched_finish(sj, NULL);
		return;
	}
	rp = xcalloc(1, sizeof *rp);
	rp->s = sj->s;
	rp->sj = sj;
	/* The worker gets its own copy of what it reads. */
	memcpy(&rp->job, &sj->job, sizeof rp->job);
	rp->job.description = NULL;
	rp->job.operation = sj->job.operation != NULL ?
	    xstrdup(sj->job.operation) : NULL;
	rp->job.spec = xstrdup(sj->job.spec);
	rp->job.client_token = NULL;
	rp->job.status_reason = NULL;
	rp->job.failure_code = NULL;
	rp->job.failure_reason = NULL;
	rp->job.suspended_cause = NULL;
	rp->job.source_job = NULL;
	sj->report = rp;
	TAILQ_INSERT_TAIL(&sj->s->reports, rp, entry);
	worker_run(sj->s->srv->worker, sched_report_write,
	    sched_report_written, rp);
}

/*
 * The decisions that wait for a job's tasks in flight to end: pause,
 * cancel, the threshold, completion. Results are committed first.
 */
static void
sched_check(struct sched_job *sj)
{
	struct sched	*s = sj->s;

	if (sj->inflight != 0 || sj->finishing || s->draining)
		return;
	switch (sj->job.status) {
	case JOB_PAUSING:
	case JOB_CANCELLING:
		if (sched_commit(s) != 0)
			return;
		sched_transition(sj, sj->job.status, sj->job.status ==
		    JOB_PAUSING ? JOB_PAUSED : JOB_CANCELLED, NULL, NULL);
		sched_untrack(sj);
		return;
	case JOB_ACTIVE:
		if (sj->failing) {
			if (sched_commit(s) != 0)
				return;
			if (sched_transition(sj, JOB_ACTIVE, JOB_FAILING, NULL,
			    NULL) == 0)
				sched_wrap_up(sj);
			return;
		}
		if (sj->nqueue != 0 || !sj->read_all)
			return;
		if (sched_commit(s) != 0)
			return;
		if (sched_transition(sj, JOB_ACTIVE, JOB_COMPLETING, NULL,
		    NULL) == 0)
			sched_wrap_up(sj);
		return;
	case JOB_COMPLETING:
	case JOB_FAILING:
		sched_wrap_up(sj);
		return;
	default:
		/* Paused, Cancelled...: nothing to run here any more. */
		sched_untrack(sj);
		return;
	}
}

static void
sched_untrack(struct sched_job *sj)
{
	struct sched		*s = sj->s;
	struct sched_task	*t;
	size_t			 i;

	if (sj->inflight != 0)
		fatalx("scheduler: untracking job %s with %zu in flight",
		    sj->job.id, sj->inflight);
	/* Results still buffered for it are committed now. */
	for (i = 0; i < s->nresults; i++) {
		if (s->results[i].sj == sj) {
			sched_commit(s);
			break;
		}
	}
	while ((t = TAILQ_FIRST(&sj->queue)) != NULL) {
		TAILQ_REMOVE(&sj->queue, t, entry);
		sched_task_free(t);
	}
	if (sj->report != NULL) {
		sj->report->cancelled = 1;
		sj->report->sj = NULL;
	}
	TAILQ_REMOVE(&s->jobs, sj, entry);
	s->stats.jobs--;
	if (sj->op != NULL)
		sj->op->free(sj->ctx);
	free(sj->role_arn);
	job_clear(&sj->job);
	free(sj);
}

/* Start running a job the store says is Ready, Active or wrapping up. */
static struct sched_job *
sched_track(struct sched *s, struct job *j)
{
	struct sched_job	*sj, *o;
	struct json_object	*spec, *ops, *params, *role;
	char			*cause = NULL;
	uint64_t		 least = UINT64_MAX;

	sj = xcalloc(1, sizeof *sj);
	sj->s = s;
	sj->job = *j;
	memset(j, 0, sizeof *j);
	TAILQ_INIT(&sj->queue);
	TAILQ_INIT(&sj->running);
	spec = json_tokener_parse(sj->job.spec);
	if ((sj->op = op_find(sj->job.operation)) == NULL) {
		xasprintf(&cause, "operation %s is not supported by this "
		    "s3batchd yet", sj->job.operation);
		goto fail;
	}
	if (spec == NULL || !json_object_object_get_ex(spec, "Operation",
	    &ops) || !json_object_object_get_ex(ops, sj->job.operation,
	    &params)) {
		xasprintf(&cause, "the job's Operation is unreadable");
		goto fail;
	}
	if (sj->op->compile(params, spec, &sj->ctx, &cause) != 0)
		goto fail;
	if (json_object_object_get_ex(spec, "RoleArn", &role))
		sj->role_arn = xstrdup(json_object_get_string(role));
	json_object_put(spec);
	/* A newcomer joins its priority's round where the others are. */
	TAILQ_FOREACH(o, &s->jobs, entry) {
		if (o->job.priority == sj->job.priority && o->started < least)
			least = o->started;
	}
	sj->started = least == UINT64_MAX ? 0 : least;
	TAILQ_INSERT_TAIL(&s->jobs, sj, entry);
	s->stats.jobs++;
	return (sj);
fail:
	json_object_put(spec);
	log_job(LOG_WARNING, sj->job.id, "cannot run: %s", cause);
	TAILQ_INSERT_TAIL(&s->jobs, sj, entry);
	s->stats.jobs++;
	sj->op = NULL;
	if (sj->job.status == JOB_READY)
		sched_transition(sj, JOB_READY, JOB_FAILED,
		    "UnsupportedOperation", cause);
	free(cause);
	sched_untrack(sj);
	return (NULL);
}

void
sched_job_changed(struct sched *s, const char *id)
{
	struct sched_job	*sj;
	struct job		 j;
	char			*cause = NULL;
	int			 r;

	if ((r = store_job_get(s->srv->store, id, &j, &cause)) != 0) {
		if (r == -1) {
			log_job(LOG_WARNING, id, "scheduler: %s", cause);
			free(cause);
		}
		return;
	}
	if ((sj = sched_find(s, id)) != NULL) {
		/* Priority and status from the store; our counters stay. */
		sj->job.priority = j.priority;
		sj->job.status = j.status;
		job_clear(&j);
		if (sj->inflight == 0)
			sched_check(sj);
		sched_kick(s);
		return;
	}
	switch (j.status) {
	case JOB_READY:
	case JOB_ACTIVE:
	case JOB_COMPLETING:
	case JOB_FAILING:
		break;
	default:
		job_clear(&j);
		return;
	}
	if (s->draining) {
		job_clear(&j);
		return;
	}
	if ((sj = sched_track(s, &j)) == NULL)
		return;
	if (sj->job.status == JOB_READY &&
	    sched_transition(sj, JOB_READY, JOB_ACTIVE, NULL, NULL) != 0) {
		sched_untrack(sj);
		return;
	}
	if (sj->job.status == JOB_COMPLETING || sj->job.status == JOB_FAILING)
		sj->read_all = 1;
	sched_kick(s);
}

struct sched_scan {
	char		(*ids)[37];
	size_t		 n;
	int64_t		 last;
	int		 page;
};

static int
sched_scan_cb(const struct job *j, void *arg)
{
	struct sched_scan	*sc = arg;

	sc->ids = xreallocarray(sc->ids, sc->n + 1, sizeof *sc->ids);
	memcpy(sc->ids[sc->n++], j->id, 37);
	sc->last = j->rowid;
	sc->page++;
	return (0);
}

void
sched_start(struct sched *s)
{
	struct sched_scan	 sc;
	char			*cause = NULL;
	uint32_t		 mask;
	size_t			 i;

	mask = 1U << JOB_READY | 1U << JOB_ACTIVE | 1U << JOB_COMPLETING |
	    1U << JOB_FAILING;
	memset(&sc, 0, sizeof sc);
	do {
		sc.page = 0;
		if (store_job_list(s->srv->store, mask, sc.last, 1000,
		    sched_scan_cb, &sc, &cause) != 0) {
			log_warnx("scheduler: %s", cause);
			free(cause);
			break;
		}
	} while (sc.page == 1000);
	for (i = 0; i < sc.n; i++)
		sched_job_changed(s, sc.ids[i]);
	free(sc.ids);
}

struct sched *
sched_new(struct server *srv, struct s3 *s3)
{
	struct sched	*s;

	s = xcalloc(1, sizeof *s);
	s->srv = srv;
	s->s3 = s3;
	TAILQ_INIT(&s->jobs);
	TAILQ_INIT(&s->reports);
	s->ev_commit = evtimer_new(srv->base, sched_commit_cb, s);
	s->ev_pump = event_new(srv->base, -1, 0, sched_pump_cb, s);
	return (s);
}

/* Abandon what is in flight: cancelled tasks run again at the next start. */
static void
sched_abandon(struct sched *s)
{
	struct sched_job	*sj;
	struct sched_task	*t;

	TAILQ_FOREACH(sj, &s->jobs, entry) {
		while ((t = TAILQ_FIRST(&sj->running)) != NULL) {
			if (t->run.call != NULL)
				s3_call_cancel(t->run.call);
			sj->op->cancel(&t->run);
			TAILQ_REMOVE(&sj->running, t, entry);
			sj->inflight--;
			s->inflight--;
			sched_task_free(t);
		}
	}
}

static void
sched_drain_check(struct sched *s)
{
	void	(*cb)(void *) = s->drained;

	if (s->drained == NULL || (s->inflight != 0 &&
	    evtimer_pending(s->ev_drain, NULL)))
		return;
	sched_abandon(s);
	sched_commit(s);
	s->drained = NULL;
	evtimer_del(s->ev_drain);
	cb(s->drained_arg);
}

static void
sched_drain_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sched	*s = arg;

	if (s->inflight != 0)
		log_warnx("scheduler: %zu tasks still in flight after the "
		    "drain time; they run again at the next start",
		    s->inflight);
	sched_drain_check(s);
}

static void
sched_drain_poll_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sched	*s = arg;
	struct timeval	 tv = { 0, 50000 };

	if (s->drained == NULL)
		return;
	if (s->inflight == 0) {
		sched_drain_check(s);
		return;
	}
	event_base_once(s->srv->base, -1, EV_TIMEOUT, sched_drain_poll_cb, s,
	    &tv);
}

void
sched_drain(struct sched *s, uint64_t ms, void (*done)(void *), void *arg)
{
	struct timeval	tv;

	s->draining = 1;
	s->drained = done;
	s->drained_arg = arg;
	log_info("scheduler: draining %zu tasks in flight", s->inflight);
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	s->ev_drain = evtimer_new(s->srv->base, sched_drain_cb, s);
	evtimer_add(s->ev_drain, &tv);
	sched_drain_poll_cb(-1, 0, s);
}

void
sched_free(struct sched *s)
{
	struct sched_job	*sj;
	struct sched_report	*rp;
	size_t			 i;

	if (s == NULL)
		return;
	sched_abandon(s);
	sched_commit(s);
	while ((rp = TAILQ_FIRST(&s->reports)) != NULL)
		sched_report_free(rp);
	while ((sj = TAILQ_FIRST(&s->jobs)) != NULL) {
		sj->report = NULL;
		sched_untrack(sj);
	}
	for (i = 0; i < s->nresults; i++)
		sched_result_clear(&s->results[i]);
	free(s->results);
	event_free(s->ev_commit);
	event_free(s->ev_pump);
	if (s->ev_drain != NULL)
		event_free(s->ev_drain);
	free(s);
}

void
sched_stats(struct sched *s, struct sched_stats *st)
{
	*st = s->stats;
	st->inflight = s->inflight;
}

int
sched_job_inflight(struct sched *s, const char *id)
{
	struct sched_job	*sj;

	if ((sj = sched_find(s, id)) == NULL)
		return (0);
	return ((int)sj->inflight);
}
