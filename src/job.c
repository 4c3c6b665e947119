/*
 * The job state machine: Amazon's 13 states and one table of the
 * transitions between them (DESIGN.md §2). Everything that changes a job's
 * status asks this table first.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "job.h"
#include "json.h"

static const char *const job_status_names[JOB_NSTATUS] = {
	[JOB_NEW] = "New",
	[JOB_PREPARING] = "Preparing",
	[JOB_SUSPENDED] = "Suspended",
	[JOB_READY] = "Ready",
	[JOB_ACTIVE] = "Active",
	[JOB_PAUSING] = "Pausing",
	[JOB_PAUSED] = "Paused",
	[JOB_COMPLETING] = "Completing",
	[JOB_COMPLETE] = "Complete",
	[JOB_FAILING] = "Failing",
	[JOB_FAILED] = "Failed",
	[JOB_CANCELLING] = "Cancelling",
	[JOB_CANCELLED] = "Cancelled",
};

static const struct job_transition {
	enum job_status	 from;
	enum job_status	 to;
	int		 by;
} job_transitions[] = {
	{ JOB_NEW,		JOB_PREPARING,	JOB_BY_DAEMON },
	{ JOB_NEW,		JOB_FAILED,	JOB_BY_DAEMON },
	{ JOB_NEW,		JOB_CANCELLING,	JOB_BY_USER },
	{ JOB_PREPARING,	JOB_SUSPENDED,	JOB_BY_DAEMON },
	{ JOB_PREPARING,	JOB_READY,	JOB_BY_DAEMON },
	{ JOB_PREPARING,	JOB_FAILED,	JOB_BY_DAEMON },
	{ JOB_PREPARING,	JOB_CANCELLING,	JOB_BY_USER },
	{ JOB_SUSPENDED,	JOB_READY,	JOB_BY_USER },
	{ JOB_SUSPENDED,	JOB_FAILED,	JOB_BY_DAEMON },
	{ JOB_SUSPENDED,	JOB_CANCELLING,	JOB_BY_USER },
	{ JOB_READY,		JOB_ACTIVE,	JOB_BY_DAEMON },
	{ JOB_READY,		JOB_PAUSED,	JOB_BY_USER },
	{ JOB_READY,		JOB_CANCELLING,	JOB_BY_USER },
	{ JOB_READY,		JOB_FAILED,	JOB_BY_DAEMON },
	{ JOB_ACTIVE,		JOB_PAUSING,	JOB_BY_USER|JOB_BY_DAEMON },
	{ JOB_ACTIVE,		JOB_COMPLETING,	JOB_BY_DAEMON },
	{ JOB_ACTIVE,		JOB_FAILING,	JOB_BY_DAEMON },
	{ JOB_ACTIVE,		JOB_CANCELLING,	JOB_BY_USER },
	{ JOB_PAUSING,		JOB_PAUSED,	JOB_BY_DAEMON },
	{ JOB_PAUSING,		JOB_CANCELLING,	JOB_BY_USER },
	{ JOB_PAUSED,		JOB_READY,	JOB_BY_USER },
	{ JOB_PAUSED,		JOB_ACTIVE,	JOB_BY_DAEMON },
	{ JOB_PAUSED,		JOB_CANCELLING,	JOB_BY_USER },
	{ JOB_COMPLETING,	JOB_COMPLETE,	JOB_BY_DAEMON },
	{ JOB_COMPLETING,	JOB_FAILED,	JOB_BY_DAEMON },
	{ JOB_FAILING,		JOB_FAILED,	JOB_BY_DAEMON },
	/* s3batchctl retry-report: a report that could not be written. */
	{ JOB_FAILED,		JOB_COMPLETING,	JOB_BY_USER },
	{ JOB_FAILED,		JOB_FAILING,	JOB_BY_USER },
	{ JOB_CANCELLING,	JOB_CANCELLED,	JOB_BY_DAEMON },
};

/*
 * What a user's RequestedJobStatus means from each state. Amazon knows
 * Ready (confirm a Suspended job) and Cancelled; Paused, and Ready on a
 * Paused job (resume), are extensions.
 */
