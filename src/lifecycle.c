/*
 * The job lifecycle. Everything here runs on the event loop. A job has at
 * most one stage running, recorded in lc->stages; the stage's callback
 * removes the record, does the transition that follows (in one store
 * transaction that re-reads the job, so that a control command in between
 * wins) and advances the job again.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "s3batchd.h"
#include "bulk.h"
#include "cfg.h"
#include "core.h"
#include "job.h"
#include "jobcaps.h"
#include "jobcheck.h"
#include "jobspec.h"
#include "json.h"
#include "lifecycle.h"
#include "op.h"
#include "s3.h"
#include "s3-probe.h"
#include "sched.h"
#include "spool.h"
#include "stage-fetch.h"
#include "stage-generate.h"
#include "stage-prepare.h"
#include "stage-report.h"
#include "store.h"

#define LC_LIST_PAGE	1000
#define LC_ANY		-1	/* any manifest kind */

/*
 * A stage that cannot proceed for a local cause (a full or read-only disk)
 * or whose outcome could not be stored is started again after a backoff,
 * doubling from LC_RETRY_MIN_MS to LC_RETRY_MAX_MS, for as long as the
 * cause lasts: short enough that the job is back at full speed soon after
 * space is freed. A report that could not be uploaded is tried
 * LC_REPORT_ATTEMPTS times in all before the job fails with ReportFailed
 * (s3batchctl retry-report starts it again). Lines about a waiting job are
 * logged at most once per LC_RETRY_LOG_S seconds.
 */
#define LC_RETRY_MIN_MS		1000
#define LC_RETRY_MAX_MS		15000
#define LC_REPORT_ATTEMPTS	8
#define LC_RETRY_LOG_S		30
#define LC_CODE_REPORT		"ReportFailed"
#define LC_CODE_THRESHOLD	"TaskFailureThresholdExceeded"
#define LC_CODE_UNSUPPORTED	"EndpointUnsupported"

enum lc_kind {
	LC_NONE,
	LC_FETCH,
	LC_GENERATE,
	LC_PREPARE,
	LC_CLONE,
	LC_PLAN,
	LC_CHECK,
	LC_RUN,
	LC_REPORT
};

static const char *const lc_kind_names[] = {
	"none", "fetch", "generate", "prepare", "clone", "plan", "check",
	"run", "report"
};

/* The stage of each state that has one. */
static const struct {
	enum job_status		 status;
	int			 manifest;	/* enum job_manifest, LC_ANY */
	enum lc_kind		 kind;
} lc_table[] = {
	{ JOB_NEW,		JOB_MANIFEST_S3,	LC_FETCH },
	{ JOB_NEW,		JOB_MANIFEST_GENERATOR,	LC_GENERATE },
	{ JOB_PREPARING,	JOB_MANIFEST_CLONE,	LC_CLONE },
	{ JOB_PREPARING,	LC_ANY,			LC_PREPARE },
	{ JOB_READY,		LC_ANY,			LC_CHECK },
	{ JOB_ACTIVE,		LC_ANY,			LC_RUN },
	{ JOB_COMPLETING,	LC_ANY,			LC_REPORT },
	{ JOB_FAILING,		LC_ANY,			LC_REPORT },
};

struct lc_stage {
	struct lifecycle	*lc;
	char			 id[37];
	enum lc_kind		 kind;
	void			*handle;
	int			 starting;	/* its start has not returned */
	int			 ended;		/* its callback ran meanwhile */
	TAILQ_ENTRY(lc_stage)	 entry;
};
TAILQ_HEAD(lc_stages, lc_stage);

/*
 * A job waiting to start its stage again. Memory only: after a restart the
 * stage simply runs again, and nothing needs writing to a full disk to say
 * why the job waits (describe-job adds the reason, lifecycle_waiting).
 */
struct lc_wait {
	struct lifecycle	*lc;
	char			 id[37];
	unsigned		 attempts;	/* failures in a row */
	int			 due;		/* the timer fired */
	char			*code;
	char			*reason;
	struct event		*ev;
	TAILQ_ENTRY(lc_wait)	 entry;
};
TAILQ_HEAD(lc_waits, lc_wait);

struct lifecycle {
	struct core		*core;
	struct sched		*sched;
	struct lc_stages	 stages;
	struct lc_waits		 waits;
	struct event		*ev_timer;
	struct log_limit	 wait_ll;
	struct log_limit	 timer_ll;	/* a store the timers cannot read */
	unsigned		 purging;	/* purges queued on the bulk thread */
	struct s3_caps_cache	*caps;		/* endpoints probed (jobcaps) */
};

static enum lc_kind
lc_kind_for(const struct job *j)
{
	size_t	i;

	for (i = 0; i < nitems(lc_table); i++) {
		if (lc_table[i].status == j->status &&
		    (lc_table[i].manifest == LC_ANY ||
		    lc_table[i].manifest == (int)j->manifest))
			return (lc_table[i].kind);
	}
	return (LC_NONE);
}

static struct lc_stage *
lc_find(struct lifecycle *lc, const char *id)
{
	struct lc_stage	*st;

	TAILQ_FOREACH(st, &lc->stages, entry) {
		if (strcmp(st->id, id) == 0)
			return (st);
	}
	return (NULL);
}

static const char *
lc_state_dir(struct lifecycle *lc)
{
	return ((*lc->core->cfg)->state_dir);
}

/* ---- waiting jobs */

