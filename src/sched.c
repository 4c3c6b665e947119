/*
 * The scheduler. Everything here runs on the event loop. A tracked job
 * holds a window of tasks read from the store (never the whole list) and
 * the tasks it has in flight; results wait in one buffer until the next
 * group commit, after which a job may change state. Status changes re-read
 * the job inside their transaction, so a control command in between
 * (priority, pause, cancel) is never overwritten. When a job leaves the
 * run stage the lifecycle is told (env.left_cb) and decides what follows.
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
#include "s3.h"
#include "sched.h"
#include "store.h"

/*
 * A job holds at most a window of tasks read from the store. The next read
 * tops it up as soon as it falls below half a window, so that a job never
 * waits on its store for a slot it could have taken. A failed read is
 * retried after a pause; it never means "no more tasks".
 */
#define SCHED_WINDOW		512
#define SCHED_REFILL_BELOW	(SCHED_WINDOW / 2)
#define SCHED_REFILL_RETRY_MS	200
/*
 * A failed group commit (full disk, read-only store) is retried after a
 * pause that doubles up to the cap; meanwhile no task starts, so the
 * buffered results are bounded by what was in flight. Its warning is
 * rate-limited to one line per SCHED_COMMIT_LOG_S.
 */
#define SCHED_COMMIT_RETRY_MS	100
#define SCHED_COMMIT_RETRY_MAX_MS (5 * 1000)
#define SCHED_COMMIT_LOG_S	10
/*
 * A task that ends because its endpoint could not be reached is no verdict
 * on its object: it goes back to the job's queue, its attempts untouched,
 * up to this many times in one run (an endpoint that flaps faster than its
 * breaker opens); after that its failure is recorded like any other.
 */
#define SCHED_REQUEUE_MAX	5
#define SCHED_REQUEUE_LOG_S	60
/* A stopping job looks again this often for tasks held by an outage. */
#define SCHED_STOPPING_RECHECK_MS 1000
/* The job tag that names its time windows (cfg.h's [window]). */
#define SCHED_WINDOW_TAG	"s3batchd:window"

struct sched_job;

struct sched_plan;

struct sched_task {
	struct sched_job		*sj;
	struct sched_plan		*sp;		/* a plan's task */
	int64_t				 seq;
	char				*bucket;
	char				*key;
	size_t				 key_len;
	char				*version_id;
	char				*etag;
	int				 attempts;	/* before this run */
	int				 requeues;	/* unreachable, again */
	int				 etag_unsaved;	/* recorded, not stored */
	struct op_run			 run;
	TAILQ_ENTRY(sched_task)		 entry;
};
TAILQ_HEAD(sched_tasks, sched_task);

struct sched_job {
	struct sched			*s;
	struct job			 job;
	const struct op_def		*op;
	void				*ctx;
	char				*role_arn;
	int64_t				 cursor;	/* last seq read */
	int				 read_all;	/* no pending beyond */
	int				 read_failed;	/* retry after a pause */
	struct sched_tasks		 queue;		/* read, not started */
	size_t				 nqueue;
	struct sched_tasks		 running;
	size_t				 inflight;
	uint64_t			 started;	/* for fairness */
	int				 failing;	/* threshold crossed */
	int				 dirty;		/* counters to commit */
	/*
	 * Its s3batchd:window tag (NULL: none) and what the window allows
	 * now: WINDOW_FULL, WINDOW_PAUSE or task starts a second, metered
	 * by a token bucket.
	 */
	char				*windows;
	char				*wname;
	double				 wrate;
	double				 wtokens;
	uint64_t			 wtokens_ms;
	TAILQ_ENTRY(sched_job)		 entry;
};
TAILQ_HEAD(sched_jobs, sched_job);

struct sched_result {
	/* Tracked, or retired until its results are committed. */
	struct sched_job		*sj;
	struct store_task		 t;	/* points at the strings below */
	char				*code;
	char				*message;
	char				*etag;
};

/* A recorded ETag waiting for the plan's next commit. */
struct sched_etag {
	int64_t				 seq;
	char				*etag;
};

/* A Preparing job being planned (op_def.plan_task over every task). */
struct sched_plan {
	struct sched			*s;
	struct job			 job;
	const struct op_def		*op;
	void				*ctx;
	void				*plan;
	char				*role_arn;
	int64_t				 cursor;
	int				 read_all;
	int				 read_failed;	/* retry after a pause */
	int				 commit_failed;	/* likewise */
	struct sched_tasks		 queue;
	size_t				 nqueue;
	struct sched_tasks		 running;
	size_t				 inflight;
	uint64_t			 planned;
	struct sched_etag		*etags;
	size_t				 netags;
	size_t				 setags;
	int				 left;		/* not Preparing */
	uint64_t			 t0;
	stage_done_cb			 done_cb;
	void				*arg;
	TAILQ_ENTRY(sched_plan)		 entry;
};
TAILQ_HEAD(sched_plans, sched_plan);

