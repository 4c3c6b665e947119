/*
 * S3PutObjectTagging and S3DeleteObjectTagging: one PUT or DELETE
 * ?tagging per object (version-pinned). Neither call takes a condition, so
 * a task whose ETag is pinned checks it first with a HEAD If-Match; a
 * changed object fails with 412 and its tags are never touched.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "http.h"
#include "op.h"
#include "s3.h"
#include "s3xml.h"

/* S3 allows at most 10 tags on an object. */
#define OP_TAGGING_MAX	10

struct op_tagging {
	struct buf	 body;		/* the Tagging document (PUT) */
	int		 delete;
};

static int
op_tagging_compile_put(struct json_object *params, struct json_object *spec,
    void **ctxp, char **cause)
{
	struct op_tagging	*ctx;
	struct s3xml_tagging	*tagging;
	struct json_object	*set, *t, *k, *v;
	size_t			 i, n = 0;
	int			 r = -1;

	tagging = xcalloc(1, sizeof *tagging);
	if (json_object_object_get_ex(params, "TagSet", &set))
		n = json_object_array_length(set);
	if (n > OP_TAGGING_MAX) {
		xasprintf(cause, "Operation.S3PutObjectTagging.TagSet: %zu "
		    "tags; S3 allows at most %d on an object", n,
		    OP_TAGGING_MAX);
		goto out;
	}
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(set, i);
		json_object_object_get_ex(t, "Key", &k);
		if (!json_object_object_get_ex(t, "Value", &v))
			v = NULL;
		buf_adds(&tagging->tags[i].key, json_object_get_string(k));
		buf_adds(&tagging->tags[i].value, v != NULL ?
		    json_object_get_string(v) : "");
	}
	tagging->ntags = n;
	ctx = xcalloc(1, sizeof *ctx);
	if (s3xml_write_tagging(&ctx->body, tagging, cause) != 0) {
		buf_free(&ctx->body);
		free(ctx);
		goto out;
	}
	*ctxp = ctx;
	r = 0;
out:
	s3xml_tagging_free(tagging);
	free(tagging);
	return (r);
}

static int
op_tagging_compile_delete(struct json_object *params, struct json_object *spec,
    void **ctxp, char **cause)
{
	struct op_tagging	*ctx;

	ctx = xcalloc(1, sizeof *ctx);
	ctx->delete = 1;
	*ctxp = ctx;
	return (0);
}

static void
op_tagging_free(void *arg)
{
	struct op_tagging	*ctx = arg;

	if (ctx == NULL)
		return;
	buf_free(&ctx->body);
	free(ctx);
}

/* S3 answers PutObjectTagging 200, DeleteObjectTagging 204, no body. */
static const int op_tagging_ok[] = { 200, 204, 0 };

static void
op_tagging_done_cb(const struct s3_result *r, void *arg)
{
	struct op_run		*run = arg;
	struct op_tagging	*ctx = run->ctx;
	const struct buf	*body;
	struct buf		 none = { NULL, 0, 0 };
	char			*cause = NULL;

	op_account(run, r);
	if (r->error_code != NULL) {
		op_fail_result(run, r);
		return;
	}
	body = r->http != NULL ? &r->http->body : &none;
	if (s3xml_check_bodiless(ctx->delete ? "DeleteObjectTagging" :
	    "PutObjectTagging", r->status, op_tagging_ok, body->data,
	    body->len, &cause) != 0) {
		op_fail(run, r->status, "InvalidResponse", "%s", cause);
		free(cause);
		return;
	}
	op_succeed(run, r->status, NULL);
}

static void
op_tagging_call(struct op_run *run)
{
	struct op_tagging	*ctx = run->ctx;
	struct s3_request	 req;

	memset(&req, 0, sizeof req);
	req.method = ctx->delete ? "DELETE" : "PUT";
	req.bucket = run->bucket;
	req.key = run->key;
	req.key_len = run->key_len;
	req.version_id = run->version_id;
	req.query = "tagging";
	req.role_arn = run->role_arn;
	if (!ctx->delete) {
		req.body = ctx->body.data;
		req.body_len = ctx->body.len;
		req.flags = S3_CONTENT_MD5;
	}
	req.flags |= S3_ERROR_IN_200;
	run->call = s3_call(run->s3, &req, op_tagging_done_cb, run);
}

static void
op_tagging_head_cb(const struct s3_result *r, void *arg)
{
	struct op_run	*run = arg;

	op_account(run, r);
	if (r->status == 412) {
		op_fail(run, 412, "PreconditionFailed", "the object's ETag is "
		    "no longer %s; its tags were not changed", run->etag);
		return;
	}
	if (r->error_code != NULL) {
		op_fail_result(run, r);
		return;
	}
	/* HeadObject always sends the ETag its If-Match was checked on. */
	if (r->status != 200 || r->etag == NULL) {
		op_fail(run, r->status, "InvalidResponse", "HeadObject answered "
		    "%d without an ETag; its tags were not changed", r->status);
		return;
	}
	op_tagging_call(run);
}

static void
op_tagging_start(struct op_run *run)
{
	if (run->etag != NULL)
		op_head(run, op_tagging_head_cb);
	else
		op_tagging_call(run);
}

static void
op_tagging_cancel(struct op_run *run)
{
}

const struct op_def op_put_tagging = {
	.name = "S3PutObjectTagging",
	.compile = op_tagging_compile_put,
	.free = op_tagging_free,
	.start = op_tagging_start,
	.cancel = op_tagging_cancel,
};

const struct op_def op_delete_tagging = {
	.name = "S3DeleteObjectTagging",
	.compile = op_tagging_compile_delete,
	.free = op_tagging_free,
	.start = op_tagging_start,
	.cancel = op_tagging_cancel,
};
