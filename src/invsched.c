/*
 * The inventory scheduler: one libevent timer that, when it fires, reads
 * the configurations from the store and starts a run for each enabled one
 * whose next scheduled time has come (and that has no run under way),
 * then sleeps until the earliest next time (at most a minute, so that a
 * clock step is noticed). A run's outcome comes back through
 * invsched_run_cb and goes to the store at once.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "s3batchd.h"
#include "core.h"
#include "inventory.h"
#include "invsched.h"
#include "lifecycle.h"
#include "stage-inventory.h"
#include "store.h"

#define INVSCHED_MAX_SLEEP	60		/* real seconds */
#define INVSCHED_RETRY_DELAY	60		/* real seconds */

struct invsched_run {
	struct invsched			*is;
	char				*bucket;
	char				*id;
	char				*run_id;
	char				*trigger;
	char				*dest;		/* the report's bucket */
	char				*template;	/* JobTemplate, or NULL */
	char				*filter;	/* JobFilter, or NULL */
	int				 versions;	/* All versions */
	time_t				 sched;
	int64_t				 start_ms;
	struct inv_run			*stage;		/* NULL: retry wait */
	uint64_t			 retry_at;	/* mono ms, or 0 */
	TAILQ_ENTRY(invsched_run)	 entry;
};
TAILQ_HEAD(invsched_runs, invsched_run);

struct invsched {
	struct core		*core;
	struct lifecycle	*lifecycle;
	struct event		*timer;
	struct invsched_runs	 runs;
	size_t			 nrunning;
	/* The test clock: scheduler time = base + (mono - mono0) * scale. */
	int			 test_clock;
	time_t			 clock_base;
	uint64_t		 clock_mono0;
	int64_t			 clock_scale;
	time_t			 next;		/* earliest next due, or 0 */
	struct log_limit	 store_ll;
};

static void	invsched_arm(struct invsched *);
static void	invsched_soon(struct invsched *);

time_t
invsched_now(const struct invsched *is)
{
	if (!is->test_clock)
		return ((time_t)(time_now_ms() / 1000));
	return (is->clock_base + (time_t)((int64_t)(time_mono_ms() -
	    is->clock_mono0) * is->clock_scale / 1000));
}

static void
invsched_test_clock(struct invsched *is)
{
	const char	*env = getenv(INVSCHED_TEST_CLOCK_ENV);
	char		*end;
	long long	 base, scale = 1;

	if (env == NULL || *env == '\0')
		return;
	base = strtoll(env, &end, 10);
	if (*end == ':')
		scale = strtoll(end + 1, &end, 10);
	if (*end != '\0' || base <= 0 || scale < 1 || scale > 100000) {
		log_warnx("inventory: %s=\"%s\" is not EPOCH[:SCALE]; the "
		    "real clock is used", INVSCHED_TEST_CLOCK_ENV, env);
		return;
	}
	is->test_clock = 1;
	is->clock_base = (time_t)base;
	is->clock_scale = scale;
	is->clock_mono0 = time_mono_ms();
	log_warnx("inventory: test clock from %lld, %lld times real time",
	    base, scale);
}

static struct invsched_run *
invsched_find(struct invsched *is, const char *bucket, const char *id)
{
	struct invsched_run	*r;

	TAILQ_FOREACH(r, &is->runs, entry) {
		if (strcmp(r->bucket, bucket) == 0 && strcmp(r->id, id) == 0)
			return (r);
	}
	return (NULL);
}

static void
invsched_run_free(struct invsched_run *r)
{
	free(r->bucket);
	free(r->id);
	free(r->run_id);
	free(r->trigger);
	free(r->dest);
	free(r->template);
	free(r->filter);
	free(r);
}

static void
invsched_fill(const struct invsched_run *r, struct store_inv_run *sr)
{
	memset(sr, 0, sizeof *sr);
	sr->run_id = r->run_id;
	sr->bucket = r->bucket;
	sr->config_id = r->id;
	sr->state = STORE_INV_RUNNING;
	sr->sched_time = (int64_t)r->sched;
	sr->trigger = r->trigger;
	sr->start_ms = r->start_ms;
}