static struct lc_wait *
lc_wait_find(struct lifecycle *lc, const char *id)
{
	struct lc_wait	*w;

	TAILQ_FOREACH(w, &lc->waits, entry) {
		if (strcmp(w->id, id) == 0)
			return (w);
	}
	return (NULL);
}

static void
lc_wait_free(struct lc_wait *w)
{
	TAILQ_REMOVE(&w->lc->waits, w, entry);
	event_free(w->ev);
	free(w->code);
	free(w->reason);
	free(w);
}

/* The stage ended well, or the job moved on: it no longer waits. */
static void
lc_wait_clear(struct lifecycle *lc, const char *id)
{
	struct lc_wait	*w;

	if ((w = lc_wait_find(lc, id)) != NULL)
		lc_wait_free(w);
}

static void
lc_wait_cb(evutil_socket_t fd, short events, void *arg)
{
	struct lc_wait	*w = arg;

	w->due = 1;
	lifecycle_advance(w->lc, w->id);
}

/* How many times the job's stage has failed in a row (0: none). */
static unsigned
lc_wait_attempts(struct lifecycle *lc, const char *id)
{
	struct lc_wait	*w;

	return ((w = lc_wait_find(lc, id)) != NULL ? w->attempts : 0);
}

/*
 * The job's stage could not proceed (code and reason say why): start it
 * again after the next backoff. The job stays in its state.
 */
static void
lc_wait(struct lifecycle *lc, const char *id, const char *code,
    const char *reason)
{
	struct lc_wait	*w;
	struct timeval	 tv;
	uint64_t	 ms = LC_RETRY_MIN_MS;
	unsigned	 i;

	if ((w = lc_wait_find(lc, id)) == NULL) {
		w = xcalloc(1, sizeof *w);
		w->lc = lc;
		memcpy(w->id, id, sizeof w->id);
		w->ev = evtimer_new(lc->core->base, lc_wait_cb, w);
		TAILQ_INSERT_TAIL(&lc->waits, w, entry);
	}
	for (i = 0; i < w->attempts && ms < LC_RETRY_MAX_MS; i++)
		ms *= 2;
	if (ms > LC_RETRY_MAX_MS)
		ms = LC_RETRY_MAX_MS;
	w->attempts++;
	w->due = 0;
	free(w->code);
	free(w->reason);
	w->code = xstrdup(code);
	xasprintf(&w->reason, "%s; trying again in %llu s (attempt %u)",
	    reason, (unsigned long long)(ms / 1000), w->attempts);
	log_limited(&lc->wait_ll, LC_RETRY_LOG_S, LOG_WARNING, id,
	    "waiting: %s: %s", code, w->reason);
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(w->ev, &tv);
}

/* What a transition writes besides the status. */
struct lc_change {
	const char	*code;		/* a failure reason to add */
	const char	*reason;
	const char	*suspended_cause;
	int		 report;	/* the report stage's end, see below */
	int		 report_ok;
};

/*
 * The end of a report: the threshold reason of a Failing job is kept
 * (before ReportFailed when the report failed too); a report written after
 * all forgets an earlier ReportFailed.
 */
static void
lc_change_report(struct lifecycle *lc, struct job *j,
    const struct lc_change *c)
{
	const struct cfg	*cfg = *lc->core->cfg;
	char			*reason;

	if (j->status == JOB_FAILING) {
		xasprintf(&reason, "%llu of %llu tasks failed, more than %d%% "
		    "of at least %llu run", (unsigned long long)j->failed,
		    (unsigned long long)(j->succeeded + j->failed),
		    cfg->failure_percent,
		    (unsigned long long)cfg->failure_min_tasks);
		job_add_failure(j, LC_CODE_THRESHOLD, reason);
		free(reason);
	}
	if (c->report_ok)
		job_drop_failure(j, LC_CODE_REPORT);
}

/*
 * Move a job from one of the states in the mask to another, re-reading it
 * in the transaction. 0 moved, 1 it is not in one of those states, -1 the
 * store failed: logged, and the job waits and advances again (lc_wait), so
 * that no job is left in a state with nothing to move it on.
 */
static int
lc_change(struct lifecycle *lc, const char *id, uint32_t from,
    enum job_status to, const struct lc_change *c)
{
	struct store	*st = lc->core->store;
	struct job	 j;
	char		*cause = NULL;
	int		 r;

	if (store_begin(st, &cause) != 0)
		goto fail;
	if ((r = store_job_get(st, id, &j, &cause)) != 0) {
		store_rollback(st);
		if (r == 1)
			return (1);
		goto fail;
	}
	if ((from & (1U << j.status)) == 0) {
		store_rollback(st);
		job_clear(&j);
		return (1);
	}
	if (c->report)
		lc_change_report(lc, &j, c);
	if (c->code != NULL)
		job_add_failure(&j, c->code, c->reason);
	if (c->suspended_cause != NULL) {
		free(j.suspended_cause);
		j.suspended_cause = xstrdup(c->suspended_cause);
	}
	if (store_job_transition(st, &j, to, JOB_BY_DAEMON, STORE_DAEMON,
	    c->reason, &cause) != 0 || store_commit(st, &cause) != 0) {
		store_rollback(st);
		job_clear(&j);
		goto fail;
	}
	log_job(LOG_INFO, id, "now %s", job_status_name(to));
	job_clear(&j);
	return (0);
fail:
	lc_wait(lc, id, STAGE_CODE_LOCAL, cause);
	free(cause);
	return (-1);
}

