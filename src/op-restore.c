/*
 * S3InitiateRestoreObject: one RestoreObject (POST ?restore, versioned)
 * per object with the job's Days and retrieval tier. As with Amazon, a
 * task succeeds once the restore is initiated (202 Accepted) or when the
 * object is already restored (200 OK: S3 moves its expiry to the new
 * Days); nothing waits for the restore itself to finish.
 *
 * Overlapping restores follow Amazon's Batch Operations documentation: S3
 * accepts a restore that only makes an in-progress one faster with the
 * same Days (202, a speed upgrade) and refuses every other with 409
 * RestoreAlreadyInProgress, which fails the task. The one exception is our
 * own retry: when an earlier attempt of the call may have reached S3 but
 * its answer never reached us (no response, or a 5xx other than 503), a
 * 409 most likely reports the restore that attempt started, and the task
 * succeeds, saying so in its result message.
 *
 * RestoreObject takes no condition: a task whose ETag is pinned checks it
 * first with a HEAD If-Match, like the tagging operations.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "http.h"
#include "op.h"
#include "s3.h"
#include "s3xml.h"

#define OP_RESTORE_NAME		"S3InitiateRestoreObject"
/* S3's Days is a 32-bit integer. */
#define OP_RESTORE_MAX_DAYS	INT32_MAX

/* GlacierJobTier (S3 Control's spelling) -> RestoreRequest's Tier. */
static const struct {
	const char	*job;
	const char	*s3;
} op_restore_tiers[] = {
	{ "BULK", "Bulk" },
	{ "STANDARD", "Standard" },
};

/* The job's compiled parameters: the request body, the same for all. */
struct op_restore {
	struct buf	 body;
};

/* One task. */
struct op_restore_task {
	/* An earlier attempt may have started the restore unanswered. */
	int		 maybe_sent;
};

static int
op_restore_compile(struct json_object *params, struct json_object *spec,
    void **ctxp, char **cause)
{
	struct op_restore	*ctx;
	struct json_object	*v;
	const char		*tier = NULL, *s;
	int64_t			 days = 0;
	size_t			 i;

	if (params != NULL &&
	    json_object_object_get_ex(params, "ExpirationInDays", &v)) {
		if (!json_object_is_type(v, json_type_int)) {
			xasprintf(cause, "Operation." OP_RESTORE_NAME
			    ".ExpirationInDays: expected an integer");
			return (-1);
		}
		days = json_object_get_int64(v);
		if (days < 0 || days > OP_RESTORE_MAX_DAYS) {
			xasprintf(cause, "Operation." OP_RESTORE_NAME
			    ".ExpirationInDays: %lld is out of range (0 to %d; "
			    "archived objects need at least 1)",
			    (long long)days, OP_RESTORE_MAX_DAYS);
			return (-1);
		}
	}
	if (params != NULL &&
	    json_object_object_get_ex(params, "GlacierJobTier", &v)) {
		s = json_object_is_type(v, json_type_string) ?
		    json_object_get_string(v) : "";
		for (i = 0; i < nitems(op_restore_tiers); i++) {
			if (strcmp(op_restore_tiers[i].job, s) == 0)
				tier = op_restore_tiers[i].s3;
		}
		if (tier == NULL) {
			xasprintf(cause, "Operation." OP_RESTORE_NAME
			    ".GlacierJobTier: \"%.32s\" is not BULK or "
			    "STANDARD", s);
			return (-1);
		}
	}
	ctx = xcalloc(1, sizeof *ctx);
	/* 0 omits Days, as Intelligent-Tiering archive restores need. */
	if (s3xml_write_restore(&ctx->body, days, tier, cause) != 0) {
		buf_free(&ctx->body);
		free(ctx);
		return (-1);
	}
	*ctxp = ctx;
	return (0);
}

static void
op_restore_free(void *arg)
{
	struct op_restore	*ctx = arg;

	if (ctx == NULL)
		return;
	buf_free(&ctx->body);
	free(ctx);
}

/* Free the task's state; it must be gone before the task ends. */
static int
op_restore_end(struct op_run *run)
{
	struct op_restore_task	*rt = run->state;
	int			 maybe_sent = rt != NULL && rt->maybe_sent;

	free(rt);
	run->state = NULL;
	return (maybe_sent);
}

