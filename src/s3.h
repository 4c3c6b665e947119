/*
 * The S3 request layer, on top of the HTTP engine: resolves a bucket to
 * its endpoint (cfg.h), builds path- or virtual-hosted-style URLs with
 * S3's single URI-encoding of keys, signs every attempt with SigV4 (so a
 * retry carries a fresh date), retries what S3 says is transient, and
 * parses S3's XML errors. Operations (op-*.c), manifests, reports and the
 * scheduler make their S3 calls through this file only.
 */
#ifndef S3_H
#define S3_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct buf;
struct cfg;
struct http_engine;
struct http_response;
struct http_pool_stats;

struct s3;
struct s3_call;

struct s3_header {
	const char	*name;
	const char	*value;
};

/* Flags of a call. */
#define S3_CONTENT_MD5		0x01	/* add Content-MD5 of the body */
#define S3_ERROR_IN_200		0x02	/* a 200 may carry <Error> (copy, complete) */
#define S3_NO_RETRY		0x04	/* one attempt only */
#define S3_UNSIGNED_PAYLOAD	0x08	/* streamed body: UNSIGNED-PAYLOAD */
#define S3_BACKGROUND		0x10	/* after jobs' requests (http.h) */

/* Streamed request and response bodies (see http.h for the contract). */
typedef long	(*s3_read_cb)(void *, size_t, void *);	/* like read(2) */
typedef int	(*s3_rewind_cb)(void *);
typedef int	(*s3_write_cb)(uint64_t, const void *, size_t, void *);

struct s3_request {
	const char		*method;	/* "GET", "PUT", ... */
	const char		*bucket;
	const char		*key;		/* NULL: a bucket-level call */
	size_t			 key_len;	/* 0: strlen(key) */
	const char		*version_id;	/* adds versionId=; NULL: none */
	/*
	 * Subresources and parameters, already encoded, without '?':
	 * "tagging", "uploads", "partNumber=3&uploadId=...", "list-type=2&...".
	 */
	const char		*query;
	/* Sent and signed; an entry with a NULL name or value is skipped. */
	const struct s3_header	*headers;
	size_t			 nheaders;
	const void		*body;		/* copied; NULL with body_len 0 */
	size_t			 body_len;
	/* A streamed body instead of body (with S3_UNSIGNED_PAYLOAD). */
	uint64_t		 stream_len;
	s3_read_cb		 stream_read;
	s3_rewind_cb		 stream_rewind;
	void			*stream_arg;
	/* Stream a 2xx response body instead of buffering it. */
	s3_write_cb		 sink;
	void			*sink_arg;
	/*
	 * Credentials: NULL for the endpoint's own; else a job's RoleArn,
	 * whose last path component names a [credentials] profile. A
	 * RoleArn that names no profile falls back to the endpoint's own
	 * credentials (job specs written for Amazon run unchanged).
	 */
	const char		*role_arn;
	int			 flags;
	int			 max_attempts;	/* 0: the engine's */
	uint64_t		 timeout_ms;	/* per attempt; 0: the engine's */
};

struct s3_result {
	int			 status;	/* HTTP status; 0: none */
	/*
	 * NULL on success (2xx without an error document). Otherwise S3's
	 * error Code, or one of ours for failures with no S3 answer:
	 * "ConnectionError", "Timeout", "TLSError", "NoSuchEndpoint",
	 * "NoCredentials", "InvalidResponse"; also "InvalidArgument" (a
	 * request this layer refuses to send: a reserved or unsendable
	 * header, a streamed body with Content-MD5, a signing failure) and
	 * "Aborted" (a stream or sink callback failed). A status without an
	 * error document maps by s3_status_code(), else "Http<status>".
	 * error_message is never NULL with an error_code: the server's
	 * Message, else our text ("HTTP 404" when S3 sent none).
	 */
	const char		*error_code;
	const char		*error_message;
	const char		*request_id;
	int			 attempts;
	/* From the response headers; NULL when absent. */
	const char		*etag;		/* without the quotes */
	const char		*version_id;	/* x-amz-version-id */
	int64_t			 content_length;	/* -1: unknown */
	const char		*endpoint;	/* the endpoint's name */
	/* Everything else: headers, the buffered body. */
	const struct http_response *http;
};