static int
lc_transition(struct lifecycle *lc, const char *id, uint32_t from,
    enum job_status to, const char *code, const char *reason,
    const char *suspended_cause)
{
	struct lc_change	c;

	memset(&c, 0, sizeof c);
	c.code = code;
	c.reason = reason;
	c.suspended_cause = suspended_cause;
	return (lc_change(lc, id, from, to, &c));
}

/* A stage has ended: forget it (its starter frees it if still starting). */
static void
lc_stage_end(struct lc_stage *st)
{
	TAILQ_REMOVE(&st->lc->stages, st, entry);
	if (st->starting)
		st->ended = 1;
	else
		free(st);
}

static struct lc_stage *
lc_stage_take(struct lifecycle *lc, const char *id, enum lc_kind kind)
{
	struct lc_stage	*st;

	if ((st = lc_find(lc, id)) == NULL || st->kind != kind)
		return (NULL);
	return (st);
}

static void	lc_start(struct lifecycle *, const struct job *, enum lc_kind);

/* ---- the ends of the stages */

/* fetch, generate: the manifest is in the spool, or the job fails. */
static void
lc_manifest_done_cb(const char *id, const struct stage_result *res,
    void *arg)
{
	struct lc_stage		*st = arg;
	struct lifecycle	*lc = st->lc;
	char			*cause = NULL;

	lc_stage_end(st);
	if (res->status == STAGE_RETRY) {
		/* Waits, unless cancelled meanwhile: a cancel wins. */
		lc_wait(lc, id, res->code, res->reason);
		lifecycle_advance(lc, id);
		return;
	}
	if (res->status != STAGE_STOPPED) {
		if (store_job_leave_new(lc->core->store, id,
		    res->status == STAGE_FAILED ? res->code : NULL,
		    res->reason, &cause) == -1) {
			/* Fetched or generated again after the backoff. */
			lc_wait(lc, id, STAGE_CODE_LOCAL, cause);
			free(cause);
			return;
		}
		lc_wait_clear(lc, id);
	}
	lifecycle_advance(lc, id);
}

/*
 * Preparing is over: Suspended when a person must confirm first (the
 * request asks for it, the operation is OP_CONFIRM, or a plan has something
 * to show), with the plan's text as SuspendedCause; else Ready.
 */
static void
lc_prepared(struct lifecycle *lc, const char *id, const char *text)
{
	const struct op_def	*op;
	struct job		 j;
	char			*cause = NULL;
	int			 confirm;

	if (store_job_get(lc->core->store, id, &j, &cause) != 0) {
		if (cause != NULL)
			lc_wait(lc, id, STAGE_CODE_LOCAL, cause);
		free(cause);
		return;
	}
	op = op_find(j.operation);
	confirm = text != NULL || j.confirmation_required || (op != NULL &&
	    (op->flags & OP_CONFIRM));
	job_clear(&j);
	if (confirm)
		lc_transition(lc, id, 1U << JOB_PREPARING, JOB_SUSPENDED, NULL,
		    NULL, text != NULL ? text : "The job requires "
		    "confirmation before it runs");
	else
		lc_transition(lc, id, 1U << JOB_PREPARING, JOB_READY, NULL,
		    NULL, NULL);
}

/* Leave Preparing on a failure: Failed with the stage's reason. */
static void
lc_prepare_failed(struct lifecycle *lc, const char *id,
    const struct stage_result *res)
{
	lc_transition(lc, id, 1U << JOB_PREPARING, JOB_FAILED, res->code,
	    res->reason, NULL);
}

static void
lc_plan_done_cb(const char *id, const struct stage_result *res, void *arg)
{
	struct lc_stage		*st = arg;
	struct lifecycle	*lc = st->lc;

	lc_stage_end(st);
	if (res->status == STAGE_RETRY) {
		/* Waits, unless cancelled meanwhile: a cancel wins. */
		lc_wait(lc, id, res->code, res->reason);
		lifecycle_advance(lc, id);
		return;
	}
	lc_wait_clear(lc, id);
	if (res->status == STAGE_DONE)
		lc_prepared(lc, id, res->text);
	else if (res->status == STAGE_FAILED)
		lc_prepare_failed(lc, id, res);
	lifecycle_advance(lc, id);
}

/*
 * Ready, checked: run it, or fail it at once when the endpoint it writes
 * to cannot do its operation (jobcaps), instead of task by task. A job
 * paused or cancelled during the check is left to lifecycle_advance.
 */
static void
lc_check_done_cb(const char *refusal, void *arg)
{
	struct lc_stage		*st = arg;
	struct lifecycle	*lc = st->lc;
	char			 id[sizeof st->id];
	struct job		 j;
	char			*cause = NULL;

	memcpy(id, st->id, sizeof id);
	lc_stage_end(st);
	if (refusal != NULL) {
		log_job(LOG_WARNING, id, "refused before it runs: %s",
		    refusal);
		lc_transition(lc, id, 1U << JOB_READY, JOB_FAILED,
		    LC_CODE_UNSUPPORTED, refusal, NULL);
		lifecycle_advance(lc, id);
		return;
	}
	if (store_job_get(lc->core->store, id, &j, &cause) != 0) {
		if (cause != NULL)
			lc_wait(lc, id, STAGE_CODE_LOCAL, cause);
		free(cause);
		return;
	}
	if (j.status == JOB_READY && lc_find(lc, id) == NULL)
		lc_start(lc, &j, LC_RUN);
	else
		lifecycle_advance(lc, id);
	job_clear(&j);
}

