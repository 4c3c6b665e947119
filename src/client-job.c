/*
 * s3batchctl's job verbs: composing a CreateJob request, streaming a local
 * manifest, paging list-jobs, and the text forms of the job results.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "protocol.h"

/* CreateJob members the request cannot do without (botocore checks these). */
static const char *const create_job_required[] = {
	"Operation", "Report", "Priority", "RoleArn", NULL
};

/*
 * --cli-input-json is the base; flags given on the command line replace its
 * members (json-c replaces a key in place, so the order is the file's).
 */
int
cli_create_job_parse(struct cli_req *req, char **cause)
{
	struct json_object_iterator	 it, end;
	json_object			*base, *v;
	const char			*input, *path;
	const char *const		*m;
	char				 token[37], *why = NULL;
	struct stat			 st;

	input = json_path_string(req->local, "cli-input-json");
	if (input != NULL) {
		if ((base = cli_load_json(input, &why)) == NULL) {
			xasprintf(cause, "--cli-input-json: %s", why);
			free(why);
			return (-1);
		}
		if (!json_object_is_type(base, json_type_object)) {
			xasprintf(cause, "--cli-input-json: expected a JSON "
			    "object");
			json_object_put(base);
			return (-1);
		}
		it = json_object_iter_begin(req->args);
		end = json_object_iter_end(req->args);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it)) {
			json_object_object_add(base,
			    json_object_iter_peek_name(&it),
			    json_object_get(json_object_iter_peek_value(&it)));
		}
		json_object_put(req->args);
		req->args = base;
	}
	for (m = create_job_required; *m != NULL; m++) {
		if (!json_object_object_get_ex(req->args, *m, &v)) {
			xasprintf(cause, "%s is required (give it as a flag "
			    "or in --cli-input-json)", *m);
			return (-1);
		}
	}
	/* As the aws cli fills an idempotency token nobody gave. */
	if (!json_object_object_get_ex(req->args, "ClientRequestToken", &v)) {
		uuid_generate_v4(token);
		json_object_object_add(req->args, "ClientRequestToken",
		    json_object_new_string(token));
	}
	if ((path = json_path_string(req->local, "manifest-file")) != NULL) {
		if (json_object_object_get_ex(req->args, "ManifestGenerator",
		    &v)) {
			xasprintf(cause, "--manifest-file and a "
			    "ManifestGenerator exclude each other");
			return (-1);
		}
		if (strcmp(path, "-") != 0) {
			if (stat(path, &st) != 0) {
				xasprintf(cause, "--manifest-file: %s: %s",
				    path, strerror(errno));
				return (-1);
			}
			if (S_ISDIR(st.st_mode)) {
				xasprintf(cause, "--manifest-file: %s: is a "
				    "directory", path);
				return (-1);
			}
			if (S_ISREG(st.st_mode) &&
			    (uint64_t)st.st_size > PROTOCOL_MAX_MANIFEST) {
				xasprintf(cause, "--manifest-file: %s: larger "
				    "than %llu bytes", path,
				    (unsigned long long)PROTOCOL_MAX_MANIFEST);
				return (-1);
			}
		}
		json_object_object_add(req->args, "ManifestStream",
		    json_object_new_boolean(1));
	}
	return (0);
}

static int
cli_stream_manifest(struct client *c, const char *path,
    struct client_reply *r)
{
	char		*cause = NULL;
	uint64_t	 sent;
	int		 fd, rv, early;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY|O_CLOEXEC)) == -1) {
		fprintf(stderr, "s3batchctl: --manifest-file: %s: %s\n", path,
		    strerror(errno));
		return (CLI_EXIT_USAGE);
	}
	rv = client_send_stream(c, fd, &sent, r, &early, &cause);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rv == 0 && !early)
		rv = client_read_reply(c, r, &cause);
	if (rv != 0) {
		rv = cli_client_error(rv, cause);
		free(cause);
		return (rv);
	}
	return (CLI_EXIT_OK);
}

