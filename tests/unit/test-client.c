/*
 * Unit tests for s3batchctl's library side: request framing, reply
 * checking, the aws-style flag parser and request composition, JSON and
 * text output, and chunk framing over a socketpair (no daemon needed).
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <unistd.h>

#include "client.h"
#include "protocol.h"
#include "unit.h"

static struct cli_ctx	ctx;

/* Parse a command line given as a NULL-terminated list of words. */
static int
parse(const char *verb, struct cli_req *req, char **cause, ...)
{
	const struct cli_cmd	*cmd;
	char			*argv[64];
	const char		*w;
	va_list			 ap;
	int			 argc = 0;

	cmd = cli_find(verb);
	if (cmd == NULL)
		return (-2);
	va_start(ap, cause);
	while ((w = va_arg(ap, const char *)) != NULL && argc < 63)
		argv[argc++] = (char *)(uintptr_t)w;
	va_end(ap);
	argv[argc] = NULL;
	*cause = NULL;
	return (cli_parse(cmd, &ctx, argc, argv, req, cause));
}

static const char *
args_text(struct cli_req *req)
{
	return (json_object_to_json_string_ext(req->args,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void
test_request_line(void)
{
	json_object	*args;
	char		*line;

	args = json_object_new_object();
	json_object_object_add(args, "JobId", json_object_new_string("a/b"));
	line = client_request_line(7, "describe-job", args);
	CHECK_STR(line, "{\"v\":1,\"id\":7,\"cmd\":\"describe-job\","
	    "\"args\":{\"JobId\":\"a/b\"}}\n");
	free(line);
	line = client_request_line(1, "status", NULL);
	CHECK_STR(line, "{\"v\":1,\"id\":1,\"cmd\":\"status\",\"args\":{}}\n");
	free(line);
	json_object_put(args);
}

static int
reply(const char *line, int64_t id, struct client_reply *r)
{
	char	*cause = NULL;
	int	 rv;

	rv = client_parse_reply(line, strlen(line), id, r, &cause);
	CHECK((rv == 0) == (cause == NULL));
	free(cause);
	return (rv);
}

static void
test_parse_reply(void)
{
	struct client_reply	 r;

	CHECK_INT(reply("{\"v\":1,\"id\":3,\"ok\":true,\"result\":"
	    "{\"JobId\":\"x\"}}", 3, &r), 0);
	CHECK_INT(r.ok, 1);
	CHECK_INT(r.kind, CLIENT_REPLY_FINAL);
	CHECK_STR(json_path_string(r.result, "JobId"), "x");
	client_reply_free(&r);

	CHECK_INT(reply("{\"v\":1,\"id\":3,\"ok\":false,\"error\":"
	    "{\"code\":\"NoSuchJob\",\"message\":\"no job x\"}}", 3, &r), 0);
	CHECK_INT(r.ok, 0);
	CHECK_STR(r.code, "NoSuchJob");
	CHECK_STR(r.message, "no job x");
	client_reply_free(&r);

	CHECK_INT(reply("{\"v\":1,\"id\":4,\"ok\":true,\"continue\":true}", 4,
	    &r), 0);
	CHECK_INT(r.kind, CLIENT_REPLY_CONTINUE);
	client_reply_free(&r);
	CHECK_INT(reply("{\"v\":1,\"id\":4,\"ok\":true,\"stream\":true}", 4,
	    &r), 0);
	CHECK_INT(r.kind, CLIENT_REPLY_STREAM);
	client_reply_free(&r);

	/* An error the daemon could not tie to our id still counts. */
	CHECK_INT(reply("{\"v\":1,\"id\":null,\"ok\":false,\"error\":"
	    "{\"code\":\"ProtocolError\",\"message\":\"bad\"}}", 9, &r), 0);
	CHECK_STR(r.code, "ProtocolError");
	client_reply_free(&r);

	CHECK_INT(reply("{\"v\":1,\"id\":2,\"ok\":true,\"result\":{}}", 3, &r),
	    CLIENT_EPROTO);
	CHECK_INT(reply("{\"v\":2,\"id\":3,\"ok\":true,\"result\":{}}", 3, &r),
	    CLIENT_EPROTO);
	CHECK_INT(reply("{\"v\":1,\"ok\":true,\"result\":{}}", 3, &r),
	    CLIENT_EPROTO);
	CHECK_INT(reply("{\"v\":1,\"id\":3,\"result\":{}}", 3, &r),
	    CLIENT_EPROTO);
	CHECK_INT(reply("{\"v\":1,\"id\":3,\"ok\":true} x", 3, &r),
	    CLIENT_EPROTO);
	CHECK_INT(reply("[1,2]", 3, &r), CLIENT_EPROTO);
	CHECK_INT(reply("{\"v\":1,\"id\":3,\"ok\":tr", 3, &r), CLIENT_EPROTO);
	CHECK_INT(reply("", 3, &r), CLIENT_EPROTO);
	CHECK(r.obj == NULL);
}

static void
test_json_print(void)
{
	json_object	*o;
	struct buf	 b;
	char		*cause = NULL;
	const char	*in = "{\"Job\":{\"JobId\":\"j1\",\"Tags\":[],"
	    "\"Empty\":{},\"Arn\":\"arn:aws:s3:::b/k\",\"N\":5,\"F\":1.5,"
	    "\"B\":false,\"Z\":null,\"U\":\"h\\u00e9\\n\",\"L\":[1,{\"a\":"
	    "\"b\"}]},\"A\":1}";

	o = client_json_parse(in, strlen(in), &cause);
	CHECK(o != NULL);
	buf_init(&b);
	client_json_print(&b, o);
	CHECK_STR(b.data,
	    "{\n"
	    "    \"Job\": {\n"
	    "        \"JobId\": \"j1\",\n"
	    "        \"Tags\": [],\n"
	    "        \"Empty\": {},\n"
	    "        \"Arn\": \"arn:aws:s3:::b/k\",\n"
	    "        \"N\": 5,\n"
	    "        \"F\": 1.5,\n"
	    "        \"B\": false,\n"
	    "        \"Z\": null,\n"
	    "        \"U\": \"h\xc3\xa9\\n\",\n"
	    "        \"L\": [\n"
	    "            1,\n"
	    "            {\n"
	    "                \"a\": \"b\"\n"
	    "            }\n"
	    "        ]\n"
	    "    },\n"
	    "    \"A\": 1\n"
	    "}\n");
	buf_free(&b);
	json_object_put(o);

	CHECK(client_json_parse("{} {}", 5, &cause) == NULL);
	CHECK(cause != NULL);
	free(cause);
	cause = NULL;
	CHECK(client_json_parse("{\"a\":", 5, &cause) == NULL);
	free(cause);
}

static void
test_flags(void)
{
	struct cli_req	 req;
	json_object	*v;
	char		*cause;

	CHECK_INT(parse("describe-job", &req, &cause, "--job-id", "j-1",
	    NULL), 0);
	CHECK_STR(args_text(&req), "{\"JobId\":\"j-1\"}");
	cli_req_free(&req);

	CHECK_INT(parse("describe-job", &req, &cause, "--job-id=j-2",
	    "--account-id", "123456789012", "--output", "json", NULL), 0);
	CHECK_STR(args_text(&req), "{\"JobId\":\"j-2\"}");
	CHECK_INT(ctx.output, CLI_OUTPUT_JSON);
	ctx.output = CLI_OUTPUT_TEXT;
	cli_req_free(&req);

	CHECK_INT(parse("describe-job", &req, &cause, NULL), -1);
	CHECK_STR(cause, "--job-id is required");
	free(cause);
	cli_req_free(&req);

	CHECK_INT(parse("describe-job", &req, &cause, "--job-id", "x",
	    "--bogus", NULL), -1);
	CHECK_STR(cause, "unknown option --bogus");
	free(cause);
	cli_req_free(&req);

	CHECK_INT(parse("describe-job", &req, &cause, "--job-id", NULL), -1);
	free(cause);
	cli_req_free(&req);

	CHECK_INT(parse("update-job-priority", &req, &cause, "--job-id", "x",
	    "--priority", "2147483647", NULL), 0);
	CHECK_STR(args_text(&req), "{\"JobId\":\"x\",\"Priority\":2147483647}");
	cli_req_free(&req);
	CHECK_INT(parse("update-job-priority", &req, &cause, "--job-id", "x",
	    "--priority", "2147483648", NULL), -1);
	free(cause);
	cli_req_free(&req);
	CHECK_INT(parse("update-job-priority", &req, &cause, "--job-id", "x",
	    "--priority", "1x", NULL), -1);
	free(cause);
	cli_req_free(&req);

	CHECK_INT(parse("list-jobs", &req, &cause, "--job-statuses", "Active",
	    "Complete", "--max-results", "5", NULL), 0);
	CHECK_STR(args_text(&req), "{\"JobStatuses\":[\"Active\",\"Complete\"],"
	    "\"MaxResults\":5}");
	cli_req_free(&req);
	CHECK_INT(parse("list-jobs", &req, &cause, "--job-statuses", "Running",
	    NULL), -1);
	CHECK(strstr(cause, "Suspended") != NULL);
	free(cause);
	cli_req_free(&req);

	CHECK_INT(parse("update-job-status", &req, &cause, "--job-id", "x",
	    "--requested-job-status", "Paused", "--status-update-reason",
	    "night", NULL), 0);
	CHECK_STR(args_text(&req), "{\"JobId\":\"x\",\"RequestedJobStatus\":"
	    "\"Paused\",\"StatusUpdateReason\":\"night\"}");
	cli_req_free(&req);
	CHECK_INT(parse("update-job-status", &req, &cause, "--job-id", "x",
	    "--requested-job-status", "Active", NULL), -1);
	free(cause);
	cli_req_free(&req);

	CHECK_INT(parse("put-job-tagging", &req, &cause, "--job-id", "x",
	    "--tags", "Key=a,Value=b", "Key=c,Value=d,e=f", "Value=,Key=k",
	    NULL), 0);
	CHECK_STR(args_text(&req), "{\"JobId\":\"x\",\"Tags\":["
	    "{\"Key\":\"a\",\"Value\":\"b\"},{\"Key\":\"c\",\"Value\":\"d,e=f\"},"
	    "{\"Key\":\"k\",\"Value\":\"\"}]}");
	cli_req_free(&req);
	CHECK_INT(parse("put-job-tagging", &req, &cause, "--job-id", "x",
	    "--tags", "[{\"Key\":\"a\",\"Value\":\"b\"}]", NULL), 0);
	CHECK_STR(args_text(&req), "{\"JobId\":\"x\",\"Tags\":["
	    "{\"Key\":\"a\",\"Value\":\"b\"}]}");
	cli_req_free(&req);
	CHECK_INT(parse("put-job-tagging", &req, &cause, "--job-id", "x",
	    "--tags", "Key=a", NULL), -1);
	free(cause);
	cli_req_free(&req);
	CHECK_INT(parse("put-job-tagging", &req, &cause, "--job-id", "x",
	    "--tags", "[{\"Key\":\"\",\"Value\":\"b\"}]", NULL), -1);
	free(cause);
	cli_req_free(&req);

	CHECK_INT(parse("clone-job", &req, &cause, "--job-id", "x",
	    "--failed-tasks-only", "--no-confirmation-required", "--priority",
	    "3", NULL), 0);
	CHECK_STR(args_text(&req), "{\"JobId\":\"x\",\"FailedTasksOnly\":true,"
	    "\"ConfirmationRequired\":false,\"Priority\":3}");
	cli_req_free(&req);
	CHECK_INT(parse("clone-job", &req, &cause, "--job-id", "x",
	    "--failed-tasks-only=yes", NULL), -1);
	free(cause);
	cli_req_free(&req);

	CHECK_INT(parse("check-endpoint", &req, &cause, "default", NULL), 0);
	CHECK_STR(args_text(&req), "{\"Endpoint\":\"default\"}");
	cli_req_free(&req);
	CHECK_INT(parse("check-endpoint", &req, &cause, NULL), -1);
	free(cause);
	cli_req_free(&req);
	CHECK_INT(parse("check-endpoint", &req, &cause, "a", "b", NULL), -1);
	free(cause);
	cli_req_free(&req);

	CHECK_INT(parse("status", &req, &cause, "-s", "x.sock",
	    "--timeout", "5s", NULL), 0);
	CHECK_STR(ctx.socket_path, "x.sock");
	CHECK_INT(ctx.timeout_ms, 5000);
	CHECK_STR(args_text(&req), "{}");
	cli_req_free(&req);

	CHECK_INT(parse("watch", &req, &cause, "--job-id", "x", "--interval",
	    "500ms", NULL), 0);
	CHECK_STR(args_text(&req), "{\"JobId\":\"x\"}");
	CHECK(json_object_object_get_ex(req.local, "interval", &v));
	CHECK_INT(json_object_get_int64(v), 500);
	cli_req_free(&req);

	CHECK_INT(parse("report", &req, &cause, "--job-id", "x",
	    "--failed-only", "--format", "jsonl", NULL), 0);
	CHECK_STR(args_text(&req), "{\"JobId\":\"x\",\"FailedTasksOnly\":true,"
	    "\"Format\":\"jsonl\"}");
	cli_req_free(&req);
}

/* The inventory verbs: aws s3api's flags, Amazon's member names. */
static void
test_inventory(void)
{
	struct cli_req	 req;
	struct buf	 b;
	json_object	*r;
	char		*cause;

	CHECK_INT(parse("put-bucket-inventory-configuration", &req, &cause,
	    "--bucket", "src", "--id", "daily", "--inventory-configuration",
	    "{\"Id\":\"daily\",\"IsEnabled\":true}", NULL), 0);
	CHECK_STR(args_text(&req), "{\"Bucket\":\"src\",\"Id\":\"daily\","
	    "\"InventoryConfiguration\":{\"Id\":\"daily\","
	    "\"IsEnabled\":true}}");
	cli_req_free(&req);
	CHECK_INT(parse("put-bucket-inventory-configuration", &req, &cause,
	    "--bucket", "src", "--id", "daily", NULL), -1);
	CHECK_STR(cause, "--inventory-configuration is required");
	free(cause);
	cli_req_free(&req);
	CHECK_INT(parse("list-bucket-inventory-configurations", &req, &cause,
	    "--bucket", "src", "--continuation-token", "c042", NULL), 0);
	CHECK_STR(args_text(&req), "{\"Bucket\":\"src\","
	    "\"ContinuationToken\":\"c042\"}");
	cli_req_free(&req);
	CHECK_INT(parse("list-inventory-runs", &req, &cause, "--id", "daily",
	    "--max-results", "5", NULL), 0);
	CHECK_STR(args_text(&req), "{\"Id\":\"daily\",\"MaxResults\":5}");
	cli_req_free(&req);
	CHECK_INT(parse("run-inventory", &req, &cause, "--bucket", "src",
	    NULL), -1);
	CHECK_STR(cause, "--id is required");
	free(cause);
	cli_req_free(&req);

	r = json_tokener_parse("{\"Runs\":[{\"RunId\":\"r-1\","
	    "\"Bucket\":\"src\",\"Id\":\"daily\",\"State\":\"Failed\","
	    "\"DurationSeconds\":1.5,\"Objects\":3,\"Rows\":0,\"Bytes\":0,"
	    "\"FailureCode\":\"Interrupted\",\"FailureReason\":\"gone\"}]}");
	buf_init(&b);
	cli_text_inventory_runs(&b, r);
	CHECK(b.data != NULL && strstr(b.data, "r-1") != NULL &&
	    strstr(b.data, "src/daily") != NULL &&
	    strstr(b.data, "1.5s") != NULL &&
	    strstr(b.data, "Interrupted: gone") != NULL);
	buf_free(&b);
	json_object_put(r);
}

static void
test_create_job(void)
{
	struct cli_req	 req;
	json_object	*v;
	char		*cause, path[] = "test-client-XXXXXX", file[64];
	const char	*spec = "{\"AccountId\":\"1\",\"Operation\":"
	    "{\"S3PutObjectTagging\":{}},\"Report\":{\"Enabled\":false},"
	    "\"Priority\":10,\"RoleArn\":\"arn:aws:iam::1:role/r\","
	    "\"ClientRequestToken\":\"t\"}";
	int		 fd;

	CHECK_INT(parse("create-job", &req, &cause, "--cli-input-json", spec,
	    "--priority", "42", "--description", "d", NULL), 0);
	CHECK_STR(args_text(&req), "{\"AccountId\":\"1\",\"Operation\":"
	    "{\"S3PutObjectTagging\":{}},\"Report\":{\"Enabled\":false},"
	    "\"Priority\":42,\"RoleArn\":\"arn:aws:iam::1:role/r\","
	    "\"ClientRequestToken\":\"t\",\"Description\":\"d\"}");
	cli_req_free(&req);

	/* Composed from flags only; a token is made up as aws does. */
	CHECK_INT(parse("create-job", &req, &cause, "--operation",
	    "{\"S3DeleteObjectTagging\":{}}", "--report", "{\"Enabled\":false}",
	    "--priority", "1", "--role-arn", "r", "--confirmation-required",
	    "--tags", "Key=a,Value=b", NULL), 0);
	CHECK(json_object_object_get_ex(req.args, "ClientRequestToken", &v));
	CHECK_INT(json_object_get_string_len(v), 36);
	CHECK(json_object_object_get_ex(req.args, "ConfirmationRequired", &v));
	CHECK(json_object_get_boolean(v));
	cli_req_free(&req);

	CHECK_INT(parse("create-job", &req, &cause, "--operation",
	    "{\"S3DeleteObjectTagging\":{}}", "--priority", "1", "--role-arn",
	    "r", NULL), -1);
	CHECK(cause != NULL && strstr(cause, "Report") != NULL);
	free(cause);
	cli_req_free(&req);

	CHECK_INT(parse("create-job", &req, &cause, "--cli-input-json",
	    "{\"Priority\":", NULL), -1);
	CHECK(cause != NULL && strncmp(cause, "--cli-input-json", 16) == 0);
	free(cause);
	cli_req_free(&req);
	CHECK_INT(parse("create-job", &req, &cause, "--operation", "[1]",
	    NULL), -1);
	free(cause);
	cli_req_free(&req);

	/* file:// for the spec, and a manifest file to stream. */
	fd = mkstemp(path);
	CHECK(fd != -1);
	CHECK(write(fd, spec, strlen(spec)) == (ssize_t)strlen(spec));
	close(fd);
	snprintf(file, sizeof file, "file://%s", path);
	CHECK_INT(parse("create-job", &req, &cause, "--cli-input-json", file,
	    "--manifest-file", path, NULL), 0);
	CHECK(json_object_object_get_ex(req.args, "ManifestStream", &v));
	CHECK(json_object_get_boolean(v));
	CHECK_STR(json_path_string(req.args, "RoleArn"), "arn:aws:iam::1:role/r");
	cli_req_free(&req);
	unlink(path);
	CHECK_INT(parse("create-job", &req, &cause, "--cli-input-json", file,
	    NULL), -1);
	CHECK(cause != NULL && strstr(cause, path) != NULL);
	free(cause);
	cli_req_free(&req);
}

static json_object *
obj(const char *s)
{
	char	*cause = NULL;

	return (client_json_parse(s, strlen(s), &cause));
}

static void
test_text(void)
{
	json_object	*o;
	struct buf	 b;

	buf_init(&b);
	o = obj("{\"Job\":{\"JobId\":\"j1\",\"Description\":\"copy\","
	    "\"Operation\":{\"S3PutObjectCopy\":{}},\"Priority\":10,"
	    "\"ProgressSummary\":{\"TotalNumberOfTasks\":200,"
	    "\"NumberOfTasksSucceeded\":90,\"NumberOfTasksFailed\":10,"
	    "\"Timers\":{\"ElapsedTimeInActiveSeconds\":65}},"
	    "\"Status\":\"Active\",\"CreationTime\":"
	    "\"2026-11-22T02:13:03.123000+00:00\",\"FailureReasons\":"
	    "[{\"FailureCode\":\"X\",\"FailureReason\":\"why\"}],"
	    "\"Manifest\":{\"Spec\":{\"Format\":\"S3BatchOperations_CSV_20180820\"},"
	    "\"Location\":{\"ObjectArn\":\"arn:aws:s3:::b/m.csv\"}}}}");
	cli_text_describe_job(&b, o);
	CHECK(strstr(b.data, "Job ID:           j1\n") != NULL);
	CHECK(strstr(b.data, "Status:           Active\n") != NULL);
	CHECK(strstr(b.data, "Operation:        S3PutObjectCopy\n") != NULL);
	CHECK(strstr(b.data, "100 of 200 done (50.0%): 90 succeeded, "
	    "10 failed") != NULL);
	CHECK(strstr(b.data, "Active for:       1m5s\n") != NULL);
	CHECK(strstr(b.data, "Created:          2026-11-22 02:13:03\n") != NULL);
	CHECK(strstr(b.data, "  X: why\n") != NULL);
	CHECK(strstr(b.data, "arn:aws:s3:::b/m.csv (S3BatchOperations") != NULL);
	json_object_put(o);

	buf_reset(&b);
	o = obj("{\"Jobs\":[{\"JobId\":\"j1\",\"Operation\":\"S3PutObjectCopy\","
	    "\"Priority\":5,\"Status\":\"Complete\",\"CreationTime\":"
	    "1700000000,\"ProgressSummary\":{\"TotalNumberOfTasks\":4,"
	    "\"NumberOfTasksSucceeded\":4,\"NumberOfTasksFailed\":0}}],"
	    "\"NextToken\":\"n\"}");
	cli_text_list_jobs(&b, o);
	CHECK(strncmp(b.data, "JOB ID", 6) == 0);
	CHECK(strstr(b.data, "j1  ") != NULL);
	CHECK(strstr(b.data, "4/4 100%") != NULL);
	CHECK(strstr(b.data, "2023-11-14 22:13:20") != NULL);
	CHECK(strstr(b.data, "--next-token n") != NULL);
	json_object_put(o);

	buf_reset(&b);
	o = obj("{\"Version\":\"0.1.0\",\"ProtocolVersion\":1,\"Pid\":42,"
	    "\"UptimeSeconds\":3661,\"Jobs\":{\"Active\":2,\"Complete\":3},"
	    "\"Inflight\":7}");
	cli_text_status(&b, o);
	CHECK_STR(b.data, "s3batchd 0.1.0 (protocol 1), pid 42, up 1h1m1s\n"
	    "jobs: Active 2, Complete 3; 5 in all\nInflight: 7\n");
	json_object_put(o);

	buf_reset(&b);
	o = obj("{\"Tags\":[{\"Key\":\"a\",\"Value\":\"b\"}]}");
	cli_text_tags(&b, o);
	CHECK_STR(b.data, "a\tb\n");
	json_object_put(o);

	buf_reset(&b);
	o = obj("{\"JobId\":\"j\",\"Status\":\"Paused\","
	    "\"StatusUpdateReason\":\"r\"}");
	cli_text_update_status(&b, o);
	CHECK_STR(b.data, "j: Paused (r)\n");
	json_object_put(o);

	buf_reset(&b);
	o = obj("{\"Endpoint\":\"default\",\"Ok\":true,\"Errors\":[\"x\"],"
	    "\"Detail\":{\"Status\":200}}");
	cli_text_generic(&b, o);
	CHECK_STR(b.data, "Endpoint: default\nOk: true\nErrors:\n  - x\n"
	    "Detail:\n  Status: 200\n");
	json_object_put(o);

	buf_reset(&b);
	cli_usage(&b, cli_find("update-job-status"));
	CHECK(strncmp(b.data, "usage: s3batchctl update-job-status --job-id ID "
	    "--requested-job-status STATUS [--status-update-reason R]\n",
	    100) == 0);
	buf_reset(&b);
	cli_help_all(&b);
	CHECK(strstr(b.data, "create-job") != NULL);
	buf_free(&b);
}

static void
test_progress(void)
{
	struct cli_progress	 p;
	json_object		*o;
	struct buf		 b;

	memset(&p, 0, sizeof p);
	o = obj("{\"ProgressSummary\":{\"TotalNumberOfTasks\":1000,"
	    "\"NumberOfTasksSucceeded\":100,\"NumberOfTasksFailed\":0}}");
	cli_progress_update(&p, o, 10000);
	json_object_put(o);
	o = obj("{\"ProgressSummary\":{\"TotalNumberOfTasks\":1000,"
	    "\"NumberOfTasksSucceeded\":290,\"NumberOfTasksFailed\":10}}");
	cli_progress_update(&p, o, 12000);
	json_object_put(o);
	CHECK(p.rate > 99.9 && p.rate < 100.1);
	buf_init(&b);
	cli_progress_line(&b, &p, "Active", 0);
	CHECK_STR(b.data, "Active 300/1000 (30.0%) succeeded 290 failed 10 "
	    "100.0 tasks/s ETA 7s\n");
	buf_reset(&b);
	cli_progress_line(&b, &p, "Active", 200);
	CHECK(strncmp(b.data, "[######--------------]  30.0% Active", 36)
	    == 0);
	buf_reset(&b);
	cli_progress_line(&b, &p, "Active", 30);
	CHECK_INT(b.len, 29);
	buf_free(&b);
	CHECK(cli_status_terminal("Cancelled"));
	CHECK(!cli_status_terminal("Cancelling"));
}

/* Read one line from fd (a byte at a time: the test needs no speed). */
static int
read_line(int fd, char *line, size_t size)
{
	size_t	 n = 0;
	char	 ch;

	while (n + 1 < size && read(fd, &ch, 1) == 1) {
		if (ch == '\n') {
			line[n] = '\0';
			return (0);
		}
		line[n++] = ch;
	}
	return (-1);
}

static int
read_full(int fd, char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = read(fd, p, len)) <= 0)
			return (-1);
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/*
 * The daemon's half of an upload, in a child: check the frames carry the
 * file's bytes (each at most PROTOCOL_MAX_CHUNK), then reply.
 */
static void
upload_peer(int fd, size_t size)
{
	char	 line[256], *data;
	size_t	 got = 0, len, frames = 0;
	int	 bad = 0;

	data = malloc(PROTOCOL_MAX_CHUNK);
	for (;;) {
		if (read_line(fd, line, sizeof line) != 0 ||
		    sscanf(line, "{\"chunk\":%zu}", &len) != 1 ||
		    len > PROTOCOL_MAX_CHUNK) {
			bad = 1;
			break;
		}
		if (len == 0)
			break;
		if (read_full(fd, data, len) != 0) {
			bad = 1;
			break;
		}
		for (size_t i = 0; i < len; i++)
			bad |= data[i] != (char)('a' + (got + i) % 26);
		got += len;
		frames++;
	}
	free(data);
	snprintf(line, sizeof line, "{\"v\":1,\"id\":1,\"ok\":%s,\"result\":"
	    "{\"JobId\":\"up\",\"Bytes\":%zu,\"Frames\":%zu}}\n",
	    bad || got != size ? "false" : "true", got, frames);
	(void)write(fd, line, strlen(line));
	_exit(0);
}

static void
test_upload(void)
{
	struct client		 c;
	struct client_reply	 r;
	char			 path[] = "test-client-XXXXXX", *data, *cause;
	size_t			 size = 3 * PROTOCOL_MAX_CHUNK + 12345, i;
	uint64_t		 sent;
	int64_t			 n;
	int			 sv[2], fd, early, status;
	pid_t			 pid;

	data = xmalloc(size);
	for (i = 0; i < size; i++)
		data[i] = (char)('a' + i % 26);
	fd = mkstemp(path);
	CHECK(fd != -1);
	CHECK(write(fd, data, size) == (ssize_t)size);
	free(data);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	unlink(path);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		upload_peer(sv[1], size);
	}
	close(sv[1]);
	client_open_fd(&c, sv[0], "test", 10000);
	c.id = 1;
	cause = NULL;
	CHECK_INT(client_send_stream(&c, fd, &sent, &r, &early, &cause), 0);
	CHECK_INT(sent, size);
	CHECK_INT(early, 0);
	CHECK_INT(client_read_reply(&c, &r, &cause), 0);
	CHECK_INT(r.ok, 1);
	CHECK_INT(json_path_int64(r.result, "Bytes", &n), 0);
	CHECK_INT(n, size);
	CHECK_INT(json_path_int64(r.result, "Frames", &n), 0);
	CHECK_INT(n, 4);
	client_reply_free(&r);
	client_close(&c);
	close(fd);
	waitpid(pid, &status, 0);
}

/* The daemon's half of a report: frames, end frame, final reply. */
static void
report_peer(int fd)
{
	const char	*msgs =
	    "{\"v\":1,\"id\":1,\"ok\":true,\"stream\":true}\n"
	    "{\"chunk\":6}\nb,k1,\n{\"chunk\":12}\nb,k2,failed\n{\"chunk\":0}\n"
	    "{\"v\":1,\"id\":1,\"ok\":true,\"result\":{}}\n";
	char		 line[256];

	(void)read_line(fd, line, sizeof line);
	(void)write(fd, msgs, strlen(msgs));
	_exit(0);
}

static void
test_report_stream(void)
{
	struct client		 c;
	struct client_reply	 r;
	json_object		*args;
	char			 path[] = "test-client-XXXXXX", got[64];
	char			*cause = NULL;
	uint64_t		 n;
	int			 sv[2], fd, status;
	pid_t			 pid;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		report_peer(sv[1]);
	}
	close(sv[1]);
	fd = mkstemp(path);
	unlink(path);
	client_open_fd(&c, sv[0], "test", 10000);
	args = json_object_new_object();
	CHECK_INT(client_call(&c, "report", args, &r, &cause), 0);
	CHECK_INT(r.kind, CLIENT_REPLY_STREAM);
	client_reply_free(&r);
	CHECK_INT(client_recv_stream(&c, fd, &n, &r, &cause), 0);
	CHECK_INT(n, 18);
	CHECK_INT(r.ok, 1);
	CHECK_INT(r.kind, CLIENT_REPLY_FINAL);
	client_reply_free(&r);
	memset(got, 0, sizeof got);
	CHECK(pread(fd, got, sizeof got - 1, 0) == 18);
	CHECK_STR(got, "b,k1,\nb,k2,failed\n");
	close(fd);
	json_object_put(args);
	client_close(&c);
	waitpid(pid, &status, 0);

	/* A silent peer times out instead of hanging. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	client_open_fd(&c, sv[0], "test", 200);
	CHECK_INT(client_call(&c, "status", NULL, &r, &cause), CLIENT_EIO);
	CHECK(cause != NULL && strstr(cause, "within 200 ms") != NULL);
	free(cause);
	client_close(&c);
	close(sv[1]);

	/* Unreachable: the message names the socket. */
	cause = NULL;
	CHECK_INT(client_connect(&c, "nonexistent-dir/s3batchd.sock", 1000,
	    &cause), CLIENT_EIO);
	CHECK(cause != NULL && strstr(cause, "nonexistent-dir/s3batchd.sock") !=
	    NULL);
	free(cause);
}

int
main(void)
{
	cli_ctx_init(&ctx);
	test_request_line();
	test_parse_reply();
	test_json_print();
	test_flags();
	test_create_job();
	test_inventory();
	test_text();
	test_progress();
	test_upload();
	test_report_stream();
	return (unit_done("test-client"));
}
