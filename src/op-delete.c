/*
 * S3DeleteObject (an extension): delete the listed objects, safely.
 *
 * A delete job is always confirmed by a person (OP_CONFIRM). Before that,
 * while the job is still Preparing, the scheduler runs this file's dry run
 * (the plan hooks): a HEAD of every task's object that records the ETag it
 * sees as the task's ETag and counts what would be deleted, for
 * SuspendedCause. So
 * the delete acts only on the object the user was shown, whatever happens
 * to it while the job waits for confirmation.
 *
 * A task: HEAD (version-pinned, If-Match on the pinned or recorded ETag);
 * a changed object fails 412 and is not deleted. Then one DELETE:
 *
 *  - with a version id from the manifest, DELETE ?versionId= removes that
 *    version for good. Versions never change, so the HEAD is the whole
 *    check. Object Lock is checked from the HEAD's headers first (a legal
 *    hold or COMPLIANCE retention is never deleted, GOVERNANCE only with
 *    BypassGovernanceRetention, which also sends
 *    x-amz-bypass-governance-retention: true); the server checks again.
 *  - without one, DELETE of the key deletes the current version: for good
 *    in an unversioned bucket, by a delete marker in a versioned one (the
 *    data stays as a noncurrent version, as S3's own DeleteObject does).
 *    It carries If-Match on the ETag, honoured by Amazon S3 and recent
 *    Ceph; a server that ignores it (Ceph Pacific) leaves only the time
 *    between our HEAD and the DELETE for a change to slip in.
 *
 * One DELETE per object, not DeleteObjects: every object needs its own
 * conditional check anyway (RGW has no per-key ETag in DeleteObjects), and
 * the scheduler runs one task at a time through an operation.
 *
 * An object already gone (HEAD 404) succeeds without a DELETE, as S3's
 * DeleteObject of a missing key does; a named version with no ETag to
 * check is deleted even then (it may be a delete marker, which HEAD
 * cannot see).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "http.h"
#include "model.h"
#include "op.h"
#include "op-delete.h"
#include "s3.h"
#include "s3xml.h"

#define OP_DELETE_SHOWN		5	/* buckets named in the text */

struct op_delete {
	int	bypass;		/* BypassGovernanceRetention */
};

static int
op_delete_compile(struct json_object *params, struct json_object *spec,
    void **ctxp, char **cause)
{
	struct op_delete	*ctx;
	struct json_object	*v;

	ctx = xcalloc(1, sizeof *ctx);
	if (params != NULL && json_object_object_get_ex(params,
	    "BypassGovernanceRetention", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			xasprintf(cause, "Operation.%s.BypassGovernance"
			    "Retention: expected true or false",
			    op_delete.name);
			free(ctx);
			return (-1);
		}
		ctx->bypass = json_object_get_boolean(v);
	}
	*ctxp = ctx;
	return (0);
}

static void
op_delete_free(void *arg)
{
	free(arg);
}

/* A HEAD answer for an object that is not there (AWS: 405 for a marker). */
static int
op_delete_absent(const struct s3_result *r)
{
	return (r->status == 404 || r->status == 405);
}

/*
 * Whether Object Lock forbids deleting the version a HEAD described; the
 * reason in buf. An unreadable retain-until date counts as locked.
 */
static int
op_delete_locked(const struct s3_result *r, int bypass, char *buf,
    size_t len)
{
	const char	*hold, *mode, *until;
	int64_t		 until_ms;
	char		*c = NULL;

	hold = s3_result_header(r, "x-amz-object-lock-legal-hold");
	if (hold != NULL && strcasecmp(hold, "ON") == 0) {
		snprintf(buf, len, "the version is under a legal hold");
		return (1);
	}
	mode = s3_result_header(r, "x-amz-object-lock-mode");
	until = s3_result_header(r, "x-amz-object-lock-retain-until-date");
	if (mode == NULL || until == NULL)
		return (0);
	if (model_parse_time(until, &until_ms, &c) != 0) {
		free(c);
		snprintf(buf, len, "the version is locked in %.32s mode (retain "
		    "until \"%.64s\", unreadable)", mode, until);
		return (1);
	}
	if (until_ms <= (int64_t)time_now_ms())
		return (0);
	if (strcasecmp(mode, "GOVERNANCE") == 0 && bypass)
		return (0);
	if (strcasecmp(mode, "GOVERNANCE") == 0)
		snprintf(buf, len, "the version is locked in GOVERNANCE mode "
		    "until %.64s and the job does not set "
		    "BypassGovernanceRetention", until);
	else
		snprintf(buf, len, "the version is locked in %.32s mode until "
		    "%.64s", mode, until);
	return (1);
}

