/*
 * LambdaInvoke: one invocation per object, with Amazon's Batch Operations
 * contract (invocation schemas 1.0 and 2.0; results Succeeded,
 * TemporaryFailure, PermanentFailure; treatMissingKeysAs). The function is
 * an AWS Lambda ARN, invoked with Lambda's Invoke REST call signed with
 * SigV4 (service "lambda") on a [lambda NAME] endpoint, or an http(s) URL
 * that takes the same JSON, unsigned (an extension).
 *
 * The call runs on the S3 layer's HTTP engine (s3_http_engine), so it
 * shares the global cap, the retry backoff and max_attempts. A redrive is
 * a retry of the same request: transport errors, 429, 5xx,
 * X-Amz-Function-Error and TemporaryFailure answers, with exponential
 * backoff and full jitter, until max_attempts or the job's end. Delivery
 * is at least once: a task whose result was not committed before a crash
 * is invoked again. See docs/operations/LambdaInvoke.md.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "json.h"
#include "cfg.h"
#include "http.h"
#include "op.h"
#include "op-lambda.h"
#include "s3.h"
#include "sigv4.h"

#define LAMBDA_API_PATH		"/2015-03-31/functions/"
#define LAMBDA_SERVICE		"lambda"
/* A URL function has no section: these stand for its settings. */
#define LAMBDA_URL_CONNECTIONS	64
#define LAMBDA_URL_TIMEOUT_MS	(15 * 60 * 1000ULL)
/* A resultString longer than this is cut (SQLite rows stay compact). */
#define LAMBDA_MESSAGE_MAX	16384
#define LAMBDA_NAME_MAX		64
#define LAMBDA_QUALIFIER_MAX	128

/* The job's compiled parameters. */
struct op_lambda {
	struct lambda_target	 target;
	int			 version;	/* 1 or 2 */
	struct json_object	*user_args;	/* 2.0 only; NULL: none */
};

/* One task's invocation. */
struct op_lambda_task {
	struct op_run		*run;
	struct http_request	*req;
	char			 task_id[33];
	char			 invocation_id[37];
	/* Where it goes, copied at start (a reload frees the cfg). */
	struct http_pool	*pool;
	char			*url;
	uint64_t		 timeout_ms;
	int			 max_attempts;
	/* What an Invoke call signs (Lambda ARNs only; else NULL). */
	char			*host;
	char			*path;
	char			*region;
	char			*access_key_id;
	char			*secret_access_key;
	char			*session_token;
	char			 payload_hash[SIGV4_HEX_SIZE];
	char			*cause;		/* why signing failed */
};

/* What a failure below HTTP is called in a result (as in s3.c). */
static const char *lambda_transport_codes[HTTP_ERR_COUNT] = {
	[HTTP_ERR_NONE] =	"ConnectionError",
	[HTTP_ERR_DNS] =	"ConnectionError",
	[HTTP_ERR_CONNECT] =	"ConnectionError",
	[HTTP_ERR_TIMEOUT] =	"Timeout",
	[HTTP_ERR_TLS] =	"TLSError",
	[HTTP_ERR_NETWORK] =	"ConnectionError",
	[HTTP_ERR_TOO_LARGE] =	"InvalidResponse",
	[HTTP_ERR_ABORTED] =	"Aborted",
	[HTTP_ERR_PREPARE] =	"InvalidArgument",
	[HTTP_ERR_OTHER] =	"ConnectionError",
};

static const struct {
	const char		*name;
	enum lambda_result	 result;
} lambda_results[] = {
	{ "Succeeded",		LAMBDA_SUCCEEDED },
	{ "TemporaryFailure",	LAMBDA_TEMPORARY_FAILURE },
	{ "PermanentFailure",	LAMBDA_PERMANENT_FAILURE },
};

/* ---- the FunctionArn */

