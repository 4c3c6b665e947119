/*
 * LambdaInvoke's contract pieces (op-lambda.h): FunctionArn forms, the
 * request bodies of schemas 1.0 and 2.0, the result contract, the verdict
 * on every kind of answer, and the operation's parameter checks.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "cfg.h"
#include "http.h"
#include "op.h"
#include "op-lambda.h"
#include "unit.h"

static void
test_target(void)
{
	static const char *bad[] = {
		"arn:aws:s3:us-east-1:123456789012:function:f",
		"arn:aws:lambda:us-east-1:1234:function:f",
		"arn:aws:lambda:us-east-1:123456789012:layer:f",
		"arn:aws:lambda:us-east-1:123456789012:function:",
		"arn:aws:lambda:us-east-1:123456789012:function:f:q:x",
		"arn:aws:lambda:us-east-1:123456789012:function:f g",
		"arn:aws:lambda::123456789012:function:f",
		"my fn",
		"fn:",
		"ftp://example.com/x",
		"http://",
		"http:///path",
		"https://user:pw@example.com/hook",
		"https://example.com/a b",
		"",
	};
	struct lambda_target	 t;
	char			*cause;
	size_t			 i;

	CHECK_INT(lambda_target_parse("arn:aws:lambda:eu-west-1:123456789012:"
	    "function:resize", &t, &cause), 0);
	CHECK_INT(t.url, 0);
	CHECK_STR(t.region, "eu-west-1");
	CHECK_STR(t.function, "arn:aws:lambda:eu-west-1:123456789012:function:"
	    "resize");
	lambda_target_free(&t);

	CHECK_INT(lambda_target_parse("arn:aws-cn:lambda:cn-north-1:"
	    "123456789012:function:f_1:$LATEST", &t, &cause), 0);
	CHECK_STR(t.region, "cn-north-1");
	lambda_target_free(&t);

	CHECK_INT(lambda_target_parse("my-fn:prod", &t, &cause), 0);
	CHECK(t.region == NULL);
	CHECK_INT(t.url, 0);
	lambda_target_free(&t);

	CHECK_INT(lambda_target_parse("https://hooks.example.com:8443/b?k=1",
	    &t, &cause), 0);
	CHECK_INT(t.url, 1);
	CHECK(t.region == NULL);
	CHECK_STR(t.function, "https://hooks.example.com:8443/b?k=1");
	lambda_target_free(&t);

	for (i = 0; i < nitems(bad); i++) {
		cause = NULL;
		CHECK_INT(lambda_target_parse(bad[i], &t, &cause), -1);
		CHECK(cause != NULL && strncmp(cause,
		    "Operation.LambdaInvoke.FunctionArn: ", 36) == 0);
		if (cause == NULL)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		free(cause);
	}
}

static struct json_object *
body_of(int version, struct json_object *args, const char *version_id)
{
	struct lambda_task	 task;
	struct buf		 b;
	struct json_object	*o;
	static const char	 key[] = "dir/a b+c%d\xc3\xbc";

	memset(&task, 0, sizeof task);
	task.job_id = "job-1";
	task.invocation_id = "inv-1";
	task.task_id = "task-1";
	task.bucket = "bkt";
	task.key = key;
	task.key_len = sizeof key - 1;
	task.version_id = version_id;
	buf_init(&b);
	lambda_request_body(&b, version, args, &task);
	o = json_tokener_parse(b.data);
	buf_free(&b);
	return (o);
}

static const char *
jpath(struct json_object *o, const char *a, const char *b)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, a, &v))
		return ("(absent)");
	if (json_object_is_type(v, json_type_array))
		v = json_object_array_get_idx(v, 0);
	if (b != NULL && !json_object_object_get_ex(v, b, &v))
		return ("(absent)");
	if (v == NULL)
		return ("(null)");
	return (json_object_get_string(v));
}

static void
test_body(void)
{
	struct json_object	*o, *args;

	o = body_of(1, NULL, NULL);
	CHECK(o != NULL);
	CHECK_STR(jpath(o, "invocationSchemaVersion", NULL), "1.0");
	CHECK_STR(jpath(o, "invocationId", NULL), "inv-1");
	CHECK_STR(jpath(o, "job", "id"), "job-1");
	CHECK_STR(jpath(o, "job", "userArguments"), "(absent)");
	CHECK_STR(jpath(o, "tasks", "taskId"), "task-1");
	CHECK_STR(jpath(o, "tasks", "s3Key"), "dir/a%20b%2Bc%25d%C3%BC");
	CHECK_STR(jpath(o, "tasks", "s3VersionId"), "(null)");
	CHECK_STR(jpath(o, "tasks", "s3BucketArn"), "arn:aws:s3:::bkt");
	CHECK_STR(jpath(o, "tasks", "s3Bucket"), "(absent)");
	json_object_put(o);

	args = json_tokener_parse("{\"mode\":\"tag\",\"q\":\"a\\\"b/c\"}");
	o = body_of(2, args, "v1.x");
	CHECK_STR(jpath(o, "invocationSchemaVersion", NULL), "2.0");
	CHECK_STR(jpath(o, "job", "userArguments"),
	    "{ \"mode\": \"tag\", \"q\": \"a\\\"b\\/c\" }");
	CHECK_STR(jpath(o, "tasks", "s3Bucket"), "bkt");
	CHECK_STR(jpath(o, "tasks", "s3BucketArn"), "(absent)");
	CHECK_STR(jpath(o, "tasks", "s3VersionId"), "v1.x");
	json_object_put(o);
	/* The body held a reference, not the only one. */
	CHECK_STR(jpath(args, "mode", NULL), "tag");
	json_object_put(args);
}