static const struct job_request {
	const char	*requested;
	enum job_status	 from;
	enum job_status	 to;
} job_requests[] = {
	{ "Ready",	JOB_SUSPENDED,	JOB_READY },
	{ "Ready",	JOB_PAUSED,	JOB_READY },
	{ "Paused",	JOB_READY,	JOB_PAUSED },
	{ "Paused",	JOB_ACTIVE,	JOB_PAUSING },
	{ "Cancelled",	JOB_NEW,	JOB_CANCELLING },
	{ "Cancelled",	JOB_PREPARING,	JOB_CANCELLING },
	{ "Cancelled",	JOB_SUSPENDED,	JOB_CANCELLING },
	{ "Cancelled",	JOB_READY,	JOB_CANCELLING },
	{ "Cancelled",	JOB_ACTIVE,	JOB_CANCELLING },
	{ "Cancelled",	JOB_PAUSING,	JOB_CANCELLING },
	{ "Cancelled",	JOB_PAUSED,	JOB_CANCELLING },
};

const char *
job_status_name(enum job_status s)
{
	if ((unsigned)s >= JOB_NSTATUS)
		return ("Unknown");
	return (job_status_names[s]);
}

int
job_status_parse(const char *name, enum job_status *s)
{
	int	i;

	for (i = 0; i < JOB_NSTATUS; i++) {
		if (strcmp(job_status_names[i], name) == 0) {
			*s = (enum job_status)i;
			return (0);
		}
	}
	return (-1);
}

int
job_status_terminal(enum job_status s)
{
	return (s == JOB_COMPLETE || s == JOB_FAILED || s == JOB_CANCELLED);
}

int
job_transition_allowed(enum job_status from, enum job_status to, int by)
{
	size_t	i;

	for (i = 0; i < nitems(job_transitions); i++) {
		if (job_transitions[i].from == from &&
		    job_transitions[i].to == to &&
		    (job_transitions[i].by & by))
			return (1);
	}
	return (0);
}

int
job_user_request(enum job_status cur, const char *requested,
    enum job_status *next, char **cause)
{
	size_t	i;
	int	known = 0;

	for (i = 0; i < nitems(job_requests); i++) {
		if (strcmp(job_requests[i].requested, requested) != 0)
			continue;
		known = 1;
		if (job_requests[i].from == cur) {
			*next = job_requests[i].to;
			return (0);
		}
	}
	if (!known)
		xasprintf(cause, "RequestedJobStatus: \"%s\" is not one of "
		    "Ready, Cancelled, Paused", requested);
	else
		xasprintf(cause, "a job in state %s cannot be set to %s",
		    job_status_name(cur), requested);
	return (-1);
}

enum job_timer
job_timer_due(const struct job *j, uint64_t now, uint64_t confirm_timeout,
    uint64_t retention)
{
	if (j->status == JOB_SUSPENDED &&
	    now >= j->suspended_ms + confirm_timeout)
		return (JOB_TIMER_CONFIRM_EXPIRED);
	if (job_status_terminal(j->status) &&
	    now >= j->terminated_ms + retention)
		return (JOB_TIMER_PURGE);
	return (JOB_TIMER_NONE);
}

uint64_t
job_timer_next(const struct job *j, uint64_t confirm_timeout,
    uint64_t retention)
{
	if (j->status == JOB_SUSPENDED)
		return (j->suspended_ms + confirm_timeout);
	if (job_status_terminal(j->status))
		return (j->terminated_ms + retention);
	return (0);
}

void
job_clear(struct job *j)
{
	free(j->description);
	free(j->operation);
	free(j->spec);
	free(j->client_token);
	free(j->status_reason);
	free(j->failure_code);
	free(j->failure_reason);
	free(j->failure_earlier);
	free(j->suspended_cause);
	free(j->source_job);
	memset(j, 0, sizeof *j);
}

static void
job_add_string(struct json_object *o, const char *name, const char *v)
{
	if (v != NULL)
		json_object_object_add(o, name, json_object_new_string(v));
}