static void	invsched_run_cb(const char *, const struct inv_run_result *,
		    void *);

/* Load one configuration for a run; 1 when it is gone. */
struct invsched_load {
	struct inv_config	*cfg;
	int64_t			 last_sched;
	char			*cause;
};

static int
invsched_load_cb(const struct store_inv *inv, void *arg)
{
	struct invsched_load	*l = arg;
	struct json_object	*doc;

	if ((doc = json_tokener_parse(inv->doc)) == NULL) {
		xasprintf(&l->cause, "the stored document does not parse");
		return (1);
	}
	if (inv_config_parse(doc, inv->bucket, inv->id, &l->cfg,
	    &l->cause) != 0)
		l->cfg = NULL;
	json_object_put(doc);
	l->last_sched = inv->last_sched;
	return (1);
}

/*
 * Record a new run for cfg and start it. The stored run and the
 * configuration's last_sched move together, before the stage starts.
 */
static int
invsched_start(struct invsched *is, const struct inv_config *cfg,
    time_t sched, const char *trigger, const struct store_actor *who, char **run_id,
    char **cause)
{
	struct invsched_run	*r;
	struct store_inv_run	 sr;
	struct inv_run		*ir;
	char			 uuid[37];

	r = xcalloc(1, sizeof *r);
	r->is = is;
	r->bucket = xstrdup(cfg->bucket);
	r->id = xstrdup(cfg->id);
	uuid_generate_v4(uuid);
	r->run_id = xstrdup(uuid);
	r->trigger = xstrdup(trigger);
	r->dest = xstrdup(cfg->dest_bucket);
	/* The job is the one the configuration asked for when it started. */
	if (cfg->job_template != NULL)
		r->template = xstrdup(json_object_to_json_string_ext(
		    cfg->job_template, JSON_C_TO_STRING_PLAIN));
	if (cfg->job_filter != NULL)
		r->filter = xstrdup(cfg->job_filter);
	r->versions = cfg->all_versions;
	r->sched = sched;
	r->start_ms = (int64_t)time_now_ms();
	invsched_fill(r, &sr);
	if (store_inv_run_start(is->core->store, &sr, who, cause) != 0) {
		invsched_run_free(r);
		return (-1);
	}
	log_info("inventory %s/%s: run %s started (%s, for %lld)", r->bucket,
	    r->id, r->run_id, trigger, (long long)sched);
	if (run_id != NULL)
		*run_id = xstrdup(r->run_id);
	TAILQ_INSERT_TAIL(&is->runs, r, entry);
	is->nrunning++;
	/* The callback may come before this returns, and free r. */
	if ((ir = stage_inventory_start(is->core, cfg, uuid, sched,
	    invsched_run_cb, is)) != NULL)
		r->stage = ir;
	return (0);
}

/* "2026-03-01T05-00Z": the report's folder, in the job's tags. */
static void
invsched_report_date(time_t sched, char *out, size_t len)
{
	struct tm	 tm;

	gmtime_r(&sched, &tm);
	strftime(out, len, "%Y-%m-%dT%H-%MZ", &tm);
}

static void
invsched_tag(struct json_object *tags, const char *key, const char *value)
{
	struct json_object	*t = json_object_new_object();

	json_object_object_add(t, "Key", json_object_new_string(key));
	json_object_object_add(t, "Value", json_object_new_string(value));
	json_object_array_add(tags, t);
}

struct json_object *
invsched_manifest(const char *arn, const char *etag, const char *filter)
{
	struct json_object	*m, *o;

	m = json_object_new_object();
	o = json_object_new_object();
	json_object_object_add(o, "Format",
	    json_object_new_string("S3InventoryReport_CSV_20161130"));
	json_object_object_add(m, "Spec", o);
	o = json_object_new_object();
	json_object_object_add(o, "ObjectArn", json_object_new_string(arn));
	json_object_object_add(o, "ETag", json_object_new_string(etag));
	json_object_object_add(m, "Location", o);
	if (filter != NULL)
		json_object_object_add(m, "Filter",
		    json_object_new_string(filter));
	return (m);
}