/* S3 answers DeleteObject 204 without a body (some servers 200). */
static const int op_delete_ok[] = { 200, 204, 0 };

/*
 * A HEAD that succeeded must describe an object: S3 always sends its
 * ETag, and the DELETE's If-Match needs it. A 2xx without one is not a
 * HeadObject answer (a proxy's page, a misrouted request).
 */
static int
op_delete_head_valid(const struct s3_result *r)
{
	return (r->status == 200 && r->etag != NULL);
}

static void
op_delete_done_cb(const struct s3_result *r, void *arg)
{
	struct op_run		*run = arg;
	const struct buf	*body;
	struct buf		 none = { NULL, 0, 0 };
	const char		*marker, *vid;
	char			*msg, *cause = NULL;

	op_account(run, r);
	if (r->status == 412) {
		op_fail(run, 412, "PreconditionFailed", "the object's ETag is "
		    "no longer %s; it was not deleted", op_expected_etag(run));
		return;
	}
	if (r->error_code != NULL) {
		op_fail_result(run, r);
		return;
	}
	body = r->http != NULL ? &r->http->body : &none;
	if (s3xml_check_bodiless("DeleteObject", r->status, op_delete_ok,
	    body->data, body->len, &cause) != 0) {
		op_fail(run, r->status, "InvalidResponse", "%s", cause);
		free(cause);
		return;
	}
	marker = s3_result_header(r, "x-amz-delete-marker");
	vid = r->version_id;
	if (run->version_id == NULL && marker != NULL &&
	    strcasecmp(marker, "true") == 0 && vid != NULL) {
		xasprintf(&msg, "Successful: delete marker %s created", vid);
		op_succeed(run, r->status, msg);
		free(msg);
		return;
	}
	op_succeed(run, r->status, NULL);
}

static void
op_delete_call(struct op_run *run)
{
	struct op_delete	*ctx = run->ctx;
	struct s3_request	 req;
	struct s3_header	 h[2];
	const char		*etag = op_expected_etag(run);
	char			 quoted[256];
	size_t			 n = 0;

	memset(&req, 0, sizeof req);
	req.method = "DELETE";
	req.bucket = run->bucket;
	req.key = run->key;
	req.key_len = run->key_len;
	req.version_id = run->version_id;
	req.role_arn = run->role_arn;
	/* S3 evaluates If-Match on the current version only. */
	if (run->version_id == NULL && etag != NULL) {
		snprintf(quoted, sizeof quoted, "\"%s\"", etag);
		h[n].name = "If-Match";
		h[n++].value = quoted;
	}
	if (ctx->bypass) {
		h[n].name = "x-amz-bypass-governance-retention";
		h[n++].value = "true";
	}
	req.headers = h;
	req.nheaders = n;
	req.flags = S3_ERROR_IN_200;
	run->call = s3_call(run->s3, &req, op_delete_done_cb, run);
}

static void
op_delete_head_cb(const struct s3_result *r, void *arg)
{
	struct op_run		*run = arg;
	struct op_delete	*ctx = run->ctx;
	char			 why[256];

	op_account(run, r);
	if (r->status == 412) {
		op_fail(run, 412, "PreconditionFailed", "the object's ETag is "
		    "no longer %s; it was not deleted", op_expected_etag(run));
		return;
	}
	if (op_delete_absent(r)) {
		if (run->version_id != NULL && op_expected_etag(run) == NULL)
			op_delete_call(run);
		else
			op_succeed(run, 204, "Successful: already absent, "
			    "nothing was deleted");
		return;
	}
	if (r->error_code != NULL) {
		op_fail_result(run, r);
		return;
	}
	if (!op_delete_head_valid(r)) {
		op_fail(run, r->status, "InvalidResponse", "HeadObject answered "
		    "%d without an ETag; it was not deleted", r->status);
		return;
	}
	/* A delete marker on a locked object is allowed; a version is not. */
	if (run->version_id != NULL &&
	    op_delete_locked(r, ctx->bypass, why, sizeof why)) {
		op_fail(run, 403, "AccessDenied", "%s; it was not deleted", why);
		return;
	}
	op_delete_call(run);
}