struct sched {
	struct sched_env		 env;
	struct sched_jobs		 jobs;
	/* Untracked, with results or counters the store has not taken yet. */
	struct sched_jobs		 retired;
	struct sched_plans		 plans;
	size_t				 inflight;
	struct sched_result		*results;
	size_t				 nresults;
	size_t				 sresults;
	struct event			*ev_commit;
	struct event			*ev_pump;
	struct event			*ev_drain;
	struct event			*ev_drain_poll;
	struct event			*ev_refill;	/* read retry */
	struct event			*ev_stopping;	/* pause/cancel recheck */
	struct event			*ev_window;	/* each minute */
	struct event			*ev_wtoken;	/* a window's next start */
	int				 draining;
	void				 (*drained)(void *);
	void				*drained_arg;
	int				 commit_failing; /* retry pending */
	uint64_t			 commit_retry_ms;
	uint64_t			 commit_failures;
	struct log_limit		 commit_log;
	struct log_limit		 requeue_log;
	struct sched_stats		 stats;
};

static void	sched_pump(struct sched *);
static void	sched_plan_pump(struct sched *);
static void	sched_check(struct sched_job *);
static void	sched_untrack(struct sched_job *);
static void	sched_stop_waiting(struct sched_job *);

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

static void
sched_retired_free(struct sched_job *sj)
{
	TAILQ_REMOVE(&sj->s->retired, sj, entry);
	job_clear(&sj->job);
	free(sj);
}

static int
sched_dirty(struct sched *s)
{
	struct sched_job	*sj;

	TAILQ_FOREACH(sj, &s->jobs, entry) {
		if (sj->dirty)
			return (1);
	}
	return (!TAILQ_EMPTY(&s->retired));
}

/* Write the buffered results and counters; 0 when the store took them. */
static int
sched_commit_tx(struct sched *s, char **cause)
{
	struct store		*st = s->env.store;
	struct sched_jobs	*lists[] = { &s->jobs, &s->retired };
	struct sched_job	*sj;
	size_t			 i, l;

	if (store_begin(st, cause) != 0)
		return (-1);
	for (i = 0; i < s->nresults; i++) {
		if (store_task_result(st, s->results[i].sj->job.rowid,
		    &s->results[i].t, cause) != 0)
			goto fail;
	}
	for (l = 0; l < nitems(lists); l++) {
		TAILQ_FOREACH(sj, lists[l], entry) {
			if (sj->dirty &&
			    store_job_progress(st, &sj->job, cause) != 0)
				goto fail;
		}
	}
	if (store_commit(st, cause) != 0)
		goto fail;
	return (0);
fail:
	store_rollback(st);
	return (-1);
}

static void
sched_arm(struct event *ev, uint64_t ms)
{
	struct timeval	 tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

/*
 * Commit buffered results and the counters of the jobs they touch. On a
 * failure everything stays buffered, no task starts (sched_pump) and the
 * commit timer retries with backoff; nothing is lost or reported twice.
 */
static int
sched_commit(struct sched *s)
{
	struct sched_job	*sj;
	char			*cause = NULL;
	size_t			 i;

	if (s->nresults == 0 && !sched_dirty(s))
		return (0);
	if (sched_commit_tx(s, &cause) != 0)
		goto fail;
	for (i = 0; i < s->nresults; i++)
		sched_result_clear(&s->results[i]);
	s->nresults = 0;
	TAILQ_FOREACH(sj, &s->jobs, entry)
		sj->dirty = 0;
	while (!TAILQ_EMPTY(&s->retired))
		sched_retired_free(TAILQ_FIRST(&s->retired));
	s->stats.commits++;
	if (s->commit_failing) {
		log_info("scheduler: results committed again after %llu "
		    "failed attempts; tasks start again",
		    (unsigned long long)s->commit_failures);
		s->commit_failing = 0;
		s->commit_failures = 0;
		sched_kick(s);
	}
	return (0);
fail:
	if (!s->commit_failing) {
		s->commit_failing = 1;
		s->commit_retry_ms = SCHED_COMMIT_RETRY_MS;
	} else if ((s->commit_retry_ms *= 2) > SCHED_COMMIT_RETRY_MAX_MS)
		s->commit_retry_ms = SCHED_COMMIT_RETRY_MAX_MS;
	s->commit_failures++;
	log_limited(&s->commit_log, SCHED_COMMIT_LOG_S, LOG_WARNING, NULL,
	    "scheduler: committing %zu results: %s (again in %llu ms; no "
	    "task starts meanwhile)", s->nresults, cause,
	    (unsigned long long)s->commit_retry_ms);
	free(cause);
	evtimer_del(s->ev_commit);
	sched_arm(s->ev_commit, s->commit_retry_ms);
	return (-1);
}

/* A commit a decision waits for; while commits fail, the retry's turn. */
static int
sched_commit_now(struct sched *s)
{
	if (s->commit_failing)
		return (-1);
	return (sched_commit(s));
}

static void
sched_commit_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sched		*s = arg;
	struct sched_job	*sj, *next;

	if (sched_commit(s) != 0)
		return;
	TAILQ_FOREACH_SAFE(sj, &s->jobs, entry, next)
		sched_check(sj);
	sched_kick(s);
}