/*
 * A JobFilter's selection as a job's Manifest: the CSV manifest written
 * beside the report, pinned by its ETag.
 */
static struct json_object *
invsched_selection_manifest(const char *arn, const char *etag, int versions)
{
	struct json_object	*m, *o, *f;

	m = json_object_new_object();
	o = json_object_new_object();
	json_object_object_add(o, "Format",
	    json_object_new_string("S3BatchOperations_CSV_20180820"));
	f = json_object_new_array();
	json_object_array_add(f, json_object_new_string("Bucket"));
	json_object_array_add(f, json_object_new_string("Key"));
	if (versions)
		json_object_array_add(f, json_object_new_string("VersionId"));
	json_object_object_add(o, "Fields", f);
	json_object_object_add(m, "Spec", o);
	o = json_object_new_object();
	json_object_object_add(o, "ObjectArn", json_object_new_string(arn));
	json_object_object_add(o, "ETag", json_object_new_string(etag));
	json_object_object_add(m, "Location", o);
	return (m);
}

/*
 * The CreateJob request for a finished report: the template, its Manifest
 * the report (pinned by its ETag) or, with a JobFilter, the selection
 * written beside it, a ClientRequestToken made from the run id (a crash
 * between the job and its record makes the same job again, not a second
 * one), and the configuration's tags.
 */
static struct json_object *
invsched_job_spec(const struct store_inv_run *sr, const char *template,
    const char *filter, int versions)
{
	struct json_object	*spec, *tags;
	char			 date[32], *token;

	if ((spec = json_tokener_parse(template)) == NULL ||
	    !json_object_is_type(spec, json_type_object)) {
		json_object_put(spec);
		return (NULL);
	}
	json_object_object_add(spec, "Manifest", filter != NULL ?
	    invsched_selection_manifest(sr->selection_key, sr->selection_etag,
	    versions) : invsched_manifest(sr->manifest_key, sr->manifest_etag,
	    NULL));
	xasprintf(&token, "inventory-%s", sr->run_id);
	json_object_object_add(spec, "ClientRequestToken",
	    json_object_new_string(token));
	free(token);
	if (!json_object_object_get_ex(spec, "Tags", &tags)) {
		tags = json_object_new_array();
		json_object_object_add(spec, "Tags", tags);
	}
	invsched_report_date((time_t)sr->sched_time, date, sizeof date);
	invsched_tag(tags, "s3batchd:inventory-id", sr->config_id);
	invsched_tag(tags, "s3batchd:inventory-date", date);
	return (spec);
}

/* Make the job of a finished run and record it (made, or why not). */
static void
invsched_make_job(struct invsched *is, struct store_inv_run *sr,
    const char *template, const char *filter, int versions)
{
	struct json_object	*spec;
	char			 id[37], *cause = NULL, *why = NULL;

	sr->job_id = sr->job_error = NULL;
	if (template == NULL)
		why = xstrdup("the configuration has no JobTemplate any more");
	else if (sr->manifest_key == NULL || sr->manifest_etag == NULL)
		why = xstrdup("the run gave no report location or ETag");
	else if (filter != NULL && (sr->selection_key == NULL ||
	    sr->selection_etag == NULL))
		xasprintf(&why, "the JobFilter selected no object of the %lld "
		    "rows", (long long)sr->rows);
	else if ((spec = invsched_job_spec(sr, template, filter,
	    versions)) == NULL)
		why = xstrdup("the JobTemplate does not parse");
	else {
		if (lifecycle_create_job(is->lifecycle, spec,
		    STORE_DAEMON, id, &cause) == 0)
			sr->job_id = id;
		else {
			why = cause;
			cause = NULL;
		}
		json_object_put(spec);
	}
	sr->job_error = why;
	sr->job_state = sr->job_id != NULL ? STORE_INV_JOB_CREATED :
	    STORE_INV_JOB_REFUSED;
	if (sr->job_id != NULL)
		log_info("inventory %s/%s: run %s: job %s created on its report",
		    sr->bucket, sr->config_id, sr->run_id, sr->job_id);
	else
		log_warnx("inventory %s/%s: run %s: no job: %s", sr->bucket,
		    sr->config_id, sr->run_id, why);
	if (store_inv_run_job(is->core->store, sr, &cause) != 0) {
		log_limited(&is->store_ll, 60, LOG_WARNING, NULL, "inventory "
		    "%s/%s: run %s: %s", sr->bucket, sr->config_id, sr->run_id,
		    cause);
		free(cause);
	}
	free(why);
}