static void
op_delete_start(struct op_run *run)
{
	op_head(run, op_delete_head_cb);
}

static void
op_delete_cancel(struct op_run *run)
{
}

/*
 * The dry run: op_delete's plan hooks. The scheduler runs plan_task on
 * every task of the Preparing job, under max_inflight and the endpoints'
 * limits, with the shared S3 client; every task's HEAD is counted into
 * the one survey of the job (the callbacks run on the event loop's thread
 * only, so the survey needs no lock). The ETag a HEAD records (op_account)
 * becomes the task's ETag, so the delete later acts only on that object.
 */
struct op_delete_bucket {
	char		*name;
	uint64_t	 deletable;
};

struct op_delete_survey {
	int			 bypass;	/* BypassGovernanceRetention */
	uint64_t		 deletable;	/* exist, match, not locked */
	uint64_t		 markers;	/* ... of which by delete marker */
	uint64_t		 changed;	/* 412 on the pinned ETag */
	uint64_t		 missing;	/* 404 */
	uint64_t		 locked;	/* retention or legal hold */
	uint64_t		 unchecked;	/* another error */
	char			*unchecked_code;	/* the first one's */
	struct op_delete_bucket	 buckets[OP_DELETE_BUCKETS];
	size_t			 nbuckets;
	int			 more_buckets;	/* over OP_DELETE_BUCKETS */
};

static void *
op_delete_plan_new(void *arg)
{
	struct op_delete	*ctx = arg;
	struct op_delete_survey	*sv;

	sv = xcalloc(1, sizeof *sv);
	sv->bypass = ctx->bypass;
	return (sv);
}

static void
op_delete_plan_free(void *arg)
{
	struct op_delete_survey	*sv = arg;
	size_t			 i;

	for (i = 0; i < sv->nbuckets; i++)
		free(sv->buckets[i].name);
	free(sv->unchecked_code);
	free(sv);
}

static struct op_delete_bucket *
op_delete_bucket(struct op_delete_survey *sv, const char *name)
{
	size_t	i;

	for (i = 0; i < sv->nbuckets; i++) {
		if (strcmp(sv->buckets[i].name, name) == 0)
			return (&sv->buckets[i]);
	}
	if (sv->nbuckets == OP_DELETE_BUCKETS) {
		sv->more_buckets = 1;
		return (NULL);
	}
	sv->buckets[sv->nbuckets].name = xstrdup(name);
	return (&sv->buckets[sv->nbuckets++]);
}

void
op_delete_plan_count(void *plan, const char *bucket, enum op_delete_seen seen,
    const char *code)
{
	struct op_delete_survey	*sv = plan;
	struct op_delete_bucket	*b;

	b = op_delete_bucket(sv, bucket);
	switch (seen) {
	case OP_DELETE_MARKER:
		sv->markers++;
		/* FALLTHROUGH */
	case OP_DELETE_DELETABLE:
		sv->deletable++;
		if (b != NULL)
			b->deletable++;
		break;
	case OP_DELETE_CHANGED:
		sv->changed++;
		break;
	case OP_DELETE_MISSING:
		sv->missing++;
		break;
	case OP_DELETE_LOCKED:
		sv->locked++;
		break;
	case OP_DELETE_UNCHECKED:
		sv->unchecked++;
		if (sv->unchecked_code == NULL && code != NULL)
			sv->unchecked_code = xstrdup(code);
		break;
	}
}

/* What a task's HEAD says the delete would do. */
static enum op_delete_seen
op_delete_seen(const struct op_run *run, const struct s3_result *r,
    int bypass)
{
	char	why[256];

	if (r->status == 412)
		return (OP_DELETE_CHANGED);
	if (op_delete_absent(r))
		return (OP_DELETE_MISSING);
	if (r->error_code != NULL || !op_delete_head_valid(r))
		return (OP_DELETE_UNCHECKED);
	if (run->version_id != NULL &&
	    op_delete_locked(r, bypass, why, sizeof why))
		return (OP_DELETE_LOCKED);
	/* A key in a versioned bucket is deleted by a delete marker. */
	if (run->version_id == NULL && r->version_id != NULL &&
	    strcmp(r->version_id, "null") != 0)
		return (OP_DELETE_MARKER);
	return (OP_DELETE_DELETABLE);
}

