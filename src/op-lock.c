/*
 * S3PutObjectRetention and S3PutObjectLegalHold: one PUT ?retention or
 * ?legal-hold per object (version-pinned), with Content-MD5 as S3
 * requires. Also the task runner S3PutObjectAcl (op-acl.c) shares: a PUT
 * of a subresource with a compiled body and at most one header.
 *
 * None of these calls takes a condition, so a task whose ETag is pinned
 * checks it first with a HEAD If-Match; a changed object fails with 412
 * and is not touched. S3's refusals (a COMPLIANCE period shortened, a
 * GOVERNANCE one without the bypass, a bucket without Object Lock) are the
 * task's result, with S3's status and code.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "http.h"
#include "json.h"
#include "model.h"
#include "op.h"
#include "s3.h"
#include "s3xml.h"

void
op_subres_free(void *arg)
{
	struct op_subres	*ctx = arg;

	if (ctx == NULL)
		return;
	free(ctx->header);
	free(ctx->value);
	free(ctx->body);
	free(ctx);
}

/* S3 answers PutObjectAcl, PutObjectRetention, PutObjectLegalHold 200. */
static const int op_subres_ok[] = { 200, 204, 0 };

/* The call each subresource's PUT is, for messages. */
static const struct {
	const char	*query;
	const char	*call;
} op_subres_calls[] = {
	{ "acl",	"PutObjectAcl" },
	{ "retention",	"PutObjectRetention" },
	{ "legal-hold",	"PutObjectLegalHold" },
};

static const char *
op_subres_call_name(const struct op_subres *ctx)
{
	size_t	i;

	for (i = 0; i < nitems(op_subres_calls); i++) {
		if (strcmp(op_subres_calls[i].query, ctx->query) == 0)
			return (op_subres_calls[i].call);
	}
	return (ctx->query);
}

static void
op_subres_done_cb(const struct s3_result *r, void *arg)
{
	struct op_run		*run = arg;
	struct op_subres	*ctx = run->ctx;
	const struct buf	*body;
	struct buf		 none = { NULL, 0, 0 };
	const char		*call = op_subres_call_name(ctx);
	char			*cause = NULL;

	op_account(run, r);
	if (r->error_code != NULL) {
		op_fail_result(run, r);
		return;
	}
	/*
	 * None of these answers carries an ETag; PutObject's does. A server
	 * that does not know the subresource (OpenStack Swift's s3api for
	 * ?retention and ?legal-hold) stores the request's body as the
	 * object and answers as for an upload: say so, never Successful.
	 */
	if (r->etag != NULL) {
		op_fail(run, r->status, "UnsupportedByEndpoint", "the server "
		    "treated PUT ?%s as an upload (its answer carries ETag %s, "
		    "as PutObject's does): it does not support %s, and the "
		    "object's data was most likely replaced by the request's "
		    "body", ctx->query, r->etag, call);
		return;
	}
	body = r->http != NULL ? &r->http->body : &none;
	if (s3xml_check_bodiless(call, r->status, op_subres_ok,
	    body->data, body->len, &cause) != 0) {
		op_fail(run, r->status, "InvalidResponse", "%s", cause);
		free(cause);
		return;
	}
	op_succeed(run, r->status, NULL);
}

static void
op_subres_call(struct op_run *run)
{
	struct op_subres	*ctx = run->ctx;
	struct s3_request	 req;
	struct s3_header	 h;

	memset(&req, 0, sizeof req);
	req.method = "PUT";
	req.bucket = run->bucket;
	req.key = run->key;
	req.key_len = run->key_len;
	req.version_id = run->version_id;
	req.query = ctx->query;
	req.role_arn = run->role_arn;
	if (ctx->header != NULL) {
		h.name = ctx->header;
		h.value = ctx->value;
		req.headers = &h;
		req.nheaders = 1;
	}
	req.body = ctx->body;
	req.body_len = ctx->body_len;
	req.flags = S3_CONTENT_MD5 | S3_ERROR_IN_200;
	run->call = s3_call(run->s3, &req, op_subres_done_cb, run);
}

/*
 * What a failed HEAD means for the task. A HEAD answer has no error
 * document: report the code the PUT itself would have drawn.
 */
static const struct {
	int		 status;
	const char	*code;
	const char	*code_version;	/* with a version id */
	const char	*why;
} op_subres_head_errors[] = {
	{ 403, "AccessDenied", "AccessDenied", "the HEAD that checks its ETag "
	  "was refused (it needs READ on the object)" },
	{ 404, "NoSuchKey", "NoSuchVersion", "the object does not exist" },
	{ 405, "MethodNotAllowed", "MethodNotAllowed", "the version is a "
	  "delete marker" },
};

static void
op_subres_head_cb(const struct s3_result *r, void *arg)
{
	struct op_run		*run = arg;
	struct op_subres	*ctx = run->ctx;
	size_t			 i;

	op_account(run, r);
	/* HeadObject always sends the ETag its If-Match was checked on. */
	if (r->error_code == NULL && (r->status != 200 || r->etag == NULL)) {
		op_fail(run, r->status, "InvalidResponse", "HeadObject answered "
		    "%d without an ETag; its %s was not changed", r->status,
		    ctx->what);
		return;
	}
	if (r->error_code == NULL) {
		op_subres_call(run);
		return;
	}
	if (r->status == 412) {
		op_fail(run, 412, "PreconditionFailed", "the object's ETag is "
		    "no longer %s; its %s was not changed", run->etag,
		    ctx->what);
		return;
	}
	for (i = 0; i < nitems(op_subres_head_errors); i++) {
		if (op_subres_head_errors[i].status == r->status)
			break;
	}
	if (i == nitems(op_subres_head_errors)) {
		op_fail_result(run, r);
		return;
	}
	op_fail(run, r->status, run->version_id != NULL ?
	    op_subres_head_errors[i].code_version :
	    op_subres_head_errors[i].code, "%s; its %s was not changed",
	    op_subres_head_errors[i].why, ctx->what);
}