static void
invsched_end(struct invsched *is, struct invsched_run *r,
    const struct inv_run_result *res)
{
	struct store_inv_run	 sr;
	char			*cause = NULL, *reason = NULL, *arn = NULL;
	char			*sel = NULL;

	invsched_fill(r, &sr);
	sr.end_ms = (int64_t)time_now_ms();
	sr.objects = res->objects;
	sr.rows = res->rows;
	sr.bytes = res->bytes;
	if (res->status == STAGE_DONE) {
		sr.state = STORE_INV_SUCCEEDED;
		/* As a job's Manifest.Location.ObjectArn names it. */
		if (res->manifest_key != NULL)
			xasprintf(&arn, "arn:aws:s3:::%s/%s", r->dest,
			    res->manifest_key);
		sr.manifest_key = arn;
		sr.manifest_etag = res->manifest_etag;
		if (res->selection_key != NULL)
			xasprintf(&sel, "arn:aws:s3:::%s/%s", r->dest,
			    res->selection_key);
		sr.selection_key = sel;
		sr.selection_etag = res->selection_etag;
		sr.selection_rows = res->selection_rows;
		/* Recorded as owed first: a crash now makes it at start. */
		if (r->template != NULL && res->selection_error != NULL) {
			sr.job_state = STORE_INV_JOB_REFUSED;
			sr.job_error = res->selection_error;
		} else if (r->template != NULL)
			sr.job_state = STORE_INV_JOB_PENDING;
	} else {
		sr.state = STORE_INV_FAILED;
		sr.error_code = res->code != NULL ? res->code : "InternalError";
		if (res->status == STAGE_RETRY)
			xasprintf(&reason, "%s (a new run starts in %d s)",
			    res->reason != NULL ? res->reason : "",
			    INVSCHED_RETRY_DELAY);
		else
			reason = xstrdup(res->reason != NULL ? res->reason :
			    "the run failed");
		sr.error = reason;
	}
	if (store_inv_run_end(is->core->store, &sr, &cause) != 0) {
		log_limited(&is->store_ll, 60, LOG_WARNING, NULL, "inventory %s/%s: "
		    "run %s: %s", r->bucket, r->id, r->run_id, cause);
		free(cause);
	}
	if (sr.state == STORE_INV_SUCCEEDED)
		log_info("inventory %s/%s: run %s succeeded: %lld objects, "
		    "%lld rows, %lld bytes, %s", r->bucket, r->id, r->run_id,
		    (long long)res->objects, (long long)res->rows,
		    (long long)res->bytes, arn != NULL ? arn : "");
	else
		log_warnx("inventory %s/%s: run %s failed: %s: %s", r->bucket,
		    r->id, r->run_id, sr.error_code, sr.error);
	if (sr.job_state == STORE_INV_JOB_PENDING &&
	    getenv(INVSCHED_TEST_OWE_ENV) != NULL)
		log_warnx("inventory %s/%s: run %s: %s is set: its job is owed "
		    "and not made (TEST ONLY)", r->bucket, r->id, r->run_id,
		    INVSCHED_TEST_OWE_ENV);
	else if (sr.job_state == STORE_INV_JOB_PENDING)
		invsched_make_job(is, &sr, r->template, r->filter,
		    r->versions);
	else if (sr.job_state == STORE_INV_JOB_REFUSED)
		log_warnx("inventory %s/%s: run %s: no job: %s", r->bucket,
		    r->id, r->run_id, sr.job_error);
	free(reason);
	free(arn);
	free(sel);
}

