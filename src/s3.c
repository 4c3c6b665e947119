/*
 * The S3 request layer on top of the HTTP engine (http.c): a bucket
 * resolves to its endpoint, a call becomes one HTTP request whose target
 * is built once (S3's single encoding of keys, no path normalisation), whose
 * every attempt is signed afresh in prepare_cb, and whose every answer is
 * judged in classify_cb from S3's error document (or, for answers without
 * one, the status). See docs/S3.md.
 *
 * The daemon replaces its cfg on SIGHUP, so nothing here points into a cfg:
 * endpoints and credentials are our own reference-counted copies, and a
 * call holds a reference to the ones it started with.
 */
#include <sys/queue.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include "s3batchd.h"
#include "cfg.h"
#include "http.h"
#include "s3.h"
#include "s3xml.h"
#include "sigv4.h"

#define S3_SERVICE		"s3"
/* Error documents are a few hundred bytes; a bigger body is not one. */
#define S3_ERROR_DOC_MAX	(64 * 1024)
/* ETags are 32 hex digits, or that plus "-N" for multipart uploads. */
#define S3_ETAG_MAX		160

/* A set of credentials, shared by an endpoint or profile and its calls. */
struct s3_creds {
	int			 refs;
	char			*access_key_id;
	char			*secret_access_key;
	char			*session_token;		/* NULL: none */
};

/*
 * An HTTP pool and what it was made with. Pools live as long as the engine,
 * so these outlive configurations: a reload that keeps an endpoint's
 * connection settings keeps its pool (and its statistics and connections).
 */
struct s3_pool {
	char			*endpoint;		/* the endpoint's name */
	struct http_pool	*http;
	int			 max_connections;
	double			 rps;
	int			 adaptive;
	int			 tls_verify;
	char			*ca_file;
	int			 inflight;
	/* Server time minus ours, learnt from RequestTimeTooSkewed. */
	int64_t			 skew_ms;
	TAILQ_ENTRY(s3_pool)	 entry;
};
TAILQ_HEAD(s3_pools, s3_pool);

struct s3_endpoint {
	int			 refs;
	char			*name;
	int			 https;
	char			*host;		/* host[:port], the Host header */
	char			*base;		/* "" or "/base" */
	char			*region;
	int			 virtual_host;
	uint64_t		 timeout_ms;
	struct s3_creds		*creds;		/* NULL: none configured */
	struct s3_pool		*pool;
	/* Its time windows, in the order its windows key lists them. */
	struct s3_window	*windows;
	size_t			 nwindows;
	TAILQ_ENTRY(s3_endpoint) entry;
};
TAILQ_HEAD(s3_endpoints, s3_endpoint);

struct s3_window {
	char			*name;
	struct window		 w;
};

struct s3_bucket {
	char			*name;
	struct s3_endpoint	*ep;
};

struct s3_profile {
	char			*name;
	struct s3_creds		*creds;
};

/* What one configuration gives; swapped whole by s3_reconfigure. */
struct s3_conf {
	struct s3_endpoints	 endpoints;
	struct s3_endpoint	*default_ep;
	struct s3_bucket	*buckets;	/* sorted by name */
	size_t			 nbuckets;
	struct s3_profile	*profiles;
	size_t			 nprofiles;
	int			 max_attempts;
};

struct s3_call {
	struct s3		*s3;
	struct s3_endpoint	*ep;		/* NULL: no endpoint */
	struct s3_creds		*creds;
	struct http_request	*req;		/* NULL once done */
	struct event		*fail_ev;	/* a call failed before HTTP */
	TAILQ_ENTRY(s3_call)	 entry;
	int			 counted;	/* in its pool's inflight */
	int			 in_done;
	int			 judged;	/* attempt the fields below judge */

	s3_done_cb		 done_cb;
	s3_attempt_cb		 attempt_cb;
	void			*arg;
	int			 flags;

	/* What is signed; these point into the call's own block. */
	const char		*method;
	const char		*host;
	const char		*path;
	const char		*query;
	struct sigv4_header	*hdrs;
	size_t			 nhdrs;
	const char		*payload_hash;

	s3_read_cb		 stream_read;
	s3_rewind_cb		 stream_rewind;
	void			*stream_arg;
	s3_write_cb		 sink;
	void			*sink_arg;

	/* The verdict on the last attempt. */
	const char		*code;		/* static, or err_code */
	char			*err_code;
	char			*err_message;
	char			*err_request_id;
	char			*cause;		/* our own failures */
	char			 codebuf[16];
	char			 msgbuf[256];
	char			 etag[S3_ETAG_MAX];
	char			 hash[SIGV4_HEX_SIZE];
	char			 md5[32];	/* base64 of 16 bytes */
};
TAILQ_HEAD(s3_calls, s3_call);

struct s3 {
	struct event_base	*base;
	struct http_engine	*engine;
	struct s3_conf		*conf;
	struct s3_pools		 pools;
	struct s3_calls		 calls;
	int			 ncalls;
	/* Reused per call: no allocation for hashing or target building. */
	struct sigv4_sha256	*sha;
	EVP_MD_CTX		*md5;
	struct buf		 host;
	struct buf		 path;
	struct buf		 query;
	struct buf		 url;
	struct event		*ev_window;	/* each minute */
};

/*
 * Error codes and whether they are worth another attempt. Codes absent
 * here are judged by their status (s3_retry_statuses). A FINAL entry wins
 * over a retryable status.
 */
static const struct {
	const char	*code;
	int		 retry;
} s3_error_table[] = {
	/* Amazon's transient errors. */
	{ "SlowDown",			1 },
	{ "InternalError",		1 },
	{ "RequestTimeout",		1 },
	{ "ServiceUnavailable",		1 },
	{ "Throttling",			1 },
	{ "ThrottlingException",	1 },
	{ "RequestThrottled",		1 },
	{ "TooManyRequests",		1 },
	/* The next prepare_cb signs with a fresh (and corrected) time. */
	{ "RequestTimeTooSkewed",	1 },
	/* Our own, for failures without an S3 answer. */
	{ "ConnectionError",		1 },
	{ "Timeout",			1 },
	{ "TLSError",			0 },
	{ "NoSuchEndpoint",		0 },
	{ "NoCredentials",		0 },
	{ "InvalidResponse",		0 },
	{ "InvalidArgument",		0 },
	{ "Aborted",			0 },
	/*
	 * Credentials do not change during a call (a reload applies to the
	 * calls that start after it), so the same token would fail again.
	 */
	{ "ExpiredToken",		0 },
	{ "NotImplemented",		0 },
};

