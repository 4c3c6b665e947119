/*
 * The job control plane with Amazon's semantics: create-job (with a
 * manifest streamed from s3batchctl), describe-job, list-jobs,
 * update-job-priority, update-job-status, the job-tagging calls and
 * clone-job. Requests are checked against Amazon's model first; every
 * reply goes out only after its change is committed.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <json-c/json.h>

#include "s3batchd.h"
#include "cfg.h"
#include "control-cmd.h"
#include "control.h"
#include "job.h"
#include "jobcheck.h"
#include "jobspec.h"
#include "json.h"
#include "model.h"
#include "lifecycle.h"
#include "protocol.h"
#include "server.h"
#include "spool.h"
#include "stage-generate.h"
#include "store.h"

#define CMD_LIST_DEFAULT	1000

/* The other requests: the model says it all (AccountId is ignored). */
static int
cmd_validate(struct ctl_req *req, const char *shape)
{
	char	*cause = NULL;

	if (model_validate(shape, req->args, &cause) != 0) {
		ctl_reply_error(req, ERR_BAD_REQUEST, "%s", cause);
		free(cause);
		return (-1);
	}
	return (0);
}

/* Load the job a request names; replies NoSuchJob itself. */
static int
cmd_load_job(struct ctl_req *req, struct job *j)
{
	const char	*id = json_path_string(req->args, "JobId");
	char		*cause = NULL;
	int		 r;

	if (id == NULL) {
		ctl_reply_error(req, ERR_BAD_REQUEST, "JobId: required");
		return (-1);
	}
	if ((r = store_job_get(req->srv->store, id, j, &cause)) == 0)
		return (0);
	if (r == 1)
		ctl_reply_error(req, ERR_NO_SUCH_JOB, "The specified job does "
		    "not exist: %s", id);
	else {
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
		free(cause);
	}
	return (-1);
}

/*
 * Insert a job and move it to its first state, with its tags, in one
 * transaction: either all of it is on disk or none.
 */
static int
cmd_job_store(struct ctl_req *req, struct job *j, enum job_status first,
    struct json_object *tags, char **cause)
{
	struct store	*st = req->srv->store;

	if (store_begin(st, cause) != 0)
		return (-1);
	if (store_job_insert(st, j, &req->actor, cause) != 0)
		goto fail;
	if (first != JOB_NEW && store_job_transition(st, j, first,
	    JOB_BY_DAEMON, STORE_DAEMON, NULL, cause) != 0)
		goto fail;
	if (tags != NULL && store_tags_set(st, j, tags, &req->actor, cause) != 0)
		goto fail;
	return (store_commit(st, cause));
fail:
	store_rollback(st);
	return (-1);
}

/* The Tags member of a CreateJob request, if any. */
static struct json_object *
cmd_spec_tags(struct json_object *spec)
{
	struct json_object	*tags;

	if (!json_object_object_get_ex(spec, "Tags", &tags))
		return (NULL);
	return (tags);
}

static void
cmd_reply_job_id(struct ctl_req *req, const char *id)
{
	struct json_object	*r;

	r = json_object_new_object();
	json_object_object_add(r, "JobId", json_object_new_string(id));
	ctl_reply(req, r);
}

/*
 * ClientRequestToken: the same request again answers with the same job; a
 * different request under a used token is Amazon's IdempotencyException.
 * Returns 1 when it replied.
 */
static int
cmd_idempotent(struct ctl_req *req, struct json_object *spec)
{
	char	 id[37], *cause = NULL;

	switch (lifecycle_job_by_token(req->srv->store, spec, id, &cause)) {
	case 1:
		return (0);
	case 0:
		cmd_reply_job_id(req, id);
		break;
	case 2:
		ctl_reply_error(req, ERR_IDEMPOTENCY, "%s", cause);
		break;
	default:
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
		break;
	}
	free(cause);
	return (1);
}

/* A manifest being streamed into the spool directory. */
struct cmd_spool {
	struct server		*srv;
	struct json_object	*spec;
	char			 id[37];
	struct spool_writer	*w;
	uint64_t		 bytes;
};

static void
cmd_spool_free(struct cmd_spool *sp)
{
	if (sp->w != NULL)
		spool_writer_abort(sp->w);
	json_object_put(sp->spec);
	free(sp);
}