static void
sched_arm_commit(struct sched *s)
{
	const struct cfg	*cfg = (*s->env.cfg);

	if (evtimer_pending(s->ev_commit, NULL))
		return;
	sched_arm(s->ev_commit, cfg->commit_interval_ms);
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
	struct store	*st = sj->s->env.store;
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
	if (code != NULL)
		job_add_failure(&fresh, code, reason);
	if (store_job_transition(st, &fresh, to, JOB_BY_DAEMON,
	    STORE_DAEMON, reason, &cause) != 0 ||
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

/* A task read from the store, owning copies of its strings. */
static struct sched_task *
sched_task_new(const struct store_task *t)
{
	struct sched_task	*st;

	st = xcalloc(1, sizeof *st);
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
	return (st);
}

static int
sched_window_cb(const struct store_task *t, void *arg)
{
	struct sched_job	*sj = arg;
	struct sched_task	*st;

	st = sched_task_new(t);
	st->sj = sj;
	TAILQ_INSERT_TAIL(&sj->queue, st, entry);
	sj->nqueue++;
	sj->cursor = t->seq;
	return (0);
}

static void
sched_refill_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sched		*s = arg;
	struct sched_job	*sj;
	struct sched_plan	*sp;

	TAILQ_FOREACH(sj, &s->jobs, entry)
		sj->read_failed = 0;
	TAILQ_FOREACH(sp, &s->plans, entry)
		sp->read_failed = sp->commit_failed = 0;
	sched_kick(s);
}

/* A window read failed: read again after a pause, not at once. */
static void
sched_refill_later(struct sched *s)
{
	struct timeval	 tv;

	if (s->ev_refill == NULL)
		s->ev_refill = evtimer_new(s->env.base, sched_refill_retry_cb,
		    s);
	if (!evtimer_pending(s->ev_refill, NULL)) {
		tv.tv_sec = SCHED_REFILL_RETRY_MS / 1000;
		tv.tv_usec = (SCHED_REFILL_RETRY_MS % 1000) * 1000;
		evtimer_add(s->ev_refill, &tv);
	}
}

/*
 * Top a job's window up once it is below half full. Only a read that comes
 * back short ends the job's tasks; a failed one (store busy, I/O error)
 * keeps what was read, leaves the job unfinished and retries after a pause.
 */
static int
sched_refill(struct sched_job *sj)
{
	struct sched	*s = sj->s;
	size_t		 want, before = sj->nqueue;
	char		*cause = NULL;

	if (sj->read_all || sj->read_failed ||
	    sj->nqueue >= SCHED_REFILL_BELOW)
		return (0);
	want = SCHED_WINDOW - sj->nqueue;
	if (store_task_window(s->env.store, sj->job.rowid, sj->cursor,
	    (int)want, sched_window_cb, sj, &cause) != 0) {
		log_job(LOG_WARNING, sj->job.id, "reading tasks (again in "
		    "%d ms): %s", SCHED_REFILL_RETRY_MS, cause);
		free(cause);
		sj->read_failed = 1;
		sched_refill_later(s);
		return (-1);
	}
	if (sj->nqueue - before < want)
		sj->read_all = 1;
	return (0);
}

/*
 * The endpoint could not be reached: no verdict on the object. The task
 * goes back to the head of its job's queue with its stored attempts, and
 * the failure threshold never sees it.
 */
static void
sched_task_requeue(struct sched_task *t, const char *code,
    const char *message)
{
	struct sched_job	*sj = t->sj;
	struct sched		*s = sj->s;

	TAILQ_REMOVE(&sj->running, t, entry);
	sj->inflight--;
	s->inflight--;
	cfg_free(t->run.cfg);
	t->run.cfg = NULL;
	/* Its first touch's ETag stays the one later requests check. */
	if (t->etag == NULL && t->run.recorded_etag != NULL) {
		t->etag = t->run.recorded_etag;
		t->etag_unsaved = 1;
	} else
		free(t->run.recorded_etag);
	t->run.recorded_etag = NULL;
	t->requeues++;
	TAILQ_INSERT_HEAD(&sj->queue, t, entry);
	sj->nqueue++;
	s->stats.tasks_requeued++;
	log_limited(&s->requeue_log, SCHED_REQUEUE_LOG_S, LOG_WARNING,
	    sj->job.id, "task %lld could not reach its endpoint (%s: %s): "
	    "pending again, not counted as failed", (long long)t->seq, code,
	    message != NULL ? message : "");
	/* The pump starts it again, or settles a job that is stopping. */
	sched_kick(s);
}

static void
sched_task_done(struct op_run *run, enum task_state state, int status,
    const char *code, const char *message)
{
	struct sched_task	*t = run->owner;
	struct sched_job	*sj = t->sj;
	struct sched		*s = sj->s;
	struct sched_result	*r;
	const struct cfg	*cfg = (*s->env.cfg);
	uint64_t		 ran;

	if (state != TASK_SUCCEEDED && status == 0 &&
	    s3_error_unreachable(code) && t->requeues < SCHED_REQUEUE_MAX) {
		sched_task_requeue(t, code, message);
		return;
	}
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
	else if (t->etag_unsaved)
		r->etag = xstrdup(t->etag);
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
	/* The next window is read before this one runs out. */
	if (!s->draining && sj->job.status == JOB_ACTIVE && !sj->failing)
		sched_refill(sj);
	if (s->nresults >= (size_t)cfg->commit_batch)
		sched_commit_now(s);
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
	if (sj->wrate > 0)
		sj->wtokens -= 1;
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
	t->run.s3 = s->env.s3;
	t->run.cfg = cfg_ref((*s->env.cfg));
	t->run.done = sched_task_done;
	t->run.owner = t;
	sj->op->start(&t->run);
}

/*
 * A job's time window: its tag names windows (cfg.h); the first that holds
 * the time says whether it starts tasks and how many a second. Read from
 * the tags when the job is taken up or changes and each minute (a tag put
 * while it runs applies within a minute).
 */
static void
sched_timewin_load(struct sched_job *sj)
{
	struct json_object	*tags = NULL, *t, *k, *v;
	char			*cause = NULL;
	size_t			 i, n;

	free(sj->windows);
	sj->windows = NULL;
	if (store_tags_get(sj->s->env.store, sj->job.rowid, &tags,
	    &cause) != 0) {
		log_job(LOG_WARNING, sj->job.id, "scheduler: reading its "
		    "tags: %s", cause);
		free(cause);
		return;
	}
	n = tags != NULL ? json_object_array_length(tags) : 0;
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(tags, i);
		if (json_object_object_get_ex(t, "Key", &k) &&
		    json_object_object_get_ex(t, "Value", &v) &&
		    strcmp(json_object_get_string(k), SCHED_WINDOW_TAG) == 0) {
			sj->windows = xstrdup(json_object_get_string(v));
			break;
		}
	}
	json_object_put(tags);
}

