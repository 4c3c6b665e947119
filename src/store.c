/*
 * The store front end: dispatch to the backend, and what every backend
 * shares — state transitions checked against the job table, their time
 * stamps, and the audit trail written in the same transaction.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "store.h"

const struct store_actor store_actor_daemon = { STORE_UID_DAEMON, NULL };

struct store *
store_open(const char *dir, int flags, char **cause)
{
	struct store	*st;
	void		*impl;

	if ((impl = store_sqlite_backend.open(dir, flags, cause)) == NULL)
		return (NULL);
	st = xcalloc(1, sizeof *st);
	st->backend = &store_sqlite_backend;
	st->impl = impl;
	return (st);
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	st->backend->close(st->impl);
	free(st);
}

int
store_begin(struct store *st, char **cause)
{
	return (st->backend->begin(st->impl, cause));
}

int
store_commit(struct store *st, char **cause)
{
	return (st->backend->commit(st->impl, cause));
}

void
store_rollback(struct store *st)
{
	st->backend->rollback(st->impl);
}

int
store_set_durable(struct store *st, int durable, char **cause)
{
	return (st->backend->set_durable(st->impl, durable, cause));
}

/* An audit record's detail: o as compact JSON, o released. */
static char *
store_detail_string(struct json_object *o)
{
	char	*s;

	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN|
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return (s);
}

static char *
store_audit_detail(const char *from, const char *to, const char *reason)
{
	struct json_object	*o;

	o = json_object_new_object();
	if (from != NULL)
		json_object_object_add(o, "From", json_object_new_string(from));
	if (to != NULL)
		json_object_object_add(o, "To", json_object_new_string(to));
	if (reason != NULL)
		json_object_object_add(o, "Reason",
		    json_object_new_string(reason));
	return (store_detail_string(o));
}

int
store_job_insert(struct store *st, struct job *j,
    const struct store_actor *who, char **cause)
{
	char	*detail;

	if (store_begin(st, cause) != 0)
		return (-1);
	if (st->backend->job_insert(st->impl, j, cause) != 0)
		goto fail;
	detail = store_audit_detail(NULL, job_status_name(j->status), NULL);
	if (st->backend->audit(st->impl, j->id, who, "create-job", detail,
	    cause) != 0) {
		free(detail);
		goto fail;
	}
	free(detail);
	return (store_commit(st, cause));
fail:
	store_rollback(st);
	return (-1);
}

int
store_job_get(struct store *st, const char *id, struct job *j, char **cause)
{
	return (st->backend->job_get(st->impl, id, j, cause));
}

int
store_job_get_by_token(struct store *st, const char *token, struct job *j,
    char **cause)
{
	return (st->backend->job_get_by_token(st->impl, token, j, cause));
}

int
store_job_list(struct store *st, uint32_t mask, int64_t after, int max,
    store_job_cb cb, void *arg, char **cause)
{
	return (st->backend->job_list(st->impl, mask, after, max, cb, arg,
	    cause));
}

int
store_job_counts(struct store *st, uint64_t counts[JOB_NSTATUS], char **cause)
{
	return (st->backend->job_counts(st->impl, counts, cause));
}

int
store_job_update(struct store *st, const struct job *j, char **cause)
{
	return (st->backend->job_update(st->impl, j, cause));
}

/* Stamp the times a status change implies. */
static void
store_job_stamp(struct job *j, enum job_status to, uint64_t now)
{
	if (j->status == JOB_ACTIVE && now > j->status_ms)
		j->active_ms += now - j->status_ms;
	j->status = to;
	j->status_ms = now;
	if (to == JOB_SUSPENDED)
		j->suspended_ms = now;
	if (job_status_terminal(to))
		j->terminated_ms = now;
}

int
store_job_transition(struct store *st, struct job *j, enum job_status to,
    int by, const struct store_actor *who, const char *reason,
    char **cause)
{
	struct job	 saved;
	const char	*from = job_status_name(j->status);
	char		*detail;
	int		 r;

	if (!job_transition_allowed(j->status, to, by)) {
		xasprintf(cause, "a job in state %s cannot move to %s",
		    job_status_name(j->status), job_status_name(to));
		return (-1);
	}
	saved = *j;
	store_job_stamp(j, to, time_now_ms());
	detail = store_audit_detail(from, job_status_name(to), reason);
	if (store_begin(st, cause) != 0)
		goto fail;
	if (st->backend->job_update(st->impl, j, cause) != 0 ||
	    st->backend->audit(st->impl, j->id, who, "status", detail,
	    cause) != 0) {
		store_rollback(st);
		goto fail;
	}
	r = store_commit(st, cause);
	free(detail);
	if (r != 0) {
		/* The pointers in saved are still the live ones. */
		j->status = saved.status;
		j->status_ms = saved.status_ms;
		j->active_ms = saved.active_ms;
		j->suspended_ms = saved.suspended_ms;
		j->terminated_ms = saved.terminated_ms;
	}
	return (r);
fail:
	free(detail);
	j->status = saved.status;
	j->status_ms = saved.status_ms;
	j->active_ms = saved.active_ms;
	j->suspended_ms = saved.suspended_ms;
	j->terminated_ms = saved.terminated_ms;
	return (-1);
}