static void
job_add_time(struct json_object *o, const char *name, uint64_t ms)
{
	char	ts[40];

	if (ms == 0)
		return;
	time_format_iso(ms, ts, sizeof ts);
	json_object_object_add(o, name, json_object_new_string(ts));
}

/* Copy one member of the stored spec into the descriptor, if present. */
static void
job_add_spec(struct json_object *o, struct json_object *spec,
    const char *name)
{
	struct json_object	*v;

	if (spec != NULL && json_object_object_get_ex(spec, name, &v))
		json_object_object_add(o, name, json_object_get(v));
}

static struct json_object *
job_failure_new(const char *code, const char *reason)
{
	struct json_object	*f;

	f = json_object_new_object();
	job_add_string(f, "FailureCode", code);
	job_add_string(f, "FailureReason", reason);
	return (f);
}

struct json_object *
job_failures(const struct job *j)
{
	struct json_object	*fr, *earlier;
	size_t			 i, n;

	fr = json_object_new_array();
	if (j->failure_earlier != NULL &&
	    (earlier = json_tokener_parse(j->failure_earlier)) != NULL) {
		if (json_object_is_type(earlier, json_type_array)) {
			n = json_object_array_length(earlier);
			for (i = 0; i < n; i++)
				json_object_array_add(fr, json_object_get(
				    json_object_array_get_idx(earlier, i)));
		}
		json_object_put(earlier);
	}
	if (j->failure_code != NULL || j->failure_reason != NULL)
		json_object_array_add(fr, job_failure_new(j->failure_code,
		    j->failure_reason));
	return (fr);
}