static void
sched_timewin_apply(struct sched_job *sj, time_t now)
{
	const char	*name;
	double		 rate;

	rate = sj->windows == NULL ? WINDOW_FULL :
	    cfg_window_rate(*sj->s->env.cfg, sj->windows, now, &name);
	if (sj->windows == NULL)
		name = NULL;
	if (rate == sj->wrate && (name == NULL ? sj->wname == NULL :
	    sj->wname != NULL && strcmp(name, sj->wname) == 0))
		return;
	if (rate == WINDOW_PAUSE)
		log_job(LOG_INFO, sj->job.id, "window %s: no task starts "
		    "until it closes", name);
	else if (rate > 0)
		log_job(LOG_INFO, sj->job.id, "window %s: at most %.1f task "
		    "starts a second", name, rate);
	else if (sj->wrate == WINDOW_PAUSE || sj->wrate > 0)
		log_job(LOG_INFO, sj->job.id, "%s%s: tasks start at full rate",
		    name != NULL ? "window " : "out of its windows",
		    name != NULL ? name : "");
	sj->wrate = rate;
	free(sj->wname);
	sj->wname = name != NULL ? xstrdup(name) : NULL;
	sj->wtokens = 1;
	sj->wtokens_ms = time_mono_ms();
	sched_kick(sj->s);
}

/*
 * The minute timer runs while there are windows to follow: jobs tracked
 * and [window] sections configured. (An idle daemon, or one without
 * windows, has no such timer.)
 */
static void
sched_timewin_arm(struct sched *s)
{
	struct timeval	tv;

	if (TAILQ_EMPTY(&s->jobs) || TAILQ_EMPTY(&(*s->env.cfg)->windows)) {
		evtimer_del(s->ev_window);
		return;
	}
	if (evtimer_pending(s->ev_window, NULL))
		return;
	tv.tv_sec = 60 - time(NULL) % 60;
	tv.tv_usec = 0;
	evtimer_add(s->ev_window, &tv);
}

static void
sched_timewin_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sched		*s = arg;
	struct sched_job	*sj;
	time_t			 now = time(NULL);

	TAILQ_FOREACH(sj, &s->jobs, entry) {
		sched_timewin_load(sj);
		sched_timewin_apply(sj, now);
	}
	sched_timewin_arm(s);
}

static void
sched_wtoken_cb(evutil_socket_t fd, short events, void *arg)
{
	sched_kick(arg);
}

/* Whether a job's window lets it start a task now (a rate: a token). */
static int
sched_timewin_open(struct sched_job *sj)
{
	uint64_t	now, wait;

	if (sj->wrate == WINDOW_PAUSE)
		return (0);
	if (sj->wrate < 0)
		return (1);
	now = time_mono_ms();
	sj->wtokens += (double)(now - sj->wtokens_ms) * sj->wrate / 1000;
	if (sj->wtokens > 1)
		sj->wtokens = 1;
	sj->wtokens_ms = now;
	if (sj->wtokens >= 1)
		return (1);
	if (!evtimer_pending(sj->s->ev_wtoken, NULL)) {
		wait = (uint64_t)((1 - sj->wtokens) * 1000 / sj->wrate) + 1;
		sched_arm(sj->s->ev_wtoken, wait);
	}
	return (0);
}

/* Whether a job may start tasks now. */
static int
sched_runnable(struct sched_job *sj)
{
	if (sj->job.status != JOB_ACTIVE || sj->failing)
		return (0);
	if (!sched_timewin_open(sj))
		return (0);
	/* With nothing read, a failed read waits for its retry. */
	return (sj->nqueue != 0 || (!sj->read_all && !sj->read_failed));
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
	size_t			 max = (size_t)(*s->env.cfg)->max_inflight;

	/* While results cannot be committed, none are added. */
	while (!s->draining && !s->commit_failing && s->inflight < max &&
	    (sj = sched_pick(s)) != NULL) {
		sched_refill(sj);
		if (sj->nqueue == 0) {
			/*
			 * Read to the end: done when its tasks in flight are.
			 * Else the read failed and the job waits for the retry
			 * (no longer runnable, so this loop ends).
			 */
			if (sj->read_all)
				sched_check(sj);
			continue;
		}
		sched_task_start(sj, TAILQ_FIRST(&sj->queue));
	}
}

static void
sched_pump_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sched		*s = arg;
	struct sched_job	*sj, *next;

	sched_plan_pump(s);
	sched_pump(s);
	TAILQ_FOREACH_SAFE(sj, &s->jobs, entry, next) {
		if (sj->inflight == 0)
			sched_check(sj);
	}
}