int
store_job_purge(struct store *st, struct job *j, char **cause)
{
	if (store_begin(st, cause) != 0)
		return (-1);
	if (st->backend->job_delete(st->impl, j->rowid, cause) != 0 ||
	    st->backend->audit(st->impl, j->id, STORE_DAEMON, "purge",
	    NULL, cause) != 0) {
		store_rollback(st);
		return (-1);
	}
	return (store_commit(st, cause));
}

int
store_tags_get(struct store *st, int64_t job, struct json_object **tags,
    char **cause)
{
	return (st->backend->tags_get(st->impl, job, tags, cause));
}

int
store_tags_set(struct store *st, const struct job *j, struct json_object *tags,
    const struct store_actor *who, char **cause)
{
	const char	*s;

	if (store_begin(st, cause) != 0)
		return (-1);
	s = json_object_to_json_string_ext(tags, JSON_C_TO_STRING_PLAIN|
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (st->backend->tags_set(st->impl, j->rowid, tags, cause) != 0 ||
	    st->backend->audit(st->impl, j->id, who, "tags", s, cause) != 0) {
		store_rollback(st);
		return (-1);
	}
	return (store_commit(st, cause));
}

int
store_audit(struct store *st, const char *job,
    const struct store_actor *who, const char *action,
    const char *detail, char **cause)
{
	return (st->backend->audit(st->impl, job, who, action, detail, cause));
}

int
store_task_add(struct store *st, int64_t job, const struct store_task *t,
    char **cause)
{
	return (st->backend->task_add(st->impl, job, t, cause));
}

int
store_tasks_delete(struct store *st, int64_t job, char **cause)
{
	return (st->backend->tasks_delete(st->impl, job, cause));
}

int
store_tasks_clone(struct store *st, int64_t from, int64_t to, int failed_only,
    uint64_t *n, char **cause)
{
	return (st->backend->tasks_clone(st->impl, from, to, failed_only, n,
	    cause));
}

int
store_task_list(struct store *st, int64_t job, int64_t after, int max,
    int failed_only, store_task_cb cb, void *arg, char **cause)
{
	return (st->backend->task_list(st->impl, job, after, max, failed_only,
	    cb, arg, cause));
}

int
store_task_window(struct store *st, int64_t job, int64_t after, int max,
    store_task_cb cb, void *arg, char **cause)
{
	return (st->backend->task_window(st->impl, job, after, max, cb, arg,
	    cause));
}

int
store_task_result(struct store *st, int64_t job, const struct store_task *t,
    char **cause)
{
	return (st->backend->task_result(st->impl, job, t, cause));
}

int
store_task_etag(struct store *st, int64_t job, int64_t seq, const char *etag,
    char **cause)
{
	return (st->backend->task_etag(st->impl, job, seq, etag, cause));
}

int
store_job_progress(struct store *st, const struct job *j, char **cause)
{
	return (st->backend->job_progress(st->impl, j, cause));
}

int
store_task_counts(struct store *st, int64_t job, uint64_t counts[4],
    char **cause)
{
	return (st->backend->task_counts(st->impl, job, counts, cause));
}

/*
 * A job waiting in New for its manifest (downloaded or generated) moves on:
 * to Preparing, or to Failed with a code and reason. Returns 0 when it
 * moved, 1 when it is no longer New (cancelled meanwhile, or gone), -1 on
 * a store error.
 */
int
store_job_leave_new(struct store *st, const char *id, const char *code,
    const char *reason, char **cause)
{
	struct job	j;
	int		r;

	if (store_begin(st, cause) != 0)
		return (-1);
	if ((r = store_job_get(st, id, &j, cause)) != 0) {
		store_rollback(st);
		return (r == 1 ? 1 : -1);
	}
	if (j.status != JOB_NEW) {
		store_rollback(st);
		job_clear(&j);
		return (1);
	}
	free(j.status_reason);
	j.status_reason = NULL;
	if (code != NULL) {
		j.failure_code = xstrdup(code);
		j.failure_reason = xstrdup(reason);
		r = store_job_transition(st, &j, JOB_FAILED, JOB_BY_DAEMON,
		    STORE_DAEMON, reason, cause);
	} else
		r = store_job_transition(st, &j, JOB_PREPARING, JOB_BY_DAEMON,
		    STORE_DAEMON, NULL, cause);
	job_clear(&j);
	if (r != 0 || store_commit(st, cause) != 0) {
		store_rollback(st);
		return (-1);
	}
	return (0);
}

/* The audit trail's subject for an inventory configuration. */
static char *
store_inv_subject(const char *bucket, const char *id)
{
	char	*s;

	xasprintf(&s, "inventory:%s/%s", bucket, id);
	return (s);
}

static int
store_inv_audited(struct store *st, const char *bucket, const char *id,
    const struct store_actor *who, const char *action, const char *detail,
    char **cause)
{
	char	*subject = store_inv_subject(bucket, id);
	int	 r;

	r = st->backend->audit(st->impl, subject, who, action, detail, cause);
	free(subject);
	return (r);
}

int
store_inv_put(struct store *st, const struct store_inv *inv,
    const struct store_actor *who, char **cause)
{
	if (store_begin(st, cause) != 0)
		return (-1);
	if (st->backend->inv_put(st->impl, inv, cause) != 0 ||
	    store_inv_audited(st, inv->bucket, inv->id, who,
	    "put-bucket-inventory-configuration", inv->doc, cause) != 0) {
		store_rollback(st);
		return (-1);
	}
	return (store_commit(st, cause));
}

int
store_inv_get(struct store *st, const char *bucket, const char *id,
    store_inv_cb cb, void *arg, char **cause)
{
	return (st->backend->inv_get(st->impl, bucket, id, cb, arg, cause));
}

int
store_inv_list(struct store *st, const char *bucket, const char *after,
    int max, store_inv_cb cb, void *arg, char **cause)
{
	return (st->backend->inv_list(st->impl, bucket, after, max, cb, arg,
	    cause));
}

int
store_inv_delete(struct store *st, const char *bucket, const char *id,
    const struct store_actor *who, char **cause)
{
	int	 r;

	if (store_begin(st, cause) != 0)
		return (-1);
	if ((r = st->backend->inv_delete(st->impl, bucket, id, cause)) != 0) {
		store_rollback(st);
		return (r);
	}
	if (store_inv_audited(st, bucket, id, who,
	    "delete-bucket-inventory-configuration", NULL, cause) != 0) {
		store_rollback(st);
		return (-1);
	}
	return (store_commit(st, cause));
}

static const char *const store_inv_states[] = {
	[STORE_INV_RUNNING] = "Running",
	[STORE_INV_SUCCEEDED] = "Succeeded",
	[STORE_INV_FAILED] = "Failed",
};

const char *
store_inv_state_name(enum store_inv_state state)
{
	if ((size_t)state >= nitems(store_inv_states))
		return ("?");
	return (store_inv_states[state]);
}

/*
 * A run's row and its audit record in one transaction: a new run is
 * inserted and moves its configuration's last schedule, a known one is
 * updated. Takes detail.
 */
static int
store_inv_run_write(struct store *st, const struct store_inv_run *run,
    int insert, const struct store_actor *who, const char *action,
    char *detail, char **cause)
{
	const struct store_backend	*be = st->backend;
	int				 r = -1;

	if (store_begin(st, cause) != 0)
		goto out;
	if (insert ? (be->inv_run_insert(st->impl, run, cause) != 0 ||
	    be->inv_set_last(st->impl, run->bucket, run->config_id,
	    run->sched_time, cause) != 0) :
	    be->inv_run_update(st->impl, run, cause) != 0)
		goto fail;
	if (store_inv_audited(st, run->bucket, run->config_id, who, action,
	    detail, cause) != 0)
		goto fail;
	r = store_commit(st, cause);
	goto out;
fail:
	store_rollback(st);
out:
	free(detail);
	return (r);
}

int
store_inv_run_start(struct store *st, const struct store_inv_run *run,
    const struct store_actor *who, char **cause)
{
	struct json_object	*o;

	o = json_object_new_object();
	json_object_object_add(o, "RunId", json_object_new_string(run->run_id));
	json_object_object_add(o, "Trigger",
	    json_object_new_string(run->trigger));
	json_object_object_add(o, "ScheduledTime",
	    json_object_new_int64(run->sched_time));
	return (store_inv_run_write(st, run, 1, who, "inventory-run-start",
	    store_detail_string(o), cause));
}

int
store_inv_run_end(struct store *st, const struct store_inv_run *run,
    char **cause)
{
	return (store_inv_run_write(st, run, 0, STORE_DAEMON,
	    "inventory-run-end", store_audit_detail("Running",
	    store_inv_state_name(run->state), run->error), cause));
}

int
store_inv_run_list(struct store *st, const char *bucket, const char *id,
    int state, int job_state, int max, store_inv_run_cb cb, void *arg,
    char **cause)
{
	return (st->backend->inv_run_list(st->impl, bucket, id, state,
	    job_state, max, cb, arg, cause));
}

int
store_inv_run_job(struct store *st, const struct store_inv_run *run,
    char **cause)
{
	struct json_object	*o;

	o = json_object_new_object();
	json_object_object_add(o, "RunId", json_object_new_string(run->run_id));
	if (run->job_id != NULL)
		json_object_object_add(o, "JobId",
		    json_object_new_string(run->job_id));
	if (run->job_error != NULL)
		json_object_object_add(o, "Reason",
		    json_object_new_string(run->job_error));
	return (store_inv_run_write(st, run, 0, STORE_DAEMON,
	    run->job_id != NULL ? "inventory-job-created" :
	    "inventory-job-refused", store_detail_string(o), cause));
}

int
store_inv_stats(struct store *st, store_inv_stats_cb cb, void *arg,
    char **cause)
{
	return (st->backend->inv_stats(st->impl, cb, arg, cause));
}