int
cli_create_job_exec(struct cli_ctx *ctx, struct cli_req *req)
{
	struct client		 c;
	struct client_reply	 r;
	const char		*path;
	char			*cause = NULL;
	int			 rv;

	path = json_path_string(req->local, "manifest-file");
	if (cli_connect(ctx, &c) != 0)
		return (CLI_EXIT_UNREACHABLE);
	if ((rv = client_call(&c, req->cmd->name, req->args, &r, &cause)) !=
	    0) {
		rv = cli_client_error(rv, cause);
		free(cause);
		goto out;
	}
	/*
	 * A final answer instead of "continue" means the daemon needs no
	 * manifest: a repeated ClientRequestToken names a job it has.
	 */
	if (r.ok && path != NULL && r.kind != CLIENT_REPLY_FINAL) {
		if (r.kind != CLIENT_REPLY_CONTINUE) {
			fprintf(stderr, "s3batchctl: the daemon did not ask "
			    "for the manifest\n");
			client_reply_free(&r);
			rv = CLI_EXIT_REFUSED;
			goto out;
		}
		client_reply_free(&r);
		if ((rv = cli_stream_manifest(&c, path, &r)) != 0)
			goto out;
	}
	if (!r.ok)
		rv = cli_reply_error(&r);
	else if (r.kind != CLIENT_REPLY_FINAL) {
		fprintf(stderr, "s3batchctl: unexpected reply from the "
		    "daemon\n");
		rv = CLI_EXIT_REFUSED;
	} else {
		cli_print_result(ctx, req->cmd, r.result);
		rv = CLI_EXIT_OK;
	}
	client_reply_free(&r);
out:
	client_close(&c);
	return (rv);
}

/*
 * Like aws, fetch every page unless the user asked for one page
 * (--max-results or --next-token), and print them as one result.
 */
int
cli_list_jobs_exec(struct cli_ctx *ctx, struct cli_req *req)
{
	struct client		 c;
	struct client_reply	 r;
	json_object		*all, *jobs, *page, *v;
	const char		*token;
	char			*cause = NULL, *last = NULL;
	size_t			 i;
	int			 rv, paging;

	paging = !json_object_object_get_ex(req->args, "MaxResults", &v) &&
	    !json_object_object_get_ex(req->args, "NextToken", &v);
	if (cli_connect(ctx, &c) != 0)
		return (CLI_EXIT_UNREACHABLE);
	all = NULL;
	jobs = NULL;
	for (;;) {
		if ((rv = client_call(&c, req->cmd->name, req->args, &r,
		    &cause)) != 0) {
			rv = cli_client_error(rv, cause);
			free(cause);
			goto out;
		}
		if (!r.ok) {
			rv = cli_reply_error(&r);
			client_reply_free(&r);
			goto out;
		}
		if (!paging) {
			cli_print_result(ctx, req->cmd, r.result);
			client_reply_free(&r);
			rv = CLI_EXIT_OK;
			goto out;
		}
		if (all == NULL) {
			all = json_object_new_object();
			jobs = json_object_new_array();
			json_object_object_add(all, "Jobs", jobs);
		}
		if (r.result != NULL &&
		    json_object_object_get_ex(r.result, "Jobs", &page) &&
		    json_object_is_type(page, json_type_array)) {
			for (i = 0; i < json_object_array_length(page); i++)
				json_object_array_add(jobs, json_object_get(
				    json_object_array_get_idx(page, i)));
		}
		token = json_path_string(r.result, "NextToken");
		/* A token that repeats would loop forever: stop there. */
		if (token == NULL || *token == '\0' ||
		    (last != NULL && strcmp(last, token) == 0)) {
			client_reply_free(&r);
			break;
		}
		free(last);
		last = xstrdup(token);
		json_object_object_add(req->args, "NextToken",
		    json_object_new_string(token));
		client_reply_free(&r);
	}
	cli_print_result(ctx, req->cmd, all);
	rv = CLI_EXIT_OK;
out:
	json_object_put(all);
	free(last);
	client_close(&c);
	return (rv);
}

void
cli_text_field(struct buf *b, json_object *result, const char *name)
{
	const char	*v = json_path_string(result, name);

	if (v != NULL)
		buf_addf(b, "%s\n", v);
}

void
cli_text_job_id(struct buf *b, json_object *result)
{
	cli_text_field(b, result, "JobId");
}

void
cli_text_none(struct buf *b, json_object *result)
{
}

/* The operation's name: a string in lists, the single key of an object. */
static const char *
cli_operation_name(json_object *job)
{
	struct json_object_iterator	 it;
	json_object			*op;

	if (!json_object_object_get_ex(job, "Operation", &op))
		return ("-");
	if (json_object_is_type(op, json_type_string))
		return (json_object_get_string(op));
	if (json_object_is_type(op, json_type_object) &&
	    json_object_object_length(op) > 0) {
		it = json_object_iter_begin(op);
		return (json_object_iter_peek_name(&it));
	}
	return ("-");
}

static void
cli_progress_counts(json_object *job, int64_t *ok, int64_t *failed,
    int64_t *total)
{
	json_object	*ps = NULL;

	*ok = *failed = *total = 0;
	if (!json_object_object_get_ex(job, "ProgressSummary", &ps))
		return;
	(void)json_path_int64(ps, "NumberOfTasksSucceeded", ok);
	(void)json_path_int64(ps, "NumberOfTasksFailed", failed);
	(void)json_path_int64(ps, "TotalNumberOfTasks", total);
}