/* Out of the run stage: the lifecycle decides what follows. */
static void
sched_leave(struct sched_job *sj)
{
	struct sched	*s = sj->s;
	enum job_status	 status = sj->job.status;
	char		 id[sizeof sj->job.id];

	memcpy(id, sj->job.id, sizeof id);
	sched_untrack(sj);
	if (s->env.left_cb != NULL)
		s->env.left_cb(id, status, s->env.arg);
}

/*
 * A pause or a cancel does not wait for an endpoint that is down: the
 * tasks whose calls wait for it are stopped unrecorded and stay pending
 * (a resumed job runs them).
 */
static void
sched_stop_waiting(struct sched_job *sj)
{
	struct sched		*s = sj->s;
	struct sched_task	*t, *next;
	size_t			 n = 0;

	TAILQ_FOREACH_SAFE(t, &sj->running, entry, next) {
		if (!s3_call_waiting(t->run.call))
			continue;
		s3_call_cancel(t->run.call);
		sj->op->cancel(&t->run);
		TAILQ_REMOVE(&sj->running, t, entry);
		sj->inflight--;
		s->inflight--;
		sched_task_free(t);
		n++;
	}
	if (n != 0)
		log_job(LOG_INFO, sj->job.id, "%zu tasks waiting for an "
		    "unreachable endpoint stopped; they stay pending", n);
}

/*
 * The decisions that wait for a job's tasks in flight to end: pause,
 * cancel, the threshold, completion. Results are committed first.
 */
static void
sched_stopping_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sched		*s = arg;
	struct sched_job	*sj, *next;

	TAILQ_FOREACH_SAFE(sj, &s->jobs, entry, next) {
		if (sj->job.status == JOB_PAUSING ||
		    sj->job.status == JOB_CANCELLING)
			sched_check(sj);
	}
}

static void
sched_check(struct sched_job *sj)
{
	struct sched	*s = sj->s;

	if ((sj->job.status == JOB_PAUSING ||
	    sj->job.status == JOB_CANCELLING) && sj->inflight != 0) {
		sched_stop_waiting(sj);
		/* An endpoint may go down under those still in flight. */
		if (sj->inflight != 0 && !s->draining &&
		    !evtimer_pending(s->ev_stopping, NULL))
			sched_arm(s->ev_stopping, SCHED_STOPPING_RECHECK_MS);
	}
	if (sj->inflight != 0 || s->draining)
		return;
	switch (sj->job.status) {
	case JOB_PAUSING:
	case JOB_CANCELLING:
		if (sched_commit_now(s) != 0)
			return;
		sched_transition(sj, sj->job.status, sj->job.status ==
		    JOB_PAUSING ? JOB_PAUSED : JOB_CANCELLED, NULL, NULL);
		sched_leave(sj);
		return;
	case JOB_ACTIVE:
		if (sj->failing) {
			if (sched_commit_now(s) != 0)
				return;
			if (sched_transition(sj, JOB_ACTIVE, JOB_FAILING, NULL,
			    NULL) == 0)
				sched_leave(sj);
			return;
		}
		if (sj->nqueue != 0 || !sj->read_all)
			return;
		if (sched_commit_now(s) != 0)
			return;
		if (sched_transition(sj, JOB_ACTIVE, JOB_COMPLETING, NULL,
		    NULL) == 0)
			sched_leave(sj);
		return;
	default:
		/* Paused, Cancelled, Completing...: not run here any more. */
		sched_leave(sj);
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
			sched_commit_now(s);
			break;
		}
	}
	while ((t = TAILQ_FIRST(&sj->queue)) != NULL) {
		TAILQ_REMOVE(&sj->queue, t, entry);
		sched_task_free(t);
	}
	TAILQ_REMOVE(&s->jobs, sj, entry);
	s->stats.jobs--;
	sched_timewin_arm(s);
	if (sj->op != NULL)
		sj->op->free(sj->ctx);
	sj->op = NULL;
	sj->ctx = NULL;
	free(sj->role_arn);
	sj->role_arn = NULL;
	free(sj->windows);
	sj->windows = NULL;
	free(sj->wname);
	sj->wname = NULL;
	/*
	 * Results or counters the store has not taken keep the job (its
	 * rowid and counters) until a commit does: freeing it here left the
	 * buffered results pointing at freed memory.
	 */
	for (i = 0; i < s->nresults; i++) {
		if (s->results[i].sj == sj)
			break;
	}
	if (i < s->nresults || sj->dirty) {
		TAILQ_INSERT_TAIL(&s->retired, sj, entry);
		return;
	}
	job_clear(&sj->job);
	free(sj);
}

/* A job's operation, its compiled parameters and its role. */
static int
sched_compile(struct sched *s, const struct job *j, const struct op_def **op,
    void **ctx, char **role_arn, char **cause)
{
	struct json_object	*spec, *ops, *params, *role;
	int			 r = -1;

	spec = json_tokener_parse(j->spec);
	if ((*op = s->env.op_find(j->operation)) == NULL) {
		xasprintf(cause, "operation %s is not supported by this "
		    "s3batchd yet", j->operation);
		goto out;
	}
	if (spec == NULL || !json_object_object_get_ex(spec, "Operation",
	    &ops) || !json_object_object_get_ex(ops, j->operation, &params)) {
		xasprintf(cause, "the job's Operation is unreadable");
		goto out;
	}
	if ((*op)->compile(params, spec, ctx, cause) != 0)
		goto out;
	if (json_object_object_get_ex(spec, "RoleArn", &role))
		*role_arn = xstrdup(json_object_get_string(role));
	r = 0;
out:
	json_object_put(spec);
	return (r);
}