static void
op_delete_plan_head_cb(const struct s3_result *r, void *arg)
{
	struct op_run		*run = arg;
	struct op_delete_survey	*sv = run->plan;
	enum op_delete_seen	 seen;
	char			*code = NULL;

	op_account(run, r);
	seen = op_delete_seen(run, r, sv->bypass);
	if (seen == OP_DELETE_UNCHECKED)
		xasprintf(&code, "%d %s", r->status, r->error_code != NULL ?
		    r->error_code : "InvalidResponse");
	op_delete_plan_count(sv, run->bucket, seen, code);
	free(code);
	/* The scheduler keeps only the recorded ETag, not this result. */
	if (r->error_code != NULL)
		op_fail_result(run, r);
	else if (seen == OP_DELETE_UNCHECKED)
		op_fail(run, r->status, "InvalidResponse", "HeadObject "
		    "answered %d without an ETag", r->status);
	else
		op_succeed(run, r->status, NULL);
}

static void
op_delete_plan_task(struct op_run *run)
{
	op_head(run, op_delete_plan_head_cb);
}

/* 1234567 as "1,234,567". */
static void
op_delete_count(struct buf *b, uint64_t n)
{
	char	digits[32];
	size_t	i, len;

	len = (size_t)snprintf(digits, sizeof digits, "%llu",
	    (unsigned long long)n);
	for (i = 0; i < len; i++) {
		if (i != 0 && (len - i) % 3 == 0)
			buf_addc(b, ',');
		buf_addc(b, digits[i]);
	}
}

static char *
op_delete_plan_text(void *plan)
{
	const struct op_delete_survey	*sv = plan;
	struct buf	 b;
	size_t		 i;
	uint64_t	 not = sv->changed + sv->missing + sv->locked;
	const char	*sep = "";

	buf_init(&b);
	buf_adds(&b, "Delete job: ");
	op_delete_count(&b, sv->deletable);
	buf_adds(&b, sv->deletable == 1 ? " object" : " objects");
	buf_adds(&b, " in ");
	if (sv->more_buckets)
		buf_addf(&b, "more than %d", OP_DELETE_BUCKETS);
	else
		op_delete_count(&b, sv->nbuckets);
	buf_adds(&b, sv->nbuckets == 1 ? " bucket" : " buckets");
	buf_adds(&b, " would be deleted");
	if (sv->nbuckets > 1) {
		buf_adds(&b, " (");
		for (i = 0; i < sv->nbuckets && i < OP_DELETE_SHOWN; i++) {
			buf_addf(&b, "%s%.63s: ", i == 0 ? "" : ", ",
			    sv->buckets[i].name);
			op_delete_count(&b, sv->buckets[i].deletable);
		}
		if (sv->nbuckets > OP_DELETE_SHOWN)
			buf_adds(&b, ", ...");
		buf_addc(&b, ')');
	} else if (sv->nbuckets == 1)
		buf_addf(&b, " (%.63s)", sv->buckets[0].name);
	if (sv->markers != 0) {
		buf_adds(&b, ", ");
		op_delete_count(&b, sv->markers);
		buf_adds(&b, " of them by a delete marker (versioned bucket)");
	}
	if (not != 0 || sv->unchecked != 0) {
		buf_adds(&b, "; not deleted: ");
		if (sv->changed != 0) {
			op_delete_count(&b, sv->changed);
			buf_adds(&b, " changed since their ETag was taken (412)");
			sep = ", ";
		}
		if (sv->missing != 0) {
			buf_adds(&b, sep);
			op_delete_count(&b, sv->missing);
			buf_adds(&b, " missing (404)");
			sep = ", ";
		}
		if (sv->locked != 0) {
			buf_adds(&b, sep);
			op_delete_count(&b, sv->locked);
			buf_adds(&b, " locked (Object Lock)");
			sep = ", ";
		}
		if (sv->unchecked != 0) {
			buf_adds(&b, sep);
			op_delete_count(&b, sv->unchecked);
			buf_addf(&b, " not checked (%.64s)", sv->unchecked_code);
		}
	}
	buf_adds(&b, ". Confirm with update-job-status --requested-job-status "
	    "Ready");
	return (buf_detach(&b));
}

const struct op_def op_delete = {
	.name = "S3DeleteObject",
	.flags = OP_CONFIRM,
	.compile = op_delete_compile,
	.free = op_delete_free,
	.start = op_delete_start,
	.cancel = op_delete_cancel,
	.plan_new = op_delete_plan_new,
	.plan_task = op_delete_plan_task,
	.plan_text = op_delete_plan_text,
	.plan_free = op_delete_plan_free,
};