/* prepare, clone: the tasks are stored; plan them if the operation can. */
static void
lc_prepare_done_cb(const char *id, const struct stage_result *res, void *arg)
{
	struct lc_stage		*st = arg;
	struct lifecycle	*lc = st->lc;
	const struct op_def	*op;
	struct job		 j;
	char			*cause = NULL;

	lc_stage_end(st);
	if (res->status == STAGE_RETRY) {
		/* Waits, unless cancelled meanwhile: a cancel wins. */
		lc_wait(lc, id, res->code, res->reason);
		lifecycle_advance(lc, id);
		return;
	}
	lc_wait_clear(lc, id);
	if (res->status == STAGE_FAILED)
		lc_prepare_failed(lc, id, res);
	else if (res->status == STAGE_DONE) {
		if (store_job_get(lc->core->store, id, &j, &cause) != 0) {
			if (cause != NULL)
				lc_wait(lc, id, STAGE_CODE_LOCAL, cause);
			free(cause);
			return;
		}
		op = op_find(j.operation);
		if (j.status == JOB_PREPARING && op != NULL &&
		    op->plan_task != NULL) {
			lc_start(lc, &j, LC_PLAN);
			job_clear(&j);
			return;
		}
		job_clear(&j);
		lc_prepared(lc, id, NULL);
	}
	lifecycle_advance(lc, id);
}

/*
 * The report is up, or not. Written: the job reaches its terminal state
 * (a Failing job keeps its threshold reason). Not written: tried again
 * after a backoff, LC_REPORT_ATTEMPTS times in all (a local cause, without
 * end); then the job fails with every reason it has (the threshold's, then
 * ReportFailed) and s3batchctl retry-report can start the report again.
 */
static void
lc_report_done_cb(const char *id, const struct stage_result *res, void *arg)
{
	struct lc_stage		*st = arg;
	struct lifecycle	*lc = st->lc;
	struct lc_change	 c;
	struct job		 j;
	char			*cause = NULL;

	lc_stage_end(st);
	memset(&c, 0, sizeof c);
	c.report = 1;
	if (res->status == STAGE_RETRY || (res->status == STAGE_FAILED &&
	    lc_wait_attempts(lc, id) + 1 < LC_REPORT_ATTEMPTS)) {
		lc_wait(lc, id, res->code, res->reason);
		lifecycle_advance(lc, id);
		return;
	}
	lc_wait_clear(lc, id);
	if (res->status == STAGE_FAILED) {
		c.code = res->code;
		c.reason = res->reason;
		lc_change(lc, id, 1U << JOB_COMPLETING | 1U << JOB_FAILING,
		    JOB_FAILED, &c);
		return;
	}
	if (res->status != STAGE_DONE) {
		lifecycle_advance(lc, id);
		return;
	}
	if (store_job_get(lc->core->store, id, &j, &cause) != 0) {
		if (cause != NULL)
			lc_wait(lc, id, STAGE_CODE_LOCAL, cause);
		free(cause);
		return;
	}
	c.report_ok = 1;
	if (j.status == JOB_FAILING)
		lc_change(lc, id, 1U << JOB_FAILING, JOB_FAILED, &c);
	else
		lc_change(lc, id, 1U << JOB_COMPLETING, JOB_COMPLETE, &c);
	job_clear(&j);
}

/* The scheduler let a job go (Paused, Cancelled, Completing, Failing). */
static void
lc_left_cb(const char *id, enum job_status status, void *arg)
{
	struct lifecycle	*lc = arg;
	struct lc_stage		*st;

	if ((st = lc_stage_take(lc, id, LC_RUN)) != NULL)
		lc_stage_end(st);
	if (status == JOB_COMPLETING || status == JOB_FAILING)
		lifecycle_advance(lc, id);
}

/* ---- starting and stopping */

static int
lc_first_bucket_cb(const struct store_task *t, void *arg)
{
	char	**bucket = arg;

	if (*bucket == NULL)
		*bucket = xstrdup(t->bucket);
	return (0);
}

/* Whether the bucket's endpoint may be probed ("probe = no" says not). */
static int
lc_probe_allowed(struct lifecycle *lc, const char *bucket)
{
	const struct cfg_endpoint	*ep;
	const char			*name;

	if ((name = s3_bucket_endpoint(lc->core->s3, bucket)) == NULL)
		return (1);
	ep = cfg_endpoint_find(*lc->core->cfg, name);
	return (ep == NULL || ep->probe);
}

/*
 * The check before a Ready job runs (jobcaps.h): the bucket its operation
 * writes to is the spec's, else the first task's. A job with no task, a
 * spec that does not parse (it was validated when accepted) or a store
 * that cannot be read has nothing to check: NULL, and the job runs.
 */
static struct jobcaps_check *
lc_check_start(struct lifecycle *lc, const struct job *j,
    struct lc_stage *st)
{
	struct core		*core = lc->core;
	struct jobcaps_check	*c = NULL;
	struct json_object	*spec;
	char			*bucket, *cause = NULL;

