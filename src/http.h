/*
 * http.c: the HTTP engine. libcurl multi driven by the daemon's libevent
 * loop (one event per socket, one timer), with keep-alive connection pools,
 * scheduler-side caps, rate limits, retries with full-jitter backoff and
 * statistics for the metrics listener. It knows HTTP, not S3: the S3 layer
 * builds URLs, signs requests in prepare_cb and parses bodies.
 *
 * Threading: everything runs on the loop's thread. No callback is ever
 * called from within http_request_start() or http_request_cancel().
 * http_request_cancel() may be called from anywhere, callbacks included;
 * http_engine_free() not from within one of the engine's callbacks.
 */
#ifndef HTTP_H
#define HTTP_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "s3batchd.h"

struct event_base;
struct http_engine;
struct http_pool;
struct http_request;

struct http_engine_opts {
	int		 max_inflight;		/* global cap on transfers */
	int		 max_attempts;		/* per request, first included */
	uint64_t	 retry_base_ms;		/* backoff: base·2^retry ... */
	uint64_t	 retry_max_ms;		/* ... capped here, full jitter */
	const char	*user_agent;		/* copied; NULL: s3batchd/VERSION */
	uint64_t	 connect_timeout_ms;	/* 0: none (curl's 300 s) */
	uint64_t	 low_speed_time_ms;	/* stalled this long: fail; 0: off */
	uint64_t	 low_speed_limit;	/* "stalled" is below this byte/s */
	uint64_t	 total_timeout_ms;	/* per attempt; 0: none */
	size_t		 body_limit;		/* buffered response body cap */
	int		 verbose;		/* curl's info text to log_debug */
};
/* Fill with the defaults (see docs/HTTP.md). */
void		 http_engine_opts_default(struct http_engine_opts *);

/*
 * Response of one attempt. done_cb gets the last attempt's response; the
 * body may be taken (move resp->body out and buf_init() it), everything
 * else is freed when done_cb returns.
 */
struct http_header {
	char		*name;
	char		*value;
};

/* Why an attempt failed below HTTP; HTTP_ERR_NONE when a status came back. */
enum http_error {
	HTTP_ERR_NONE,
	HTTP_ERR_DNS,		/* name resolution */
	HTTP_ERR_CONNECT,	/* connection refused or unreachable */
	HTTP_ERR_TIMEOUT,	/* connect, low-speed or total timeout */
	HTTP_ERR_TLS,		/* handshake or certificate */
	HTTP_ERR_NETWORK,	/* reset, closed, empty or garbled reply */
	HTTP_ERR_TOO_LARGE,	/* buffered body over body_limit */
	HTTP_ERR_ABORTED,	/* a body or sink callback failed */
	HTTP_ERR_PREPARE,	/* prepare_cb failed */
	HTTP_ERR_OTHER,
	HTTP_ERR_COUNT
};

struct http_response {
	int		 status;	/* 0: no HTTP response */
	int		 curl_code;	/* CURLcode, 0 when the exchange completed */
	enum http_error	 error;
	char		 error_text[256]; /* empty when error == HTTP_ERR_NONE */
	struct http_header *headers;	/* of the final (non-1xx) response */
	size_t		 nheaders;
	struct buf	 body;		/* when no sink, or the status is not 2xx */
	int		 attempts;
	int		 reused;	/* the attempt reused a kept-alive connection */
	uint64_t	 attempt_ms;	/* the last attempt alone */
	uint64_t	 total_ms;	/* start to done, queueing and backoff included */
	uint64_t	 bytes_sent;	/* body bytes, last attempt */
	uint64_t	 bytes_received;
};
/* Case-insensitive; the last one when repeated; NULL when absent. */
const char	*http_response_header(const struct http_response *,
		    const char *);

enum http_verdict {
	HTTP_FINAL,
	HTTP_RETRY
};

/* Streamed request body: return bytes put in buf (<= len), 0 at the end, -1 to abort. */
typedef ssize_t	(*http_read_cb)(void *buf, size_t len, void *arg);
/* Go back to the first byte for a retry: 0, or -1 when it cannot. */
typedef int	(*http_rewind_cb)(void *arg);
/*
 * Streamed response body (2xx only; other statuses are buffered into
 * resp->body for the error parser). offset restarts at 0 on a retry: the
 * sink must then discard what it had. Return 0, or -1 to abort.
 */