static int
lambda_name_ok(const char *s, size_t len, size_t max, const char *extra)
{
	size_t	i;

	if (len == 0 || len > max)
		return (0);
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_' && strchr(extra, s[i]) == NULL)
			return (0);
	}
	return (1);
}

/* NAME[:QUALIFIER], the tail of an ARN or a bare function name. */
static int
lambda_function_ok(const char *s)
{
	const char	*colon = strchr(s, ':');

	if (colon == NULL)
		return (lambda_name_ok(s, strlen(s), LAMBDA_NAME_MAX, ""));
	return (lambda_name_ok(s, (size_t)(colon - s), LAMBDA_NAME_MAX, "") &&
	    lambda_name_ok(colon + 1, strlen(colon + 1), LAMBDA_QUALIFIER_MAX,
	    "$"));
}

static int
lambda_url_ok(const char *s, char **cause)
{
	const char	*host, *p;
	size_t		 hostlen;

	host = s + (strncmp(s, "https://", 8) == 0 ? 8 : 7);
	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			xasprintf(cause, "Operation.LambdaInvoke.FunctionArn: "
			    "URL \"%.200s\" has a space, a control or a "
			    "non-ASCII character", s);
			return (0);
		}
	}
	hostlen = strcspn(host, "/?#");
	if (hostlen == 0) {
		xasprintf(cause, "Operation.LambdaInvoke.FunctionArn: URL "
		    "\"%.200s\" has no host", s);
		return (0);
	}
	/* Job specs are shown by describe-job: no secrets in them. */
	if (memchr(host, '@', hostlen) != NULL) {
		xasprintf(cause, "Operation.LambdaInvoke.FunctionArn: URL "
		    "\"%.200s\" carries credentials; job specs are not secret",
		    s);
		return (0);
	}
	return (1);
}

int
lambda_target_parse(const char *s, struct lambda_target *t, char **cause)
{
	char	*copy, *parts[8], *p;
	size_t	 n = 0;

	memset(t, 0, sizeof *t);
	if (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0) {
		if (!lambda_url_ok(s, cause))
			return (-1);
		t->url = 1;
		t->function = xstrdup(s);
		return (0);
	}
	if (strncmp(s, "arn:", 4) != 0) {
		if (!lambda_function_ok(s))
			goto bad;
		t->function = xstrdup(s);
		return (0);
	}

	/* arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER] */
	copy = xstrdup(s);
	for (p = copy; n < nitems(parts); n++) {
		parts[n] = p;
		if ((p = strchr(p, ':')) == NULL) {
			n++;
			break;
		}
		*p++ = '\0';
	}
	if (p != NULL || n < 7 || strncmp(parts[1], "aws", 3) != 0 ||
	    strcmp(parts[2], "lambda") != 0 ||
	    !lambda_name_ok(parts[3], strlen(parts[3]), 32, "") ||
	    strlen(parts[4]) != 12 ||
	    strspn(parts[4], "0123456789") != 12 ||
	    strcmp(parts[5], "function") != 0 ||
	    !lambda_name_ok(parts[6], strlen(parts[6]), LAMBDA_NAME_MAX, "") ||
	    (n == 8 && !lambda_name_ok(parts[7], strlen(parts[7]),
	    LAMBDA_QUALIFIER_MAX, "$"))) {
		free(copy);
		goto bad;
	}
	t->region = xstrdup(parts[3]);
	t->function = xstrdup(s);
	free(copy);
	return (0);

bad:
	xasprintf(cause, "Operation.LambdaInvoke.FunctionArn: \"%.200s\" is "
	    "not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:"
	    "function:NAME[:QUALIFIER]), a function name or an http(s) URL",
	    s);
	return (-1);
}

void
lambda_target_free(struct lambda_target *t)
{
	free(t->function);
	free(t->region);
	memset(t, 0, sizeof *t);
}

/* ---- the request */

