/*
 * s3batchctl's command table and its aws-style flag parser: each verb's
 * flags are a table of (flag, Amazon member name, type), so that parsing,
 * the request's args, usage and help all come from one place.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "protocol.h"

/* Amazon's 13 job states. */
const char *const cli_job_statuses[] = {
	"Active", "Cancelled", "Cancelling", "Complete", "Completing",
	"Failed", "Failing", "New", "Paused", "Pausing", "Preparing", "Ready",
	"Suspended", NULL
};
/* Amazon takes Ready and Cancelled; Paused is our extension. */
static const char *const cli_requested_statuses[] = {
	"Ready", "Cancelled", "Paused", NULL
};
static const char *const cli_report_formats[] = { "csv", "jsonl", NULL };

#define JOB_ID_OPT \
	{ "job-id", "JobId", CLI_T_STRING, CLI_O_REQUIRED, "ID", NULL, 0, 0, \
	  "the job's ID" }
#define END_OPT { NULL, NULL, CLI_T_STRING, 0, NULL, NULL, 0, 0, NULL }

static const struct cli_opt create_job_opts[] = {
	{ "cli-input-json", NULL, CLI_T_STRING, 0, "JSON", NULL, 0, 0,
	  "the CreateJob request: JSON text, file://PATH, or - for stdin" },
	{ "operation", "Operation", CLI_T_JSON, 0, "JSON", NULL, 0, 0,
	  "the operation (JobOperation)" },
	{ "manifest", "Manifest", CLI_T_JSON, 0, "JSON", NULL, 0, 0,
	  "the manifest's Spec and Location (JobManifest)" },
	{ "manifest-file", NULL, CLI_T_STRING, 0, "PATH", NULL, 0, 0,
	  "stream a local manifest file (- for stdin) to the daemon" },
	{ "manifest-generator", "ManifestGenerator", CLI_T_JSON, 0, "JSON",
	  NULL, 0, 0, "generate the manifest by listing a bucket" },
	{ "report", "Report", CLI_T_JSON, 0, "JSON", NULL, 0, 0,
	  "the completion report (JobReport)" },
	{ "priority", "Priority", CLI_T_INT, 0, "N", NULL, 0, INT32_MAX,
	  "0 to 2147483647, higher runs first" },
	{ "role-arn", "RoleArn", CLI_T_STRING, 0, "ARN", NULL, 0, 0,
	  "the role (credentials profile) the job runs with" },
	{ "client-request-token", "ClientRequestToken", CLI_T_STRING, 0, "T",
	  NULL, 0, 0, "idempotency token (a random one if not given)" },
	{ "description", "Description", CLI_T_STRING, 0, "D", NULL, 0, 0,
	  "a description for people" },
	{ "confirmation-required", "ConfirmationRequired", CLI_T_BOOL,
	  CLI_O_NEGATABLE, NULL, NULL, 0, 0,
	  "hold the job Suspended until update-job-status --requested-job-status Ready" },
	{ "tags", "Tags", CLI_T_TAGS, 0, "Key=k,Value=v", NULL, 0, 0,
	  "job tags, shorthand or a JSON list" },
	END_OPT
};

static const struct cli_opt job_id_opts[] = {
	JOB_ID_OPT,
	END_OPT
};

static const struct cli_opt list_jobs_opts[] = {
	{ "job-statuses", "JobStatuses", CLI_T_LIST, 0, "STATUS",
	  cli_job_statuses, 0, 0, "only jobs in these states" },
	{ "max-results", "MaxResults", CLI_T_INT, 0, "N", NULL, 0, 1000,
	  "at most N jobs (one page; no automatic paging)" },
	{ "next-token", "NextToken", CLI_T_STRING, 0, "T", NULL, 0, 0,
	  "the page after this token" },
	END_OPT
};

static const struct cli_opt update_priority_opts[] = {
	JOB_ID_OPT,
	{ "priority", "Priority", CLI_T_INT, CLI_O_REQUIRED, "N", NULL, 0,
	  INT32_MAX, "0 to 2147483647, higher runs first" },
	END_OPT
};

static const struct cli_opt update_status_opts[] = {
	JOB_ID_OPT,
	{ "requested-job-status", "RequestedJobStatus", CLI_T_ENUM,
	  CLI_O_REQUIRED, "STATUS", cli_requested_statuses, 0, 0,
	  "Ready (confirm or resume), Cancelled or Paused" },
	{ "status-update-reason", "StatusUpdateReason", CLI_T_STRING, 0, "R",
	  NULL, 0, 0, "why, for the record" },
	END_OPT
};

