/*
 * LambdaInvoke's pieces that are pure functions of their input, apart from
 * the operation itself (op_lambda in op.h), so that the unit tests and the
 * fuzzer reach them: the FunctionArn, the request body of invocation
 * schemas 1.0 and 2.0, and the verdict on an answer. See
 * docs/operations/LambdaInvoke.md.
 */
#ifndef OP_LAMBDA_H
#define OP_LAMBDA_H

#include <stddef.h>

struct buf;
struct json_object;
struct http_response;

/* A FunctionArn, taken apart. */
struct lambda_target {
	int		 url;		/* an http(s) URL (our extension) */
	char		*function;	/* the FunctionArn as given */
	char		*region;	/* from a full ARN; NULL otherwise */
};

/* "arn:...:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]", NAME, a URL. */
int	 lambda_target_parse(const char *, struct lambda_target *, char **);
void	 lambda_target_free(struct lambda_target *);

/* One task of one invocation. */
struct lambda_task {
	const char	*job_id;
	const char	*invocation_id;
	const char	*task_id;
	const char	*bucket;
	const char	*key;
	size_t		 key_len;
	const char	*version_id;	/* NULL: s3VersionId is null */
};

/*
 * The invocation's JSON: schema 1 ("1.0", s3BucketArn) or 2 ("2.0",
 * s3Bucket, job.userArguments when user_args is not NULL). Keys are
 * URL-encoded, '/' kept.
 */
void	 lambda_request_body(struct buf *, int, struct json_object *,
	    const struct lambda_task *);

/* Result codes of the contract. */
enum lambda_result {
	LAMBDA_SUCCEEDED,
	LAMBDA_TEMPORARY_FAILURE,
	LAMBDA_PERMANENT_FAILURE
};

/*
 * The result for one task in a function's answer (a 2xx body without
 * X-Amz-Function-Error): its resultCode, or treatMissingKeysAs
 * (PermanentFailure by default) when the answer does not list the task;
 * *result_string (NULL when absent) is the task's resultString. -1 with
 * *cause when the answer is not the contract's JSON.
 */
int	 lambda_parse_response(const char *, size_t, const char *,
	    enum lambda_result *, char **, char **);

/* What one answer means for a task. */
struct lambda_verdict {
	int		 retry;		/* invoke again (if attempts remain) */
	int		 succeeded;
	int		 status;	/* HTTP status; 0: none */
	char		*code;		/* NULL when succeeded */
	char		*message;	/* resultString or why it failed */
};

/*
 * Judge one attempt's answer for a task: transport errors, 429 and 5xx,
 * X-Amz-Function-Error and TemporaryFailure are retried; Succeeded ends
 * the task well; PermanentFailure, other statuses and invalid answers
 * end it failed.
 */
void	 lambda_judge(const struct http_response *, const char *,
	    struct lambda_verdict *);
void	 lambda_verdict_free(struct lambda_verdict *);

#endif /* OP_LAMBDA_H */