static void
invsched_run_cb(const char *run_id, const struct inv_run_result *res,
    void *arg)
{
	struct invsched		*is = arg;
	struct invsched_run	*r;

	TAILQ_FOREACH(r, &is->runs, entry) {
		if (r->stage != NULL || r->retry_at == 0) {
			if (strcmp(r->run_id, run_id) == 0)
				break;
		}
	}
	if (r == NULL) {
		log_warnx("inventory: an outcome for an unknown run %s",
		    run_id);
		return;
	}
	invsched_end(is, r, res);
	r->stage = NULL;
	is->nrunning--;
	if (res->status == STAGE_RETRY) {
		/* Kept: it holds the configuration's one place. */
		r->retry_at = time_mono_ms() + INVSCHED_RETRY_DELAY * 1000;
	} else {
		TAILQ_REMOVE(&is->runs, r, entry);
		invsched_run_free(r);
	}
	/* From the timer, not here: this may be inside invsched_start. */
	invsched_soon(is);
}

struct invsched_due {
	char			*bucket;
	char			*id;
	time_t			 sched;
};

struct invsched_tick {
	struct invsched		*is;
	time_t			 now;
	time_t			 next;
	struct invsched_due	*due;
	size_t			 ndue;
};

static int
invsched_tick_cb(const struct store_inv *inv, void *arg)
{
	struct invsched_tick	*t = arg;
	struct invsched_load	 l = { NULL, 0, NULL };
	time_t			 due, next;

	invsched_load_cb(inv, &l);
	if (l.cfg == NULL) {
		log_limited(&t->is->store_ll, 3600, LOG_WARNING, NULL, "inventory "
		    "%s/%s: %s", inv->bucket, inv->id, l.cause);
		free(l.cause);
		return (0);
	}
	if (l.cfg->enabled) {
		due = inv_last_due(l.cfg, (time_t)inv->last_sched, t->now);
		if (due != 0 && invsched_find(t->is, inv->bucket, inv->id) ==
		    NULL) {
			t->due = xreallocarray(t->due, t->ndue + 1,
			    sizeof *t->due);
			t->due[t->ndue].bucket = xstrdup(inv->bucket);
			t->due[t->ndue].id = xstrdup(inv->id);
			t->due[t->ndue].sched = due;
			t->ndue++;
		}
		next = inv_next_run(l.cfg, due != 0 ? due :
		    (time_t)inv->last_sched);
		if (t->next == 0 || next < t->next)
			t->next = next;
	}
	inv_config_free(l.cfg);
	return (0);
}