typedef int	(*http_write_cb)(uint64_t offset, const void *, size_t,
		    void *arg);
/* Before every attempt (sign here, with a fresh date). 0, or -1 to fail. */
typedef int	(*http_prepare_cb)(struct http_request *, int attempt,
		    void *arg);
typedef enum http_verdict (*http_classify_cb)(struct http_request *,
		    const struct http_response *, void *arg);
/* After every attempt, with the verdict and the delay before the next one. */
typedef void	(*http_attempt_cb)(struct http_request *,
		    const struct http_response *, enum http_verdict,
		    uint64_t delay_ms, void *arg);
/* Once, unless cancelled. The request is freed when it returns. */
typedef void	(*http_done_cb)(struct http_request *, struct http_response *,
		    void *arg);

/* Engine. */
struct http_engine *http_engine_new(struct event_base *,
		    const struct http_engine_opts *);	/* NULL: defaults */
/* Frees every pool and request: in-flight ones are aborted, no callbacks. */
void		 http_engine_free(struct http_engine *);
int		 http_engine_inflight(const struct http_engine *);

/*
 * A pool: one per endpoint, living as long as the engine. Names are unique
 * (a duplicate is fatal). max_connections <= 0: 64. max_rps <= 0: no limit;
 * otherwise a token bucket with a burst of 10 ms worth, at least one.
 * ca_file NULL: the system's CA store.
 */
struct http_pool *http_pool_new(struct http_engine *, const char *name,
		    int max_connections, double max_rps, int tls_verify,
		    const char *ca_file);
/*
 * Adapt the pool's rate to throttling answers (AIMD, below max_rps);
 * off, the limit is max_rps. New pools do not adapt.
 */
#define HTTP_AIMD_MIN_RPS	1.0	/* a halving never goes below */
#define HTTP_AIMD_LIFT_RPS	100.0	/* without max_rps, lifted above */
void		 http_pool_set_adaptive(struct http_pool *, int);
/*
 * The pool's time window now (cfg.h's [window]): rate < 0 none, 0 paused
 * (only one-shot requests start), else a limit in requests a second that
 * applies when lower than the pool's own; name the window's (kept).
 */
void		 http_pool_set_window(struct http_pool *, double,
		    const char *);
struct http_pool *http_pool_find(struct http_engine *, const char *);
const char	*http_pool_name(const struct http_pool *);
/* Iterate: first with NULL, then with the previous one; NULL at the end. */
struct http_pool *http_pool_next(struct http_engine *, struct http_pool *);

/* Requests. */
struct http_request *http_request_new(struct http_pool *, const char *method,
		    const char *url);
/*
 * Set, replace (name compared case-insensitively) or with a NULL value
 * remove a header. -1 when the name or value cannot be sent (empty name,
 * ':' in the name, CR, LF): nothing is changed.
 */
int		 http_request_header(struct http_request *, const char *,
		    const char *);
/* The body is copied. Retries resend it as is. */
void		 http_request_body_mem(struct http_request *, const void *,
		    size_t);
/* Streamed body of known length; without rewind_cb it is never retried. */
void		 http_request_body_cb(struct http_request *, uint64_t,
		    http_read_cb, http_rewind_cb, void *);
void		 http_request_sink_cb(struct http_request *, http_write_cb,
		    void *);
/* classify_cb NULL: http_classify_default. Any callback may be NULL. */
void		 http_request_set_cbs(struct http_request *, http_prepare_cb,
		    http_classify_cb, http_done_cb, void *);
void		 http_request_set_attempt_cb(struct http_request *,
		    http_attempt_cb);
/* Per-request overrides of the engine's options (0: keep the engine's). */
void		 http_request_set_max_attempts(struct http_request *, int);
void		 http_request_set_timeout(struct http_request *, uint64_t);
/*
 * Send the URL's path as given: no "/./" or "/../" removal. S3 keys may
 * hold such segments, and the signature covers the path as sent.
 */
void		 http_request_set_path_as_is(struct http_request *, int);
/*
 * A background request (an inventory run's) starts only when no
 * foreground request of its pool waits, and after every pool's foreground
 * requests have had their turn at a free slot; before its start only.
 */