static const struct cli_opt put_tagging_opts[] = {
	JOB_ID_OPT,
	{ "tags", "Tags", CLI_T_TAGS, CLI_O_REQUIRED, "Key=k,Value=v", NULL,
	  0, 0, "the new tag set (replaces the old one)" },
	END_OPT
};

static const struct cli_opt clone_job_opts[] = {
	JOB_ID_OPT,
	{ "failed-tasks-only", "FailedTasksOnly", CLI_T_BOOL, 0, NULL, NULL,
	  0, 0, "only the tasks that did not succeed in the original job "
	  "(failed, or never ran)" },
	{ "priority", "Priority", CLI_T_INT, 0, "N", NULL, 0, INT32_MAX,
	  "the new job's priority" },
	{ "description", "Description", CLI_T_STRING, 0, "D", NULL, 0, 0,
	  "the new job's description" },
	{ "confirmation-required", "ConfirmationRequired", CLI_T_BOOL,
	  CLI_O_NEGATABLE, NULL, NULL, 0, 0,
	  "hold the new job Suspended until confirmed" },
	{ "client-request-token", "ClientRequestToken", CLI_T_STRING, 0, "T",
	  NULL, 0, 0, "idempotency token" },
	END_OPT
};

static const struct cli_opt watch_opts[] = {
	JOB_ID_OPT,
	{ "interval", NULL, CLI_T_DURATION, 0, "SECONDS", NULL, 100,
	  INT32_MAX, "time between polls (default 2s)" },
	END_OPT
};

static const struct cli_opt report_opts[] = {
	JOB_ID_OPT,
	{ "failed-only", "FailedTasksOnly", CLI_T_BOOL, 0, NULL, NULL, 0, 0,
	  "only the tasks that failed" },
	{ "format", "Format", CLI_T_ENUM, 0, "FORMAT", cli_report_formats, 0,
	  0, "csv (Amazon's report rows, the default) or jsonl" },
	END_OPT
};

static const struct cli_opt check_endpoint_opts[] = {
	{ "NAME", "Endpoint", CLI_T_STRING, CLI_O_REQUIRED|CLI_O_POSITIONAL,
	  "NAME", NULL, 0, 0, "an [endpoint NAME] of the daemon's config" },
	{ "bucket", "Bucket", CLI_T_STRING, 0, "BUCKET", NULL, 0, 0,
	  "probe the endpoint's capabilities with scratch objects in BUCKET" },
	END_OPT
};

#define INV_BUCKET_OPT \
	{ "bucket", "Bucket", CLI_T_STRING, CLI_O_REQUIRED, "BUCKET", NULL, \
	  0, 0, "the source bucket" }
#define INV_ID_OPT \
	{ "id", "Id", CLI_T_STRING, CLI_O_REQUIRED, "ID", NULL, 0, 0, \
	  "the inventory configuration's Id" }
#define INV_OWNER_OPT \
	{ "expected-bucket-owner", "ExpectedBucketOwner", CLI_T_STRING, 0, \
	  "ACCOUNT", NULL, 0, 0, "accepted for aws s3api's sake; ignored" }

static const struct cli_opt inv_put_opts[] = {
	INV_BUCKET_OPT,
	INV_ID_OPT,
	{ "inventory-configuration", "InventoryConfiguration", CLI_T_JSON,
	  CLI_O_REQUIRED, "JSON", NULL, 0, 0,
	  "the InventoryConfiguration: JSON text, file://PATH, or -" },
	INV_OWNER_OPT,
	END_OPT
};

static const struct cli_opt inv_id_opts[] = {
	INV_BUCKET_OPT,
	INV_ID_OPT,
	INV_OWNER_OPT,
	END_OPT
};

static const struct cli_opt inv_run_opts[] = {
	INV_BUCKET_OPT,
	INV_ID_OPT,
	END_OPT
};

static const struct cli_opt inv_list_opts[] = {
	INV_BUCKET_OPT,
	{ "continuation-token", "ContinuationToken", CLI_T_STRING, 0, "T",
	  NULL, 0, 0, "the page after this token (NextContinuationToken)" },
	INV_OWNER_OPT,
	END_OPT
};

static const struct cli_opt inv_runs_opts[] = {
	{ "bucket", "Bucket", CLI_T_STRING, 0, "BUCKET", NULL, 0, 0,
	  "only runs of this bucket's configurations" },
	{ "id", "Id", CLI_T_STRING, 0, "ID", NULL, 0, 0,
	  "only runs of configurations with this Id" },
	{ "max-results", "MaxResults", CLI_T_INT, 0, "N", NULL, 1, 1000,
	  "at most N runs, newest first (default 100)" },
	END_OPT
};