/* Start what is due; returns the earliest next scheduled time, or 0. */
static time_t
invsched_tick(struct invsched *is)
{
	struct invsched_tick	 t;
	struct invsched_run	*r, *rn;
	struct invsched_load	 l;
	char			*cause = NULL;
	size_t			 i;
	time_t			 sched;
	uint64_t		 mono = time_mono_ms();

	/* Retries whose wait is over: a new run for the same time. */
	TAILQ_FOREACH_SAFE(r, &is->runs, entry, rn) {
		if (r->stage != NULL || r->retry_at == 0 || r->retry_at > mono)
			continue;
		memset(&l, 0, sizeof l);
		TAILQ_REMOVE(&is->runs, r, entry);
		if (store_inv_get(is->core->store, r->bucket, r->id,
		    invsched_load_cb, &l, &cause) < 0) {
			log_limited(&is->store_ll, 60, LOG_WARNING,
			    NULL, "inventory: %s", cause);
			free(cause);
			cause = NULL;
		} else if (l.cfg != NULL) {
			if (invsched_start(is, l.cfg, r->sched, "retry",
			    STORE_DAEMON, NULL, &cause) != 0) {
				log_limited(&is->store_ll, 60, LOG_WARNING,
				    NULL, "inventory %s/%s: %s", r->bucket, r->id,
				    cause);
				free(cause);
				cause = NULL;
			}
		}
		free(l.cause);
		inv_config_free(l.cfg);
		invsched_run_free(r);
	}

	memset(&t, 0, sizeof t);
	t.is = is;
	t.now = invsched_now(is);
	if (store_inv_list(is->core->store, NULL, NULL, -1, invsched_tick_cb,
	    &t, &cause) != 0) {
		log_limited(&is->store_ll, 60, LOG_WARNING, NULL, "inventory: %s",
		    cause);
		free(cause);
		cause = NULL;
	}
	for (i = 0; i < t.ndue; i++) {
		memset(&l, 0, sizeof l);
		sched = t.due[i].sched;
		if (store_inv_get(is->core->store, t.due[i].bucket,
		    t.due[i].id, invsched_load_cb, &l, &cause) == 0 &&
		    l.cfg != NULL && invsched_start(is, l.cfg, sched,
		    "schedule", STORE_DAEMON, NULL, &cause) != 0) {
			log_limited(&is->store_ll, 60, LOG_WARNING,
			    NULL, "inventory %s/%s: %s", t.due[i].bucket,
			    t.due[i].id, cause);
		}
		free(cause);
		cause = NULL;
		free(l.cause);
		inv_config_free(l.cfg);
		free(t.due[i].bucket);
		free(t.due[i].id);
	}
	free(t.due);
	return (t.next);
}

static void
invsched_timer_cb(int fd, short events, void *arg)
{
	struct invsched	*is = arg;

	(void)fd;
	(void)events;
	invsched_arm(is);
}

/* Run what is due, then sleep until the next time (in real time). */
static void
invsched_arm(struct invsched *is)
{
	struct invsched_run	*r;
	struct timeval		 tv;
	int64_t			 ms, left;
	uint64_t		 mono;

	is->next = invsched_tick(is);
	ms = INVSCHED_MAX_SLEEP * 1000;
	if (is->next != 0) {
		left = ((int64_t)is->next - (int64_t)invsched_now(is)) * 1000;
		if (is->test_clock)
			left /= is->clock_scale;
		if (left < ms)
			ms = left;
	}
	mono = time_mono_ms();
	TAILQ_FOREACH(r, &is->runs, entry) {
		if (r->stage == NULL && r->retry_at != 0 &&
		    (int64_t)(r->retry_at - mono) < ms)
			ms = (int64_t)(r->retry_at - mono);
	}
	if (ms < 10)
		ms = 10;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(is->timer, &tv);
}

/*
 * Runs read back from the store at start-up, kept past the store's
 * callback: the strings of each are copies, owned here.
 */
struct invsched_saved {
	struct store_inv_run	 run;
	char			*strings[8];
};

struct invsched_saved_list {
	struct invsched_saved	*runs;
	size_t			 n;
	int			 keep_report;	/* the report's location too */
};

static char *
invsched_saved_dup(const char *s)
{
	return (s != NULL ? xstrdup(s) : NULL);
}

static int
invsched_saved_cb(const struct store_inv_run *sr, void *arg)
{
	struct invsched_saved_list	*o = arg;
	struct invsched_saved		*w;

	o->runs = xreallocarray(o->runs, o->n + 1, sizeof *o->runs);
	w = &o->runs[o->n++];
	w->run = *sr;
	w->run.run_id = w->strings[0] = xstrdup(sr->run_id);
	w->run.bucket = w->strings[1] = xstrdup(sr->bucket);
	w->run.config_id = w->strings[2] = xstrdup(sr->config_id);
	w->run.trigger = w->strings[3] = xstrdup(sr->trigger);
	w->run.manifest_key = w->strings[4] = o->keep_report ?
	    invsched_saved_dup(sr->manifest_key) : NULL;
	w->run.manifest_etag = w->strings[5] = o->keep_report ?
	    invsched_saved_dup(sr->manifest_etag) : NULL;
	w->run.selection_key = w->strings[6] = o->keep_report ?
	    invsched_saved_dup(sr->selection_key) : NULL;
	w->run.selection_etag = w->strings[7] = o->keep_report ?
	    invsched_saved_dup(sr->selection_etag) : NULL;
	w->run.error_code = w->run.error = NULL;
	w->run.job_id = w->run.job_error = NULL;
	return (0);
}