/* Start running a job the store says is Ready or Active. */
static struct sched_job *
sched_track(struct sched *s, struct job *j)
{
	struct sched_job	*sj, *o;
	char			*cause = NULL;
	uint64_t		 least = UINT64_MAX;

	sj = xcalloc(1, sizeof *sj);
	sj->s = s;
	sj->job = *j;
	memset(j, 0, sizeof *j);
	TAILQ_INIT(&sj->queue);
	TAILQ_INIT(&sj->running);
	if (sched_compile(s, &sj->job, &sj->op, &sj->ctx, &sj->role_arn,
	    &cause) != 0)
		goto fail;
	/* A newcomer joins its priority's round where the others are. */
	TAILQ_FOREACH(o, &s->jobs, entry) {
		if (o->job.priority == sj->job.priority && o->started < least)
			least = o->started;
	}
	sj->started = least == UINT64_MAX ? 0 : least;
	sj->wrate = WINDOW_FULL;
	sched_timewin_load(sj);
	sched_timewin_apply(sj, time(NULL));
	TAILQ_INSERT_TAIL(&s->jobs, sj, entry);
	s->stats.jobs++;
	sched_timewin_arm(s);
	return (sj);
fail:
	log_job(LOG_WARNING, sj->job.id, "cannot run: %s", cause);
	TAILQ_INSERT_TAIL(&s->jobs, sj, entry);
	s->stats.jobs++;
	sj->op = NULL;
	if (sj->job.status == JOB_READY)
		sched_transition(sj, JOB_READY, JOB_FAILED,
		    "UnsupportedOperation", cause);
	free(cause);
	sched_leave(sj);
	return (NULL);
}