static const int s3_retry_statuses[] = { 429, 500, 502, 503, 504 };

/* Codes for answers without an error document (HEAD, empty bodies). */
static const struct {
	int		 status;
	const char	*code;
} s3_status_codes[] = {
	{ 301, "PermanentRedirect" },
	{ 302, "Found" },
	{ 304, "NotModified" },
	{ 307, "TemporaryRedirect" },
	{ 400, "BadRequest" },
	{ 401, "Unauthorized" },
	{ 403, "Forbidden" },
	{ 404, "NotFound" },
	{ 405, "MethodNotAllowed" },
	{ 409, "Conflict" },
	{ 411, "MissingContentLength" },
	{ 412, "PreconditionFailed" },
	{ 416, "InvalidRange" },
	{ 429, "TooManyRequests" },
	{ 500, "InternalError" },
	{ 501, "NotImplemented" },
	{ 502, "BadGateway" },
	{ 503, "ServiceUnavailable" },
	{ 504, "GatewayTimeout" },
};

/* What a failure below HTTP is called in a result. */
static const char *s3_transport_codes[HTTP_ERR_COUNT] = {
	[HTTP_ERR_NONE] =	NULL,
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

/* Headers the signer writes; a caller may not set them. */
static const char *s3_reserved_headers[] = {
	"Host", "Authorization", "X-Amz-Date", "x-amz-content-sha256",
	"X-Amz-Security-Token", "Content-Length", "Content-MD5"
};

static void	s3_call_free(struct s3_call *);

/* ---- tables */

int
s3_error_retryable(const char *code, int status)
{
	size_t	 i;

	if (code != NULL) {
		for (i = 0; i < nitems(s3_error_table); i++) {
			if (strcmp(s3_error_table[i].code, code) == 0)
				return (s3_error_table[i].retry);
		}
	}
	for (i = 0; i < nitems(s3_retry_statuses); i++) {
		if (s3_retry_statuses[i] == status)
			return (1);
	}
	return (0);
}

const char *
s3_status_code(int status)
{
	size_t	 i;

	for (i = 0; i < nitems(s3_status_codes); i++) {
		if (s3_status_codes[i].status == status)
			return (s3_status_codes[i].code);
	}
	return (NULL);
}

/* ---- targets: Host, path and query, as sent and as signed */

/* Split "scheme://host[:port][/base]". */
static int
s3_parse_url(const char *url, int *https, struct buf *host, struct buf *base,
    char **cause)
{
	const char	*p, *h, *slash;
	size_t		 len;

	if (strncasecmp(url, "http://", 7) == 0) {
		*https = 0;
		h = url + 7;
	} else if (strncasecmp(url, "https://", 8) == 0) {
		*https = 1;
		h = url + 8;
	} else {
		xasprintf(cause, "endpoint URL \"%s\" is not http:// or "
		    "https://", url);
		return (-1);
	}
	slash = strchr(h, '/');
	len = slash != NULL ? (size_t)(slash - h) : strlen(h);
	if (len == 0 || strcspn(h, "?#@ \t\r\n") < strlen(h)) {
		xasprintf(cause, "endpoint URL \"%s\": bad host, or a query, "
		    "fragment or user name", url);
		return (-1);
	}
	buf_reset(host);
	buf_add(host, h, len);
	buf_reset(base);
	if (slash != NULL) {
		len = strlen(slash);
		while (len > 0 && slash[len - 1] == '/')
			len--;
		buf_add(base, slash, len);
	}
	for (p = base->data; p != NULL && *p != '\0'; p++) {
		if (*p == '%' || !isprint((unsigned char)*p)) {
			xasprintf(cause, "endpoint URL \"%s\": the base path "
			    "must be plain characters", url);
			return (-1);
		}
	}
	if (base->data == NULL)
		buf_adds(base, "");
	return (0);
}

/*
 * A bucket that can be a DNS label under the endpoint's host; others are
 * addressed path-style even on a virtual-hosted endpoint, as Amazon's SDKs
 * do. Over TLS a dot would break the wildcard certificate.
 */
static int
s3_virtual_bucket(const char *b, int https)
{
	size_t	 len = strlen(b), i;

	if (len < 3 || len > 63)
		return (0);
	if (!isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[len - 1]))
		return (0);
	for (i = 0; i < len; i++) {
		if (b[i] == '.') {
			if (https || b[i + 1] == '.')
				return (0);
		} else if (!islower((unsigned char)b[i]) &&
		    !isdigit((unsigned char)b[i]) && b[i] != '-')
			return (0);
	}
	return (1);
}

static void
s3_target(const char *ephost, const char *base, int virtual_host, int https,
    const struct s3_request *r, struct buf *host, struct buf *path,
    struct buf *query)
{
	size_t	 klen;
	int	 vhost;

	buf_reset(host);
	buf_reset(path);
	buf_reset(query);
	vhost = virtual_host && r->bucket != NULL &&
	    s3_virtual_bucket(r->bucket, https);
	if (vhost) {
		buf_adds(host, r->bucket);
		buf_addc(host, '.');
	}
	buf_adds(host, ephost);

	buf_adds(path, base);
	buf_addc(path, '/');
	if (r->bucket != NULL && !vhost) {
		url_encode(path, r->bucket, strlen(r->bucket), 0);
		if (r->key != NULL)
			buf_addc(path, '/');
	}
	if (r->key != NULL) {
		klen = r->key_len != 0 ? r->key_len : strlen(r->key);
		/* Once, and as is: "a/./b", "a//b" and "dir/" are keys. */
		sigv4_encode_key(path, r->key, klen);
	}

	if (r->query != NULL && *r->query != '\0')
		buf_adds(query, r->query);
	if (r->version_id != NULL) {
		buf_adds(query, query->len != 0 ? "&versionId=" : "versionId=");
		url_encode(query, r->version_id, strlen(r->version_id), 0);
	}
	if (query->data == NULL)
		buf_adds(query, "");
}

static void
s3_url(struct buf *url, int https, const struct buf *host,
    const struct buf *path, const struct buf *query)
{
	buf_reset(url);
	buf_adds(url, https ? "https://" : "http://");
	buf_add(url, host->data, host->len);
	buf_add(url, path->data, path->len);
	if (query->len != 0) {
		buf_addc(url, '?');
		buf_add(url, query->data, query->len);
	}
}