	if (j->spec == NULL || (spec = json_tokener_parse(j->spec)) == NULL)
		return (NULL);
	if ((bucket = jobcaps_bucket(spec)) == NULL &&
	    store_task_window(core->store, j->rowid, 0, 1, lc_first_bucket_cb,
	    &bucket, &cause) != 0) {
		log_job(LOG_WARNING, j->id, "capability check skipped: %s",
		    cause != NULL ? cause : "tasks unreadable");
		free(cause);
	}
	if (bucket != NULL && lc_probe_allowed(lc, bucket))
		c = jobcaps_check_start(core->base, core->s3, lc->caps, spec,
		    bucket, lc_check_done_cb, st);
	free(bucket);
	json_object_put(spec);
	return (c);
}

static void
lc_start(struct lifecycle *lc, const struct job *j, enum lc_kind kind)
{
	struct core	*core = lc->core;
	struct lc_stage	*st;
	void		*h = NULL;

	st = xcalloc(1, sizeof *st);
	st->lc = lc;
	memcpy(st->id, j->id, sizeof st->id);
	st->kind = kind;
	st->starting = 1;
	TAILQ_INSERT_TAIL(&lc->stages, st, entry);
	log_debug("job %s: %s stage", j->id, lc_kind_names[kind]);
	switch (kind) {
	case LC_FETCH:
		h = stage_fetch_start(core, j->id, lc_manifest_done_cb, st);
		break;
	case LC_GENERATE:
		h = stage_generate_start(core, j->id, lc_manifest_done_cb, st);
		break;
	case LC_PREPARE:
		h = stage_prepare_start(core, j->id, lc_prepare_done_cb, st);
		break;
	case LC_CLONE:
		h = stage_clone_start(core, j->id, lc_prepare_done_cb, st);
		break;
	case LC_PLAN:
		sched_plan_start(lc->sched, j->id, lc_plan_done_cb, st);
		break;
	case LC_CHECK:
		if ((h = lc_check_start(lc, j, st)) == NULL) {
			/* Nothing to check: run it now. */
			st->kind = LC_RUN;
			sched_job_changed(lc->sched, j->id);
		}
		break;
	case LC_RUN:
		sched_job_changed(lc->sched, j->id);
		break;
	case LC_REPORT:
		h = stage_report_start(core, j->id, lc_report_done_cb, st);
		break;
	case LC_NONE:
		break;
	}
	st->starting = 0;
	if (st->ended)
		free(st);
	else
		st->handle = h;
}

static void
lc_stop(struct lifecycle *lc, struct lc_stage *st)
{
	switch (st->kind) {
	case LC_FETCH:
		stage_fetch_stop(st->handle);
		break;
	case LC_GENERATE:
		stage_generate_stop(st->handle);
		break;
	case LC_PREPARE:
	case LC_CLONE:
		stage_prepare_stop(st->handle);
		break;
	case LC_PLAN:
		sched_plan_stop(lc->sched, st->id);
		break;
	case LC_CHECK:
		jobcaps_check_cancel(st->handle);
		break;
	case LC_REPORT:
		stage_report_stop(st->handle);
		break;
	case LC_RUN:
	case LC_NONE:
		break;
	}
	TAILQ_REMOVE(&lc->stages, st, entry);
	free(st);
}

/*
 * Cancelling or Pausing: the run stage winds the job down itself; a
 * manifest still downloading or listing stops at once; prepare and plan
 * notice at their next commit and report back. With nothing running the
 * job ends now.
 */
static void
lc_wind_down(struct lifecycle *lc, const struct job *j)
{
	struct lc_stage	*st;
	enum job_status	 to;

	to = j->status == JOB_PAUSING ? JOB_PAUSED : JOB_CANCELLED;
	/* A cancel always wins over a wait: nothing of the stage runs. */
	lc_wait_clear(lc, j->id);
	if ((st = lc_find(lc, j->id)) != NULL) {
		switch (st->kind) {
		case LC_RUN:
			sched_job_changed(lc->sched, j->id);
			return;
		case LC_FETCH:
		case LC_GENERATE:
		case LC_CHECK:
			lc_stop(lc, st);
			break;
		default:
			return;
		}
	}
	if (lc_transition(lc, j->id, 1U << j->status, to, NULL, NULL,
	    NULL) == 0 && to == JOB_CANCELLED)
		spool_remove(lc_state_dir(lc), j->id);
}

void
lifecycle_advance(struct lifecycle *lc, const char *id)
{
	struct lc_stage	*st;
	struct lc_wait	*w;
	struct job	 j;
	enum lc_kind	 kind;
	char		*cause = NULL;
	int		 r;

	if ((r = store_job_get(lc->core->store, id, &j, &cause)) != 0) {
		if (r == -1) {
			lc_wait(lc, id, STAGE_CODE_LOCAL, cause);
			free(cause);
		} else
			lc_wait_clear(lc, id);
		return;
	}
	if (j.status == JOB_CANCELLING || j.status == JOB_PAUSING) {
		lc_wind_down(lc, &j);
		goto out;
	}
	kind = lc_kind_for(&j);
	if ((st = lc_find(lc, id)) != NULL) {
		/* The run stage follows priority and status changes. */
		if (st->kind == LC_RUN)
			sched_job_changed(lc->sched, id);
		goto out;
	}
	/* A job waiting on its backoff starts when the timer says so. */
	if ((w = lc_wait_find(lc, id)) != NULL && !w->due && kind != LC_NONE)
		goto out;
	if (kind != LC_NONE)
		lc_start(lc, &j, kind);
	else {
		lc_wait_clear(lc, id);
		if (j.status != JOB_NEW && j.status != JOB_PREPARING)
			spool_remove(lc_state_dir(lc), id);
	}
out:
	job_clear(&j);
}