/* The runs in state (and job_state, -1 for any); -1 logged on failure. */
static int
invsched_saved_read(struct invsched *is, int state, int job_state,
    struct invsched_saved_list *o)
{
	char	*cause = NULL;

	if (store_inv_run_list(is->core->store, NULL, NULL, state, job_state,
	    -1, invsched_saved_cb, o, &cause) != 0) {
		log_warnx("inventory: %s", cause);
		free(cause);
		return (-1);
	}
	return (0);
}

static void
invsched_saved_free(struct invsched_saved_list *o)
{
	size_t	 i, k;

	for (i = 0; i < o->n; i++)
		for (k = 0; k < nitems(o->runs[i].strings); k++)
			free(o->runs[i].strings[k]);
	free(o->runs);
}

/* Runs the daemon left Running when it died. */
static void
invsched_recover(struct invsched *is)
{
	struct invsched_saved_list	 o = { NULL, 0, 0 };
	struct invsched_load		 l;
	struct store_inv_run		*sr;
	char				*cause = NULL;
	size_t				 i;

	if (invsched_saved_read(is, STORE_INV_RUNNING, -1, &o) != 0)
		return;
	for (i = 0; i < o.n; i++) {
		sr = &o.runs[i].run;
		sr->state = STORE_INV_FAILED;
		sr->end_ms = (int64_t)time_now_ms();
		sr->error_code = "Interrupted";
		sr->error = "the daemon stopped during the run; a new run "
		    "starts in its place";
		if (store_inv_run_end(is->core->store, sr, &cause) != 0) {
			log_warnx("inventory %s/%s: %s", sr->bucket,
			    sr->config_id, cause);
			free(cause);
			cause = NULL;
		}
		log_warnx("inventory %s/%s: run %s was interrupted; starting "
		    "it again", sr->bucket, sr->config_id, sr->run_id);
		memset(&l, 0, sizeof l);
		if (store_inv_get(is->core->store, sr->bucket, sr->config_id,
		    invsched_load_cb, &l, &cause) == 0 && l.cfg != NULL &&
		    invsched_find(is, sr->bucket, sr->config_id) == NULL &&
		    invsched_start(is, l.cfg, (time_t)sr->sched_time,
		    "restart", STORE_DAEMON, NULL, &cause) != 0)
			log_warnx("inventory %s/%s: %s", sr->bucket,
			    sr->config_id, cause);
		free(cause);
		cause = NULL;
		free(l.cause);
		inv_config_free(l.cfg);
	}
	invsched_saved_free(&o);
}

/* Finished runs whose job was owed when the daemon stopped. */
static void
invsched_recover_jobs(struct invsched *is)
{
	struct invsched_saved_list	 o = { NULL, 0, 1 };
	struct invsched_saved		*list;
	struct invsched_load		 l;
	char				*cause = NULL, *template;
	size_t				 i;

	if (invsched_saved_read(is, STORE_INV_SUCCEEDED,
	    STORE_INV_JOB_PENDING, &o) != 0)
		return;
	list = o.runs;
	for (i = 0; i < o.n; i++) {
		memset(&l, 0, sizeof l);
		template = NULL;
		if (store_inv_get(is->core->store, list[i].run.bucket,
		    list[i].run.config_id, invsched_load_cb, &l, &cause) < 0) {
			log_warnx("inventory: %s", cause);
			free(cause);
			cause = NULL;
		} else {
			if (l.cfg != NULL && l.cfg->job_template != NULL)
				template = xstrdup(json_object_to_json_string_ext(
				    l.cfg->job_template, JSON_C_TO_STRING_PLAIN));
			invsched_make_job(is, &list[i].run, template,
			    l.cfg != NULL ? l.cfg->job_filter : NULL,
			    l.cfg != NULL && l.cfg->all_versions);
		}
		free(template);
		free(l.cause);
		inv_config_free(l.cfg);
	}
	invsched_saved_free(&o);
}