static const struct cli_opt help_opts[] = {
	{ "verb", NULL, CLI_T_STRING, CLI_O_POSITIONAL, "COMMAND", NULL, 0, 0,
	  "a command to describe" },
	END_OPT
};

static const struct cli_opt no_opts[] = {
	END_OPT
};

const struct cli_cmd cli_cmds[] = {
	{ "create-job", "Create a job from a CreateJob request.",
	  CLI_MUTATING, create_job_opts, cli_create_job_parse,
	  cli_create_job_exec, cli_text_job_id },
	{ "describe-job", "Show a job's configuration, status and progress.",
	  0, job_id_opts, NULL, NULL, cli_text_describe_job },
	{ "list-jobs", "List jobs with their status and progress.",
	  0, list_jobs_opts, NULL, cli_list_jobs_exec, cli_text_list_jobs },
	{ "update-job-priority", "Change a job's priority, even while it runs.",
	  CLI_MUTATING, update_priority_opts, NULL, NULL,
	  cli_text_update_priority },
	{ "update-job-status", "Confirm, pause, resume or cancel a job.",
	  CLI_MUTATING, update_status_opts, NULL, NULL,
	  cli_text_update_status },
	{ "get-job-tagging", "Show a job's tags.",
	  0, job_id_opts, NULL, NULL, cli_text_tags },
	{ "put-job-tagging", "Replace a job's tags.",
	  CLI_MUTATING, put_tagging_opts, NULL, NULL, cli_text_none },
	{ "delete-job-tagging", "Remove all of a job's tags.",
	  CLI_MUTATING, job_id_opts, NULL, NULL, cli_text_none },
	{ "clone-job", "Create a job from another's spec (or its failures).",
	  CLI_MUTATING, clone_job_opts, NULL, NULL, cli_text_job_id },
	{ "watch", "Follow a job's progress until it ends.",
	  0, watch_opts, NULL, cli_watch_exec, NULL },
	{ "report", "Write a job's task results to standard output.",
	  0, report_opts, NULL, cli_report_exec, NULL },
	{ "retry-report", "Write again a completion report that could not "
	  "be written.", CLI_MUTATING, job_id_opts, NULL, NULL,
	  cli_text_job_id },
	{ "check-endpoint", "Check that the daemon can reach an endpoint "
	  "(and probe what it can do).",
	  0, check_endpoint_opts, NULL, NULL, cli_text_check_endpoint },
	{ "put-bucket-inventory-configuration", "Create or replace an "
	  "inventory configuration.", CLI_MUTATING, inv_put_opts, NULL, NULL,
	  cli_text_none },
	{ "get-bucket-inventory-configuration", "Show an inventory "
	  "configuration.", 0, inv_id_opts, NULL, NULL,
	  cli_text_inventory_config },
	{ "list-bucket-inventory-configurations", "List a bucket's inventory "
	  "configurations.", 0, inv_list_opts, NULL, NULL,
	  cli_text_inventory_configs },
	{ "delete-bucket-inventory-configuration", "Delete an inventory "
	  "configuration.", CLI_MUTATING, inv_id_opts, NULL, NULL,
	  cli_text_none },
	{ "run-inventory", "Run an inventory configuration now (one run at "
	  "a time).", CLI_MUTATING, inv_run_opts, NULL, NULL,
	  cli_text_inventory_run_id },
	{ "list-inventory-runs", "List inventory runs, newest first.",
	  0, inv_runs_opts, NULL, NULL, cli_text_inventory_runs },
	{ "status", "Show the daemon's version, uptime and job counts.",
	  0, no_opts, NULL, NULL, cli_text_status },
	{ "help", "Describe the commands, or one command.",
	  CLI_NODAEMON, help_opts, NULL, cli_help_exec, NULL },
};
const size_t cli_ncmds = nitems(cli_cmds);

const struct cli_cmd *
cli_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < cli_ncmds; i++) {
		if (strcmp(cli_cmds[i].name, name) == 0)
			return (&cli_cmds[i]);
	}
	return (NULL);
}

void
cli_ctx_init(struct cli_ctx *ctx)
{
	const char	*env;

	memset(ctx, 0, sizeof *ctx);
	env = getenv("S3BATCHD_SOCKET");
	ctx->socket_path = env != NULL && *env != '\0' ? env :
	    CONTROL_SOCKET_DEFAULT;
	ctx->output = CLI_OUTPUT_TEXT;
	ctx->timeout_ms = 60 * 1000;
}

/*
 * Options valid before the verb and after it; *used says whether value
 * was taken.
 */