/* Store an array of reasons back: the last is the latest. */
static void
job_failures_set(struct job *j, struct json_object *fr)
{
	struct json_object	*last, *earlier;
	size_t			 i, n;

	free(j->failure_code);
	free(j->failure_reason);
	free(j->failure_earlier);
	j->failure_code = j->failure_reason = j->failure_earlier = NULL;
	if ((n = json_object_array_length(fr)) == 0)
		return;
	last = json_object_array_get_idx(fr, n - 1);
	if (json_path_string(last, "FailureCode") != NULL)
		j->failure_code = xstrdup(json_path_string(last,
		    "FailureCode"));
	if (json_path_string(last, "FailureReason") != NULL)
		j->failure_reason = xstrdup(json_path_string(last,
		    "FailureReason"));
	if (n == 1)
		return;
	earlier = json_object_new_array();
	for (i = 0; i + 1 < n; i++)
		json_object_array_add(earlier, json_object_get(
		    json_object_array_get_idx(fr, i)));
	j->failure_earlier = xstrdup(json_object_to_json_string_ext(earlier,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(earlier);
}

/* The index of a code among the reasons, or -1. */
static int
job_failure_find(struct json_object *fr, const char *code)
{
	const char	*c;
	size_t		 i, n;

	n = json_object_array_length(fr);
	for (i = 0; i < n; i++) {
		c = json_path_string(json_object_array_get_idx(fr, i),
		    "FailureCode");
		if (c != NULL && code != NULL && strcmp(c, code) == 0)
			return ((int)i);
	}
	return (-1);
}

void
job_add_failure(struct job *j, const char *code, const char *reason)
{
	struct json_object	*fr;
	int			 i;

	fr = job_failures(j);
	if ((i = job_failure_find(fr, code)) != -1)
		json_object_array_put_idx(fr, (size_t)i,
		    job_failure_new(code, reason));
	else
		json_object_array_add(fr, job_failure_new(code, reason));
	job_failures_set(j, fr);
	json_object_put(fr);
}

void
job_drop_failure(struct job *j, const char *code)
{
	struct json_object	*fr;
	int			 i;

	fr = job_failures(j);
	if ((i = job_failure_find(fr, code)) != -1) {
		json_object_array_del_idx(fr, (size_t)i, 1);
		job_failures_set(j, fr);
	}
	json_object_put(fr);
}

int
job_has_failure(const struct job *j, const char *code)
{
	struct json_object	*fr;
	int			 r;

	fr = job_failures(j);
	r = job_failure_find(fr, code) != -1;
	json_object_put(fr);
	return (r);
}

char *
job_arn(const struct job *j, const char *region)
{
	struct json_object	*spec, *acct;
	const char		*account = "000000000000";
	char			*arn;

	spec = json_tokener_parse(j->spec != NULL ? j->spec : "{}");
	if (spec != NULL && json_object_object_get_ex(spec, "AccountId",
	    &acct) && json_object_is_type(acct, json_type_string))
		account = json_object_get_string(acct);
	xasprintf(&arn, "arn:aws:s3:%s:%s:job/%s", region, account, j->id);
	json_object_put(spec);
	return (arn);
}

static struct json_object *
job_progress(const struct job *j)
{
	struct json_object	*p, *t;
	uint64_t		 active, now;

	p = json_object_new_object();
	json_object_object_add(p, "TotalNumberOfTasks",
	    json_object_new_int64((int64_t)j->total_tasks));
	json_object_object_add(p, "NumberOfTasksSucceeded",
	    json_object_new_int64((int64_t)j->succeeded));
	json_object_object_add(p, "NumberOfTasksFailed",
	    json_object_new_int64((int64_t)j->failed));
	/* The stint under way counts too. */
	active = j->active_ms;
	if (j->status == JOB_ACTIVE && (now = time_now_ms()) > j->status_ms)
		active += now - j->status_ms;
	t = json_object_new_object();
	json_object_object_add(t, "ElapsedTimeInActiveSeconds",
	    json_object_new_int64((int64_t)(active / 1000)));
	json_object_object_add(p, "Timers", t);
	return (p);
}

/* The members in the order the aws cli prints a DescribeJob answer. */
struct json_object *
job_descriptor(const struct job *j, const char *region)
{
	struct json_object	*o, *spec;
	char			*arn;

	spec = json_tokener_parse(j->spec != NULL ? j->spec : "{}");
	o = json_object_new_object();
	job_add_string(o, "JobId", j->id);
	json_object_object_add(o, "ConfirmationRequired",
	    json_object_new_boolean(j->confirmation_required));
	job_add_string(o, "Description", j->description);
	arn = job_arn(j, region);
	job_add_string(o, "JobArn", arn);
	free(arn);
	job_add_string(o, "Status", job_status_name(j->status));
	job_add_spec(o, spec, "Manifest");
	job_add_spec(o, spec, "Operation");
	json_object_object_add(o, "Priority",
	    json_object_new_int64(j->priority));
	json_object_object_add(o, "ProgressSummary", job_progress(j));
	job_add_string(o, "StatusUpdateReason", j->status_reason);
	json_object_object_add(o, "FailureReasons", job_failures(j));
	job_add_spec(o, spec, "Report");
	job_add_time(o, "CreationTime", j->created_ms);
	if (job_status_terminal(j->status))
		job_add_time(o, "TerminationDate", j->terminated_ms);
	job_add_spec(o, spec, "RoleArn");
	if (j->status == JOB_SUSPENDED) {
		job_add_time(o, "SuspendedDate", j->suspended_ms);
		job_add_string(o, "SuspendedCause", j->suspended_cause);
	}
	job_add_spec(o, spec, "ManifestGenerator");
	json_object_put(spec);
	return (o);
}

struct json_object *
job_list_descriptor(const struct job *j)
{
	struct json_object	*o;

	o = json_object_new_object();
	job_add_string(o, "JobId", j->id);
	job_add_string(o, "Description", j->description);
	job_add_string(o, "Operation", j->operation);
	json_object_object_add(o, "Priority",
	    json_object_new_int64(j->priority));
	job_add_string(o, "Status", job_status_name(j->status));
	job_add_time(o, "CreationTime", j->created_ms);
	if (job_status_terminal(j->status))
		job_add_time(o, "TerminationDate", j->terminated_ms);
	json_object_object_add(o, "ProgressSummary", job_progress(j));
	return (o);
}