static int
cmd_spool_data(void *arg, struct evbuffer *in, size_t len, char **cause)
{
	struct cmd_spool	*sp = arg;
	struct evbuffer_iovec	 v;
	size_t			 n;

	while (len > 0) {
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		n = v.iov_len < len ? v.iov_len : len;
		if (spool_writer_write(sp->w, v.iov_base, n, cause) != 0)
			return (-1);
		evbuffer_drain(in, n);
		len -= n;
		sp->bytes += n;
	}
	return (0);
}

static void
cmd_spool_abort(void *arg)
{
	cmd_spool_free(arg);
}

static void
cmd_spool_end(struct ctl_req *req, void *arg)
{
	struct cmd_spool	*sp = arg;
	struct spool_writer	*w = sp->w;
	struct job		 j;
	char			*cause = NULL;

	sp->w = NULL;
	if (spool_writer_commit(w, &cause) != 0) {
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
		free(cause);
		cmd_spool_free(sp);
		return;
	}
	lifecycle_job_init(&j, sp->spec, JOB_MANIFEST_LOCAL);
	memcpy(j.id, sp->id, sizeof j.id);
	if (cmd_job_store(req, &j, JOB_PREPARING, cmd_spec_tags(sp->spec),
	    &cause) != 0) {
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
		free(cause);
		spool_remove(req->srv->cfg->state_dir, sp->id);
		job_clear(&j);
		cmd_spool_free(sp);
		return;
	}
	log_job(LOG_INFO, j.id, "created by uid %u: %s, manifest of %llu "
	    "bytes streamed", (unsigned)req->uid, j.operation,
	    (unsigned long long)sp->bytes);
	cmd_reply_job_id(req, j.id);
	lifecycle_advance(req->srv->lifecycle, j.id);
	job_clear(&j);
	cmd_spool_free(sp);
}

static const struct ctl_stream_ops cmd_spool_ops = {
	cmd_spool_data,
	cmd_spool_end,
	cmd_spool_abort,
};

void
cmd_create_job(struct ctl_req *req)
{
	struct server		*srv = req->srv;
	struct json_object	*spec, *v;
	struct cmd_spool	*sp;
	struct job		 j;
	char			*cause = NULL;
	int			 stream = 0;
	enum job_manifest	 kind;

	/* The request proper, without our own framing member. */
	spec = json_tokener_parse(lifecycle_spec_text(req->args));
	if (json_object_object_get_ex(spec, "ManifestStream", &v)) {
		stream = json_object_get_boolean(v);
		json_object_object_del(spec, "ManifestStream");
	}
	if (jobcheck_create(spec, stream, &cause) != 0) {
		ctl_reply_error(req, ERR_BAD_REQUEST, "%s", cause);
		goto out;
	}
	if (cmd_idempotent(req, spec))
		goto out;

	if (stream) {
		sp = xcalloc(1, sizeof *sp);
		sp->srv = srv;
		sp->spec = json_object_get(spec);
		uuid_generate_v4(sp->id);
		if ((sp->w = spool_writer_open(srv->cfg->state_dir, sp->id,
		    &cause)) == NULL) {
			ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
			cmd_spool_free(sp);
			goto out;
		}
		ctl_stream_in(req, &cmd_spool_ops, sp);
		goto out;
	}

	/*
	 * A manifest on S3 is downloaded, a generated one listed, while the
	 * job waits in New.
	 */
	kind = json_object_object_get_ex(spec, "ManifestGenerator", NULL) ?
	    JOB_MANIFEST_GENERATOR : JOB_MANIFEST_S3;
	lifecycle_job_init(&j, spec, kind);
	j.status_reason = xstrdup(kind == JOB_MANIFEST_S3 ?
	    "Downloading the manifest from S3" :
	    "Generating the manifest: listing the source bucket");
	if (cmd_job_store(req, &j, JOB_NEW, cmd_spec_tags(spec), &cause) != 0) {
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
		job_clear(&j);
		goto out;
	}
	log_job(LOG_INFO, j.id, "created by uid %u: %s, manifest on S3",
	    (unsigned)req->uid, j.operation);
	cmd_reply_job_id(req, j.id);
	lifecycle_advance(req->srv->lifecycle, j.id);
	job_clear(&j);
out:
	free(cause);
	json_object_put(spec);
}

/*
 * A job waiting to start its stage again says why among its
 * FailureReasons: the lifecycle keeps the reason in memory, since the
 * cause (a full disk) may be that nothing can be written.
 */