enum cli_global
cli_global_option(struct cli_ctx *ctx, const char *name, const char *value,
    int *used, char **cause)
{
	uint64_t	 ms;

	*used = 0;
	if (strcmp(name, "h") == 0 || strcmp(name, "help") == 0) {
		ctx->help = 1;
		return (CLI_GLOBAL_YES);
	}
	if (strcmp(name, "version") == 0) {
		ctx->version = 1;
		return (CLI_GLOBAL_YES);
	}
	if (strcmp(name, "s") != 0 && strcmp(name, "socket") != 0 &&
	    strcmp(name, "output") != 0 && strcmp(name, "account-id") != 0 &&
	    strcmp(name, "timeout") != 0)
		return (CLI_GLOBAL_NO);
	if (value == NULL) {
		xasprintf(cause, "%s%s needs a value", strlen(name) == 1 ?
		    "-" : "--", name);
		return (CLI_GLOBAL_BAD);
	}
	*used = 1;
	if (strcmp(name, "s") == 0 || strcmp(name, "socket") == 0)
		ctx->socket_path = value;
	else if (strcmp(name, "output") == 0) {
		if (strcmp(value, "json") == 0)
			ctx->output = CLI_OUTPUT_JSON;
		else if (strcmp(value, "text") == 0)
			ctx->output = CLI_OUTPUT_TEXT;
		else {
			xasprintf(cause, "--output: \"%s\" is not one of "
			    "json, text", value);
			return (CLI_GLOBAL_BAD);
		}
	} else if (strcmp(name, "timeout") == 0) {
		if (parse_duration(value, &ms, cause) != 0)
			return (CLI_GLOBAL_BAD);
		ctx->timeout_ms = ms;
	}
	/* --account-id: aws requires it; one daemon is one account. */
	return (CLI_GLOBAL_YES);
}

/* Far more than any request the daemon takes (PROTOCOL_MAX_LINE). */
#define CLI_JSON_MAX	(64 * 1024 * 1024)

/* JSON text, file://PATH (as aws reads parameter files) or - (stdin). */
json_object *
cli_load_json(const char *value, char **cause)
{
	struct buf	 b;
	json_object	*o = NULL;
	const char	*path = NULL;
	char		*why = NULL;
	int		 fd;

	buf_init(&b);
	if (strcmp(value, "-") == 0) {
		path = "standard input";
		if (io_read_buf(STDIN_FILENO, &b, CLI_JSON_MAX) != 0) {
			xasprintf(&why, "%s", strerror(errno));
			goto fail;
		}
	} else if (strncmp(value, "file://", 7) == 0) {
		path = value + 7;
		if ((fd = open(path, O_RDONLY|O_CLOEXEC)) == -1) {
			xasprintf(&why, "%s", strerror(errno));
			goto fail;
		}
		if (io_read_buf(fd, &b, CLI_JSON_MAX) != 0) {
			xasprintf(&why, "%s", strerror(errno));
			close(fd);
			goto fail;
		}
		close(fd);
	} else
		buf_adds(&b, value);
	if ((o = client_json_parse(b.data == NULL ? "" : b.data, b.len,
	    &why)) == NULL)
		goto fail;
	buf_free(&b);
	return (o);
fail:
	if (path != NULL)
		xasprintf(cause, "%s: %s", path, why);
	else
		xasprintf(cause, "%s", why);
	free(why);
	buf_free(&b);
	return (NULL);
}