const char *
lifecycle_waiting(struct lifecycle *lc, const char *id, const char **code)
{
	struct lc_wait	*w;

	if ((w = lc_wait_find(lc, id)) == NULL)
		return (NULL);
	*code = w->code;
	return (w->reason);
}

/*
 * retry-report: a job whose report is waiting for its next attempt tries
 * now; a job that failed with ReportFailed goes back to writing it
 * (Failing when it has another reason to fail, else Completing), with the
 * full number of attempts again.
 */
int
lifecycle_retry_report(struct lifecycle *lc, const char *id, const struct store_actor *who,
    char **cause)
{
	struct store	*st = lc->core->store;
	struct lc_stage	*stage;
	struct lc_wait	*w;
	const struct cfg *cfg = *lc->core->cfg;
	struct json_object *fr;
	struct job	 j;
	enum job_status	 to;
	uint64_t	 ran;
	int		 r;

	if ((stage = lc_find(lc, id)) != NULL && stage->kind == LC_REPORT) {
		xasprintf(cause, "the report of job %s is being written now",
		    id);
		return (-1);
	}
	if (store_begin(st, cause) != 0)
		return (-1);
	if ((r = store_job_get(st, id, &j, cause)) != 0) {
		store_rollback(st);
		if (r == 1)
			xasprintf(cause, "no job %s", id);
		return (r == 1 ? 1 : -1);
	}
	if (j.status == JOB_COMPLETING || j.status == JOB_FAILING) {
		store_rollback(st);
		job_clear(&j);
		if ((w = lc_wait_find(lc, id)) != NULL) {
			evtimer_del(w->ev);
			w->due = 1;
		}
		lifecycle_advance(lc, id);
		return (0);
	}
	if (j.status != JOB_FAILED || !job_has_failure(&j, LC_CODE_REPORT)) {
		xasprintf(cause, "job %s is %s and its report did not fail",
		    id, job_status_name(j.status));
		store_rollback(st);
		job_clear(&j);
		return (2);
	}
	/*
	 * Another reason besides ReportFailed, or the threshold exceeded (a
	 * job failed before FailureReasons kept every reason has only
	 * ReportFailed): the job had failed anyway.
	 */
	fr = job_failures(&j);
	ran = j.succeeded + j.failed;
	to = JOB_COMPLETING;
	if (json_object_array_length(fr) > 1 ||
	    (ran >= cfg->failure_min_tasks &&
	    j.failed * 100 > (uint64_t)cfg->failure_percent * ran))
		to = JOB_FAILING;
	json_object_put(fr);
	if (store_job_transition(st, &j, to, JOB_BY_USER, who,
	    "retry-report", cause) != 0 || store_commit(st, cause) != 0) {
		store_rollback(st);
		job_clear(&j);
		return (-1);
	}
	log_job(LOG_INFO, id, "now %s: retry-report by uid %u",
	    job_status_name(to), (unsigned)who->uid);
	job_clear(&j);
	lc_wait_clear(lc, id);
	lifecycle_advance(lc, id);
	return (0);
}

/* ---- timers */

/* Jobs a pass over the timers must act on, collected first. */
struct lc_due {
	struct lifecycle	*lc;
	uint64_t		 now;
	int64_t			 last;
	int			 n;
	char			 (*expired)[37];
	size_t			 nexpired;
	char			 (*purge)[37];
	size_t			 npurge;
};

static int
lc_due_cb(const struct job *j, void *arg)
{
	struct lc_due		*d = arg;
	const struct cfg	*cfg = *d->lc->core->cfg;

	d->last = j->rowid;
	d->n++;
	switch (job_timer_due(j, d->now, cfg->confirm_timeout_ms,
	    cfg->job_retention_ms)) {
	case JOB_TIMER_CONFIRM_EXPIRED:
		d->expired = xreallocarray(d->expired, d->nexpired + 1,
		    sizeof *d->expired);
		memcpy(d->expired[d->nexpired++], j->id, 37);
		break;
	case JOB_TIMER_PURGE:
		d->purge = xreallocarray(d->purge, d->npurge + 1,
		    sizeof *d->purge);
		memcpy(d->purge[d->npurge++], j->id, 37);
		break;
	case JOB_TIMER_NONE:
		break;
	}
	return (0);
}

/* A job not confirmed in time fails, as Amazon's do after 30 days. */
static void
lc_expire(struct lifecycle *lc, const char *id)
{
	char	timeout[32], *reason;

	format_duration((*lc->core->cfg)->confirm_timeout_ms, timeout,
	    sizeof timeout);
	xasprintf(&reason, "The job was not confirmed within %s of being "
	    "suspended", timeout);
	if (lc_transition(lc, id, 1U << JOB_SUSPENDED, JOB_FAILED,
	    "ConfirmationTimeout", reason, NULL) == 0)
		log_job(LOG_NOTICE, id, "failed: %s", reason);
	free(reason);
}

struct lc_purge {
	struct lifecycle	*lc;	/* freed before the bulk thread's ends */
	struct bulk		*bulk;
	char			 id[37];
	char			*state_dir;
	int			 purged;
};

/* Bulk thread only: a purge a full disk refuses is tried at every pass. */
static struct log_limit	lc_purge_ll;

