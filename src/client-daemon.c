/* s3batchctl's verbs about the daemon itself: status and help. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "protocol.h"

/*
 * status: "s3batchd VERSION, pid N, up DURATION" then the job counts in
 * the order of Amazon's states, then anything else the daemon sent.
 */
void
cli_text_status(struct buf *b, json_object *result)
{
	struct json_object_iterator	 it, end;
	json_object			*jobs, *rest;
	const char			*version, *key;
	const char *const		*st;
	int64_t				 n, total = 0;
	char				 up[64];
	int				 any = 0;

	if (result == NULL || !json_object_is_type(result, json_type_object))
		return;
	version = json_path_string(result, "Version");
	buf_addf(b, "s3batchd %s", version != NULL ? version : "(unknown)");
	if (json_path_int64(result, "ProtocolVersion", &n) == 0)
		buf_addf(b, " (protocol %" PRId64 ")", n);
	if (json_path_int64(result, "Pid", &n) == 0)
		buf_addf(b, ", pid %" PRId64, n);
	if (json_path_int64(result, "UptimeSeconds", &n) == 0) {
		format_duration((uint64_t)(n < 0 ? 0 : n) * 1000, up,
		    sizeof up);
		buf_addf(b, ", up %s", up);
	}
	buf_addc(b, '\n');
	if (json_object_object_get_ex(result, "Jobs", &jobs) &&
	    json_object_is_type(jobs, json_type_object)) {
		buf_adds(b, "jobs:");
		for (st = cli_job_statuses; *st != NULL; st++) {
			if (json_path_int64(jobs, *st, &n) == 0 && n != 0) {
				buf_addf(b, " %s %" PRId64 ",", *st, n);
				total += n;
				any = 1;
			}
		}
		if (any)
			b->data[--b->len] = '\0';
		buf_addf(b, "%s%" PRId64 " in all\n", any ? "; " : " ", total);
	}
	/* Whatever else the daemon reports, as plain key/value lines. */
	rest = json_object_new_object();
	it = json_object_iter_begin(result);
	end = json_object_iter_end(result);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		key = json_object_iter_peek_name(&it);
		if (strcmp(key, "Version") == 0 ||
		    strcmp(key, "ProtocolVersion") == 0 ||
		    strcmp(key, "Pid") == 0 ||
		    strcmp(key, "UptimeSeconds") == 0 ||
		    strcmp(key, "Jobs") == 0)
			continue;
		json_object_object_add(rest, key,
		    json_object_get(json_object_iter_peek_value(&it)));
	}
	cli_text_generic(b, rest);
	json_object_put(rest);
}

int
cli_help_exec(struct cli_ctx *ctx, struct cli_req *req)
{
	const struct cli_cmd	*cmd;
	const char		*verb;
	struct buf		 b;

	buf_init(&b);
	verb = json_path_string(req->local, "verb");
	if (verb == NULL)
		cli_help_all(&b);
	else if ((cmd = cli_find(verb)) != NULL)
		cli_usage(&b, cmd);
	else {
		fprintf(stderr, "s3batchctl: no command \"%s\"\n", verb);
		cli_help_all(&b);
		fwrite(b.data, 1, b.len, stderr);
		buf_free(&b);
		return (CLI_EXIT_USAGE);
	}
	fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
	return (CLI_EXIT_OK);
}

/*
 * check-endpoint: "endpoint NAME: reachable (HTTP 200, 1 attempts, 12 ms)",
 * then, after a probe, one line per capability: name, yes/no/unknown, and
 * the answer that told.
 */
void
cli_text_check_endpoint(struct buf *b, json_object *result)
{
	struct json_object_iterator	 it, end;
	json_object			*caps, *row;
	const char			*s, *detail;
	int64_t				 status = 0, attempts = 0, ms = 0;

	if (result == NULL || !json_object_is_type(result, json_type_object))
		return;
	s = json_path_string(result, "Endpoint");
	(void)json_path_int64(result, "HTTPStatusCode", &status);
	(void)json_path_int64(result, "Attempts", &attempts);
	(void)json_path_int64(result, "Milliseconds", &ms);
	buf_addf(b, "endpoint %s: reachable (HTTP %" PRId64 ", %" PRId64
	    " attempts, %" PRId64 " ms)\n", s != NULL ? s : "?", status,
	    attempts, ms);
	if (!json_object_object_get_ex(result, "Capabilities", &caps) ||
	    !json_object_is_type(caps, json_type_object)) {
		buf_adds(b, "capabilities: not probed (--bucket BUCKET probes "
		    "them with scratch objects under .s3batchd-probe/ in "
		    "BUCKET, removed after)\n");
		return;
	}
	s = json_path_string(result, "ProbeBucket");
	(void)json_path_int64(result, "ProbeMilliseconds", &ms);
	buf_addf(b, "capabilities (probed in bucket %s, %" PRId64 " ms):\n",
	    s != NULL ? s : "?", ms);
	it = json_object_iter_begin(caps);
	end = json_object_iter_end(caps);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		row = json_object_iter_peek_value(&it);
		s = json_path_string(row, "Supported");
		detail = json_path_string(row, "Detail");
		buf_addf(b, "  %-32s %-8s %s\n", json_object_iter_peek_name(&it),
		    s != NULL ? s : "?", detail != NULL ? detail : "");
	}
}
