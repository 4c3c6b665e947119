/*
 * s3batchctl report: a job's task results, streamed to the client as CSV
 * (the rows of Amazon's completion report) or JSON lines, read from the
 * store a window at a time as the client takes them. s3batchctl
 * retry-report: write a completion report that could not be written.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "control-cmd.h"
#include "control.h"
#include "job.h"
#include "lifecycle.h"
#include "protocol.h"
#include "report.h"
#include "server.h"
#include "store.h"

#define CMD_REPORT_WINDOW	1000

struct cmd_report {
	struct server	*srv;
	int64_t		 rowid;
	char		 id[37];
	int64_t		 after;
	int		 failed_only;
	int		 jsonl;
	uint64_t	 rows;
	struct buf	*out;
	int		 got;
};

static int
cmd_report_row_cb(const struct store_task *t, void *arg)
{
	struct cmd_report	*r = arg;

	r->after = t->seq;
	r->got++;
	if (t->state != TASK_SUCCEEDED && t->state != TASK_FAILED)
		return (0);
	if (r->jsonl)
		report_row_jsonl(r->out, t);
	else
		report_row_csv(r->out, t);
	r->rows++;
	return (0);
}

static int
cmd_report_produce(void *arg, struct buf *out, struct json_object **result,
    char **cause)
{
	struct cmd_report	*r = arg;

	r->out = out;
	r->got = 0;
	if (store_task_list(r->srv->store, r->rowid, r->after,
	    CMD_REPORT_WINDOW, r->failed_only, cmd_report_row_cb, r,
	    cause) != 0)
		return (-1);
	if (r->got == CMD_REPORT_WINDOW)
		return (0);
	*result = json_object_new_object();
	json_object_object_add(*result, "JobId", json_object_new_string(r->id));
	json_object_object_add(*result, "Rows",
	    json_object_new_int64((int64_t)r->rows));
	return (1);
}

static void
cmd_report_free(void *arg)
{
	free(arg);
}

static const struct ctl_stream_out_ops cmd_report_ops = {
	cmd_report_produce,
	cmd_report_free,
};

void
cmd_report(struct ctl_req *req)
{
	struct json_object	*v;
	struct cmd_report	*r;
	struct job		 j;
	const char		*id = NULL, *format = "csv";
	char			*cause = NULL;
	int			 rc;

	if (json_object_object_get_ex(req->args, "JobId", &v) &&
	    json_object_is_type(v, json_type_string))
		id = json_object_get_string(v);
	if (id == NULL) {
		ctl_reply_error(req, ERR_BAD_REQUEST, "JobId: required");
		return;
	}
	if (json_object_object_get_ex(req->args, "Format", &v))
		format = json_object_get_string(v);
	if (strcmp(format, "csv") != 0 && strcmp(format, "jsonl") != 0) {
		ctl_reply_error(req, ERR_BAD_REQUEST, "Format: \"%.32s\" is "
		    "not csv or jsonl", format);
		return;
	}
	if ((rc = store_job_get(req->srv->store, id, &j, &cause)) != 0) {
		if (rc == 1)
			ctl_reply_error(req, ERR_NO_SUCH_JOB, "The specified "
			    "job does not exist: %s", id);
		else
			ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
		free(cause);
		return;
	}
	r = xcalloc(1, sizeof *r);
	r->srv = req->srv;
	r->rowid = j.rowid;
	memcpy(r->id, j.id, sizeof r->id);
	r->jsonl = strcmp(format, "jsonl") == 0;
	if (json_object_object_get_ex(req->args, "FailedTasksOnly", &v))
		r->failed_only = json_object_get_boolean(v);
	job_clear(&j);
	ctl_stream_out(req, &cmd_report_ops, r);
}

/*
 * The report of a job that failed with ReportFailed is written again (the
 * job is Completing or Failing meanwhile); a report waiting for its next
 * automatic attempt is tried now.
 */
void
cmd_retry_report(struct ctl_req *req)
{
	struct json_object	*r, *v;
	const char		*id = NULL;
	char			*cause = NULL;

	if (json_object_object_get_ex(req->args, "JobId", &v) &&
	    json_object_is_type(v, json_type_string))
		id = json_object_get_string(v);
	if (id == NULL) {
		ctl_reply_error(req, ERR_BAD_REQUEST, "JobId: required");
		return;
	}
	switch (lifecycle_retry_report(req->srv->lifecycle, id, &req->actor,
	    &cause)) {
	case 0:
		r = json_object_new_object();
		json_object_object_add(r, "JobId", json_object_new_string(id));
		ctl_reply(req, r);
		break;
	case 1:
		ctl_reply_error(req, ERR_NO_SUCH_JOB, "The specified job does "
		    "not exist: %s", id);
		break;
	case 2:
		ctl_reply_error(req, ERR_JOB_STATUS, "%s", cause);
		break;
	default:
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
		break;
	}
	free(cause);
}