void
lambda_request_body(struct buf *out, int version, struct json_object *args,
    const struct lambda_task *task)
{
	struct json_object	*o, *job, *tasks, *t;
	struct buf		 b;

	o = json_object_new_object();
	json_object_object_add(o, "invocationSchemaVersion",
	    json_object_new_string(version == 2 ? "2.0" : "1.0"));
	json_object_object_add(o, "invocationId",
	    json_object_new_string(task->invocation_id));
	job = json_object_new_object();
	json_object_object_add(job, "id", json_object_new_string(task->job_id));
	if (version == 2 && args != NULL)
		json_object_object_add(job, "userArguments",
		    json_object_get(args));
	json_object_object_add(o, "job", job);

	t = json_object_new_object();
	json_object_object_add(t, "taskId",
	    json_object_new_string(task->task_id));
	buf_init(&b);
	url_encode(&b, task->key, task->key_len != 0 ? task->key_len :
	    strlen(task->key), URLENC_KEEP_SLASH);
	json_object_object_add(t, "s3Key",
	    json_object_new_string_len(b.data != NULL ? b.data : "",
	    (int)b.len));
	json_object_object_add(t, "s3VersionId", task->version_id != NULL ?
	    json_object_new_string(task->version_id) : NULL);
	if (version == 2)
		json_object_object_add(t, "s3Bucket",
		    json_object_new_string(task->bucket));
	else {
		buf_reset(&b);
		buf_addf(&b, "arn:aws:s3:::%s", task->bucket);
		json_object_object_add(t, "s3BucketArn",
		    json_object_new_string(b.data));
	}
	buf_free(&b);
	tasks = json_object_new_array();
	json_object_array_add(tasks, t);
	json_object_object_add(o, "tasks", tasks);

	buf_adds(out, json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* ---- the answer */

static int
lambda_result_find(const char *name, enum lambda_result *r)
{
	size_t	i;

	for (i = 0; i < nitems(lambda_results); i++) {
		if (strcmp(lambda_results[i].name, name) == 0) {
			*r = lambda_results[i].result;
			return (0);
		}
	}
	return (-1);
}

/* A JSON document, whole (blanks may follow it); NULL if it is not one. */
static struct json_object *
lambda_json_parse(const char *data, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	size_t			 end;

	if (len == 0 || len > INT32_MAX)
		return (NULL);
	if ((tok = json_tokener_new()) == NULL)
		fatalx("%s: out of memory", __func__);
	o = json_tokener_parse_ex(tok, data, (int)len);
	if (o != NULL && json_tokener_get_error(tok) == json_tokener_success) {
		for (end = json_tokener_get_parse_end(tok); end < len; end++) {
			if (!isspace((unsigned char)data[end]))
				break;
		}
		if (end != len) {
			json_object_put(o);
			o = NULL;
		}
	} else if (o != NULL) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return (o);
}

int
lambda_parse_response(const char *data, size_t len, const char *task_id,
    enum lambda_result *result, char **result_string, char **cause)
{
	struct json_object	*o, *results = NULL, *r, *v;
	const char		*s;
	size_t			 i, n;
	int			 rc = -1;

	*result_string = NULL;
	if ((o = lambda_json_parse(data, len)) == NULL) {
		xasprintf(cause, "the function's answer is not JSON");
		return (-1);
	}
	if (!json_object_is_type(o, json_type_object)) {
		xasprintf(cause, "the function's answer is not a JSON object");
		goto out;
	}
	*result = LAMBDA_PERMANENT_FAILURE;
	if (json_object_object_get_ex(o, "treatMissingKeysAs", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		s = json_object_is_type(v, json_type_string) ?
		    json_object_get_string(v) : "";
		if (lambda_result_find(s, result) != 0) {
			xasprintf(cause, "the function's answer has an invalid "
			    "treatMissingKeysAs (not Succeeded, "
			    "TemporaryFailure or PermanentFailure)");
			goto out;
		}
	}
	if (json_object_object_get_ex(o, "results", &results) &&
	    !json_object_is_type(results, json_type_null) &&
	    !json_object_is_type(results, json_type_array)) {
		xasprintf(cause, "the function's answer has results that are "
		    "not an array");
		goto out;
	}
	n = results != NULL && json_object_is_type(results, json_type_array) ?
	    json_object_array_length(results) : 0;
	for (i = 0; i < n; i++) {
		r = json_object_array_get_idx(results, i);
		if ((s = json_path_string(r, "taskId")) == NULL ||
		    strcmp(s, task_id) != 0)
			continue;
		if ((s = json_path_string(r, "resultCode")) == NULL ||
		    lambda_result_find(s, result) != 0) {
			xasprintf(cause, "the function's answer has an invalid "
			    "resultCode for task %s (not Succeeded, "
			    "TemporaryFailure or PermanentFailure)", task_id);
			goto out;
		}
		if (json_object_object_get_ex(r, "resultString", &v) &&
		    !json_object_is_type(v, json_type_null))
			*result_string = xstrdup(json_object_get_string(v));
		break;
	}
	rc = 0;
out:
	json_object_put(o);
	return (rc);
}

/* A message for the report: at most LAMBDA_MESSAGE_MAX, cut between characters. */
static char *
lambda_message(const char *s)
{
	size_t	len = strlen(s);

	if (len <= LAMBDA_MESSAGE_MAX)
		return (xstrdup(s));
	len = LAMBDA_MESSAGE_MAX;
	while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	return (xstrndup(s, len));
}

/* Lambda's own errors: x-amzn-ErrorType, else the status. */
static void
lambda_judge_status(const struct http_response *resp,
    struct lambda_verdict *v)
{
	struct json_object	*o;
	const char		*type, *msg = NULL;
	size_t			 len;

	v->retry = resp->status == 429 || resp->status >= 500;
	if ((type = http_response_header(resp, "x-amzn-ErrorType")) != NULL &&
	    (len = strcspn(type, ":")) != 0 && len < 128)
		v->code = xstrndup(type, len);
	else
		xasprintf(&v->code, "Http%d", resp->status);
	o = lambda_json_parse(resp->body.data, resp->body.len);
	if (o != NULL && (msg = json_path_string(o, "message")) == NULL &&
	    (msg = json_path_string(o, "Message")) == NULL)
		msg = json_path_string(o, "errorMessage");
	if (msg != NULL && *msg != '\0')
		v->message = lambda_message(msg);
	else
		xasprintf(&v->message, "HTTP %d", resp->status);
	json_object_put(o);
}

/* X-Amz-Function-Error: the function threw, or timed out. */
static void
lambda_judge_function_error(const struct http_response *resp,
    const char *kind, struct lambda_verdict *v)
{
	struct json_object	*o;
	const char		*type = NULL, *msg = NULL;
	char			*s;

	v->retry = 1;
	v->code = xstrdup("FunctionError");
	if ((o = lambda_json_parse(resp->body.data, resp->body.len)) != NULL) {
		type = json_path_string(o, "errorType");
		msg = json_path_string(o, "errorMessage");
	}
	xasprintf(&s, "the function failed (%.32s)%s%s%s%s", kind,
	    type != NULL || msg != NULL ? ": " : "", type != NULL ? type : "",
	    type != NULL && msg != NULL ? ": " : "", msg != NULL ? msg : "");
	v->message = lambda_message(s);
	free(s);
	json_object_put(o);
}

void
lambda_judge(const struct http_response *resp, const char *task_id,
    struct lambda_verdict *v)
{
	enum lambda_result	 result;
	const char		*kind;
	char			*rs = NULL, *cause = NULL;

	memset(v, 0, sizeof *v);
	v->status = resp->status;
	if (resp->error != HTTP_ERR_NONE) {
		v->retry = http_classify_default(resp) == HTTP_RETRY;
		v->code = xstrdup((unsigned)resp->error < HTTP_ERR_COUNT ?
		    lambda_transport_codes[resp->error] : "ConnectionError");
		v->message = xstrdup(resp->error_text[0] != '\0' ?
		    resp->error_text : "no answer");
		return;
	}
	if (resp->status < 200 || resp->status > 299) {
		lambda_judge_status(resp, v);
		return;
	}
	if ((kind = http_response_header(resp, "X-Amz-Function-Error")) !=
	    NULL) {
		lambda_judge_function_error(resp, kind, v);
		return;
	}
	if (lambda_parse_response(resp->body.data, resp->body.len, task_id,
	    &result, &rs, &cause) != 0) {
		v->code = xstrdup("InvalidResponse");
		v->message = cause;
		return;
	}
	switch (result) {
	case LAMBDA_SUCCEEDED:
		v->succeeded = 1;
		v->message = rs != NULL ? lambda_message(rs) : NULL;
		break;
	case LAMBDA_TEMPORARY_FAILURE:
		v->retry = 1;
		v->code = xstrdup("TemporaryFailure");
		v->message = lambda_message(rs != NULL ? rs :
		    "the function returned TemporaryFailure");
		break;
	case LAMBDA_PERMANENT_FAILURE:
		v->code = xstrdup("PermanentFailure");
		v->message = lambda_message(rs != NULL ? rs :
		    "the function returned PermanentFailure");
		break;
	}
	free(rs);
}

void
lambda_verdict_free(struct lambda_verdict *v)
{
	free(v->code);
	free(v->message);
	memset(v, 0, sizeof *v);
}

/* ---- the operation */

static int
op_lambda_compile(struct json_object *params, struct json_object *spec,
    void **ctxp, char **cause)
{
	struct op_lambda	*ctx;
	struct json_object	*v, *args = NULL;
	const char		*s;

	if (!json_object_object_get_ex(params, "FunctionArn", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		xasprintf(cause, "Operation.LambdaInvoke.FunctionArn: missing");
		return (-1);
	}
	ctx = xcalloc(1, sizeof *ctx);
	if (lambda_target_parse(json_object_get_string(v), &ctx->target,
	    cause) != 0)
		goto fail;

	ctx->version = 1;
	if (json_object_object_get_ex(params, "InvocationSchemaVersion", &v)) {
		s = json_object_get_string(v);
		if (strcmp(s, "2.0") == 0)
			ctx->version = 2;
		else if (strcmp(s, "1.0") != 0) {
			xasprintf(cause, "Operation.LambdaInvoke."
			    "InvocationSchemaVersion: \"%.64s\" is not 1.0 or "
			    "2.0", s);
			goto fail;
		}
	}
	if (json_object_object_get_ex(params, "UserArguments", &args) &&
	    !json_object_is_type(args, json_type_null)) {
		if (ctx->version != 2) {
			xasprintf(cause, "Operation.LambdaInvoke.UserArguments: "
			    "needs InvocationSchemaVersion 2.0");
			goto fail;
		}
		/* The model checked it: up to 10 string values. */
		ctx->user_args = json_object_new_object();
		json_object_object_foreach(args, key, val) {
			json_object_object_add(ctx->user_args, key,
			    json_object_new_string(json_object_get_string(val)));
		}
	}
	*ctxp = ctx;
	return (0);
fail:
	lambda_target_free(&ctx->target);
	free(ctx);
	return (-1);
}

static void
op_lambda_free(void *arg)
{
	struct op_lambda	*ctx = arg;

	if (ctx == NULL)
		return;
	lambda_target_free(&ctx->target);
	json_object_put(ctx->user_args);
	free(ctx);
}

static void
op_lambda_task_free(struct op_lambda_task *lt)
{
	free(lt->url);
	free(lt->host);
	free(lt->path);
	free(lt->region);
	freezero_str(lt->access_key_id);
	freezero_str(lt->secret_access_key);
	freezero_str(lt->session_token);
	free(lt->cause);
	free(lt);
}

/* End the task, its state freed first: op_finish frees the run. */
static void
op_lambda_end(struct op_run *run, int ok, int status, const char *code,
    const char *message)
{
	struct op_lambda_task	*lt = run->state;

	if (lt != NULL && lt->req != NULL)
		http_request_cancel(lt->req);
	run->state = NULL;
	if (lt != NULL)
		op_lambda_task_free(lt);
	if (ok)
		op_succeed(run, status, message);
	else
		op_finish(run, TASK_FAILED, status, code, message);
}

/*
 * The task id: stable for an object in a job, so that a function can tell
 * a redrive (or a run after a restart) from a new task.
 */
static void
op_lambda_task_id(const struct op_run *run, char id[33])
{
	struct buf	 b;
	char		 hex[SIGV4_HEX_SIZE];

	buf_init(&b);
	buf_adds(&b, run->job_id != NULL ? run->job_id : "");
	buf_addc(&b, '\0');
	buf_adds(&b, run->bucket);
	buf_addc(&b, '\0');
	buf_add(&b, run->key, run->key_len);
	buf_addc(&b, '\0');
	if (run->version_id != NULL)
		buf_adds(&b, run->version_id);
	sigv4_sha256_hex(b.data, b.len, hex);
	buf_free(&b);
	memcpy(id, hex, 32);
	id[32] = '\0';
}

/*
 * A pool per section and settings: http.c cannot change a pool, so new
 * settings after a reload get a new one.
 */
static struct http_pool *
op_lambda_pool(struct http_engine *engine, const char *name,
    int max_connections, int tls_verify, const char *ca_file)
{
	struct http_pool	*pool;
	char			*pname;

	xasprintf(&pname, "lambda/%s/%d/%d/%s", name, max_connections,
	    tls_verify, ca_file != NULL ? ca_file : "");
	if ((pool = http_pool_find(engine, pname)) == NULL)
		pool = http_pool_new(engine, pname, max_connections, 0,
		    tls_verify, ca_file);
	free(pname);
	return (pool);
}

static int
op_lambda_prepare_cb(struct http_request *req, int attempt, void *arg)
{
	struct op_lambda_task	*lt = arg;
	struct sigv4_header	 h[2];
	struct sigv4_request	 sr;
	struct sigv4_creds	 sc;
	struct sigv4_params	 sp;
	struct sigv4_signed	 out;
	size_t			 i;
	char			*cause = NULL;

	h[0].name = "Content-Type";
	h[0].value = "application/json";
	h[1].name = "X-Amz-Invocation-Type";
	h[1].value = "RequestResponse";
	memset(&sr, 0, sizeof sr);
	sr.method = "POST";
	sr.host = lt->host;
	sr.path = lt->path;
	sr.headers = h;
	sr.nheaders = nitems(h);
	sr.payload_hash = lt->payload_hash;
	memset(&sc, 0, sizeof sc);
	sc.access_key_id = lt->access_key_id;
	sc.secret_access_key = lt->secret_access_key;
	sc.session_token = lt->session_token;
	memset(&sp, 0, sizeof sp);
	sp.region = lt->region;
	sp.service = LAMBDA_SERVICE;
	/* Every attempt: a redrive must not carry a stale X-Amz-Date. */
	sp.time_ms = time_now_ms();
	if (sigv4_sign(&sr, &sc, &sp, &out, &cause) != 0) {
		free(lt->cause);
		lt->cause = cause;
		return (-1);
	}
	for (i = 0; i < out.nheaders; i++) {
		if (http_request_header(req, out.headers[i].name,
		    out.headers[i].value) != 0) {
			free(lt->cause);
			xasprintf(&lt->cause, "signed header %s cannot be sent",
			    out.headers[i].name);
			sigv4_signed_free(&out);
			return (-1);
		}
	}
	sigv4_signed_free(&out);
	return (0);
}

static enum http_verdict
op_lambda_classify_cb(struct http_request *req,
    const struct http_response *resp, void *arg)
{
	struct op_lambda_task	*lt = arg;
	struct lambda_verdict	 v;
	int			 retry;

	lambda_judge(resp, lt->task_id, &v);
	retry = v.retry;
	if (retry)
		log_debug("lambda: task %s: %s: %s", lt->task_id, v.code,
		    v.message);
	lambda_verdict_free(&v);
	return (retry ? HTTP_RETRY : HTTP_FINAL);
}

static void
op_lambda_done_cb(struct http_request *req, struct http_response *resp,
    void *arg)
{
	struct op_lambda_task	*lt = arg;
	struct op_run		*run = lt->run;
	struct lambda_verdict	 v;

	lt->req = NULL;		/* http.c frees it when this returns */
	run->attempts += resp->attempts;
	lambda_judge(resp, lt->task_id, &v);
	if (resp->error == HTTP_ERR_PREPARE && lt->cause != NULL) {
		free(v.message);
		v.message = xstrdup(lt->cause);
	}
	op_lambda_end(run, v.succeeded, v.status, v.code, v.message);
	lambda_verdict_free(&v);
}

/*
 * Where an ARN's Invoke goes and what signs it, copied from the cfg: a
 * reload frees the cfg a task started with, and a pinned ETag's HEAD
 * comes first.
 */
static int
op_lambda_resolve_arn(struct op_run *run, struct op_lambda_task *lt,
    char **cause)
{
	struct op_lambda		*ctx = run->ctx;
	const struct cfg_lambda		*lm = NULL;
	const struct cfg_profile	*pr;
	const struct cfg_credentials	*cr;
	const char			*auth, *slash;
	struct buf			 b;

	if (ctx->target.region != NULL)
		lm = cfg_lambda_find(run->cfg, ctx->target.region);
	if (lm == NULL && (lm = cfg_lambda_find(run->cfg, "default")) == NULL) {
		xasprintf(cause, "no [lambda %s] or [lambda default] section "
		    "in the configuration to invoke %s through",
		    ctx->target.region != NULL ? ctx->target.region : "REGION",
		    ctx->target.function);
		return (-1);
	}
	pr = cfg_profile_for_role(run->cfg, run->role_arn);
	cr = pr != NULL ? &pr->creds : &lm->creds;
	if (cr->access_key_id == NULL || cr->secret_access_key == NULL) {
		xasprintf(cause, "[lambda %s] has no credentials", lm->name);
		return (-1);
	}
	lt->access_key_id = xstrdup(cr->access_key_id);
	lt->secret_access_key = xstrdup(cr->secret_access_key);
	if (cr->session_token != NULL)
		lt->session_token = xstrdup(cr->session_token);
	lt->region = xstrdup(lm->region != NULL ? lm->region :
	    ctx->target.region != NULL ? ctx->target.region : "us-east-1");

	/* cfg.c checked the URL: scheme://host[:port][/base]. */
	auth = strstr(lm->url, "://") + 3;
	slash = auth + strcspn(auth, "/");
	lt->host = xstrndup(auth, (size_t)(slash - auth));
	buf_init(&b);
	buf_adds(&b, slash);
	buf_adds(&b, LAMBDA_API_PATH);
	url_encode(&b, ctx->target.function, strlen(ctx->target.function), 0);
	buf_adds(&b, "/invocations");
	lt->path = buf_detach(&b);
	xasprintf(&lt->url, "%.*s%s", (int)(slash - lm->url), lm->url,
	    lt->path);
	lt->pool = op_lambda_pool(s3_http_engine(run->s3), lm->name,
	    lm->max_connections, lm->tls_verify, lm->ca_file);
	lt->timeout_ms = lm->request_timeout_ms;
	return (0);
}

static void
op_lambda_invoke(struct op_run *run)
{
	struct op_lambda	*ctx = run->ctx;
	struct op_lambda_task	*lt = run->state;
	struct http_request	*req;
	struct lambda_task	 task;
	struct buf		 body;

	memset(&task, 0, sizeof task);
	task.job_id = run->job_id != NULL ? run->job_id : "";
	task.invocation_id = lt->invocation_id;
	task.task_id = lt->task_id;
	task.bucket = run->bucket;
	task.key = run->key;
	task.key_len = run->key_len;
	task.version_id = run->version_id;
	buf_init(&body);
	lambda_request_body(&body, ctx->version, ctx->user_args, &task);

	req = http_request_new(lt->pool, "POST", lt->url);
	if (lt->host != NULL) {
		/* The path goes as signed, the Host as signed. */
		http_request_set_path_as_is(req, 1);
		http_request_header(req, "Host", lt->host);
		http_request_header(req, "X-Amz-Invocation-Type",
		    "RequestResponse");
		sigv4_sha256_hex(body.data, body.len, lt->payload_hash);
		http_request_set_cbs(req, op_lambda_prepare_cb,
		    op_lambda_classify_cb, op_lambda_done_cb, lt);
	} else
		http_request_set_cbs(req, NULL, op_lambda_classify_cb,
		    op_lambda_done_cb, lt);
	http_request_header(req, "Content-Type", "application/json");
	http_request_body_mem(req, body.data, body.len);
	buf_free(&body);
	http_request_set_max_attempts(req, lt->max_attempts);
	http_request_set_timeout(req, lt->timeout_ms);
	lt->req = req;
	http_request_start(req);
}

static void
op_lambda_head_cb(const struct s3_result *r, void *arg)
{
	struct op_run	*run = arg;

	op_account(run, r);
	if (r->status == 412) {
		op_lambda_end(run, 0, 412, "PreconditionFailed", "the object's "
		    "ETag is no longer the manifest's; the function was not "
		    "invoked");
		return;
	}
	if (r->error_code != NULL) {
		op_lambda_end(run, 0, r->status, r->error_code,
		    r->error_message);
		return;
	}
	/* HeadObject always sends the ETag its If-Match was checked on. */
	if (r->status != 200 || r->etag == NULL) {
		op_lambda_end(run, 0, r->status, "InvalidResponse", "HeadObject "
		    "answered without an ETag; the function was not invoked");
		return;
	}
	op_lambda_invoke(run);
}

static void
op_lambda_start(struct op_run *run)
{
	struct op_lambda	*ctx = run->ctx;
	struct op_lambda_task	*lt;
	char			*cause = NULL;

	lt = xcalloc(1, sizeof *lt);
	lt->run = run;
	op_lambda_task_id(run, lt->task_id);
	uuid_generate_v4(lt->invocation_id);
	lt->max_attempts = run->cfg->max_attempts;
	run->state = lt;
	if (ctx->target.url) {
		lt->url = xstrdup(ctx->target.function);
		lt->pool = op_lambda_pool(s3_http_engine(run->s3), "url",
		    LAMBDA_URL_CONNECTIONS, 1, NULL);
		lt->timeout_ms = LAMBDA_URL_TIMEOUT_MS;
	} else if (op_lambda_resolve_arn(run, lt, &cause) != 0) {
		op_lambda_end(run, 0, 0, "NoSuchEndpoint", cause);
		free(cause);
		return;
	}
	/* A pinned ETag (inventory manifests) is checked before invoking. */
	if (run->etag != NULL)
		op_head(run, op_lambda_head_cb);
	else
		op_lambda_invoke(run);
}

static void
op_lambda_cancel(struct op_run *run)
{
	struct op_lambda_task	*lt = run->state;

	if (lt == NULL)
		return;
	if (lt->req != NULL)
		http_request_cancel(lt->req);
	run->state = NULL;
	op_lambda_task_free(lt);
}

const struct op_def op_lambda = {
	.name = "LambdaInvoke",
	.flags = OP_AT_LEAST_ONCE,
	.compile = op_lambda_compile,
	.free = op_lambda_free,
	.start = op_lambda_start,
	.cancel = op_lambda_cancel,
};