/* Bulk thread: a job and its tasks go. */
static void
lc_purge_run(struct store *st, void *arg)
{
	struct lc_purge	*p = arg;
	struct job	 j;
	char		*cause = NULL;

	if (store_job_get(st, p->id, &j, &cause) != 0) {
		free(cause);
		return;
	}
	if (store_job_purge(st, &j, &cause) != 0) {
		log_limited(&lc_purge_ll, LC_RETRY_LOG_S, LOG_WARNING, j.id,
		    "purge failed (tried again at the next timer pass): %s",
		    cause);
		free(cause);
	} else {
		log_job(LOG_INFO, j.id, "purged after its retention time");
		p->purged = 1;
	}
	job_clear(&j);
}

static void
lc_purge_done(void *arg)
{
	struct lc_purge	*p = arg;

	if (!bulk_stopping(p->bulk))
		p->lc->purging--;
	if (p->purged)
		spool_forget(p->state_dir, p->id);
	free(p->state_dir);
	free(p);
}

static void
lc_timers(struct lifecycle *lc)
{
	struct lc_due	 d;
	struct lc_purge	*p;
	uint32_t	 mask;
	char		*cause = NULL;
	size_t		 i;

	mask = 1U << JOB_SUSPENDED | 1U << JOB_COMPLETE | 1U << JOB_FAILED |
	    1U << JOB_CANCELLED;
	memset(&d, 0, sizeof d);
	d.lc = lc;
	d.now = time_now_ms();
	do {
		d.n = 0;
		if (store_job_list(lc->core->store, mask, d.last, LC_LIST_PAGE,
		    lc_due_cb, &d, &cause) != 0) {
			/* Every timer_interval while it lasts. */
			log_limited(&lc->timer_ll, LC_RETRY_LOG_S, LOG_WARNING,
			    NULL, "timers: %s", cause);
			free(cause);
			break;
		}
	} while (d.n == LC_LIST_PAGE);
	for (i = 0; i < d.nexpired; i++)
		lc_expire(lc, d.expired[i]);
	/*
	 * One round of purges at a time: behind a long prepare on the bulk
	 * thread, every pass would queue the same jobs again.
	 */
	for (i = 0; i < d.npurge && lc->purging == 0; i++) {
		p = xcalloc(1, sizeof *p);
		p->lc = lc;
		p->bulk = lc->core->bulk;
		memcpy(p->id, d.purge[i], sizeof p->id);
		p->state_dir = xstrdup(lc_state_dir(lc));
		bulk_run(lc->core->bulk, lc_purge_run, lc_purge_done, p);
	}
	/* Counted once all are queued: the loop's test sees zero till then. */
	if (lc->purging == 0)
		lc->purging = (unsigned)i;
	free(d.expired);
	free(d.purge);
}

static void
lc_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	lc_timers(arg);
}

void
lifecycle_reload(struct lifecycle *lc)
{
	const struct cfg	*cfg = *lc->core->cfg;
	struct timeval		 tv;

	tv.tv_sec = (time_t)(cfg->timer_interval_ms / 1000);
	tv.tv_usec = (suseconds_t)(cfg->timer_interval_ms % 1000) * 1000;
	event_del(lc->ev_timer);
	event_add(lc->ev_timer, &tv);
	sched_reload(lc->sched);
}

/* ---- start and end */

struct lc_scan {
	char		(*ids)[37];
	enum job_status	*status;
	size_t		 n;
	int64_t		 last;
	int		 page;
};

static int
lc_scan_cb(const struct job *j, void *arg)
{
	struct lc_scan	*sc = arg;

	sc->ids = xreallocarray(sc->ids, sc->n + 1, sizeof *sc->ids);
	sc->status = xreallocarray(sc->status, sc->n + 1,
	    sizeof *sc->status);
	memcpy(sc->ids[sc->n], j->id, 37);
	sc->status[sc->n++] = j->status;
	sc->last = j->rowid;
	sc->page++;
	return (0);
}

void
lifecycle_recover(struct lifecycle *lc)
{
	struct lc_scan	 sc;
	char		*cause = NULL;
	uint32_t	 mask;
	size_t		 i;

	mask = 1U << JOB_NEW | 1U << JOB_PREPARING | 1U << JOB_READY |
	    1U << JOB_ACTIVE | 1U << JOB_PAUSING | 1U << JOB_CANCELLING |
	    1U << JOB_COMPLETING | 1U << JOB_FAILING;
	memset(&sc, 0, sizeof sc);
	do {
		sc.page = 0;
		if (store_job_list(lc->core->store, mask, sc.last,
		    LC_LIST_PAGE, lc_scan_cb, &sc, &cause) != 0)
			fatalx("recovery: %s", cause);
	} while (sc.page == LC_LIST_PAGE);
	/* Nothing runs after a restart: what was winding down has ended. */
	for (i = 0; i < sc.n; i++) {
		if (sc.status[i] == JOB_PAUSING)
			lc_transition(lc, sc.ids[i], 1U << JOB_PAUSING,
			    JOB_PAUSED, NULL, "daemon restarted", NULL);
		else if (sc.status[i] == JOB_CANCELLING)
			lc_transition(lc, sc.ids[i], 1U << JOB_CANCELLING,
			    JOB_CANCELLED, NULL, "daemon restarted", NULL);
	}
	spool_clean(lc_state_dir(lc), lc->core->store);
	for (i = 0; i < sc.n; i++) {
		if (sc.status[i] == JOB_PREPARING)
			log_job(LOG_INFO, sc.ids[i], "preparing again after a "
			    "restart");
		lifecycle_advance(lc, sc.ids[i]);
	}
	free(sc.ids);
	free(sc.status);
	lc_timers(lc);
}

