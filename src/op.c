/*
 * The operation table and what every operation shares: finishing a task,
 * turning an S3 result into a task failure, the ETag check's HEAD.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3batchd.h"
#include "op.h"
#include "s3.h"

static const struct op_def *const op_table[] = {
	&op_put_tagging,
	&op_delete_tagging,
	&op_copy,
	&op_replicate,
	&op_delete,
	&op_compute_checksum,
	&op_restore,
	&op_lambda,
	&op_put_acl,
	&op_put_retention,
	&op_put_legal_hold,
	&op_update_encryption,
};

const struct op_def *
op_find(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(op_table); i++) {
		if (strcmp(op_table[i]->name, name) == 0)
			return (op_table[i]);
	}
	return (NULL);
}

void
op_finish(struct op_run *run, enum task_state state, int status,
    const char *code, const char *message)
{
	run->call = NULL;
	run->done(run, state, status, code, message);
}

void
op_succeed(struct op_run *run, int status, const char *message)
{
	op_finish(run, TASK_SUCCEEDED, status, NULL,
	    message != NULL ? message : "Successful");
}

void
op_fail_result(struct op_run *run, const struct s3_result *r)
{
	op_finish(run, TASK_FAILED, r->status,
	    r->error_code != NULL ? r->error_code : "UnknownError",
	    r->error_message != NULL ? r->error_message : "");
}

void
op_fail(struct op_run *run, int status, const char *code, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	op_finish(run, TASK_FAILED, status, code, msg);
	free(msg);
}

void
op_account(struct op_run *run, const struct s3_result *r)
{
	run->attempts += r->attempts;
	run->call = NULL;
	if (run->recorded_etag == NULL && r->etag != NULL && r->status >= 200 &&
	    r->status < 300)
		run->recorded_etag = xstrdup(r->etag);
}

const char *
op_expected_etag(const struct op_run *run)
{
	if (run->etag != NULL)
		return (run->etag);
	return (run->recorded_etag);
}

void
op_request(const struct op_run *run, struct s3_request *req,
    const char *method)
{
	memset(req, 0, sizeof *req);
	req->method = method;
	req->bucket = run->bucket;
	req->key = run->key;
	req->key_len = run->key_len;
	req->version_id = run->version_id;
	req->role_arn = run->role_arn;
}

struct s3_call *
op_head(struct op_run *run, void (*cb)(const struct s3_result *, void *))
{
	struct s3_request	 req;
	struct s3_header	 h;
	const char		*etag = op_expected_etag(run);
	char			 quoted[256];

	op_request(run, &req, "HEAD");
	if (etag != NULL) {
		snprintf(quoted, sizeof quoted, "\"%s\"", etag);
		h.name = "If-Match";
		h.value = quoted;
		req.headers = &h;
		req.nheaders = 1;
	}
	run->call = s3_call(run->s3, &req, cb, run);
	return (run->call);
}