struct invsched *
invsched_new(struct core *core, struct lifecycle *lifecycle)
{
	struct invsched	*is;

	is = xcalloc(1, sizeof *is);
	is->core = core;
	is->lifecycle = lifecycle;
	TAILQ_INIT(&is->runs);
	invsched_test_clock(is);
	is->timer = evtimer_new(core->base, invsched_timer_cb, is);
	invsched_recover_jobs(is);
	invsched_recover(is);
	invsched_arm(is);
	return (is);
}

void
invsched_free(struct invsched *is)
{
	struct invsched_run	*r;

	if (is == NULL)
		return;
	while ((r = TAILQ_FIRST(&is->runs)) != NULL) {
		TAILQ_REMOVE(&is->runs, r, entry);
		if (r->stage != NULL)
			stage_inventory_stop(r->stage);
		invsched_run_free(r);
	}
	event_free(is->timer);
	free(is);
}

static void
invsched_soon(struct invsched *is)
{
	struct timeval	 tv = { 0, 0 };

	evtimer_add(is->timer, &tv);
}

void
invsched_changed(struct invsched *is)
{
	invsched_soon(is);
}

/* The scheduled time of a configuration's newest run. */
static int
invsched_last_cb(const struct store_inv_run *sr, void *arg)
{
	*(time_t *)arg = (time_t)sr->sched_time;
	return (1);
}

int
invsched_run_now(struct invsched *is, const char *bucket, const char *id,
    const struct store_actor *who, char **run_id, char **cause)
{
	struct invsched_load	 l;
	struct invsched_run	*r;
	struct tm		 tm;
	time_t			 sched, next, last;
	char			 folder[32], at[8];
	int			 rc;

	*run_id = NULL;
	if ((r = invsched_find(is, bucket, id)) != NULL) {
		*run_id = xstrdup(r->run_id);
		return (2);
	}
	memset(&l, 0, sizeof l);
	if ((rc = store_inv_get(is->core->store, bucket, id, invsched_load_cb,
	    &l, cause)) != 0)
		return (rc);
	if (l.cfg == NULL) {
		xasprintf(cause, "the stored configuration is not valid: %s",
		    l.cause);
		free(l.cause);
		return (-1);
	}
	/*
	 * A run on request is for now; it does not move the schedule's
	 * place (last_sched) backwards, and a scheduled time that comes
	 * while it runs is run after it.
	 */
	sched = invsched_now(is) > (time_t)l.last_sched ? invsched_now(is) :
	    (time_t)l.last_sched;
	/*
	 * A report's folder is named to the minute: a second run in the
	 * minute of the newest one would overwrite its report.
	 */
	last = 0;
	if (store_inv_run_list(is->core->store, bucket, id, -1, -1, 1,
	    invsched_last_cb, &last, cause) != 0) {
		inv_config_free(l.cfg);
		return (-1);
	}
	if (last != 0 && sched / 60 == last / 60) {
		next = (sched / 60 + 1) * 60;
		gmtime_r(&sched, &tm);
		strftime(folder, sizeof folder, "%Y-%m-%dT%H-%MZ", &tm);
		gmtime_r(&next, &tm);
		strftime(at, sizeof at, "%H:%M", &tm);
		xasprintf(cause, "the last run's report is dated %s (its "
		    "folder); a run now would write over it: run again from "
		    "%s UTC", folder, at);
		inv_config_free(l.cfg);
		return (3);
	}
	rc = invsched_start(is, l.cfg, sched, "command", who, run_id, cause);
	inv_config_free(l.cfg);
	return (rc);
}

size_t
invsched_running(const struct invsched *is)
{
	return (is->nrunning);
}