int
s3_build_url(const char *endpoint_url, int virtual_host,
    const struct s3_request *r, struct buf *url, char **cause)
{
	struct buf	 ephost, base, host, path, query;
	int		 https, rc = -1;

	buf_init(&ephost);
	buf_init(&base);
	buf_init(&host);
	buf_init(&path);
	buf_init(&query);
	if (s3_parse_url(endpoint_url, &https, &ephost, &base, cause) != 0)
		goto out;
	s3_target(ephost.data, base.data, virtual_host, https, r, &host,
	    &path, &query);
	s3_url(url, https, &host, &path, &query);
	rc = 0;
out:
	buf_free(&ephost);
	buf_free(&base);
	buf_free(&host);
	buf_free(&path);
	buf_free(&query);
	return (rc);
}

/* ---- configuration: endpoints, credentials, buckets, profiles */

static struct s3_creds *
s3_creds_new(const struct cfg_credentials *c)
{
	struct s3_creds	*cr;

	if (c->access_key_id == NULL || *c->access_key_id == '\0' ||
	    c->secret_access_key == NULL || *c->secret_access_key == '\0')
		return (NULL);
	cr = xcalloc(1, sizeof *cr);
	cr->refs = 1;
	cr->access_key_id = xstrdup(c->access_key_id);
	/* Out of core dumps, like cfg's own copies (secret_strdup). */
	cr->secret_access_key = secret_strdup(c->secret_access_key);
	if (c->session_token != NULL && *c->session_token != '\0')
		cr->session_token = secret_strdup(c->session_token);
	return (cr);
}

static void
s3_creds_unref(struct s3_creds *cr)
{
	if (cr == NULL || --cr->refs > 0)
		return;
	freezero_str(cr->access_key_id);
	secret_free(cr->secret_access_key);
	secret_free(cr->session_token);
	explicit_wipe(cr, sizeof *cr);
	free(cr);
}

static void
s3_endpoint_unref(struct s3_endpoint *ep)
{
	if (ep == NULL || --ep->refs > 0)
		return;
	s3_creds_unref(ep->creds);
	while (ep->nwindows > 0)
		free(ep->windows[--ep->nwindows].name);
	free(ep->windows);
	free(ep->name);
	free(ep->host);
	free(ep->base);
	free(ep->region);
	free(ep);
}

static void
s3_conf_free(struct s3_conf *conf)
{
	struct s3_endpoint	*ep;
	size_t			 i;

	if (conf == NULL)
		return;
	while ((ep = TAILQ_FIRST(&conf->endpoints)) != NULL) {
		TAILQ_REMOVE(&conf->endpoints, ep, entry);
		s3_endpoint_unref(ep);
	}
	for (i = 0; i < conf->nbuckets; i++)
		free(conf->buckets[i].name);
	free(conf->buckets);
	for (i = 0; i < conf->nprofiles; i++) {
		free(conf->profiles[i].name);
		s3_creds_unref(conf->profiles[i].creds);
	}
	free(conf->profiles);
	free(conf);
}

static int
s3_same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/* The pool for an endpoint: the one it had if its settings are unchanged. */
static struct s3_pool *
s3_pool_get(struct s3 *s3, const struct cfg_endpoint *c)
{
	struct s3_pool	*pool;
	char		*name;
	int		 n;

	TAILQ_FOREACH(pool, &s3->pools, entry) {
		if (strcmp(pool->endpoint, c->name) == 0 &&
		    pool->max_connections == c->max_connections &&
		    pool->rps == c->max_requests_per_second &&
		    pool->adaptive == c->adaptive_rate &&
		    pool->tls_verify == c->tls_verify &&
		    s3_same_str(pool->ca_file, c->ca_file))
			return (pool);
	}
	/* http.c cannot change or drop a pool: a new one, under a new name. */
	name = xstrdup(c->name);
	for (n = 2; http_pool_find(s3->engine, name) != NULL; n++) {
		free(name);
		xasprintf(&name, "%s#%d", c->name, n);
	}
	pool = xcalloc(1, sizeof *pool);
	pool->endpoint = xstrdup(c->name);
	pool->max_connections = c->max_connections;
	pool->rps = c->max_requests_per_second;
	pool->adaptive = c->adaptive_rate;
	pool->tls_verify = c->tls_verify;
	pool->ca_file = c->ca_file != NULL ? xstrdup(c->ca_file) : NULL;
	pool->http = http_pool_new(s3->engine, name, c->max_connections,
	    c->max_requests_per_second, c->tls_verify, c->ca_file);
	http_pool_set_adaptive(pool->http, c->adaptive_rate);
	free(name);
	TAILQ_INSERT_TAIL(&s3->pools, pool, entry);
	return (pool);
}

static int
s3_bucket_cmp(const void *a, const void *b)
{
	const struct s3_bucket	*x = a, *y = b;

	return (strcmp(x->name, y->name));
}

static int
s3_profile_cmp(const void *a, const void *b)
{
	const struct s3_profile	*x = a, *y = b;

	return (strcmp(x->name, y->name));
}

/* The [window] sections an endpoint's windows key names (cfg.c checked). */
static void
s3_endpoint_windows(struct s3_endpoint *ep, const struct cfg *cfg,
    const char *names)
{
	const struct cfg_window	*cw;
	const char		*p;
	char			*one;
	size_t			 len;

	for (p = names; p != NULL && *p != '\0'; p += len) {
		p += strspn(p, " \t,");
		if ((len = strcspn(p, " \t,")) == 0)
			break;
		one = xstrndup(p, len);
		if ((cw = cfg_window_find(cfg, one)) != NULL) {
			ep->windows = xreallocarray(ep->windows,
			    ep->nwindows + 1, sizeof *ep->windows);
			ep->windows[ep->nwindows].name = xstrdup(cw->name);
			ep->windows[ep->nwindows].w = cw->w;
			ep->nwindows++;
		}
		free(one);
	}
}

/*
 * Each endpoint's pool gets the rate its first window holding the time
 * allows (none: full). Then again at the next minute, when windows open
 * and close, while any endpoint has windows.
 */
static void
s3_windows_apply(struct s3 *s3)
{
	struct s3_endpoint	*ep;
	struct timeval		 tv;
	time_t			 now = time(NULL);
	size_t			 i;
	int			 any = 0;

	TAILQ_FOREACH(ep, &s3->conf->endpoints, entry) {
		any |= ep->nwindows != 0;
		for (i = 0; i < ep->nwindows; i++) {
			if (window_contains(&ep->windows[i].w, now))
				break;
		}
		if (i < ep->nwindows)
			http_pool_set_window(ep->pool->http,
			    ep->windows[i].w.rate, ep->windows[i].name);
		else
			http_pool_set_window(ep->pool->http, -1, NULL);
	}
	/* Without windows, no timer: an idle loop stays idle. */
	evtimer_del(s3->ev_window);
	if (!any)
		return;
	tv.tv_sec = 60 - now % 60;
	tv.tv_usec = 0;
	evtimer_add(s3->ev_window, &tv);
}