/*
 * Whether an attempt may have been carried out by S3 without our hearing
 * of it: no response at all, or a server error other than 503 SlowDown
 * (which S3 sends before doing anything).
 */
static int
op_restore_unanswered(const struct s3_result *r)
{
	return (r->status == 0 || (r->status >= 500 && r->status != 503));
}

static void
op_restore_attempt_cb(const struct s3_result *r, int more, void *arg)
{
	struct op_run		*run = arg;
	struct op_restore_task	*rt = run->state;

	if (more && rt != NULL && op_restore_unanswered(r))
		rt->maybe_sent = 1;
}

/*
 * 202: initiated; 200: already restored, expiry updated. Neither has a
 * body (a SELECT restore, which answers one, is not a Batch Operation).
 */
static const int op_restore_ok[] = { 200, 202, 0 };

static void
op_restore_done_cb(const struct s3_result *r, void *arg)
{
	struct op_run		*run = arg;
	const struct buf	*body;
	struct buf		 none = { NULL, 0, 0 };
	char			*cause = NULL;
	int			 maybe_sent;

	op_account(run, r);
	maybe_sent = op_restore_end(run);
	if (r->error_code == NULL) {
		body = r->http != NULL ? &r->http->body : &none;
		if (s3xml_check_bodiless("RestoreObject", r->status,
		    op_restore_ok, body->data, body->len, &cause) != 0) {
			op_fail(run, r->status, "InvalidResponse", "%s",
			    cause);
			free(cause);
			return;
		}
		op_succeed(run, r->status, NULL);
		return;
	}
	if (maybe_sent && r->status == 409 &&
	    strcmp(r->error_code, "RestoreAlreadyInProgress") == 0) {
		op_succeed(run, r->status, "Successful: restore in progress, "
		    "most likely started by an earlier attempt of this task "
		    "whose answer was lost");
		return;
	}
	op_fail_result(run, r);
}

static void
op_restore_call(struct op_run *run)
{
	struct op_restore	*ctx = run->ctx;
	struct s3_request	 req;

	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.bucket = run->bucket;
	req.key = run->key;
	req.key_len = run->key_len;
	req.version_id = run->version_id;
	req.query = "restore";
	req.role_arn = run->role_arn;
	req.body = ctx->body.data;
	req.body_len = ctx->body.len;
	req.flags = S3_CONTENT_MD5 | S3_ERROR_IN_200;
	run->call = s3_call(run->s3, &req, op_restore_done_cb, run);
	s3_call_set_attempt_cb(run->call, op_restore_attempt_cb);
}

static void
op_restore_head_cb(const struct s3_result *r, void *arg)
{
	struct op_run	*run = arg;

	op_account(run, r);
	if (r->status == 412) {
		op_restore_end(run);
		op_fail(run, 412, "PreconditionFailed", "the object's ETag is "
		    "no longer %s; its restore was not initiated", run->etag);
		return;
	}
	/* A HEAD has no error document: say what RestoreObject would. */
	if (r->status == 404) {
		op_restore_end(run);
		if (run->version_id != NULL)
			op_fail(run, 404, "NoSuchVersion", "The specified "
			    "version does not exist.");
		else
			op_fail(run, 404, "NoSuchKey", "The specified key "
			    "does not exist.");
		return;
	}
	if (r->error_code != NULL) {
		op_restore_end(run);
		op_fail_result(run, r);
		return;
	}
	/* HeadObject always sends the ETag its If-Match was checked on. */
	if (r->status != 200 || r->etag == NULL) {
		op_restore_end(run);
		op_fail(run, r->status, "InvalidResponse", "HeadObject answered "
		    "%d without an ETag; its restore was not initiated",
		    r->status);
		return;
	}
	op_restore_call(run);
}

static void
op_restore_start(struct op_run *run)
{
	run->state = xcalloc(1, sizeof (struct op_restore_task));
	if (run->etag != NULL)
		op_head(run, op_restore_head_cb);
	else
		op_restore_call(run);
}

static void
op_restore_cancel(struct op_run *run)
{
	op_restore_end(run);
}

const struct op_def op_restore = {
	.name = OP_RESTORE_NAME,
	.compile = op_restore_compile,
	.free = op_restore_free,
	.start = op_restore_start,
	.cancel = op_restore_cancel,
};