/* Called once per call; the result is valid during the callback only. */
typedef void	(*s3_done_cb)(const struct s3_result *, void *);
/*
 * Called on every attempt (persist attempt counts, count retries); the int
 * is 1 when another attempt follows, 0 when this one is the last. The arg
 * is done_cb's. The callback may cancel the call.
 */
typedef void	(*s3_attempt_cb)(const struct s3_result *, int, void *);

struct s3	*s3_new(struct event_base *, const struct cfg *, char **);
void		 s3_free(struct s3 *);		/* cancels, no callbacks */
/* SIGHUP: new endpoints and credentials for the calls that follow. */
int		 s3_reconfigure(struct s3 *, const struct cfg *, char **);

/*
 * Start a call. Never calls done_cb before returning; a bucket with no
 * endpoint completes (asynchronously) with error_code "NoSuchEndpoint".
 */
struct s3_call	*s3_call(struct s3 *, const struct s3_request *, s3_done_cb,
		     void *);
void		 s3_call_set_attempt_cb(struct s3_call *, s3_attempt_cb);
void		 s3_call_cancel(struct s3_call *);	/* no done_cb */
/*
 * check-endpoint: a signed ListBuckets (GET /) with the endpoint's own
 * credentials, proving reachability, TLS and the keys.
 */
struct s3_call	*s3_check_endpoint(struct s3 *, const char *, s3_done_cb,
		     void *);

/*
 * The HTTP engine the calls run on, for the few non-S3 calls that share its
 * caps, backoff and loop (LambdaInvoke's, op-lambda.c).
 */
struct http_engine *s3_http_engine(struct s3 *);

/* The endpoint name a bucket resolves to, or NULL. */
const char	*s3_bucket_endpoint(struct s3 *, const char *);
/* Calls in flight, in total and on one endpoint. */
int		 s3_inflight(struct s3 *, const char *);
/* For metrics: each endpoint's HTTP statistics; NULL past the last. */
const struct http_pool_stats *s3_endpoint_stats(struct s3 *, size_t,
		     const char **);

/*
 * For status and metrics: an endpoint's circuit breaker (docs/OUTAGES.md).
 * While an endpoint is unreachable its calls wait, without spending
 * attempts, until it answers or they are cancelled.
 */
struct s3_endpoint_state {
	const char	*name;		/* the endpoint's; valid until reload */
	const char	*breaker;	/* "closed", "open", "half-open" */
	uint64_t	 since_ms;	/* its last change, epoch ms; 0: never */
	uint64_t	 waiting;	/* calls held while it is not closed */
	uint64_t	 opens;		/* times it opened */
	uint64_t	 parked;	/* attempts lost to outages, uncounted */
	double		 rate_limit;	/* requests/s now; 0: none */
	uint64_t	 throttled;	/* 429 and 503 answers */
	uint64_t	 rate_cuts;	/* halvings of the limit (AIMD) */
	const char	*window;	/* the time window now; NULL: none */
	double		 window_rate;	/* its rate: 0 paused, >0 /s, <0 full */
};
/* The i-th endpoint's state: 0, or -1 past the last. */
int		 s3_endpoint_state(struct s3 *, size_t,
		     struct s3_endpoint_state *);
/* Whether a call is waiting for its unreachable endpoint. */
int		 s3_call_waiting(const struct s3_call *);
/*
 * Whether a result's error code says the endpoint could not be reached
 * ("ConnectionError", "Timeout"): no answer from S3, so no verdict on the
 * object. Callers that count failures leave these out.
 */
int		 s3_error_unreachable(const char *);

/*
 * Helpers for callers: the value of a response header; "true"/"false"
 * style; S3's HTTP date and ISO 8601 forms.
 */
const char	*s3_result_header(const struct s3_result *, const char *);
/* Whether an error code is one S3 documents as transient (retried). */
int		 s3_error_retryable(const char *, int);

/*
 * Additions (docs/S3.md). The error code of an answer without an error
 * document (HEAD): 404 "NotFound", 403 "Forbidden", 412
 * "PreconditionFailed", ...; NULL for a status not in the table.
 */
const char	*s3_status_code(int);
/*
 * The URL a request goes to on an endpoint URL ("scheme://host[:port]
 * [/base]"), path-style or, when virtual_host, virtual-hosted-style; for
 * tests and for messages. -1 with *cause on a bad endpoint URL.
 */
int		 s3_build_url(const char *, int, const struct s3_request *,
		     struct buf *, char **);

#endif /* S3_H */