static void
s3_window_cb(evutil_socket_t fd, short what, void *arg)
{
	s3_windows_apply(arg);
}

static struct s3_endpoint *
s3_conf_endpoint(struct s3_conf *conf, const char *name)
{
	struct s3_endpoint	*ep;

	TAILQ_FOREACH(ep, &conf->endpoints, entry) {
		if (strcmp(ep->name, name) == 0)
			return (ep);
	}
	return (NULL);
}

/* Copy what the calls need from a cfg; nothing changes on failure. */
static struct s3_conf *
s3_conf_new(struct s3 *s3, const struct cfg *cfg, char **cause)
{
	const struct cfg_endpoint	*c;
	const struct cfg_bucket		*cb;
	const struct cfg_profile	*cp;
	struct s3_conf			*conf;
	struct s3_endpoint		*ep;
	struct s3_creds			*cr;
	struct buf			 host, base;
	char				*why = NULL;
	size_t				 n;
	int				 https;

	conf = xcalloc(1, sizeof *conf);
	TAILQ_INIT(&conf->endpoints);
	conf->max_attempts = cfg->max_attempts;
	buf_init(&host);
	buf_init(&base);

	/* Check every URL before any pool is made. */
	TAILQ_FOREACH(c, &cfg->endpoints, entry) {
		if (s3_parse_url(c->url, &https, &host, &base, &why) != 0) {
			xasprintf(cause, "endpoint %s: %s", c->name, why);
			free(why);
			goto fail;
		}
	}
	TAILQ_FOREACH(c, &cfg->endpoints, entry) {
		ep = xcalloc(1, sizeof *ep);
		ep->refs = 1;
		ep->name = xstrdup(c->name);
		if (s3_parse_url(c->url, &ep->https, &host, &base, &why) != 0)
			fatalx("%s: %s", __func__, why);
		ep->host = xstrdup(host.data);
		ep->base = xstrdup(base.data);
		ep->region = xstrdup(c->region != NULL ? c->region :
		    "us-east-1");
		ep->virtual_host = c->addressing == CFG_ADDR_VIRTUAL;
		ep->timeout_ms = c->request_timeout_ms;
		ep->creds = s3_creds_new(&c->creds);
		ep->pool = s3_pool_get(s3, c);
		s3_endpoint_windows(ep, cfg, c->windows);
		TAILQ_INSERT_TAIL(&conf->endpoints, ep, entry);
	}
	conf->default_ep = s3_conf_endpoint(conf, "default");

	n = 0;
	TAILQ_FOREACH(cb, &cfg->buckets, entry)
		n++;
	conf->buckets = xcalloc(n != 0 ? n : 1, sizeof *conf->buckets);
	TAILQ_FOREACH(cb, &cfg->buckets, entry) {
		/* cfg.c checks the names; a bucket left without one resolves to nothing. */
		conf->buckets[conf->nbuckets].name = xstrdup(cb->name);
		conf->buckets[conf->nbuckets].ep = s3_conf_endpoint(conf,
		    cb->endpoint);
		conf->nbuckets++;
	}
	qsort(conf->buckets, conf->nbuckets, sizeof *conf->buckets,
	    s3_bucket_cmp);

	n = 0;
	TAILQ_FOREACH(cp, &cfg->profiles, entry)
		n++;
	conf->profiles = xcalloc(n != 0 ? n : 1, sizeof *conf->profiles);
	TAILQ_FOREACH(cp, &cfg->profiles, entry) {
		if ((cr = s3_creds_new(&cp->creds)) == NULL)
			continue;
		conf->profiles[conf->nprofiles].name = xstrdup(cp->name);
		conf->profiles[conf->nprofiles].creds = cr;
		conf->nprofiles++;
	}
	qsort(conf->profiles, conf->nprofiles, sizeof *conf->profiles,
	    s3_profile_cmp);

	buf_free(&host);
	buf_free(&base);
	return (conf);

fail:
	buf_free(&host);
	buf_free(&base);
	s3_conf_free(conf);
	return (NULL);
}

static struct s3_endpoint *
s3_resolve(struct s3 *s3, const char *bucket)
{
	struct s3_conf		*conf = s3->conf;
	struct s3_bucket	 key, *b;

	if (bucket != NULL && conf->nbuckets != 0) {
		key.name = (char *)(uintptr_t)bucket;
		b = bsearch(&key, conf->buckets, conf->nbuckets,
		    sizeof *conf->buckets, s3_bucket_cmp);
		if (b != NULL)
			return (b->ep);
	}
	return (conf->default_ep);
}

/*
 * The credentials a call signs with: the profile a RoleArn names (by the
 * rule of cfg_profile_for_role: the role's last path component), else the
 * endpoint's own. A RoleArn without a profile falls back to the endpoint's
 * credentials, so that job specs written for Amazon run unchanged.
 */
static struct s3_creds *
s3_creds_for(struct s3 *s3, struct s3_endpoint *ep, const char *role_arn)
{
	struct s3_conf		*conf = s3->conf;
	struct s3_profile	 key, *p;
	const char		*role, *name;

	if (role_arn != NULL && conf->nprofiles != 0 &&
	    strncmp(role_arn, "arn:", 4) == 0 &&
	    (role = strstr(role_arn, ":role/")) != NULL) {
		name = strrchr(role, '/') + 1;
		key.name = (char *)(uintptr_t)name;
		p = bsearch(&key, conf->profiles, conf->nprofiles,
		    sizeof *conf->profiles, s3_profile_cmp);
		if (p != NULL)
			return (p->creds);
	}
	return (ep->creds);
}

static uint64_t
s3_connect_timeout(const struct cfg *cfg, uint64_t dflt)
{
	const struct cfg_endpoint	*c;
	uint64_t			 max = 0;

	/* http.c has one connect timeout: the most generous endpoint's. */
	TAILQ_FOREACH(c, &cfg->endpoints, entry) {
		if (c->connect_timeout_ms > max)
			max = c->connect_timeout_ms;
	}
	return (max != 0 ? max : dflt);
}