static int
parse(const char *s, enum lambda_result *r, char **rs)
{
	char	*cause = NULL;
	int	 rc;

	rc = lambda_parse_response(s, strlen(s), "t1", r, rs, &cause);
	free(cause);
	return (rc);
}

static void
test_parse(void)
{
	enum lambda_result	 r;
	char			*rs;

	CHECK_INT(parse("{\"invocationSchemaVersion\":\"1.0\","
	    "\"treatMissingKeysAs\":\"PermanentFailure\",\"invocationId\":"
	    "\"x\",\"results\":[{\"taskId\":\"t1\",\"resultCode\":"
	    "\"Succeeded\",\"resultString\":\"ok: 1\"}]}\n", &r, &rs), 0);
	CHECK_INT(r, LAMBDA_SUCCEEDED);
	CHECK_STR(rs, "ok: 1");
	free(rs);

	CHECK_INT(parse("{\"results\":[{\"taskId\":\"t0\",\"resultCode\":"
	    "\"Succeeded\"},{\"taskId\":\"t1\",\"resultCode\":"
	    "\"TemporaryFailure\"}]}", &r, &rs), 0);
	CHECK_INT(r, LAMBDA_TEMPORARY_FAILURE);
	CHECK(rs == NULL);

	CHECK_INT(parse("{\"results\":[{\"taskId\":\"t1\",\"resultCode\":"
	    "\"PermanentFailure\",\"resultString\":null}]}", &r, &rs), 0);
	CHECK_INT(r, LAMBDA_PERMANENT_FAILURE);
	CHECK(rs == NULL);

	/* Missing keys: PermanentFailure unless the answer says otherwise. */
	CHECK_INT(parse("{\"results\":[{\"taskId\":\"t9\",\"resultCode\":"
	    "\"Succeeded\"}]}", &r, &rs), 0);
	CHECK_INT(r, LAMBDA_PERMANENT_FAILURE);
	CHECK_INT(parse("{\"treatMissingKeysAs\":\"Succeeded\","
	    "\"results\":[]}", &r, &rs), 0);
	CHECK_INT(r, LAMBDA_SUCCEEDED);
	CHECK_INT(parse("{\"treatMissingKeysAs\":\"TemporaryFailure\"}", &r,
	    &rs), 0);
	CHECK_INT(r, LAMBDA_TEMPORARY_FAILURE);

	CHECK_INT(parse("", &r, &rs), -1);
	CHECK_INT(parse("null", &r, &rs), -1);
	CHECK_INT(parse("[1]", &r, &rs), -1);
	CHECK_INT(parse("{\"results\":[]} x", &r, &rs), -1);
	CHECK_INT(parse("{\"results\":{}}", &r, &rs), -1);
	CHECK_INT(parse("{\"treatMissingKeysAs\":\"Maybe\"}", &r, &rs), -1);
	CHECK_INT(parse("{\"results\":[{\"taskId\":\"t1\",\"resultCode\":"
	    "\"succeeded\"}]}", &r, &rs), -1);
	CHECK_INT(parse("{\"results\":[{\"taskId\":\"t1\"}]}", &r, &rs), -1);
}

static void
judge(int status, const char *hname, const char *hvalue, const char *body,
    struct lambda_verdict *v)
{
	struct http_response	 resp;
	struct http_header	 h;

	memset(&resp, 0, sizeof resp);
	resp.status = status;
	if (hname != NULL) {
		h.name = (char *)(uintptr_t)hname;
		h.value = (char *)(uintptr_t)hvalue;
		resp.headers = &h;
		resp.nheaders = 1;
	}
	buf_init(&resp.body);
	if (body != NULL)
		buf_adds(&resp.body, body);
	lambda_judge(&resp, "t1", v);
	buf_free(&resp.body);
}