struct lifecycle *
lifecycle_new(struct core *core)
{
	struct lifecycle	*lc;
	struct sched_env	 env;

	lc = xcalloc(1, sizeof *lc);
	lc->core = core;
	TAILQ_INIT(&lc->stages);
	TAILQ_INIT(&lc->waits);
	memset(&env, 0, sizeof env);
	env.base = core->base;
	env.store = core->store;
	env.cfg = core->cfg;
	env.s3 = core->s3;
	env.op_find = op_find;
	env.left_cb = lc_left_cb;
	env.arg = lc;
	lc->sched = sched_new(&env);
	lc->caps = s3_caps_cache_new();
	lc->ev_timer = event_new(core->base, -1, EV_PERSIST, lc_timer_cb, lc);
	lifecycle_reload(lc);
	return (lc);
}

void
lifecycle_free(struct lifecycle *lc)
{
	struct lc_stage	*st;

	if (lc == NULL)
		return;
	while ((st = TAILQ_FIRST(&lc->stages)) != NULL)
		lc_stop(lc, st);
	while (!TAILQ_EMPTY(&lc->waits))
		lc_wait_free(TAILQ_FIRST(&lc->waits));
	sched_free(lc->sched);
	s3_caps_cache_free(lc->caps);
	event_free(lc->ev_timer);
	free(lc);
}

struct sched *
lifecycle_sched(struct lifecycle *lc)
{
	return (lc->sched);
}

const char *
lifecycle_spec_text(struct json_object *spec)
{
	return (json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN|
	    JSON_C_TO_STRING_NOSLASHESCAPE));
}

void
lifecycle_job_init(struct job *j, struct json_object *spec,
    enum job_manifest kind)
{
	const struct op_def	*op;
	struct json_object	*v;
	const char		*s;

	memset(j, 0, sizeof *j);
	uuid_generate_v4(j->id);
	j->status = JOB_NEW;
	j->manifest = kind;
	if (json_object_object_get_ex(spec, "Priority", &v))
		j->priority = json_object_get_int64(v);
	if (json_object_object_get_ex(spec, "ConfirmationRequired", &v))
		j->confirmation_required = json_object_get_boolean(v);
	if ((s = json_path_string(spec, "Description")) != NULL)
		j->description = xstrdup(s);
	j->operation = xstrdup(jobspec_operation_name(spec));
	/*
	 * Some operations (a delete) always wait for confirmation, whatever
	 * the request (or a clone-job override) says: a person sees their
	 * plan first.
	 */
	if ((op = op_find(j->operation)) != NULL && (op->flags & OP_CONFIRM))
		j->confirmation_required = 1;
	if ((s = json_path_string(spec, "ClientRequestToken")) != NULL)
		j->client_token = xstrdup(s);
	j->spec = xstrdup(lifecycle_spec_text(spec));
	j->created_ms = j->status_ms = time_now_ms();
}

int
lifecycle_job_by_token(struct store *st, struct json_object *spec,
    char id[37], char **cause)
{
	const char	*token = json_path_string(spec, "ClientRequestToken");
	struct job	 old;
	int		 r;

	if (token == NULL)
		return (1);
	if ((r = store_job_get_by_token(st, token, &old, cause)) != 0)
		return (r);
	if (strcmp(old.spec, lifecycle_spec_text(spec)) == 0) {
		memcpy(id, old.id, 37);
		r = 0;
	} else {
		xasprintf(cause, "ClientRequestToken \"%s\" was used for a "
		    "different request (job %s)", token, old.id);
		r = 2;
	}
	job_clear(&old);
	return (r);
}

/*
 * A job made by the daemon itself from a CreateJob request whose manifest
 * is on S3 (an inventory configuration's JobTemplate on a finished
 * report): the checks of create-job (jobcheck_create), its idempotency on
 * ClientRequestToken, and its first state, with its tags, in one
 * transaction with the audit record; then it advances like any job.
 */
int
lifecycle_create_job(struct lifecycle *lc, struct json_object *spec,
    const struct store_actor *who, char id[37], char **cause)
{
	struct store		*st = lc->core->store;
	struct json_object	*tags = NULL;
	struct job		 j;

	if (jobcheck_create(spec, 0, cause) != 0)
		return (-1);
	switch (lifecycle_job_by_token(st, spec, id, cause)) {
	case 0:
		return (0);
	case 1:
		break;
	default:
		return (-1);
	}
	lifecycle_job_init(&j, spec, JOB_MANIFEST_S3);
	j.status_reason = xstrdup("Downloading the manifest from S3");
	json_object_object_get_ex(spec, "Tags", &tags);
	if (store_begin(st, cause) != 0)
		goto fail;
	if (store_job_insert(st, &j, who, cause) != 0 ||
	    (tags != NULL && store_tags_set(st, &j, tags, who, cause) != 0)) {
		store_rollback(st);
		goto fail;
	}
	if (store_commit(st, cause) != 0)
		goto fail;
	log_job(LOG_INFO, j.id, "created by the daemon: %s, manifest on S3",
	    j.operation);
	memcpy(id, j.id, 37);
	lifecycle_advance(lc, j.id);
	job_clear(&j);
	return (0);
fail:
	job_clear(&j);
	return (-1);
}