struct s3 *
s3_new(struct event_base *base, const struct cfg *cfg, char **cause)
{
	struct http_engine_opts	 opts;
	struct s3		*s3;

	http_engine_opts_default(&opts);
	if (cfg->max_inflight > 0)
		opts.max_inflight = cfg->max_inflight;
	if (cfg->max_attempts > 0)
		opts.max_attempts = cfg->max_attempts;
	if (cfg->retry_base_ms != 0)
		opts.retry_base_ms = cfg->retry_base_ms;
	if (cfg->retry_max_ms != 0)
		opts.retry_max_ms = cfg->retry_max_ms;
	opts.connect_timeout_ms = s3_connect_timeout(cfg,
	    opts.connect_timeout_ms);

	s3 = xcalloc(1, sizeof *s3);
	s3->base = base;
	TAILQ_INIT(&s3->pools);
	TAILQ_INIT(&s3->calls);
	buf_init(&s3->host);
	buf_init(&s3->path);
	buf_init(&s3->query);
	buf_init(&s3->url);
	s3->engine = http_engine_new(base, &opts);
	s3->sha = sigv4_sha256_new();
	if ((s3->md5 = EVP_MD_CTX_new()) == NULL)
		fatalx("%s: out of memory", __func__);
	if ((s3->ev_window = evtimer_new(base, s3_window_cb, s3)) == NULL)
		fatalx("%s: evtimer_new failed", __func__);
	if ((s3->conf = s3_conf_new(s3, cfg, cause)) == NULL) {
		s3_free(s3);
		return (NULL);
	}
	s3_windows_apply(s3);
	return (s3);
}

int
s3_reconfigure(struct s3 *s3, const struct cfg *cfg, char **cause)
{
	struct s3_conf	*conf;

	if ((conf = s3_conf_new(s3, cfg, cause)) == NULL)
		return (-1);
	/* Calls in flight hold references to what they use. */
	s3_conf_free(s3->conf);
	s3->conf = conf;
	/* Keys derived from secrets that may be gone. */
	sigv4_cache_clear();
	s3_windows_apply(s3);
	return (0);
}

void
s3_free(struct s3 *s3)
{
	struct s3_call	*call;
	struct s3_pool	*pool;

	if (s3 == NULL)
		return;
	/* The engine drops the requests, without callbacks. */
	while ((call = TAILQ_FIRST(&s3->calls)) != NULL) {
		call->req = NULL;
		s3_call_free(call);
	}
	http_engine_free(s3->engine);
	if (s3->ev_window != NULL)
		event_free(s3->ev_window);
	s3_conf_free(s3->conf);
	while ((pool = TAILQ_FIRST(&s3->pools)) != NULL) {
		TAILQ_REMOVE(&s3->pools, pool, entry);
		free(pool->endpoint);
		free(pool->ca_file);
		free(pool);
	}
	sigv4_sha256_free(s3->sha);
	EVP_MD_CTX_free(s3->md5);
	buf_free(&s3->host);
	buf_free(&s3->path);
	buf_free(&s3->query);
	buf_free(&s3->url);
	free(s3);
}

/* ---- judging answers */

static void
s3_call_clear_error(struct s3_call *call)
{
	call->code = NULL;
	free(call->err_code);
	free(call->err_message);
	free(call->err_request_id);
	call->err_code = call->err_message = call->err_request_id = NULL;
	call->msgbuf[0] = '\0';
}

/* Whether a body's root element is <Error> (a 200 may carry one). */
static int
s3_body_is_error(const char *p, size_t len)
{
	const char	*end = p + len, *q;

	for (;;) {
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (end - p < 2 || *p != '<')
			return (0);
		if (p[1] != '?' && p[1] != '!')
			break;
		/* The XML declaration, or a comment. */
		if ((q = memchr(p, '>', (size_t)(end - p))) == NULL)
			return (0);
		p = q + 1;
	}
	return (end - p > 6 && memcmp(p, "<Error", 6) == 0 &&
	    (p[6] == '>' || p[6] == '/' || isspace((unsigned char)p[6])));
}

static char *
s3_buf_take(struct buf *b)
{
	if (b->len == 0)
		return (NULL);
	return (buf_detach(b));
}

/* Take code, message and request id from an error document. */
static int
s3_parse_error_doc(struct s3_call *call, const struct buf *body)
{
	struct s3xml_error	 e;
	const char		*p = body->data;
	size_t			 len = body->len;
	int			 rc = -1;

	/* Keep-alive blanks may come before the document (CopyObject). */
	while (len > 0 && isspace((unsigned char)*p)) {
		p++;
		len--;
	}
	if (len == 0 || len > S3_ERROR_DOC_MAX)
		return (-1);
	memset(&e, 0, sizeof e);
	if (s3xml_parse_error(p, len, &e, NULL) == 0 &&
	    e.code.len != 0) {
		call->err_code = s3_buf_take(&e.code);
		call->err_message = s3_buf_take(&e.message);
		call->err_request_id = s3_buf_take(&e.request_id);
		call->code = call->err_code;
		rc = 0;
	}
	s3xml_error_free(&e);
	return (rc);
}

/* Fill the call's verdict fields from one attempt's answer. */
static void
s3_judge(struct s3_call *call, const struct http_response *resp)
{
	int	 status = resp->status;

	s3_call_clear_error(call);
	call->judged = resp->attempts;

	if (resp->error != HTTP_ERR_NONE) {
		if (resp->error == HTTP_ERR_PREPARE && call->cause != NULL) {
			call->code = call->codebuf;
			snprintf(call->msgbuf, sizeof call->msgbuf, "%s",
			    call->cause);
			return;
		}
		call->code = (unsigned)resp->error < HTTP_ERR_COUNT ?
		    s3_transport_codes[resp->error] : "ConnectionError";
		if (call->code == NULL)
			call->code = "ConnectionError";
		snprintf(call->msgbuf, sizeof call->msgbuf, "%s",
		    resp->error_text);
		return;
	}
	if (status >= 200 && status < 300) {
		if ((call->flags & S3_ERROR_IN_200) &&
		    s3_body_is_error(resp->body.data, resp->body.len) &&
		    s3_parse_error_doc(call, &resp->body) != 0) {
			call->code = "InvalidResponse";
			snprintf(call->msgbuf, sizeof call->msgbuf,
			    "unreadable error document in a %d answer",
			    status);
		}
		return;
	}
	if (s3_parse_error_doc(call, &resp->body) == 0)
		return;
	/* HEAD, an empty body, or a proxy's HTML page. */
	if ((call->code = s3_status_code(status)) == NULL) {
		snprintf(call->codebuf, sizeof call->codebuf, "Http%d", status);
		call->code = call->codebuf;
	}
}