static void
cli_kv(struct buf *b, const char *key, const char *value)
{
	if (value != NULL)
		buf_addf(b, "%-17s %s\n", key, value);
}

static void
cli_kv_time(struct buf *b, const char *key, json_object *o, const char *m)
{
	json_object	*v;
	char		 t[64];

	if (json_object_object_get_ex(o, m, &v) &&
	    !json_object_is_type(v, json_type_null)) {
		cli_format_time(v, t, sizeof t);
		cli_kv(b, key, t);
	}
}

static void
cli_describe_location(struct buf *b, json_object *job)
{
	json_object	*man, *loc, *spec, *rep;
	const char	*s, *fmt = NULL;
	struct buf	 line;

	buf_init(&line);
	if (json_object_object_get_ex(job, "Manifest", &man)) {
		if (json_object_object_get_ex(man, "Spec", &spec))
			fmt = json_path_string(spec, "Format");
		if (json_object_object_get_ex(man, "Location", &loc) &&
		    (s = json_path_string(loc, "ObjectArn")) != NULL)
			buf_addf(&line, "%s", s);
		else
			buf_adds(&line, "(streamed from s3batchctl)");
		if (fmt != NULL)
			buf_addf(&line, " (%s)", fmt);
		cli_kv(b, "Manifest:", line.data);
	} else if (json_object_object_get_ex(job, "ManifestGenerator", &man))
		cli_kv(b, "Manifest:", "generated by listing the source bucket");
	buf_reset(&line);
	if (json_object_object_get_ex(job, "Report", &rep)) {
		if (json_object_object_get_ex(rep, "Enabled", &loc) &&
		    !json_object_get_boolean(loc))
			buf_adds(&line, "disabled");
		else {
			s = json_path_string(rep, "Bucket");
			buf_addf(&line, "%s", s != NULL ? s : "-");
			if ((s = json_path_string(rep, "Prefix")) != NULL)
				buf_addf(&line, " prefix %s", s);
			if ((s = json_path_string(rep, "ReportScope")) != NULL)
				buf_addf(&line, " (%s)", s);
		}
		cli_kv(b, "Report:", line.data);
	}
	buf_free(&line);
}

void
cli_text_describe_job(struct buf *b, json_object *result)
{
	json_object	*job, *v, *ps, *timers, *f;
	int64_t		 ok, failed, total, n;
	char		 tmp[128];
	size_t		 i;

	if (result == NULL || !json_object_object_get_ex(result, "Job", &job))
		return;
	cli_kv(b, "Job ID:", json_path_string(job, "JobId"));
	cli_kv(b, "Status:", json_path_string(job, "Status"));
	if (json_path_int64(job, "Priority", &n) == 0) {
		snprintf(tmp, sizeof tmp, "%" PRId64, n);
		cli_kv(b, "Priority:", tmp);
	}
	cli_kv(b, "Operation:", cli_operation_name(job));
	cli_kv(b, "Description:", json_path_string(job, "Description"));
	cli_progress_counts(job, &ok, &failed, &total);
	if (total > 0)
		snprintf(tmp, sizeof tmp, "%" PRId64 " of %" PRId64 " done "
		    "(%.1f%%): %" PRId64 " succeeded, %" PRId64 " failed",
		    ok + failed, total, 100.0 * (double)(ok + failed) /
		    (double)total, ok, failed);
	else
		snprintf(tmp, sizeof tmp, "%" PRId64 " succeeded, %" PRId64
		    " failed, total not known yet", ok, failed);
	cli_kv(b, "Progress:", tmp);
	if (json_object_object_get_ex(job, "ProgressSummary", &ps) &&
	    json_object_object_get_ex(ps, "Timers", &timers) &&
	    json_path_int64(timers, "ElapsedTimeInActiveSeconds", &n) == 0) {
		format_duration((uint64_t)(n < 0 ? 0 : n) * 1000, tmp,
		    sizeof tmp);
		cli_kv(b, "Active for:", tmp);
	}
	cli_kv_time(b, "Created:", job, "CreationTime");
	cli_kv_time(b, "Terminated:", job, "TerminationDate");
	if (json_object_object_get_ex(job, "ConfirmationRequired", &v))
		cli_kv(b, "Confirmation:", json_object_get_boolean(v) ?
		    "required" : "not required");
	cli_kv(b, "Suspended cause:", json_path_string(job, "SuspendedCause"));
	cli_kv_time(b, "Suspended since:", job, "SuspendedDate");
	cli_kv(b, "Status reason:", json_path_string(job, "StatusUpdateReason"));
	cli_kv(b, "Role:", json_path_string(job, "RoleArn"));
	cli_describe_location(b, job);
	cli_kv(b, "Job ARN:", json_path_string(job, "JobArn"));
	if (json_object_object_get_ex(job, "FailureReasons", &v) &&
	    json_object_is_type(v, json_type_array) &&
	    json_object_array_length(v) > 0) {
		buf_adds(b, "Failure reasons:\n");
		for (i = 0; i < json_object_array_length(v); i++) {
			f = json_object_array_get_idx(v, i);
			buf_addf(b, "  %s: %s\n",
			    json_path_string(f, "FailureCode") != NULL ?
			    json_path_string(f, "FailureCode") : "-",
			    json_path_string(f, "FailureReason") != NULL ?
			    json_path_string(f, "FailureReason") : "-");
		}
	}
}