void
sched_job_changed(struct sched *s, const char *id)
{
	struct sched_job	*sj;
	struct job		 j;
	char			*cause = NULL;
	int			 r;

	if ((r = store_job_get(s->env.store, id, &j, &cause)) != 0) {
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
		sched_timewin_load(sj);
		sched_timewin_apply(sj, time(NULL));
		/* Also when tasks are in flight: some may wait for nothing. */
		sched_check(sj);
		sched_kick(s);
		return;
	}
	switch (j.status) {
	case JOB_READY:
	case JOB_ACTIVE:
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
	sched_kick(s);
}

/* ---- the plan stage */

static void
sched_plan_free(struct sched_plan *sp)
{
	struct sched_task	*t;
	size_t			 i;

	while ((t = TAILQ_FIRST(&sp->running)) != NULL) {
		if (t->run.call != NULL)
			s3_call_cancel(t->run.call);
		sp->op->cancel(&t->run);
		TAILQ_REMOVE(&sp->running, t, entry);
		sp->s->inflight--;
		sched_task_free(t);
	}
	while ((t = TAILQ_FIRST(&sp->queue)) != NULL) {
		TAILQ_REMOVE(&sp->queue, t, entry);
		sched_task_free(t);
	}
	for (i = 0; i < sp->netags; i++)
		free(sp->etags[i].etag);
	free(sp->etags);
	if (sp->plan != NULL)
		sp->op->plan_free(sp->plan);
	if (sp->ctx != NULL)
		sp->op->free(sp->ctx);
	free(sp->role_arn);
	job_clear(&sp->job);
	TAILQ_REMOVE(&sp->s->plans, sp, entry);
	free(sp);
}

/*
 * Commit the recorded ETags if the job is still Preparing; a job that left
 * Preparing (cancelled) stops its plan. A store that cannot take them
 * (full disk) keeps them buffered: the plan starts no task and tries again
 * after a pause, like a failed read. -1 while they wait.
 */
static int
sched_plan_commit(struct sched_plan *sp)
{
	struct store	*st = sp->s->env.store;
	struct job	 now;
	char		*cause = NULL;
	size_t		 i;
	int		 r;

	if (store_begin(st, &cause) != 0)
		goto fail;
	if ((r = store_job_get(st, sp->job.id, &now, &cause)) != 0) {
		store_rollback(st);
		if (r == 1) {
			sp->left = 1;
			return (0);
		}
		goto fail;
	}
	r = now.status == JOB_PREPARING;
	job_clear(&now);
	if (!r) {
		store_rollback(st);
		sp->left = 1;
		return (0);
	}
	for (i = 0; i < sp->netags; i++) {
		if (store_task_etag(st, sp->job.rowid, sp->etags[i].seq,
		    sp->etags[i].etag, &cause) != 0) {
			store_rollback(st);
			goto fail;
		}
	}
	if (store_commit(st, &cause) != 0) {
		store_rollback(st);
		goto fail;
	}
	for (i = 0; i < sp->netags; i++)
		free(sp->etags[i].etag);
	sp->netags = 0;
	return (0);
fail:
	log_limited(&sp->s->commit_log, SCHED_COMMIT_LOG_S, LOG_WARNING,
	    sp->job.id, "plan: storing %zu ETags (again in %d ms; no task "
	    "starts meanwhile): %s", sp->netags, SCHED_REFILL_RETRY_MS, cause);
	free(cause);
	sp->commit_failed = 1;
	sched_refill_later(sp->s);
	return (-1);
}

static void
sched_plan_task_done(struct op_run *run, enum task_state state, int status,
    const char *code, const char *message)
{
	struct sched_task	*t = run->owner;
	struct sched_plan	*sp = t->sp;
	struct sched		*s = sp->s;

	/* The task stays pending: only its first touch's ETag is kept. */
	if (t->etag == NULL && run->recorded_etag != NULL) {
		if (sp->netags == sp->setags) {
			sp->setags = sp->setags == 0 ? 256 : sp->setags * 2;
			sp->etags = xreallocarray(sp->etags, sp->setags,
			    sizeof *sp->etags);
		}
		sp->etags[sp->netags].seq = t->seq;
		sp->etags[sp->netags++].etag = xstrdup(run->recorded_etag);
	}
	TAILQ_REMOVE(&sp->running, t, entry);
	sp->inflight--;
	s->inflight--;
	sp->planned++;
	sched_task_free(t);
	if (sp->netags >= (size_t)(*s->env.cfg)->commit_batch &&
	    !sp->commit_failed)
		sched_plan_commit(sp);
	sched_kick(s);
}

static int
sched_plan_window_cb(const struct store_task *t, void *arg)
{
	struct sched_plan	*sp = arg;
	struct sched_task	*st;

	st = sched_task_new(t);
	st->sp = sp;
	TAILQ_INSERT_TAIL(&sp->queue, st, entry);
	sp->nqueue++;
	sp->cursor = t->seq;
	return (0);
}

static void
sched_plan_task_start(struct sched_plan *sp, struct sched_task *t)
{
	struct sched	*s = sp->s;

	TAILQ_REMOVE(&sp->queue, t, entry);
	sp->nqueue--;
	TAILQ_INSERT_TAIL(&sp->running, t, entry);
	sp->inflight++;
	s->inflight++;
	memset(&t->run, 0, sizeof t->run);
	t->run.bucket = t->bucket;
	t->run.key = t->key;
	t->run.key_len = t->key_len;
	t->run.version_id = t->version_id;
	t->run.etag = t->etag;
	t->run.role_arn = sp->role_arn;
	t->run.job_id = sp->job.id;
	t->run.ctx = sp->ctx;
	t->run.plan = sp->plan;
	t->run.s3 = s->env.s3;
	t->run.cfg = cfg_ref(*s->env.cfg);
	t->run.done = sched_plan_task_done;
	t->run.owner = t;
	sp->op->plan_task(&t->run);
}

/*
 * The plan has ended (done, or stopped because its job left Preparing):
 * report and forget it. A store that fails is waited for, not a failure.
 */
static void
sched_plan_end(struct sched_plan *sp)
{
	struct stage_result	 res;
	stage_done_cb		 done_cb = sp->done_cb;
	void			*arg = sp->arg;
	char			 id[sizeof sp->job.id], *text = NULL;

	memset(&res, 0, sizeof res);
	memcpy(id, sp->job.id, sizeof id);
	if (sp->left)
		res.status = STAGE_STOPPED;
	else {
		text = sp->op->plan_text(sp->plan);
		log_job(LOG_INFO, id, "planned %llu tasks in %llu ms: %s",
		    (unsigned long long)sp->planned,
		    (unsigned long long)(time_mono_ms() - sp->t0), text);
		res.status = STAGE_DONE;
		res.text = text;
	}
	done_cb(id, &res, arg);
	free(text);
}

static void
sched_plan_pump(struct sched *s)
{
	struct sched_plan	*sp, *next;
	size_t			 max = (size_t)(*s->env.cfg)->max_inflight;
	char			*cause = NULL;

	TAILQ_FOREACH_SAFE(sp, &s->plans, entry, next) {
		/* Recorded ETags go to the store before more are recorded. */
		if (sp->netags >= (size_t)(*s->env.cfg)->commit_batch &&
		    !sp->commit_failed && !sp->left)
			sched_plan_commit(sp);
		while (!s->draining && !sp->left && !sp->commit_failed &&
		    s->inflight < max) {
			if (sp->nqueue == 0 && !sp->read_all &&
			    !sp->read_failed) {
				/* A window's ETags go before the next one. */
				if (sp->netags != 0 &&
				    sched_plan_commit(sp) != 0)
					break;
				if (sp->left)
					break;
				/* As for runs, a failed read is retried. */
				if (store_task_window(s->env.store,
				    sp->job.rowid, sp->cursor, SCHED_WINDOW,
				    sched_plan_window_cb, sp, &cause) != 0) {
					log_job(LOG_WARNING, sp->job.id,
					    "plan: reading tasks (again in %d "
					    "ms): %s", SCHED_REFILL_RETRY_MS,
					    cause);
					free(cause);
					cause = NULL;
					sp->read_failed = 1;
					sched_refill_later(s);
					break;
				}
				if (sp->nqueue < SCHED_WINDOW)
					sp->read_all = 1;
			}
			if (sp->nqueue == 0)
				break;
			sched_plan_task_start(sp, TAILQ_FIRST(&sp->queue));
		}
		if (sp->inflight != 0 || s->draining)
			continue;
		/* Done: its last ETags stored first, however long that takes. */
		if (!sp->left && sp->read_all && sp->nqueue == 0 &&
		    sp->netags != 0 &&
		    (sp->commit_failed || sched_plan_commit(sp) != 0))
			continue;
		if (sp->left || (sp->read_all && sp->nqueue == 0)) {
			sched_plan_end(sp);
			sched_plan_free(sp);
		}
	}
}

void
sched_plan_start(struct sched *s, const char *id, stage_done_cb done_cb,
    void *arg)
{
	struct sched_plan	*sp;
	char			*cause = NULL;

	sp = xcalloc(1, sizeof *sp);
	sp->s = s;
	sp->done_cb = done_cb;
	sp->arg = arg;
	sp->t0 = time_mono_ms();
	TAILQ_INIT(&sp->queue);
	TAILQ_INIT(&sp->running);
	if (store_job_get(s->env.store, id, &sp->job, &cause) != 0 ||
	    sched_compile(s, &sp->job, &sp->op, &sp->ctx, &sp->role_arn,
	    &cause) != 0 || sp->op->plan_task == NULL) {
		stage_fail(done_cb, id, arg, "PlanFailed", cause != NULL ?
		    cause : "the operation has no plan");
		free(cause);
		if (sp->ctx != NULL)
			sp->op->free(sp->ctx);
		free(sp->role_arn);
		job_clear(&sp->job);
		free(sp);
		return;
	}
	sp->plan = sp->op->plan_new(sp->ctx);
	TAILQ_INSERT_TAIL(&s->plans, sp, entry);
	log_job(LOG_INFO, id, "planning %llu tasks",
	    (unsigned long long)sp->job.total_tasks);
	sched_kick(s);
}

void
sched_plan_stop(struct sched *s, const char *id)
{
	struct sched_plan	*sp;

	TAILQ_FOREACH(sp, &s->plans, entry) {
		if (strcmp(sp->job.id, id) == 0) {
			sched_plan_free(sp);
			return;
		}
	}
}

struct sched *
sched_new(const struct sched_env *env)
{
	struct sched	*s;

	s = xcalloc(1, sizeof *s);
	s->env = *env;
	TAILQ_INIT(&s->jobs);
	TAILQ_INIT(&s->retired);
	TAILQ_INIT(&s->plans);
	s->ev_commit = evtimer_new(s->env.base, sched_commit_cb, s);
	s->ev_pump = event_new(s->env.base, -1, 0, sched_pump_cb, s);
	s->ev_stopping = evtimer_new(s->env.base, sched_stopping_cb, s);
	s->ev_window = evtimer_new(s->env.base, sched_timewin_cb, s);
	s->ev_wtoken = evtimer_new(s->env.base, sched_wtoken_cb, s);
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
	/* A plan stopped here runs again at the next start. */
	while (!TAILQ_EMPTY(&s->plans))
		sched_plan_free(TAILQ_FIRST(&s->plans));
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
	/* Owned, so that sched_free cannot leave it pending on the base. */
	if (s->ev_drain_poll == NULL)
		s->ev_drain_poll = evtimer_new(s->env.base,
		    sched_drain_poll_cb, s);
	evtimer_add(s->ev_drain_poll, &tv);
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
	s->ev_drain = evtimer_new(s->env.base, sched_drain_cb, s);
	evtimer_add(s->ev_drain, &tv);
	sched_drain_poll_cb(-1, 0, s);
}

void
sched_free(struct sched *s)
{
	struct sched_job	*sj;
	size_t			 i;

	if (s == NULL)
		return;
	while (!TAILQ_EMPTY(&s->plans))
		sched_plan_free(TAILQ_FIRST(&s->plans));
	sched_abandon(s);
	sched_commit(s);
	while ((sj = TAILQ_FIRST(&s->jobs)) != NULL)
		sched_untrack(sj);
	/* What the store would not take runs again at the next start. */
	while (!TAILQ_EMPTY(&s->retired))
		sched_retired_free(TAILQ_FIRST(&s->retired));
	for (i = 0; i < s->nresults; i++)
		sched_result_clear(&s->results[i]);
	free(s->results);
	event_free(s->ev_commit);
	event_free(s->ev_pump);
	event_free(s->ev_stopping);
	event_free(s->ev_window);
	event_free(s->ev_wtoken);
	if (s->ev_drain != NULL)
		event_free(s->ev_drain);
	if (s->ev_drain_poll != NULL)
		event_free(s->ev_drain_poll);
	if (s->ev_refill != NULL)
		event_free(s->ev_refill);
	free(s);
}

void
sched_stats(struct sched *s, struct sched_stats *st)
{
	struct sched_job	*sj;
	struct sched_task	*t;

	*st = s->stats;
	st->inflight = s->inflight;
	st->tasks_waiting = 0;
	TAILQ_FOREACH(sj, &s->jobs, entry) {
		TAILQ_FOREACH(t, &sj->running, entry) {
			if (s3_call_waiting(t->run.call))
				st->tasks_waiting++;
		}
	}
	st->results_buffered = s->nresults;
	st->commit_failing = s->commit_failing;
	st->jobs_held_by_window = 0;
	TAILQ_FOREACH(sj, &s->jobs, entry) {
		if (sj->wrate == WINDOW_PAUSE)
			st->jobs_held_by_window++;
	}
}

void
sched_reload(struct sched *s)
{
	struct sched_job	*sj;
	time_t			 now = time(NULL);

	TAILQ_FOREACH(sj, &s->jobs, entry) {
		sched_timewin_load(sj);
		sched_timewin_apply(sj, now);
	}
	sched_timewin_arm(s);
	sched_kick(s);
}