static void
test_judge(void)
{
	struct lambda_verdict	 v;
	struct http_response	 resp;
	struct buf		 big;
	size_t			 i;

	judge(200, NULL, NULL, "{\"results\":[{\"taskId\":\"t1\","
	    "\"resultCode\":\"Succeeded\",\"resultString\":\"r\"}]}", &v);
	CHECK_INT(v.succeeded, 1);
	CHECK_INT(v.retry, 0);
	CHECK(v.code == NULL);
	CHECK_STR(v.message, "r");
	lambda_verdict_free(&v);

	judge(200, NULL, NULL, "{\"results\":[{\"taskId\":\"t1\","
	    "\"resultCode\":\"TemporaryFailure\"}]}", &v);
	CHECK_INT(v.succeeded, 0);
	CHECK_INT(v.retry, 1);
	CHECK_STR(v.code, "TemporaryFailure");
	CHECK_STR(v.message, "the function returned TemporaryFailure");
	lambda_verdict_free(&v);

	judge(200, NULL, NULL, "{\"results\":[{\"taskId\":\"t1\","
	    "\"resultCode\":\"PermanentFailure\",\"resultString\":\"no\"}]}",
	    &v);
	CHECK_INT(v.retry, 0);
	CHECK_STR(v.code, "PermanentFailure");
	CHECK_STR(v.message, "no");
	CHECK_INT(v.status, 200);
	lambda_verdict_free(&v);

	judge(200, NULL, NULL, "<html>", &v);
	CHECK_INT(v.retry, 0);
	CHECK_STR(v.code, "InvalidResponse");
	lambda_verdict_free(&v);

	judge(200, "X-Amz-Function-Error", "Unhandled", "{\"errorType\":"
	    "\"KeyError\",\"errorMessage\":\"'x'\"}", &v);
	CHECK_INT(v.retry, 1);
	CHECK_STR(v.code, "FunctionError");
	CHECK_STR(v.message, "the function failed (Unhandled): KeyError: 'x'");
	lambda_verdict_free(&v);

	judge(429, "x-amzn-ErrorType", "TooManyRequestsException",
	    "{\"Reason\":\"ReservedFunctionConcurrentInvocationLimitExceeded\","
	    "\"message\":\"Rate Exceeded.\"}", &v);
	CHECK_INT(v.retry, 1);
	CHECK_STR(v.code, "TooManyRequestsException");
	CHECK_STR(v.message, "Rate Exceeded.");
	lambda_verdict_free(&v);

	judge(404, "x-amzn-ErrorType", "ResourceNotFoundException:http://"
	    "internal.amazon.com/coral/com.amazonaws.awslambda/",
	    "{\"Type\":\"User\",\"Message\":\"Function not found\"}", &v);
	CHECK_INT(v.retry, 0);
	CHECK_STR(v.code, "ResourceNotFoundException");
	CHECK_STR(v.message, "Function not found");
	CHECK_INT(v.status, 404);
	lambda_verdict_free(&v);

	judge(502, NULL, NULL, "bad gateway", &v);
	CHECK_INT(v.retry, 1);
	CHECK_STR(v.code, "Http502");
	CHECK_STR(v.message, "HTTP 502");
	lambda_verdict_free(&v);

	judge(403, NULL, NULL, NULL, &v);
	CHECK_INT(v.retry, 0);
	CHECK_STR(v.code, "Http403");
	lambda_verdict_free(&v);

	memset(&resp, 0, sizeof resp);
	resp.error = HTTP_ERR_CONNECT;
	resp.curl_code = 7;	/* CURLE_COULDNT_CONNECT */
	snprintf(resp.error_text, sizeof resp.error_text, "refused");
	buf_init(&resp.body);
	lambda_judge(&resp, "t1", &v);
	CHECK_INT(v.retry, 1);
	CHECK_STR(v.code, "ConnectionError");
	CHECK_STR(v.message, "refused");
	lambda_verdict_free(&v);

	/* A huge resultString is cut, between characters. */
	buf_init(&big);
	buf_adds(&big, "{\"results\":[{\"taskId\":\"t1\",\"resultCode\":"
	    "\"Succeeded\",\"resultString\":\"a");
	for (i = 0; i < 10000; i++)
		buf_adds(&big, "\xc3\xbc");
	buf_adds(&big, "\"}]}");
	judge(200, NULL, NULL, big.data, &v);
	CHECK_INT(v.succeeded, 1);
	CHECK(v.message != NULL && strlen(v.message) <= 16384 &&
	    strlen(v.message) >= 16380);
	CHECK(v.message != NULL && utf8_valid(v.message, strlen(v.message)));
	lambda_verdict_free(&v);
	buf_free(&big);
}