static void
cmd_add_waiting(struct ctl_req *req, const struct job *j,
    struct json_object *o)
{
	struct json_object	*fr, *f;
	const char		*code, *reason;

	if ((reason = lifecycle_waiting(req->srv->lifecycle, j->id,
	    &code)) == NULL || !json_object_object_get_ex(o, "FailureReasons",
	    &fr))
		return;
	f = json_object_new_object();
	json_object_object_add(f, "FailureCode", json_object_new_string(code));
	json_object_object_add(f, "FailureReason",
	    json_object_new_string(reason));
	json_object_array_add(fr, f);
}

void
cmd_describe_job(struct ctl_req *req)
{
	struct json_object	*r, *o, *gen;
	struct job		 j;

	if (cmd_validate(req, "DescribeJobRequest") != 0 ||
	    cmd_load_job(req, &j) != 0)
		return;
	r = json_object_new_object();
	o = job_descriptor(&j, server_region(req->srv));
	cmd_add_waiting(req, &j, o);
	if (j.manifest == JOB_MANIFEST_GENERATOR && (gen =
	    stage_generate_descriptor(req->srv->cfg->state_dir, j.id)) != NULL)
		json_object_object_add(o, "GeneratedManifestDescriptor", gen);
	json_object_object_add(r, "Job", o);
	job_clear(&j);
	ctl_reply(req, r);
}

struct cmd_list {
	struct json_object	*jobs;
	int64_t			 last;
	int			 n;
	int			 max;
	int			 more;
};

static int
cmd_list_cb(const struct job *j, void *arg)
{
	struct cmd_list	*l = arg;

	if (l->n == l->max) {
		l->more = 1;
		return (1);
	}
	json_object_array_add(l->jobs, job_list_descriptor(j));
	l->last = j->rowid;
	l->n++;
	return (0);
}

void
cmd_list_jobs(struct ctl_req *req)
{
	struct json_object	*statuses, *v, *r;
	struct cmd_list		 l;
	enum job_status		 s;
	const char		*token;
	char			*cause = NULL, *end, next[32];
	uint32_t		 mask = 0;
	int64_t			 after = 0;
	size_t			 i;

	if (cmd_validate(req, "ListJobsRequest") != 0)
		return;
	memset(&l, 0, sizeof l);
	l.max = CMD_LIST_DEFAULT;
	if (json_object_object_get_ex(req->args, "JobStatuses", &statuses)) {
		for (i = 0; i < json_object_array_length(statuses); i++) {
			v = json_object_array_get_idx(statuses, i);
			if (job_status_parse(json_object_get_string(v), &s) == 0)
				mask |= 1U << s;
		}
	}
	if (json_object_object_get_ex(req->args, "MaxResults", &v) &&
	    json_object_get_int(v) > 0)
		l.max = json_object_get_int(v);
	if ((token = json_path_string(req->args, "NextToken")) != NULL) {
		errno = 0;
		after = strtoll(token, &end, 10);
		if (*token == '\0' || *end != '\0' || errno != 0 || after < 0) {
			ctl_reply_error(req, ERR_INVALID_REQUEST, "NextToken: "
			    "\"%.64s\" is not a token this daemon gave out",
			    token);
			return;
		}
	}
	l.jobs = json_object_new_array();
	/* One more than asked tells whether there is a next page. */
	if (store_job_list(req->srv->store, mask, after, l.max + 1,
	    cmd_list_cb, &l, &cause) != 0) {
		json_object_put(l.jobs);
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
		free(cause);
		return;
	}
	r = json_object_new_object();
	json_object_object_add(r, "Jobs", l.jobs);
	if (l.more) {
		/* The token is the position of the last job returned. */
		snprintf(next, sizeof next, "%" PRId64, l.last);
		json_object_object_add(r, "NextToken",
		    json_object_new_string(next));
	}
	ctl_reply(req, r);
}