static int
cli_check_tag(json_object *tag, char **cause)
{
	json_object	*v;
	size_t		 n;

	if (!json_object_is_type(tag, json_type_object) ||
	    !json_object_object_get_ex(tag, "Key", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    (n = (size_t)json_object_get_string_len(v)) == 0 || n > 128) {
		xasprintf(cause, "a tag needs a Key of 1 to 128 characters");
		return (-1);
	}
	if (!json_object_object_get_ex(tag, "Value", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) > 256) {
		xasprintf(cause, "tag \"%s\" needs a Value of at most 256 "
		    "characters", json_path_string(tag, "Key"));
		return (-1);
	}
	return (0);
}

/* Where the next "Key=" or "Value=" after a comma starts, or NULL. */
static const char *
cli_tag_next(const char *p)
{
	while ((p = strchr(p, ',')) != NULL) {
		if (strncmp(p + 1, "Key=", 4) == 0 ||
		    strncmp(p + 1, "Value=", 6) == 0)
			return (p);
		p++;
	}
	return (NULL);
}

/*
 * Append to list the tags in one --tags value: aws shorthand
 * ("Key=k,Value=v"; a comma belongs to the value unless Key= or Value=
 * follows it) or a JSON list of {"Key":..,"Value":..} (or file://).
 */
int
cli_parse_tags(json_object *list, const char *value, char **cause)
{
	json_object	*o, *tag;
	const char	*p, *end;
	char		*key = NULL, *val = NULL, **dst;
	size_t		 i, skip;

	if (*value == '[' || strncmp(value, "file://", 7) == 0) {
		if ((o = cli_load_json(value, cause)) == NULL)
			return (-1);
		if (!json_object_is_type(o, json_type_array)) {
			xasprintf(cause, "--tags: expected a JSON list");
			json_object_put(o);
			return (-1);
		}
		for (i = 0; i < json_object_array_length(o); i++) {
			tag = json_object_array_get_idx(o, i);
			if (cli_check_tag(tag, cause) != 0) {
				json_object_put(o);
				return (-1);
			}
			json_object_array_add(list, json_object_get(tag));
		}
		json_object_put(o);
		return (0);
	}
	for (p = value; *p != '\0'; p = end + (*end == ',' ? 1 : 0)) {
		if (strncmp(p, "Key=", 4) == 0) {
			dst = &key;
			skip = 4;
		} else if (strncmp(p, "Value=", 6) == 0) {
			dst = &val;
			skip = 6;
		} else
			goto bad;
		if ((end = cli_tag_next(p + skip)) == NULL)
			end = p + strlen(p);
		if (*dst != NULL)
			goto bad;
		*dst = xstrndup(p + skip, (size_t)(end - p - skip));
	}
	if (key == NULL || val == NULL)
		goto bad;
	tag = json_object_new_object();
	json_object_object_add(tag, "Key", json_object_new_string(key));
	json_object_object_add(tag, "Value", json_object_new_string(val));
	free(key);
	free(val);
	if (cli_check_tag(tag, cause) != 0) {
		json_object_put(tag);
		return (-1);
	}
	json_object_array_add(list, tag);
	return (0);
bad:
	free(key);
	free(val);
	xasprintf(cause, "--tags: \"%s\" is not Key=k,Value=v", value);
	return (-1);
}

static int
cli_in_values(const char *const *values, const char *s)
{
	for (; *values != NULL; values++) {
		if (strcmp(*values, s) == 0)
			return (1);
	}
	return (0);
}

static void
cli_values_list(struct buf *b, const char *const *values)
{
	for (; *values != NULL; values++) {
		buf_adds(b, *values);
		if (values[1] != NULL)
			buf_adds(b, ", ");
	}
}

static int
cli_bad_value(const struct cli_opt *opt, const char *value, char **cause)
{
	struct buf	 b;

	buf_init(&b);
	cli_values_list(&b, opt->values);
	xasprintf(cause, "--%s: \"%s\" is not one of %s", opt->name, value,
	    b.data);
	buf_free(&b);
	return (-1);
}

/* Convert one value of opt and store it (lists append). */
static int
cli_store(const struct cli_opt *opt, json_object *dst, const char *value,
    int negated, char **cause)
{
	const char	*key = opt->member != NULL ? opt->member : opt->name;
	json_object	*v, *list;
	char		*end, *why = NULL;
	long long	 n;
	uint64_t	 ms;

	switch (opt->type) {
	case CLI_T_STRING:
		v = json_object_new_string(value);
		break;
	case CLI_T_INT:
		errno = 0;
		n = strtoll(value, &end, 10);
		if (*value == '\0' || *end != '\0' || errno != 0 ||
		    n < opt->min || n > opt->max) {
			xasprintf(cause, "--%s: \"%s\" is not an integer from "
			    "%" PRId64 " to %" PRId64, opt->name, value,
			    opt->min, opt->max);
			return (-1);
		}
		v = json_object_new_int64(n);
		break;
	case CLI_T_BOOL:
		v = json_object_new_boolean(!negated);
		break;
	case CLI_T_ENUM:
		if (!cli_in_values(opt->values, value))
			return (cli_bad_value(opt, value, cause));
		v = json_object_new_string(value);
		break;
	case CLI_T_LIST:
		if (opt->values != NULL && !cli_in_values(opt->values, value))
			return (cli_bad_value(opt, value, cause));
		if (!json_object_object_get_ex(dst, key, &list)) {
			list = json_object_new_array();
			json_object_object_add(dst, key, list);
		}
		json_object_array_add(list, json_object_new_string(value));
		return (0);
	case CLI_T_JSON:
		if ((v = cli_load_json(value, &why)) == NULL) {
			xasprintf(cause, "--%s: %s", opt->name, why);
			free(why);
			return (-1);
		}
		if (!json_object_is_type(v, json_type_object)) {
			xasprintf(cause, "--%s: expected a JSON object",
			    opt->name);
			json_object_put(v);
			return (-1);
		}
		break;
	case CLI_T_TAGS:
		if (!json_object_object_get_ex(dst, key, &list)) {
			list = json_object_new_array();
			json_object_object_add(dst, key, list);
		}
		return (cli_parse_tags(list, value, cause));
	case CLI_T_DURATION:
		if (parse_duration(value, &ms, &why) != 0) {
			xasprintf(cause, "--%s: %s", opt->name, why);
			free(why);
			return (-1);
		}
		if (ms < (uint64_t)opt->min || ms > (uint64_t)opt->max) {
			xasprintf(cause, "--%s: \"%s\" is out of range",
			    opt->name, value);
			return (-1);
		}
		v = json_object_new_int64((int64_t)ms);
		break;
	default:
		fatalx("cli_store: bad type %d", opt->type);
	}
	json_object_object_add(dst, key, v);
	return (0);
}

static const struct cli_opt *
cli_find_opt(const struct cli_cmd *cmd, const char *name, size_t len,
    int *negated)
{
	const struct cli_opt	*opt;

	*negated = 0;
	for (opt = cmd->opts; opt->name != NULL; opt++) {
		if ((opt->flags & CLI_O_POSITIONAL) == 0 &&
		    strlen(opt->name) == len &&
		    strncmp(opt->name, name, len) == 0)
			return (opt);
	}
	if (len > 3 && strncmp(name, "no-", 3) == 0) {
		for (opt = cmd->opts; opt->name != NULL; opt++) {
			if ((opt->flags & CLI_O_NEGATABLE) &&
			    strlen(opt->name) == len - 3 &&
			    strncmp(opt->name, name + 3, len - 3) == 0) {
				*negated = 1;
				return (opt);
			}
		}
	}
	return (NULL);
}

static int
cli_is_flag(const char *s)
{
	return ((s[0] == '-' && s[1] == '-' && s[2] != '\0') ||
	    strcmp(s, "-s") == 0 || strcmp(s, "-h") == 0);
}

/*
 * Parse the words after the verb into req: flags as aws takes them
 * (--flag VALUE, --flag=VALUE, lists as several words), global options
 * anywhere. On a usage error, returns -1 with *cause set.
 */
int
cli_parse(const struct cli_cmd *cmd, struct cli_ctx *ctx, int argc,
    char **argv, struct cli_req *req, char **cause)
{
	const struct cli_opt	*opt, *pos = cmd->opts;
	const char		*arg, *name, *eq, *value;
	json_object		*dst, *v;
	char			*gname;
	size_t			 len;
	enum cli_global		 g;
	int			 i, negated, used, nvalues;

	memset(req, 0, sizeof *req);
	req->cmd = cmd;
	req->args = json_object_new_object();
	req->local = json_object_new_object();
	for (i = 0; i < argc; i++) {
		arg = argv[i];
		if (!cli_is_flag(arg)) {
			while (pos->name != NULL &&
			    (pos->flags & CLI_O_POSITIONAL) == 0)
				pos++;
			if (pos->name == NULL) {
				xasprintf(cause, "unexpected argument \"%s\"",
				    arg);
				return (-1);
			}
			dst = pos->member != NULL ? req->args : req->local;
			if (cli_store(pos, dst, arg, 0, cause) != 0)
				return (-1);
			pos++;
			continue;
		}
		name = arg + (arg[1] == '-' ? 2 : 1);
		eq = strchr(name, '=');
		len = eq != NULL ? (size_t)(eq - name) : strlen(name);
		if ((opt = cli_find_opt(cmd, name, len, &negated)) == NULL) {
			gname = xstrndup(name, len);
			value = eq != NULL ? eq + 1 :
			    (i + 1 < argc ? argv[i + 1] : NULL);
			g = cli_global_option(ctx, gname, value, &used, cause);
			free(gname);
			if (g == CLI_GLOBAL_BAD)
				return (-1);
			if (g == CLI_GLOBAL_NO) {
				xasprintf(cause, "unknown option %.*s",
				    (int)(len + (size_t)(name - arg)), arg);
				return (-1);
			}
			if (used && eq == NULL)
				i++;
			continue;
		}
		dst = opt->member != NULL ? req->args : req->local;
		if (opt->type == CLI_T_BOOL) {
			if (eq != NULL) {
				xasprintf(cause, "--%s takes no value",
				    opt->name);
				return (-1);
			}
			if (cli_store(opt, dst, NULL, negated, cause) != 0)
				return (-1);
			continue;
		}
		nvalues = 0;
		if (eq != NULL) {
			if (cli_store(opt, dst, eq + 1, 0, cause) != 0)
				return (-1);
			nvalues++;
		}
		/* Lists take every word up to the next flag. */
		while ((nvalues == 0 || opt->type == CLI_T_LIST ||
		    opt->type == CLI_T_TAGS) && i + 1 < argc &&
		    (nvalues == 0 || !cli_is_flag(argv[i + 1]))) {
			if (cli_store(opt, dst, argv[++i], 0, cause) != 0)
				return (-1);
			nvalues++;
		}
		if (nvalues == 0) {
			xasprintf(cause, "--%s needs a value", opt->name);
			return (-1);
		}
	}
	for (opt = cmd->opts; opt->name != NULL; opt++) {
		if ((opt->flags & CLI_O_REQUIRED) == 0)
			continue;
		dst = opt->member != NULL ? req->args : req->local;
		if (!json_object_object_get_ex(dst, opt->member != NULL ?
		    opt->member : opt->name, &v)) {
			if (opt->flags & CLI_O_POSITIONAL)
				xasprintf(cause, "%s is required",
				    opt->metavar);
			else
				xasprintf(cause, "--%s is required",
				    opt->name);
			return (-1);
		}
	}
	if (cmd->parse != NULL && !ctx->help)
		return (cmd->parse(req, cause));
	return (0);
}

void
cli_req_free(struct cli_req *req)
{
	json_object_put(req->args);
	json_object_put(req->local);
	memset(req, 0, sizeof *req);
}

static void
cli_synopsis_opt(struct buf *b, const struct cli_opt *opt)
{
	int	 req = opt->flags & CLI_O_REQUIRED;
	int	 many = opt->type == CLI_T_LIST || opt->type == CLI_T_TAGS;

	buf_adds(b, req ? " " : " [");
	if (opt->flags & CLI_O_POSITIONAL)
		buf_adds(b, opt->metavar);
	else if (opt->type == CLI_T_BOOL)
		buf_addf(b, "--%s%s", opt->flags & CLI_O_NEGATABLE ?
		    "[no-]" : "", opt->name);
	else
		buf_addf(b, "--%s %s%s", opt->name, opt->metavar,
		    many ? " ..." : "");
	if (!req)
		buf_addc(b, ']');
}

void
cli_usage(struct buf *b, const struct cli_cmd *cmd)
{
	const struct cli_opt	*opt;
	char			 left[64];

	buf_addf(b, "usage: s3batchctl %s", cmd->name);
	for (opt = cmd->opts; opt->name != NULL; opt++)
		cli_synopsis_opt(b, opt);
	buf_addf(b, "\n%s%s\n", cmd->help, cmd->flags & CLI_MUTATING ?
	    " (changes state: needs root, the daemon's user or a member of "
	    "control_group)" : "");
	for (opt = cmd->opts; opt->name != NULL; opt++) {
		if (opt->flags & CLI_O_POSITIONAL)
			snprintf(left, sizeof left, "%s", opt->metavar);
		else if (opt->type == CLI_T_BOOL)
			snprintf(left, sizeof left, "--%s%s",
			    opt->flags & CLI_O_NEGATABLE ? "[no-]" : "",
			    opt->name);
		else
			snprintf(left, sizeof left, "--%s %s", opt->name,
			    opt->metavar);
		buf_addf(b, "  %-30s %s", left, opt->help);
		if (opt->values != NULL) {
			buf_adds(b, " (");
			cli_values_list(b, opt->values);
			buf_adds(b, ")");
		}
		buf_addc(b, '\n');
	}
}

void
cli_help_all(struct buf *b)
{
	size_t	 i;

	buf_adds(b, "usage: s3batchctl [-s SOCKET] [--output json|text] "
	    "[--timeout DURATION] COMMAND [ARGS]\n"
	    "       s3batchctl help [COMMAND]\n\ncommands:\n");
	for (i = 0; i < cli_ncmds; i++)
		buf_addf(b, "  %-22s %s\n", cli_cmds[i].name, cli_cmds[i].help);
	buf_adds(b, "\nglobal options:\n"
	    "  -s, --socket SOCKET    the daemon's control socket (default: "
	    "$S3BATCHD_SOCKET, else " CONTROL_SOCKET_DEFAULT ")\n"
	    "  --output json|text     output format (default: text)\n"
	    "  --timeout DURATION     give up on a silent daemon (default: "
	    "60s; 0: never)\n"
	    "  --account-id ID        accepted for aws compatibility, "
	    "ignored\n"
	    "  -h, --help             this help, or a command's\n"
	    "  --version              s3batchctl's version\n"
	    "\nexit status: 0 ok, 1 the daemon refused (or the job failed), "
	    "2 usage error, 3 daemon unreachable\n");
}

static void
cli_flush(struct buf *b, FILE *f)
{
	if (b->len != 0)
		fwrite(b->data, 1, b->len, f);
	fflush(f);
	buf_reset(b);
}

int
cli_connect(struct cli_ctx *ctx, struct client *c)
{
	char	*cause = NULL;

	if (client_connect(c, ctx->socket_path, ctx->timeout_ms, &cause) !=
	    0) {
		fprintf(stderr, "s3batchctl: cannot reach the daemon: %s\n",
		    cause);
		free(cause);
		return (-1);
	}
	return (0);
}

/* Report a client_* failure; returns the exit code it deserves. */
int
cli_client_error(int rv, const char *cause)
{
	fprintf(stderr, "s3batchctl: %s\n", cause);
	return (rv == CLIENT_EIO ? CLI_EXIT_UNREACHABLE : CLI_EXIT_REFUSED);
}

int
cli_reply_error(struct client_reply *r)
{
	fprintf(stderr, "s3batchctl: %s: %s\n", r->code, r->message);
	return (CLI_EXIT_REFUSED);
}

void
cli_print_result(struct cli_ctx *ctx, const struct cli_cmd *cmd,
    json_object *result)
{
	struct buf	 b;

	buf_init(&b);
	if (ctx->output == CLI_OUTPUT_JSON) {
		/* Like aws: an empty result prints nothing. */
		if (result != NULL &&
		    (!json_object_is_type(result, json_type_object) ||
		    json_object_object_length(result) != 0))
			client_json_print(&b, result);
	} else if (cmd->text != NULL)
		cmd->text(&b, result);
	else
		cli_text_generic(&b, result);
	cli_flush(&b, stdout);
	buf_free(&b);
}

int
cli_run(struct cli_ctx *ctx, struct cli_req *req)
{
	struct client		 c;
	struct client_reply	 r;
	char			*cause = NULL;
	int			 rv;

	if (req->cmd->exec != NULL)
		return (req->cmd->exec(ctx, req));
	if (cli_connect(ctx, &c) != 0)
		return (CLI_EXIT_UNREACHABLE);
	if ((rv = client_call(&c, req->cmd->name, req->args, &r, &cause)) !=
	    0) {
		rv = cli_client_error(rv, cause);
		free(cause);
		client_close(&c);
		return (rv);
	}
	client_close(&c);
	if (!r.ok)
		rv = cli_reply_error(&r);
	else {
		cli_print_result(ctx, req->cmd, r.result);
		rv = CLI_EXIT_OK;
	}
	client_reply_free(&r);
	return (rv);
}

/* A timestamp as people read it: "2026-11-22 02:13:03". */
void
cli_format_time(json_object *v, char *out, size_t len)
{
	char		 iso[64];
	const char	*s;
	double		 secs;

	if (v == NULL || json_object_is_type(v, json_type_null)) {
		snprintf(out, len, "-");
		return;
	}
	if (json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)) {
		/* Epoch seconds, as botocore's JSON timestamps are. */
		secs = json_object_get_double(v);
		time_format_iso(secs < 0 ? 0 : (uint64_t)(secs * 1000), iso,
		    sizeof iso);
		s = iso;
	} else
		s = json_object_get_string(v);
	if (strlen(s) >= 19 && s[10] == 'T')
		snprintf(out, len, "%.10s %.8s", s, s + 11);
	else
		snprintf(out, len, "%s", s);
}