/* Learn the server's clock from its Date header, to sign with it. */
static void
s3_learn_skew(struct s3_call *call, const struct http_response *resp)
{
	struct s3_pool	*pool = call->ep->pool;
	uint64_t	 server;
	int64_t		 skew;

	if (time_parse_http(http_response_header(resp, "Date"),
	    &server) != 0)
		return;
	skew = (int64_t)(server - time_now_ms());
	if (skew / 1000 != pool->skew_ms / 1000)
		log_warnx("s3: endpoint %s: the server's clock is %lld s "
		    "from ours; signing with the server's time", call->ep->name,
		    (long long)(skew / 1000));
	pool->skew_ms = skew;
}

/* ---- HTTP callbacks */

static int
s3_prepare_cb(struct http_request *req, int attempt, void *arg)
{
	struct s3_call		*call = arg;
	struct sigv4_request	 sr;
	struct sigv4_creds	 sc;
	struct sigv4_params	 sp;
	struct sigv4_signed	 out;
	size_t			 i;
	char			*cause = NULL;

	memset(&sr, 0, sizeof sr);
	sr.method = call->method;
	sr.host = call->host;
	sr.path = call->path;
	sr.query = call->query;
	sr.headers = call->hdrs;
	sr.nheaders = call->nhdrs;
	sr.payload_hash = call->payload_hash;
	memset(&sc, 0, sizeof sc);
	sc.access_key_id = call->creds->access_key_id;
	sc.secret_access_key = call->creds->secret_access_key;
	sc.session_token = call->creds->session_token;
	memset(&sp, 0, sizeof sp);
	sp.region = call->ep->region;
	sp.service = S3_SERVICE;
	/* Every attempt: a retry must not carry a stale X-Amz-Date. */
	sp.time_ms = time_now_ms() + (uint64_t)call->ep->pool->skew_ms;
	sp.s3 = 1;
	if (sigv4_sign(&sr, &sc, &sp, &out, &cause) != 0) {
		free(call->cause);
		call->cause = cause;
		snprintf(call->codebuf, sizeof call->codebuf, "%s",
		    "InvalidArgument");
		return (-1);
	}
	for (i = 0; i < out.nheaders; i++) {
		if (http_request_header(req, out.headers[i].name,
		    out.headers[i].value) != 0) {
			free(call->cause);
			xasprintf(&call->cause, "signed header %s cannot be "
			    "sent", out.headers[i].name);
			snprintf(call->codebuf, sizeof call->codebuf, "%s",
			    "InvalidArgument");
			sigv4_signed_free(&out);
			return (-1);
		}
	}
	sigv4_signed_free(&out);
	return (0);
}

static enum http_verdict
s3_classify_cb(struct http_request *req, const struct http_response *resp,
    void *arg)
{
	struct s3_call	*call = arg;

	s3_judge(call, resp);
	if (call->flags & S3_NO_RETRY)
		return (HTTP_FINAL);
	/* curl's codes tell a refused connection from a bad certificate. */
	if (resp->error != HTTP_ERR_NONE)
		return (http_classify_default(resp));
	if (call->code == NULL)
		return (HTTP_FINAL);
	if (strcmp(call->code, "RequestTimeTooSkewed") == 0)
		s3_learn_skew(call, resp);
	return (s3_error_retryable(call->code, resp->status) ?
	    HTTP_RETRY : HTTP_FINAL);
}

static void
s3_result_fill(struct s3_call *call, const struct http_response *resp,
    struct s3_result *r)
{
	const char	*v;
	size_t		 len;
	char		*end;
	long long	 cl;

	memset(r, 0, sizeof *r);
	r->content_length = -1;
	r->endpoint = call->ep != NULL ? call->ep->name : NULL;
	r->error_code = call->code;
	if (call->code != NULL) {
		if (call->err_message != NULL)
			r->error_message = call->err_message;
		else if (call->msgbuf[0] != '\0')
			r->error_message = call->msgbuf;
		else {
			/* RGW often sends an empty <Message>. */
			snprintf(call->msgbuf, sizeof call->msgbuf,
			    "HTTP %d", resp != NULL ? resp->status : 0);
			r->error_message = call->msgbuf;
		}
	}
	if (resp == NULL)
		return;
	r->status = resp->status;
	r->attempts = resp->attempts;
	r->http = resp;
	r->request_id = call->err_request_id != NULL ? call->err_request_id :
	    http_response_header(resp, "x-amz-request-id");
	if ((v = http_response_header(resp, "ETag")) != NULL) {
		len = strlen(v);
		if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
			v++;
			len -= 2;
		}
		if (len < sizeof call->etag) {
			memcpy(call->etag, v, len);
			call->etag[len] = '\0';
			r->etag = call->etag;
		} else
			r->etag = v;
	}
	r->version_id = http_response_header(resp, "x-amz-version-id");
	if ((v = http_response_header(resp, "Content-Length")) != NULL &&
	    isdigit((unsigned char)*v)) {
		cl = strtoll(v, &end, 10);
		if (*end == '\0' && cl >= 0)
			r->content_length = cl;
	}
}

static void
s3_http_attempt_cb(struct http_request *req, const struct http_response *resp,
    enum http_verdict verdict, uint64_t delay_ms, void *arg)
{
	struct s3_call		*call = arg;
	struct s3_result	 r;

	if (call->attempt_cb == NULL)
		return;
	if (call->judged != resp->attempts)
		s3_judge(call, resp);
	s3_result_fill(call, resp, &r);
	/* The callback may cancel the call: nothing after this. */
	call->attempt_cb(&r, verdict == HTTP_RETRY, call->arg);
}

static void
s3_http_done_cb(struct http_request *req, struct http_response *resp,
    void *arg)
{
	struct s3_call		*call = arg;
	struct s3_result	 r;

	call->req = NULL;	/* http.c frees it when this returns */
	/* A failure before any answer skips classify_cb. */
	if (call->judged != resp->attempts || resp->error == HTTP_ERR_PREPARE)
		s3_judge(call, resp);
	s3_result_fill(call, resp, &r);
	call->in_done = 1;
	if (call->done_cb != NULL)
		call->done_cb(&r, call->arg);
	s3_call_free(call);
}

static ssize_t
s3_read_cb_tramp(void *buf, size_t len, void *arg)
{
	struct s3_call	*call = arg;

	return (call->stream_read(buf, len, call->stream_arg));
}

static int
s3_rewind_cb_tramp(void *arg)
{
	struct s3_call	*call = arg;

	return (call->stream_rewind(call->stream_arg));
}

static int
s3_sink_cb_tramp(uint64_t off, const void *data, size_t len, void *arg)
{
	struct s3_call	*call = arg;

	return (call->sink(off, data, len, call->sink_arg));
}