void
cmd_update_job_priority(struct ctl_req *req)
{
	struct json_object	*v, *r;
	struct job		 j;
	char			*cause = NULL, detail[64];
	int64_t			 old;

	if (cmd_validate(req, "UpdateJobPriorityRequest") != 0 ||
	    cmd_load_job(req, &j) != 0)
		return;
	if (job_status_terminal(j.status)) {
		ctl_reply_error(req, ERR_JOB_STATUS, "a job in state %s cannot "
		    "change priority", job_status_name(j.status));
		goto out;
	}
	json_object_object_get_ex(req->args, "Priority", &v);
	old = j.priority;
	j.priority = json_object_get_int64(v);
	snprintf(detail, sizeof detail, "{\"From\":%" PRId64 ",\"To\":%" PRId64
	    "}", old, j.priority);
	if (store_begin(req->srv->store, &cause) != 0 ||
	    store_job_update(req->srv->store, &j, &cause) != 0 ||
	    store_audit(req->srv->store, j.id, &req->actor, "priority", detail,
	    &cause) != 0 || store_commit(req->srv->store, &cause) != 0) {
		store_rollback(req->srv->store);
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
		free(cause);
		goto out;
	}
	lifecycle_advance(req->srv->lifecycle, j.id);
	r = json_object_new_object();
	json_object_object_add(r, "JobId", json_object_new_string(j.id));
	json_object_object_add(r, "Priority", json_object_new_int64(j.priority));
	ctl_reply(req, r);
out:
	job_clear(&j);
}

void
cmd_update_job_status(struct ctl_req *req)
{
	struct store		*st = req->srv->store;
	struct json_object	*r, *v;
	const char		*requested, *reason;
	enum job_status		 next;
	struct job		 j, now;
	char			*cause = NULL;

	/*
	 * Not through the model: RequestedJobStatus takes Paused here too,
	 * an extension Amazon's enum does not list.
	 */
	requested = json_path_string(req->args, "RequestedJobStatus");
	reason = json_path_string(req->args, "StatusUpdateReason");
	if (requested == NULL) {
		ctl_reply_error(req, ERR_BAD_REQUEST, "RequestedJobStatus: "
		    "required");
		return;
	}
	if (json_object_object_get_ex(req->args, "StatusUpdateReason", &v) &&
	    (reason == NULL || *reason == '\0' || strlen(reason) > 256)) {
		ctl_reply_error(req, ERR_BAD_REQUEST, "StatusUpdateReason: "
		    "must be a string of 1 to 256 characters");
		return;
	}
	/* Read and change the job in one transaction: a stage may race. */
	if (store_begin(st, &cause) != 0) {
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
		free(cause);
		return;
	}
	if (cmd_load_job(req, &j) != 0) {
		store_rollback(st);
		return;
	}
	if (job_user_request(j.status, requested, &next, &cause) != 0) {
		store_rollback(st);
		ctl_reply_error(req, ERR_JOB_STATUS, "%s", cause);
		free(cause);
		goto out;
	}
	free(j.status_reason);
	j.status_reason = reason != NULL ? xstrdup(reason) : NULL;
	if (store_job_transition(st, &j, next, JOB_BY_USER, &req->actor, reason,
	    &cause) != 0)
		goto fail;
	if (store_commit(st, &cause) != 0)
		goto fail;
	/*
	 * The lifecycle acts at once where it can: a job with nothing running
	 * is Cancelled now, and the reply says so.
	 */
	lifecycle_advance(req->srv->lifecycle, j.id);
	if (next == JOB_CANCELLING &&
	    store_job_get(st, j.id, &now, &cause) == 0) {
		j.status = now.status;
		job_clear(&now);
	} else {
		free(cause);
		cause = NULL;
	}
	log_job(LOG_INFO, j.id, "uid %u requested %s: now %s",
	    (unsigned)req->uid, requested, job_status_name(j.status));
	r = json_object_new_object();
	json_object_object_add(r, "JobId", json_object_new_string(j.id));
	json_object_object_add(r, "Status",
	    json_object_new_string(job_status_name(j.status)));
	if (reason != NULL)
		json_object_object_add(r, "StatusUpdateReason",
		    json_object_new_string(reason));
	ctl_reply(req, r);
	goto out;
fail:
	store_rollback(st);
	ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
	free(cause);
out:
	job_clear(&j);
}

void
cmd_get_job_tagging(struct ctl_req *req)
{
	struct json_object	*tags, *r;
	struct job		 j;
	char			*cause = NULL;

	if (cmd_validate(req, "GetJobTaggingRequest") != 0 ||
	    cmd_load_job(req, &j) != 0)
		return;
	if (store_tags_get(req->srv->store, j.rowid, &tags, &cause) != 0) {
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
		free(cause);
	} else {
		r = json_object_new_object();
		json_object_object_add(r, "Tags", tags);
		ctl_reply(req, r);
	}
	job_clear(&j);
}