static void
cli_text_generic_r(struct buf *b, json_object *o, int depth)
{
	struct json_object_iterator	 it, end;
	json_object			*v, *e;
	size_t				 i, n;

	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		v = json_object_iter_peek_value(&it);
		buf_addf(b, "%*s%s:", depth * 2, "",
		    json_object_iter_peek_name(&it));
		switch (json_object_get_type(v)) {
		case json_type_object:
			buf_addc(b, '\n');
			cli_text_generic_r(b, v, depth + 1);
			break;
		case json_type_array:
			n = json_object_array_length(v);
			buf_addc(b, '\n');
			for (i = 0; i < n; i++) {
				e = json_object_array_get_idx(v, i);
				if (json_object_is_type(e, json_type_object)) {
					buf_addf(b, "%*s-\n", depth * 2 + 2, "");
					cli_text_generic_r(b, e, depth + 2);
				} else
					buf_addf(b, "%*s- %s\n", depth * 2 + 2,
					    "", json_object_get_string(e));
			}
			break;
		case json_type_null:
			buf_adds(b, " -\n");
			break;
		default:
			buf_addf(b, " %s\n", json_object_get_string(v));
			break;
		}
	}
}

/* Any result as indented "Key: value" lines. */
void
cli_text_generic(struct buf *b, json_object *result)
{
	if (result == NULL)
		return;
	if (json_object_is_type(result, json_type_object))
		cli_text_generic_r(b, result, 0);
	else
		buf_addf(b, "%s\n", json_object_get_string(result));
}