/* ---- calls */

static void
s3_call_free(struct s3_call *call)
{
	struct s3	*s3 = call->s3;

	TAILQ_REMOVE(&s3->calls, call, entry);
	s3->ncalls--;
	if (call->counted)
		call->ep->pool->inflight--;
	if (call->fail_ev != NULL)
		event_free(call->fail_ev);
	s3_call_clear_error(call);
	free(call->cause);
	s3_creds_unref(call->creds);
	s3_endpoint_unref(call->ep);
	free(call);
}

static void
s3_fail_cb(evutil_socket_t fd, short what, void *arg)
{
	struct s3_call		*call = arg;
	struct s3_result	 r;

	s3_result_fill(call, NULL, &r);
	call->in_done = 1;
	if (call->done_cb != NULL)
		call->done_cb(&r, call->arg);
	s3_call_free(call);
}

/* Complete a call that never reached HTTP, from the loop, not from here. */
static struct s3_call *s3_call_fail(struct s3_call *, const char *,
    const char *, ...) printflike(3, 4);

static struct s3_call *
s3_call_fail(struct s3_call *call, const char *code, const char *fmt, ...)
{
	struct timeval	 tv = { 0, 0 };
	va_list		 ap;

	call->code = code;
	va_start(ap, fmt);
	vsnprintf(call->msgbuf, sizeof call->msgbuf, fmt, ap);
	va_end(ap);
	if ((call->fail_ev = evtimer_new(call->s3->base, s3_fail_cb,
	    call)) == NULL)
		fatalx("%s: evtimer_new failed", __func__);
	evtimer_add(call->fail_ev, &tv);
	return (call);
}

static int
s3_header_reserved(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(s3_reserved_headers); i++) {
		if (strcasecmp(name, s3_reserved_headers[i]) == 0)
			return (1);
	}
	return (0);
}

static char *
s3_block_put(char **p, const char *s, size_t len)
{
	char	*d = *p;

	memcpy(d, s, len);
	d[len] = '\0';
	*p += len + 1;
	return (d);
}

static struct s3_call *
s3_call_alloc(struct s3 *s3, struct s3_endpoint *ep, size_t extra,
    s3_done_cb done_cb, void *arg)
{
	struct s3_call	*call;

	call = xcalloc(1, sizeof *call + extra);
	call->s3 = s3;
	call->done_cb = done_cb;
	call->arg = arg;
	if ((call->ep = ep) != NULL)
		ep->refs++;
	TAILQ_INSERT_TAIL(&s3->calls, call, entry);
	s3->ncalls++;
	return (call);
}

static struct s3_call *
s3_call_start(struct s3 *s3, struct s3_endpoint *ep, struct s3_creds *creds,
    const struct s3_request *r, s3_done_cb done_cb, void *arg)
{
	struct s3_call		*call;
	struct http_request	*req;
	const char		*method = r->method != NULL ? r->method : "GET";
	const int		 stream = r->stream_read != NULL;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0;
	size_t			 nh, extra, i;
	char			*p;
	int			 md5 = (r->flags & S3_CONTENT_MD5) != 0;

	if (ep == NULL) {
		call = s3_call_alloc(s3, NULL, 0, done_cb, arg);
		return (s3_call_fail(call, "NoSuchEndpoint", "bucket %s has "
		    "no endpoint and there is no default one",
		    r->bucket != NULL ? r->bucket : "(none)"));
	}
	if (creds == NULL) {
		call = s3_call_alloc(s3, ep, 0, done_cb, arg);
		return (s3_call_fail(call, "NoCredentials", "endpoint %s has "
		    "no credentials", ep->name));
	}
	if ((stream && (r->body_len != 0 || md5)) ||
	    (r->body == NULL && r->body_len != 0)) {
		call = s3_call_alloc(s3, ep, 0, done_cb, arg);
		return (s3_call_fail(call, "InvalidArgument", "%s",
		    stream ? "a streamed body with a memory body or "
		    "Content-MD5" : "a body length without a body"));
	}
	for (i = 0; i < r->nheaders; i++) {
		if (r->headers[i].name != NULL &&
		    s3_header_reserved(r->headers[i].name)) {
			call = s3_call_alloc(s3, ep, 0, done_cb, arg);
			return (s3_call_fail(call, "InvalidArgument",
			    "header %.32s is set by the S3 layer",
			    r->headers[i].name));
		}
	}

	s3_target(ep->host, ep->base, ep->virtual_host, ep->https, r,
	    &s3->host, &s3->path, &s3->query);

	/* One block: the call, the headers to sign, and their strings. */
	nh = 0;
	extra = strlen(method) + 1 + s3->host.len + 1 + s3->path.len + 1 +
	    s3->query.len + 1;
	for (i = 0; i < r->nheaders; i++) {
		if (r->headers[i].name == NULL || r->headers[i].value == NULL)
			continue;
		extra += strlen(r->headers[i].name) + 1 +
		    strlen(r->headers[i].value) + 1;
		nh++;
	}
	if (md5)
		nh++;
	extra += nh * sizeof(struct sigv4_header);
	call = s3_call_alloc(s3, ep, extra, done_cb, arg);
	call->creds = creds;
	creds->refs++;
	call->flags = r->flags;
	call->hdrs = (struct sigv4_header *)(call + 1);
	p = (char *)(call->hdrs + nh);
	call->method = s3_block_put(&p, method, strlen(method));
	call->host = s3_block_put(&p, s3->host.data, s3->host.len);
	call->path = s3_block_put(&p, s3->path.data, s3->path.len);
	call->query = s3_block_put(&p, s3->query.data, s3->query.len);
	for (i = 0; i < r->nheaders; i++) {
		if (r->headers[i].name == NULL || r->headers[i].value == NULL)
			continue;
		call->hdrs[call->nhdrs].name = s3_block_put(&p,
		    r->headers[i].name, strlen(r->headers[i].name));
		call->hdrs[call->nhdrs].value = s3_block_put(&p,
		    r->headers[i].value, strlen(r->headers[i].value));
		call->nhdrs++;
	}

	/* The body's digests, once per call whatever the attempts. */
	if (stream || (r->flags & S3_UNSIGNED_PAYLOAD))
		call->payload_hash = SIGV4_UNSIGNED_PAYLOAD;
	else if (r->body_len == 0)
		call->payload_hash = SIGV4_EMPTY_SHA256;
	else {
		sigv4_sha256_update(s3->sha, r->body, r->body_len);
		sigv4_sha256_final(s3->sha, NULL, call->hash);
		call->payload_hash = call->hash;
	}
	if (md5) {
		if (EVP_DigestInit_ex(s3->md5, EVP_md5(), NULL) != 1 ||
		    EVP_DigestUpdate(s3->md5, r->body != NULL ? r->body : "",
		    r->body_len) != 1 ||
		    EVP_DigestFinal_ex(s3->md5, md, &mdlen) != 1)
			fatalx("%s: MD5 failed", __func__);
		EVP_EncodeBlock((unsigned char *)call->md5, md, (int)mdlen);
		call->hdrs[call->nhdrs].name = "Content-MD5";
		call->hdrs[call->nhdrs].value = call->md5;
		call->nhdrs++;
	}

	s3_url(&s3->url, ep->https, &s3->host, &s3->path, &s3->query);
	req = http_request_new(ep->pool->http, method, s3->url.data);
	http_request_set_path_as_is(req, 1);
	http_request_set_background(req, (r->flags & S3_BACKGROUND) != 0);
	/* The Host signed is the Host sent, whatever curl would make of it. */
	http_request_header(req, "Host", call->host);
	for (i = 0; i < call->nhdrs; i++) {
		if (http_request_header(req, call->hdrs[i].name,
		    call->hdrs[i].value) != 0) {
			http_request_cancel(req);
			return (s3_call_fail(call, "InvalidArgument",
			    "header %.32s cannot be sent",
			    call->hdrs[i].name));
		}
	}
	if (stream) {
		call->stream_read = r->stream_read;
		call->stream_rewind = r->stream_rewind;
		call->stream_arg = r->stream_arg;
		http_request_body_cb(req, r->stream_len, s3_read_cb_tramp,
		    r->stream_rewind != NULL ? s3_rewind_cb_tramp : NULL, call);
	} else if (r->body_len != 0)
		http_request_body_mem(req, r->body, r->body_len);
	if (r->sink != NULL) {
		call->sink = r->sink;
		call->sink_arg = r->sink_arg;
		http_request_sink_cb(req, s3_sink_cb_tramp, call);
	}
	http_request_set_cbs(req, s3_prepare_cb, s3_classify_cb,
	    s3_http_done_cb, call);
	if (r->flags & S3_NO_RETRY)
		http_request_set_max_attempts(req, 1);
	else if (r->max_attempts > 0)
		http_request_set_max_attempts(req, r->max_attempts);
	else
		http_request_set_max_attempts(req, s3->conf->max_attempts);
	http_request_set_timeout(req, r->timeout_ms != 0 ? r->timeout_ms :
	    ep->timeout_ms);
	call->req = req;
	call->counted = 1;
	ep->pool->inflight++;
	http_request_start(req);
	return (call);
}