void
op_subres_start(struct op_run *run)
{
	if (run->etag != NULL)
		op_head(run, op_subres_head_cb);
	else
		op_subres_call(run);
}

void
op_subres_cancel(struct op_run *run)
{
	/* Tasks keep no state of their own: the ctx is the job's. */
}

static struct op_subres *
op_subres_new(const char *query, const char *what, struct buf *body)
{
	struct op_subres	*ctx;

	ctx = xcalloc(1, sizeof *ctx);
	ctx->query = query;
	ctx->what = what;
	if (body != NULL && body->len != 0) {
		ctx->body_len = body->len;
		ctx->body = buf_detach(body);
	}
	return (ctx);
}

/*
 * Retention {Mode, RetainUntilDate}: both, or neither, which Amazon
 * documents as removing the retention (an empty <Retention/>).
 * A date already past is left for S3 to refuse, task by task: a job may
 * be created long before it runs, and compile runs at both times.
 */
static int
op_lock_compile_retention(struct json_object *params,
    struct json_object *spec, void **ctxp, char **cause)
{
	struct op_subres	*ctx;
	struct json_object	*ret = NULL, *v;
	const char		*mode;
	struct buf		 body;
	int64_t			 until = 0;
	int			 have_until;
	char			*c = NULL;

	if (params == NULL ||
	    !json_object_object_get_ex(params, "Retention", &ret) ||
	    !json_object_is_type(ret, json_type_object)) {
		xasprintf(cause, "Operation.S3PutObjectRetention.Retention: "
		    "required");
		return (-1);
	}
	mode = json_path_string(ret, "Mode");
	have_until = json_object_object_get_ex(ret, "RetainUntilDate", &v);
	if (have_until && model_timestamp(v, &until, &c) != 0) {
		xasprintf(cause, "Operation.S3PutObjectRetention.Retention."
		    "RetainUntilDate: %s", c);
		free(c);
		return (-1);
	}
	if (have_until && until <= 0) {
		xasprintf(cause, "Operation.S3PutObjectRetention.Retention."
		    "RetainUntilDate: must be after 1970-01-01T00:00:00Z");
		return (-1);
	}
	if ((mode != NULL) != have_until) {
		xasprintf(cause, "Operation.S3PutObjectRetention.Retention: "
		    "%s without %s (give both, or neither to remove the "
		    "retention)", mode != NULL ? "Mode" : "RetainUntilDate",
		    mode != NULL ? "RetainUntilDate" : "Mode");
		return (-1);
	}
	buf_init(&body);
	if (mode == NULL)
		buf_addf(&body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<Retention xmlns=\"%s\"/>", S3XML_NS);
	else if (s3xml_write_retention(&body, mode, (uint64_t)until,
	    &c) != 0) {
		xasprintf(cause, "Operation.S3PutObjectRetention.Retention: "
		    "%s", c);
		free(c);
		buf_free(&body);
		return (-1);
	}
	ctx = op_subres_new("retention", "retention", &body);
	buf_free(&body);
	if (json_object_object_get_ex(params, "BypassGovernanceRetention",
	    &v) && json_object_get_boolean(v)) {
		ctx->header = xstrdup("x-amz-bypass-governance-retention");
		ctx->value = xstrdup("true");
	}
	*ctxp = ctx;
	return (0);
}

static int
op_lock_compile_legal_hold(struct json_object *params,
    struct json_object *spec, void **ctxp, char **cause)
{
	struct json_object	*hold = NULL;
	const char		*status;
	struct buf		 body;
	char			*c = NULL;

	if (params == NULL ||
	    !json_object_object_get_ex(params, "LegalHold", &hold) ||
	    (status = json_path_string(hold, "Status")) == NULL) {
		xasprintf(cause, "Operation.S3PutObjectLegalHold.LegalHold."
		    "Status: required (ON or OFF)");
		return (-1);
	}
	buf_init(&body);
	if (s3xml_write_legal_hold(&body, status, &c) != 0) {
		xasprintf(cause, "Operation.S3PutObjectLegalHold.LegalHold."
		    "Status: %s", c);
		free(c);
		buf_free(&body);
		return (-1);
	}
	*ctxp = op_subres_new("legal-hold", "legal hold", &body);
	buf_free(&body);
	return (0);
}

const struct op_def op_put_retention = {
	.name = "S3PutObjectRetention",
	.compile = op_lock_compile_retention,
	.free = op_subres_free,
	.start = op_subres_start,
	.cancel = op_subres_cancel,
};

const struct op_def op_put_legal_hold = {
	.name = "S3PutObjectLegalHold",
	.compile = op_lock_compile_legal_hold,
	.free = op_subres_free,
	.start = op_subres_start,
	.cancel = op_subres_cancel,
};