static void
cmd_set_tags(struct ctl_req *req, struct json_object *tags)
{
	struct job	 j;
	char		*cause = NULL;

	if (cmd_load_job(req, &j) != 0)
		return;
	if (store_tags_set(req->srv->store, &j, tags, &req->actor, &cause) != 0) {
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
		free(cause);
	} else
		ctl_reply(req, json_object_new_object());
	job_clear(&j);
}

void
cmd_put_job_tagging(struct ctl_req *req)
{
	struct json_object	*tags;
	char			*cause = NULL;

	if (cmd_validate(req, "PutJobTaggingRequest") != 0)
		return;
	json_object_object_get_ex(req->args, "Tags", &tags);
	if (jobspec_validate_tags(tags, &cause) != 0) {
		ctl_reply_error(req, json_object_array_length(tags) >
		    JOBSPEC_MAX_TAGS ? ERR_TOO_MANY_TAGS : ERR_BAD_REQUEST,
		    "%s", cause);
		free(cause);
		return;
	}
	cmd_set_tags(req, tags);
}

void
cmd_delete_job_tagging(struct ctl_req *req)
{
	if (cmd_validate(req, "DeleteJobTaggingRequest") != 0)
		return;
	cmd_set_tags(req, NULL);
}

/*
 * clone-job (an extension): a new job with the source's spec, overrides
 * from the request, and the source's tasks (all, or only the failed ones),
 * copied by the clone stage. A source whose manifest is not read yet is cloned
 * as a spec only.
 */
void
cmd_clone_job(struct ctl_req *req)
{
	static const char *const overrides[] = {
		"Priority", "Description", "ConfirmationRequired",
		"ClientRequestToken",
	};
	struct json_object	*spec, *v;
	struct job		 src, j;
	char			*cause = NULL;
	int			 failed_only = 0, have_tasks, local;
	size_t			 i;

	if (cmd_load_job(req, &src) != 0)
		return;
	if (json_object_object_get_ex(req->args, "FailedTasksOnly", &v))
		failed_only = json_object_get_boolean(v);
	if (failed_only && !job_status_terminal(src.status)) {
		ctl_reply_error(req, ERR_JOB_STATUS, "--failed-tasks-only needs "
		    "a finished job; job %s is %s", src.id,
		    job_status_name(src.status));
		job_clear(&src);
		return;
	}
	spec = json_tokener_parse(src.spec);
	json_object_object_del(spec, "ClientRequestToken");
	for (i = 0; i < nitems(overrides); i++) {
		if (json_object_object_get_ex(req->args, overrides[i], &v))
			json_object_object_add(spec, overrides[i],
			    json_object_get(v));
	}
	/* A streamed source kept no Manifest.Location: check it as one. */
	local = json_object_object_get_ex(spec, "Manifest", &v) &&
	    !json_object_object_get_ex(v, "Location", NULL);
	if (jobcheck_create(spec, local, &cause) != 0) {
		ctl_reply_error(req, ERR_BAD_REQUEST, "%s", cause);
		free(cause);
		goto out;
	}
	if (cmd_idempotent(req, spec))
		goto out;
	have_tasks = src.status != JOB_NEW && src.status != JOB_PREPARING &&
	    src.total_tasks > 0;
	if (!have_tasks && src.manifest == JOB_MANIFEST_LOCAL) {
		ctl_reply_error(req, ERR_JOB_STATUS, "job %s has no tasks to "
		    "clone (it is %s)", src.id, job_status_name(src.status));
		goto out;
	}
	lifecycle_job_init(&j, spec, have_tasks ? JOB_MANIFEST_CLONE : src.manifest);
	if (have_tasks) {
		j.source_job = xstrdup(src.id);
		j.source_failed_only = failed_only;
	} else
		j.status_reason = xstrdup(src.status_reason != NULL ?
		    src.status_reason : "Waiting for the S3 engine");
	if (cmd_job_store(req, &j, have_tasks ? JOB_PREPARING : JOB_NEW, NULL,
	    &cause) != 0) {
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
		free(cause);
		job_clear(&j);
		goto out;
	}
	log_job(LOG_INFO, j.id, "cloned by uid %u from job %s%s",
	    (unsigned)req->uid, src.id, failed_only ? " (failed tasks)" : "");
	cmd_reply_job_id(req, j.id);
	lifecycle_advance(req->srv->lifecycle, j.id);
	job_clear(&j);
out:
	json_object_put(spec);
	job_clear(&src);
}