struct s3_call *
s3_call(struct s3 *s3, const struct s3_request *r, s3_done_cb done_cb,
    void *arg)
{
	struct s3_endpoint	*ep;

	ep = s3_resolve(s3, r->bucket);
	return (s3_call_start(s3, ep,
	    ep != NULL ? s3_creds_for(s3, ep, r->role_arn) : NULL, r,
	    done_cb, arg));
}

struct s3_call *
s3_check_endpoint(struct s3 *s3, const char *name, s3_done_cb done_cb,
    void *arg)
{
	struct s3_endpoint	*ep;
	struct s3_request	 r;

	memset(&r, 0, sizeof r);
	r.method = "GET";
	r.flags = S3_NO_RETRY;
	ep = name != NULL ? s3_conf_endpoint(s3->conf, name) : NULL;
	return (s3_call_start(s3, ep, ep != NULL ? ep->creds : NULL, &r,
	    done_cb, arg));
}

void
s3_call_set_attempt_cb(struct s3_call *call, s3_attempt_cb cb)
{
	call->attempt_cb = cb;
	if (call->req != NULL)
		http_request_set_attempt_cb(call->req,
		    cb != NULL ? s3_http_attempt_cb : NULL);
}

void
s3_call_cancel(struct s3_call *call)
{
	if (call == NULL || call->in_done)
		return;		/* from its done_cb: freed when that returns */
	if (call->req != NULL)
		http_request_cancel(call->req);
	call->req = NULL;
	s3_call_free(call);
}

/* ---- queries */

struct http_engine *
s3_http_engine(struct s3 *s3)
{
	return (s3->engine);
}

const char *
s3_bucket_endpoint(struct s3 *s3, const char *bucket)
{
	struct s3_endpoint	*ep;

	ep = s3_resolve(s3, bucket);
	return (ep != NULL ? ep->name : NULL);
}

int
s3_inflight(struct s3 *s3, const char *name)
{
	struct s3_pool	*pool;
	int		 n = 0;

	if (name == NULL)
		return (s3->ncalls);
	TAILQ_FOREACH(pool, &s3->pools, entry) {
		if (strcmp(pool->endpoint, name) == 0)
			n += pool->inflight;
	}
	return (n);
}

const struct http_pool_stats *
s3_endpoint_stats(struct s3 *s3, size_t i, const char **name)
{
	struct s3_endpoint	*ep;

	TAILQ_FOREACH(ep, &s3->conf->endpoints, entry) {
		if (i-- == 0) {
			if (name != NULL)
				*name = ep->name;
			return (http_pool_stats(ep->pool->http));
		}
	}
	return (NULL);
}

int
s3_endpoint_state(struct s3 *s3, size_t i, struct s3_endpoint_state *es)
{
	const struct http_pool_stats	*st;
	const char			*name;

	if ((st = s3_endpoint_stats(s3, i, &name)) == NULL)
		return (-1);
	memset(es, 0, sizeof *es);
	es->name = name;
	es->breaker = http_breaker_name(st->breaker);
	es->since_ms = st->breaker_since_ms;
	es->waiting = st->waiting;
	es->opens = st->breaker_opens;
	es->parked = st->parked;
	es->rate_limit = st->rate_limit;
	es->throttled = st->throttled;
	es->rate_cuts = st->rate_cuts;
	es->window = st->window;
	es->window_rate = st->window_rate;
	return (0);
}

int
s3_call_waiting(const struct s3_call *call)
{
	return (call != NULL && call->req != NULL &&
	    http_request_waiting(call->req));
}

int
s3_error_unreachable(const char *code)
{
	return (code != NULL && (strcmp(code, "ConnectionError") == 0 ||
	    strcmp(code, "Timeout") == 0));
}

const char *
s3_result_header(const struct s3_result *r, const char *name)
{
	if (r == NULL || r->http == NULL)
		return (NULL);
	return (http_response_header(r->http, name));
}