static int
compile(const char *params, char **cause)
{
	struct json_object	*o = json_tokener_parse(params);
	void			*ctx = NULL;
	int			 rc;

	*cause = NULL;
	rc = op_lambda.compile(o, NULL, &ctx, cause);
	if (rc == 0)
		op_lambda.free(ctx);
	json_object_put(o);
	return (rc);
}

static void
test_compile(void)
{
	char	*cause;

	CHECK_STR(op_lambda.name, "LambdaInvoke");
	CHECK_INT(compile("{\"FunctionArn\":\"arn:aws:lambda:us-east-1:"
	    "123456789012:function:f\"}", &cause), 0);
	CHECK_INT(compile("{\"FunctionArn\":\"http://127.0.0.1:9/x\","
	    "\"InvocationSchemaVersion\":\"2.0\",\"UserArguments\":"
	    "{\"a\":\"b\"}}", &cause), 0);
	CHECK_INT(compile("{\"FunctionArn\":\"f\",\"InvocationSchemaVersion\":"
	    "\"1.0\",\"UserArguments\":{\"a\":\"b\"}}", &cause), -1);
	CHECK_STR(cause, "Operation.LambdaInvoke.UserArguments: needs "
	    "InvocationSchemaVersion 2.0");
	free(cause);
	CHECK_INT(compile("{\"FunctionArn\":\"f\",\"InvocationSchemaVersion\":"
	    "\"3.0\"}", &cause), -1);
	CHECK_STR(cause, "Operation.LambdaInvoke.InvocationSchemaVersion: "
	    "\"3.0\" is not 1.0 or 2.0");
	free(cause);
	CHECK_INT(compile("{}", &cause), -1);
	CHECK_STR(cause, "Operation.LambdaInvoke.FunctionArn: missing");
	free(cause);
}

static struct cfg *
load(const char *text, char **cause)
{
	*cause = NULL;
	return (cfg_load_buffer("t.conf", text, strlen(text), cause));
}

/* The [lambda NAME] section of cfg.c. */
static void
test_cfg(void)
{
	const struct cfg_lambda	*lm;
	struct cfg		*cfg;
	char			*cause;

	setenv("AWS_ACCESS_KEY_ID", "EAK", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "ESK", 1);
	unsetenv("AWS_SESSION_TOKEN");
	cfg = load("[lambda default]\nurl = http://127.0.0.1:9001/base/\n"
	    "access_key_id = AK\nsecret_access_key = SK\n"
	    "[lambda eu-west-1]\nurl = https://lambda.eu-west-1.amazonaws.com\n"
	    "region = eu-west-1\ncredentials = env\nmax_connections = 8\n"
	    "request_timeout = 30s\ntls_verify = no\n", &cause);
	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	lm = cfg_lambda_find(cfg, "default");
	CHECK(lm != NULL);
	CHECK_STR(lm->url, "http://127.0.0.1:9001/base");
	CHECK(lm->region == NULL);
	CHECK_INT(lm->max_connections, 64);
	CHECK_INT(lm->tls_verify, 1);
	CHECK_INT(lm->request_timeout_ms, 15 * 60 * 1000);
	CHECK_STR(lm->creds.access_key_id, "AK");
	lm = cfg_lambda_find(cfg, "eu-west-1");
	CHECK(lm != NULL);
	CHECK_STR(lm->region, "eu-west-1");
	CHECK_STR(lm->creds.access_key_id, "EAK");
	CHECK_INT(lm->max_connections, 8);
	CHECK_INT(lm->tls_verify, 0);
	CHECK_INT(lm->request_timeout_ms, 30000);
	CHECK(cfg_lambda_find(cfg, "us-east-1") == NULL);
	cfg_free(cfg);

	CHECK(load("[lambda default]\nurl = http://x\n", &cause) == NULL);
	CHECK_STR(cause, "t.conf:1: [lambda default]: no credentials: set "
	    "access_key_id and secret_access_key, access_key_id_file and "
	    "secret_access_key_file, or credentials = env or systemd");
	free(cause);
	CHECK(load("[lambda default]\naccess_key_id = a\n"
	    "secret_access_key = b\n", &cause) == NULL);
	CHECK_STR(cause, "t.conf:1: [lambda default]: missing required key "
	    "\"url\"");
	free(cause);
	CHECK(load("[lambda default]\nurl = http://x\naddressing = path\n",
	    &cause) == NULL);
	CHECK_STR(cause, "t.conf:3: key \"addressing\" does not belong in "
	    "[lambda default]; it goes in [endpoint NAME]");
	free(cause);
	CHECK(load("[lambda]\n", &cause) == NULL);
	CHECK_STR(cause, "t.conf:1: [lambda] needs a name: [lambda NAME]");
	free(cause);
}

int
main(void)
{
	test_target();
	test_body();
	test_parse();
	test_judge();
	test_compile();
	test_cfg();
	return (unit_done("test-lambda"));
}