void		 http_request_set_background(struct http_request *, int);
const char	*http_request_url(const struct http_request *);
const char	*http_request_method(const struct http_request *);
/*
 * Whether it is held by its pool's open (or half-open) breaker, or by a
 * time window that pauses the pool.
 */
int		 http_request_waiting(const struct http_request *);
void		 http_request_start(struct http_request *);
/* Abort and free at any stage; done_cb is not called. */
void		 http_request_cancel(struct http_request *);

/*
 * Connection, timeout and network errors, 429, 500, 502, 503, 504: retry;
 * everything else is final.
 */
enum http_verdict http_classify_default(const struct http_response *);

/* The sleep before retry number `retry` (0 first): uniform in [0, cap]. */
uint64_t	 http_backoff_ms(uint64_t base_ms, uint64_t max_ms, int retry,
		    uint64_t random);
/* "Retry-After" in its seconds form, in ms (capped); 0 if absent or a date. */
uint64_t	 http_retry_after_ms(const char *);

/* Statistics, per pool, for metrics.c. Counters count attempts. */
enum http_method {
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_PUT,
	HTTP_METHOD_POST,
	HTTP_METHOD_DELETE,
	HTTP_METHOD_OTHER,
	HTTP_METHOD_COUNT
};
/*
 * A pool's circuit breaker (http.c, docs/OUTAGES.md): closed, the queue
 * flows; open, the endpoint is unreachable and its requests wait, neither
 * sent nor spending attempts (one-shot requests, max_attempts 1, still go);
 * half-open, one waiting request goes as a probe. There is no time limit:
 * a request waits until the endpoint answers or its caller cancels it.
 */
enum http_breaker {
	HTTP_BREAKER_CLOSED,
	HTTP_BREAKER_OPEN,
	HTTP_BREAKER_HALF_OPEN,
	HTTP_BREAKER_COUNT
};

/* 0 is "no response"; then 1xx to 5xx by the first digit. */
#define HTTP_CLASS_COUNT	6
/* Latency bucket upper bounds in seconds; one more bucket is +Inf. */
#define HTTP_LATENCY_BUCKETS	14
extern const double http_latency_bounds[HTTP_LATENCY_BUCKETS];

struct http_pool_stats {
	uint64_t	 requests[HTTP_METHOD_COUNT][HTTP_CLASS_COUNT];
	uint64_t	 retries;		/* attempts after a first one */
	uint64_t	 errors[HTTP_ERR_COUNT];
	uint64_t	 connects;		/* new connections opened */
	uint64_t	 bytes_up;
	uint64_t	 bytes_down;
	/* Not cumulative: latency[i] counts attempts in (bound[i-1], bound[i]]. */
	uint64_t	 latency[HTTP_LATENCY_BUCKETS + 1];
	double		 latency_sum;		/* seconds */
	uint64_t	 latency_count;
	/* Gauges. */
	uint64_t	 inflight;
	uint64_t	 queued;		/* waiting for a connection or token */
	uint64_t	 backoff;		/* sleeping before a retry */
	/* The breaker. */
	enum http_breaker breaker;		/* now */
	uint64_t	 breaker_since_ms;	/* last change, epoch ms; 0: never */
	uint64_t	 breaker_opens;		/* times it opened */
	uint64_t	 parked;		/* attempts lost to an outage, uncounted */
	uint64_t	 waiting;		/* requests held while not closed */
	/* The rate. */
	double		 rate_limit;		/* requests/s now; 0: none */
	uint64_t	 throttled;		/* 429 and 503 answers */
	uint64_t	 rate_cuts;		/* halvings of the limit */
	double		 window_rate;		/* <0 none, 0 paused, /s */
	const char	*window;		/* its name; NULL: none */
};
/* The pool's statistics, its gauges brought up to date. */
const struct http_pool_stats *http_pool_stats(struct http_pool *);
const char	*http_method_name(enum http_method);
const char	*http_class_name(int);		/* "none", "1xx"... */
const char	*http_error_name(enum http_error);
const char	*http_breaker_name(enum http_breaker);	/* "half-open"... */

#endif /* HTTP_H */