void
cli_text_list_jobs(struct buf *b, json_object *result)
{
	json_object	*jobs, *job, *v;
	const char	*desc;
	int64_t		 ok, failed, total, prio;
	char		 progress[64], created[64];
	size_t		 i, n;

	if (result == NULL ||
	    !json_object_object_get_ex(result, "Jobs", &jobs) ||
	    !json_object_is_type(jobs, json_type_array))
		return;
	n = json_object_array_length(jobs);
	buf_addf(b, "%-36s  %-10s  %8s  %-23s  %-22s  %-19s  %s\n", "JOB ID",
	    "STATUS", "PRIORITY", "OPERATION", "PROGRESS", "CREATED",
	    "DESCRIPTION");
	for (i = 0; i < n; i++) {
		job = json_object_array_get_idx(jobs, i);
		cli_progress_counts(job, &ok, &failed, &total);
		if (total > 0)
			snprintf(progress, sizeof progress, "%" PRId64 "/%"
			    PRId64 " %.0f%%", ok + failed, total,
			    100.0 * (double)(ok + failed) / (double)total);
		else
			snprintf(progress, sizeof progress, "%" PRId64 "/-",
			    ok + failed);
		if (json_path_int64(job, "Priority", &prio) != 0)
			prio = 0;
		if (!json_object_object_get_ex(job, "CreationTime", &v))
			v = NULL;
		cli_format_time(v, created, sizeof created);
		desc = json_path_string(job, "Description");
		buf_addf(b, "%-36s  %-10s  %8" PRId64 "  %-23s  %-22s  %-19s  "
		    "%s", json_path_string(job, "JobId") != NULL ?
		    json_path_string(job, "JobId") : "-",
		    json_path_string(job, "Status") != NULL ?
		    json_path_string(job, "Status") : "-", prio,
		    cli_operation_name(job), progress, created,
		    desc != NULL ? desc : "");
		while (b->len > 0 && b->data[b->len - 1] == ' ')
			b->data[--b->len] = '\0';
		buf_addc(b, '\n');
	}
	if ((desc = json_path_string(result, "NextToken")) != NULL)
		buf_addf(b, "(more: --next-token %s)\n", desc);
}

void
cli_text_update_priority(struct buf *b, json_object *result)
{
	int64_t	 prio;

	if (json_path_int64(result, "Priority", &prio) != 0)
		return;
	buf_addf(b, "%s: priority %" PRId64 "\n",
	    json_path_string(result, "JobId") != NULL ?
	    json_path_string(result, "JobId") : "-", prio);
}

void
cli_text_update_status(struct buf *b, json_object *result)
{
	const char	*reason = json_path_string(result, "StatusUpdateReason");

	if (json_path_string(result, "Status") == NULL)
		return;
	buf_addf(b, "%s: %s", json_path_string(result, "JobId") != NULL ?
	    json_path_string(result, "JobId") : "-",
	    json_path_string(result, "Status"));
	if (reason != NULL)
		buf_addf(b, " (%s)", reason);
	buf_addc(b, '\n');
}

void
cli_text_tags(struct buf *b, json_object *result)
{
	json_object	*tags, *t;
	size_t		 i;

	if (result == NULL ||
	    !json_object_object_get_ex(result, "Tags", &tags) ||
	    !json_object_is_type(tags, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(tags); i++) {
		t = json_object_array_get_idx(tags, i);
		buf_addf(b, "%s\t%s\n", json_path_string(t, "Key") != NULL ?
		    json_path_string(t, "Key") : "",
		    json_path_string(t, "Value") != NULL ?
		    json_path_string(t, "Value") : "");
	}
}
