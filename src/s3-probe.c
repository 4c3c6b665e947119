/*
 * s3-probe: an endpoint's capabilities, from a fixed sequence of S3 calls
 * on scratch objects (see s3-probe.h for the contract).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "s3batchd.h"
#include "http.h"
#include "s3.h"
#include "s3-probe.h"
#include "s3xml.h"

#define PROBE_PREFIX	".s3batchd-probe/"
#define PROBE_BODY	"s3batchd capability probe\n"
/* A quoted ETag no object has: a copy conditioned on it must fail. */
#define PROBE_WRONG_ETAG "\"00000000000000000000000000000000\""
#define PROBE_MAX_MADE	64
/*
 * Per call: a probe must not hang check-endpoint on a dead server. One
 * attempt: a one-shot call is never held by an open circuit breaker
 * (docs/OUTAGES.md), and an answer that a retry might have changed (5xx,
 * no answer) is UNKNOWN, which refuses nothing.
 */
#define PROBE_TIMEOUT_MS 15000
#define PROBE_ATTEMPTS	1

static const struct {
	const char	*name;
	const char	*what;
	const char	*storage_class;		/* for the S3_CAP_SC_* rows */
} s3_caps_table[S3_NCAPS] = {
	[S3_CAP_TAGGING] = { "Tagging", "object tagging", NULL },
	[S3_CAP_ACL] = { "ObjectAcl", "object ACLs", NULL },
	[S3_CAP_VERSIONING] = { "Versioning", "bucket versioning", NULL },
	[S3_CAP_OBJECT_LOCK] = { "ObjectLock", "Object Lock", NULL },
	[S3_CAP_REPLICATION] = { "Replication",
	    "bucket replication configurations", NULL },
	[S3_CAP_RESTORE] = { "RestoreObject", "restoring archived objects",
	    NULL },
	[S3_CAP_SSE_S3] = { "SSE-S3", "server-side encryption (SSE-S3)",
	    NULL },
	[S3_CAP_SSE_KMS] = { "SSE-KMS",
	    "server-side encryption with KMS keys (SSE-KMS)", NULL },
	[S3_CAP_PART_NUMBER] = { "HeadPartNumber",
	    "HEAD ?partNumber= on multipart objects", NULL },
	[S3_CAP_COPY_IF_MATCH_MPU] = { "CopySourceIfMatchMultipart",
	    "x-amz-copy-source-if-match on multipart-uploaded sources", NULL },
	[S3_CAP_COPY_SOURCE_IF_MATCH] = { "CopySourceIfMatch",
	    "x-amz-copy-source-if-match", NULL },
	[S3_CAP_COPY_IF_MATCH_RGW] = { "CopyIfMatch",
	    "RGW's x-amz-copy-if-match", NULL },
	[S3_CAP_SC_REDUCED_REDUNDANCY] = { "StorageClass.REDUCED_REDUNDANCY",
	    "storage class REDUCED_REDUNDANCY", "REDUCED_REDUNDANCY" },
	[S3_CAP_SC_STANDARD_IA] = { "StorageClass.STANDARD_IA",
	    "storage class STANDARD_IA", "STANDARD_IA" },
	[S3_CAP_SC_ONEZONE_IA] = { "StorageClass.ONEZONE_IA",
	    "storage class ONEZONE_IA", "ONEZONE_IA" },
	[S3_CAP_SC_INTELLIGENT_TIERING] = {
	    "StorageClass.INTELLIGENT_TIERING",
	    "storage class INTELLIGENT_TIERING", "INTELLIGENT_TIERING" },
	[S3_CAP_SC_GLACIER] = { "StorageClass.GLACIER",
	    "storage class GLACIER", "GLACIER" },
	[S3_CAP_SC_DEEP_ARCHIVE] = { "StorageClass.DEEP_ARCHIVE",
	    "storage class DEEP_ARCHIVE", "DEEP_ARCHIVE" },
	[S3_CAP_SC_GLACIER_IR] = { "StorageClass.GLACIER_IR",
	    "storage class GLACIER_IR", "GLACIER_IR" },
};

struct s3_probe {
	struct s3		*s3;
	struct s3_caps		*caps;
	char			*prefix;
	size_t			 step;
	struct s3_call		*call;
	struct event		*defer;		/* a failure before any call */
	char			*error;
	s3_probe_done_cb	 done_cb;
	void			*arg;
	uint64_t		 t0;

	char			*plain_etag;
	char			*upload_id;
	char			*part_etag;
	int			 mpu_done;	/* complete succeeded */
	char			*mpu_etag;
	/* What to delete: a key, and its version on a versioned bucket. */
	struct {
		char		*key;
		char		*version_id;
	}			 made[PROBE_MAX_MADE];
	size_t			 nmade;
	size_t			 cleaned;	/* cleanup position */
	int			 versioned;	/* Enabled or Suspended */
	int			 swept;		/* versions listed */

	/* What the request in flight points to. */
	struct buf		 key;
	struct buf		 query;
	struct buf		 value;
	struct buf		 body;
	struct s3_header	 hdr[2];
};

/*
 * A step builds one request and judges its answer. build returns 0 to send
 * it, or -1 to skip the step (what it needs failed earlier).
 */
struct probe_step {
	const char	*op;			/* for the detail text */
	int		 cap;			/* judged capability; -1 none */
	int		(*build)(struct s3_probe *, const struct probe_step *,
			    struct s3_request *);
	void		(*judge)(struct s3_probe *, const struct probe_step *,
			    const struct s3_result *);
};

static void	probe_next(struct s3_probe *);

const char *
s3_cap_name(enum s3_cap c)
{
	return ((unsigned)c < S3_NCAPS ? s3_caps_table[c].name : "?");
}

const char *
s3_cap_what(enum s3_cap c)
{
	return ((unsigned)c < S3_NCAPS ? s3_caps_table[c].what : "?");
}

const char *
s3_cap_state_name(enum s3_cap_state st)
{
	switch (st) {
	case S3_CAP_YES:
		return ("yes");
	case S3_CAP_NO:
		return ("no");
	case S3_CAP_UNKNOWN:
		break;
	}
	return ("unknown");
}

int
s3_cap_storage_class(const char *sc)
{
	int	 i;

	for (i = 0; i < S3_NCAPS; i++) {
		if (s3_caps_table[i].storage_class != NULL &&
		    strcmp(s3_caps_table[i].storage_class, sc) == 0)
			return (i);
	}
	return (-1);
}

struct s3_caps *
s3_caps_copy(const struct s3_caps *c)
{
	struct s3_caps	*n;
	int		 i;

	n = xcalloc(1, sizeof *n);
	*n = *c;
	n->endpoint = xstrdup(c->endpoint);
	n->bucket = xstrdup(c->bucket);
	for (i = 0; i < S3_NCAPS; i++) {
		if (c->cap[i].detail != NULL)
			n->cap[i].detail = xstrdup(c->cap[i].detail);
	}
	return (n);
}

void
s3_caps_free(struct s3_caps *c)
{
	int	 i;

	if (c == NULL)
		return;
	for (i = 0; i < S3_NCAPS; i++)
		free(c->cap[i].detail);
	free(c->endpoint);
	free(c->bucket);
	free(c);
}

/* ------------------------------------------------------------------ */
/* Judging answers. */

/* The root element's name of an XML body, or "" when there is none. */
static void
probe_root(const struct s3_result *r, char *out, size_t size)
{
	const char	*p, *end;
	size_t		 n = 0;

	out[0] = '\0';
	if (r->http == NULL || r->http->body.len == 0)
		return;
	p = r->http->body.data;
	end = p + r->http->body.len;
	/* Skip the declaration, comments and whitespace before the root. */
	while (p < end) {
		if (*p == '<' && p + 1 < end && (p[1] == '?' || p[1] == '!')) {
			while (p < end && *p != '>')
				p++;
		} else if (*p == '<')
			break;
		p++;
	}
	if (p >= end)
		return;
	for (p++; p < end && n + 1 < size && *p != '>' && *p != ' ' &&
	    *p != '/' && *p != '\t' && *p != '\r' && *p != '\n'; p++)
		out[n++] = *p;
	out[n] = '\0';
}

static void
probe_set(struct s3_probe *p, int cap, enum s3_cap_state st,
    const char *fmt, ...) printflike(4, 5);

static void
probe_set(struct s3_probe *p, int cap, enum s3_cap_state st,
    const char *fmt, ...)
{
	struct s3_cap_result	*c = &p->caps->cap[cap];
	va_list			 ap;

	free(c->detail);
	c->state = st;
	va_start(ap, fmt);
	xvasprintf(&c->detail, fmt, ap);
	va_end(ap);
}

/* "answered 501 NotImplemented", "answered 200", "got no answer: ...". */
static void
probe_answer(const struct s3_result *r, char *out, size_t size)
{
	if (r->status == 0)
		snprintf(out, size, "got no answer (%s: %s)",
		    r->error_code != NULL ? r->error_code : "?",
		    r->error_message != NULL ? r->error_message : "");
	else if (r->error_code != NULL)
		snprintf(out, size, "answered %d %s", r->status,
		    r->error_code);
	else
		snprintf(out, size, "answered %d", r->status);
}

/*
 * The answers that say "this server does not do that": not implemented,
 * not allowed, or a 400 refusing the request's argument (Swift's
 * InvalidStorageClass). 403, 5xx and no answer at all tell nothing.
 */
static int
probe_is_refusal(const struct s3_result *r)
{
	return (r->status == 501 || r->status == 405 || r->status == 400);
}

static int
probe_ok(const struct s3_result *r)
{
	return (r->error_code == NULL && r->status >= 200 && r->status < 300);
}

/* A write that either works (YES) or is refused (NO). */
static void
judge_write(struct s3_probe *p, const struct probe_step *s,
    const struct s3_result *r)
{
	char	 a[256];

	probe_answer(r, a, sizeof a);
	if (probe_ok(r))
		probe_set(p, s->cap, S3_CAP_YES, "%s %s", s->op, a);
	else
		probe_set(p, s->cap, probe_is_refusal(r) ? S3_CAP_NO :
		    S3_CAP_UNKNOWN, "%s %s", s->op, a);
}

/*
 * Remember an object written, by version when the bucket is versioned (a
 * plain DELETE would leave the version behind a delete marker).
 */
static void
probe_made(struct s3_probe *p, const char *key, const struct s3_result *r)
{
	size_t	 i;

	for (i = 0; i < p->nmade; i++) {
		if (strcmp(p->made[i].key, key) == 0 &&
		    r->version_id == NULL && p->made[i].version_id == NULL)
			return;
	}
	if (p->nmade == PROBE_MAX_MADE)
		return;
	p->made[p->nmade].key = xstrdup(key);
	p->made[p->nmade].version_id = r->version_id != NULL ?
	    xstrdup(r->version_id) : NULL;
	p->nmade++;
}

/* A PUT of a scratch object: YES/NO, and the object to delete later. */
static void
judge_put(struct s3_probe *p, const struct probe_step *s,
    const struct s3_result *r)
{
	judge_write(p, s, r);
	if (probe_ok(r))
		probe_made(p, p->key.data, r);
}

/* The x-amz-server-side-encryption value an SSE step sends and expects. */
static const char *
probe_sse_alg(const struct probe_step *s)
{
	return (s->cap == S3_CAP_SSE_KMS ? "aws:kms" : "AES256");
}

/*
 * A PUT asking for server-side encryption: YES only when the answer says
 * the object is encrypted so. A 2xx without it is NO (Ceph RGW without
 * an SSE-S3 backend takes AES256 and stores the object unencrypted), as
 * are 501 and 405. A 400 is NO for SSE-S3 but UNKNOWN for SSE-KMS, which
 * a server may refuse for want of a key id (RGW: InvalidArgument) while
 * it encrypts with one given.
 */
static void
judge_sse(struct s3_probe *p, const struct probe_step *s,
    const struct s3_result *r)
{
	const char	*want, *got;
	char		 a[256];

	want = probe_sse_alg(s);
	probe_answer(r, a, sizeof a);
	if (probe_ok(r)) {
		probe_made(p, p->key.data, r);
		got = s3_result_header(r, "x-amz-server-side-encryption");
		if (got != NULL && strcmp(got, want) == 0)
			probe_set(p, s->cap, S3_CAP_YES, "%s %s", s->op, a);
		else
			probe_set(p, s->cap, S3_CAP_NO, "%s %s without "
			    "x-amz-server-side-encryption: %s (the object was "
			    "stored unencrypted)", s->op, a, want);
		return;
	}
	if (r->status == 501 || r->status == 405 ||
	    (r->status == 400 && s->cap != S3_CAP_SSE_KMS))
		probe_set(p, s->cap, S3_CAP_NO, "%s %s", s->op, a);
	else
		probe_set(p, s->cap, S3_CAP_UNKNOWN, "%s %s", s->op, a);
}

/*
 * A GET of a bucket configuration: YES for the configuration's document
 * or its "not found" error, NO when refused or when the server answered
 * with another document (it ignored the subresource: Swift answers a
 * bucket listing).
 */
static void
judge_config(struct s3_probe *p, const struct probe_step *s,
    const struct s3_result *r, const char *root, const char *notfound)
{
	char	 a[256], got[64];

	probe_answer(r, a, sizeof a);
	if (r->error_code != NULL && notfound != NULL &&
	    strcmp(r->error_code, notfound) == 0) {
		probe_set(p, s->cap, S3_CAP_YES, "%s %s", s->op, a);
		return;
	}
	if (!probe_ok(r)) {
		probe_set(p, s->cap, probe_is_refusal(r) ? S3_CAP_NO :
		    S3_CAP_UNKNOWN, "%s %s", s->op, a);
		return;
	}
	probe_root(r, got, sizeof got);
	if (strcmp(got, root) == 0)
		probe_set(p, s->cap, S3_CAP_YES, "%s %s", s->op, a);
	else
		probe_set(p, s->cap, S3_CAP_NO, "%s %s with <%s> instead of "
		    "<%s> (the server ignores the subresource)", s->op, a,
		    got[0] != '\0' ? got : "no document", root);
}

/* Also: whether the cleanup must remove versions and delete markers. */
static void
judge_versioning(struct s3_probe *p, const struct probe_step *s,
    const struct s3_result *r)
{
	const struct buf	*b;

	judge_config(p, s, r, "VersioningConfiguration", NULL);
	if (!probe_ok(r) || r->http == NULL)
		return;
	b = &r->http->body;
	p->versioned = memmem(b->data, b->len, "<Status>", 8) != NULL;
}

static void
judge_object_lock(struct s3_probe *p, const struct probe_step *s,
    const struct s3_result *r)
{
	judge_config(p, s, r, "ObjectLockConfiguration",
	    "ObjectLockConfigurationNotFoundError");
}

static void
judge_replication(struct s3_probe *p, const struct probe_step *s,
    const struct s3_result *r)
{
	judge_config(p, s, r, "ReplicationConfiguration",
	    "ReplicationConfigurationNotFoundError");
}

/*
 * RestoreObject on an object that is not archived: a server that knows the
 * call refuses the object's state (403 InvalidObjectState) or accepts it;
 * one that does not says NotImplemented.
 */
static void
judge_restore(struct s3_probe *p, const struct probe_step *s,
    const struct s3_result *r)
{
	char	 a[256];

	probe_answer(r, a, sizeof a);
	if (probe_ok(r) || (r->error_code != NULL &&
	    strcmp(r->error_code, "InvalidObjectState") == 0))
		probe_set(p, s->cap, S3_CAP_YES, "%s %s", s->op, a);
	else
		probe_set(p, s->cap, probe_is_refusal(r) ? S3_CAP_NO :
		    S3_CAP_UNKNOWN, "%s %s", s->op, a);
}

/* A copy conditioned on a wrong ETag must fail 412. */
static void
judge_wrong_condition(struct s3_probe *p, const struct probe_step *s,
    const struct s3_result *r)
{
	char	 a[256];

	probe_answer(r, a, sizeof a);
	if (r->status == 412)
		probe_set(p, s->cap, S3_CAP_YES, "%s with a wrong ETag %s",
		    s->op, a);
	else if (probe_ok(r)) {
		probe_made(p, p->key.data, r);
		probe_set(p, s->cap, S3_CAP_NO, "%s with a wrong ETag %s "
		    "(the condition is ignored)", s->op, a);
	} else
		probe_set(p, s->cap, S3_CAP_UNKNOWN, "%s with a wrong ETag %s",
		    s->op, a);
}

static void
judge_copy_mpu(struct s3_probe *p, const struct probe_step *s,
    const struct s3_result *r)
{
	char	 a[256];

	probe_answer(r, a, sizeof a);
	if (probe_ok(r)) {
		probe_made(p, p->key.data, r);
		probe_set(p, s->cap, S3_CAP_YES, "%s %s", s->op, a);
	} else
		probe_set(p, s->cap, r->status == 412 ? S3_CAP_NO :
		    S3_CAP_UNKNOWN, "%s %s", s->op, a);
}

/*
 * A server that answers the part says how many parts the object has; one
 * that ignores partNumber= (RGW 16) answers 200 with the whole object, and
 * one that refuses it (Swift's s3api) answers 405.
 */
static void
judge_part_number(struct s3_probe *p, const struct probe_step *s,
    const struct s3_result *r)
{
	char	 a[256];

	if (probe_ok(r) &&
	    s3_result_header(r, "x-amz-mp-parts-count") == NULL) {
		probe_answer(r, a, sizeof a);
		probe_set(p, s->cap, S3_CAP_NO, "%s %s without "
		    "x-amz-mp-parts-count (the part number is ignored)",
		    s->op, a);
		return;
	}
	judge_write(p, s, r);
}

static char *
probe_unquote(const char *etag)
{
	size_t	 n = strlen(etag);

	if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"')
		return (xstrndup(etag + 1, n - 2));
	return (xstrdup(etag));
}

/* The first PUT: without it nothing else can be probed. */
static void
judge_first(struct s3_probe *p, const struct probe_step *s,
    const struct s3_result *r)
{
	char	 a[256];

	if (probe_ok(r) && r->etag != NULL) {
		p->plain_etag = probe_unquote(r->etag);
		probe_made(p, p->key.data, r);
		return;
	}
	probe_answer(r, a, sizeof a);
	xasprintf(&p->error, "%s of a scratch object in bucket %s %s%s%s",
	    s->op, p->caps->bucket, a, r->error_message != NULL ? ": " : "",
	    r->error_message != NULL ? r->error_message : "");
}

static void
judge_initiate(struct s3_probe *p, const struct probe_step *s,
    const struct s3_result *r)
{
	struct s3xml_initiate	 in;
	char			*cause = NULL, a[256];

	(void)s;
	memset(&in, 0, sizeof in);
	if (probe_ok(r) && s3xml_parse_initiate(r->http->body.data,
	    r->http->body.len, &in, &cause) == 0 && in.upload_id.len > 0)
		p->upload_id = xstrdup(in.upload_id.data);
	else {
		probe_answer(r, a, sizeof a);
		log_warnx("probe %s: CreateMultipartUpload %s%s%s",
		    p->caps->endpoint, a, cause != NULL ? ": " : "",
		    cause != NULL ? cause : "");
	}
	free(cause);
	s3xml_initiate_free(&in);
}

static void
judge_part(struct s3_probe *p, const struct probe_step *s,
    const struct s3_result *r)
{
	char	 a[256];

	if (probe_ok(r) && r->etag != NULL) {
		p->part_etag = xstrdup(r->etag);
		return;
	}
	probe_answer(r, a, sizeof a);
	log_warnx("probe %s: %s %s", p->caps->endpoint, s->op, a);
}

/*
 * The multipart object's ETag comes from a HEAD afterwards: RGW's
 * CompleteMultipartUploadResult may carry none.
 */
static void
judge_complete(struct s3_probe *p, const struct probe_step *s,
    const struct s3_result *r)
{
	char	 a[256];

	if (probe_ok(r)) {
		p->mpu_done = 1;
		probe_made(p, p->key.data, r);
		return;
	}
	probe_answer(r, a, sizeof a);
	log_warnx("probe %s: %s %s", p->caps->endpoint, s->op, a);
}

static void
judge_head_mpu(struct s3_probe *p, const struct probe_step *s,
    const struct s3_result *r)
{
	char	 a[256];

	if (probe_ok(r) && r->etag != NULL) {
		p->mpu_etag = probe_unquote(r->etag);
		return;
	}
	probe_answer(r, a, sizeof a);
	log_warnx("probe %s: %s %s", p->caps->endpoint, s->op, a);
}

/* ------------------------------------------------------------------ */
/* Building requests. Every key is PREFIX + a fixed name: the prefix is
   made of unreserved characters and '/', so no key needs URL-encoding in
   x-amz-copy-source. */

static void
probe_key(struct s3_probe *p, const char *name)
{
	buf_reset(&p->key);
	buf_addf(&p->key, "%s%s", p->prefix, name);
}

static void
probe_object(struct s3_probe *p, struct s3_request *rq, const char *method,
    const char *name)
{
	probe_key(p, name);
	rq->method = method;
	rq->key = p->key.data;
}

static void
probe_header(struct s3_probe *p, struct s3_request *rq, const char *name,
    const char *value)
{
	p->hdr[rq->nheaders].name = name;
	p->hdr[rq->nheaders].value = value;
	rq->nheaders++;
	rq->headers = p->hdr;
}

static int
build_first(struct s3_probe *p, const struct probe_step *s,
    struct s3_request *rq)
{
	(void)s;
	probe_object(p, rq, "PUT", "plain");
	rq->body = PROBE_BODY;
	rq->body_len = strlen(PROBE_BODY);
	return (0);
}

static int
build_tagging(struct s3_probe *p, const struct probe_step *s,
    struct s3_request *rq)
{
	(void)s;
	probe_object(p, rq, "PUT", "plain");
	rq->query = "tagging";
	buf_reset(&p->body);
	buf_adds(&p->body, "<Tagging><TagSet><Tag><Key>s3batchd-probe</Key>"
	    "<Value>1</Value></Tag></TagSet></Tagging>");
	rq->body = p->body.data;
	rq->body_len = p->body.len;
	rq->flags |= S3_CONTENT_MD5;
	return (0);
}

static int
build_acl(struct s3_probe *p, const struct probe_step *s,
    struct s3_request *rq)
{
	(void)s;
	probe_object(p, rq, "PUT", "plain");
	rq->query = "acl";
	probe_header(p, rq, "x-amz-acl", "private");
	return (0);
}

static int
build_storage_class(struct s3_probe *p, const struct probe_step *s,
    struct s3_request *rq)
{
	const char	*sc = s3_caps_table[s->cap].storage_class;

	buf_reset(&p->value);
	buf_addf(&p->value, "sc-%s", sc);
	probe_object(p, rq, "PUT", p->value.data);
	probe_header(p, rq, "x-amz-storage-class", sc);
	rq->body = PROBE_BODY;
	rq->body_len = strlen(PROBE_BODY);
	return (0);
}

/*
 * A PUT with SSE-S3 (AES256) or, for S3_CAP_SSE_KMS, aws:kms without a
 * key: the server's default key, or a refusal.
 */
static int
build_sse(struct s3_probe *p, const struct probe_step *s,
    struct s3_request *rq)
{
	int	 kms = s->cap == S3_CAP_SSE_KMS;

	probe_object(p, rq, "PUT", kms ? "sse-kms" : "sse");
	probe_header(p, rq, "x-amz-server-side-encryption", probe_sse_alg(s));
	rq->body = PROBE_BODY;
	rq->body_len = strlen(PROBE_BODY);
	return (0);
}

static int
build_restore(struct s3_probe *p, const struct probe_step *s,
    struct s3_request *rq)
{
	(void)s;
	probe_object(p, rq, "POST", "plain");
	rq->query = "restore";
	buf_reset(&p->body);
	buf_adds(&p->body, "<RestoreRequest><Days>1</Days></RestoreRequest>");
	rq->body = p->body.data;
	rq->body_len = p->body.len;
	rq->flags |= S3_CONTENT_MD5;
	return (0);
}

static int
build_bucket_get(struct s3_probe *p, const struct probe_step *s,
    struct s3_request *rq)
{
	(void)p;
	rq->method = "GET";
	rq->query = s->cap == S3_CAP_VERSIONING ? "versioning" :
	    s->cap == S3_CAP_OBJECT_LOCK ? "object-lock" : "replication";
	return (0);
}

static int
build_initiate(struct s3_probe *p, const struct probe_step *s,
    struct s3_request *rq)
{
	(void)s;
	probe_object(p, rq, "POST", "mpu");
	rq->query = "uploads";
	return (0);
}

static int
build_part(struct s3_probe *p, const struct probe_step *s,
    struct s3_request *rq)
{
	(void)s;
	if (p->upload_id == NULL)
		return (-1);
	probe_object(p, rq, "PUT", "mpu");
	buf_reset(&p->query);
	buf_adds(&p->query, "partNumber=1&uploadId=");
	url_encode(&p->query, p->upload_id, strlen(p->upload_id), 0);
	rq->query = p->query.data;
	rq->body = PROBE_BODY;
	rq->body_len = strlen(PROBE_BODY);
	return (0);
}

static int
build_complete(struct s3_probe *p, const struct probe_step *s,
    struct s3_request *rq)
{
	(void)s;
	if (p->upload_id == NULL || p->part_etag == NULL)
		return (-1);
	probe_object(p, rq, "POST", "mpu");
	buf_reset(&p->query);
	buf_adds(&p->query, "uploadId=");
	url_encode(&p->query, p->upload_id, strlen(p->upload_id), 0);
	rq->query = p->query.data;
	buf_reset(&p->body);
	/* s3_result's etag comes without its quotes. */
	buf_addf(&p->body, "<CompleteMultipartUpload><Part><PartNumber>1"
	    "</PartNumber><ETag>\"%s\"</ETag></Part>"
	    "</CompleteMultipartUpload>", p->part_etag);
	rq->body = p->body.data;
	rq->body_len = p->body.len;
	rq->flags |= S3_ERROR_IN_200;
	return (0);
}

static int
build_head_mpu(struct s3_probe *p, const struct probe_step *s,
    struct s3_request *rq)
{
	(void)s;
	if (!p->mpu_done)
		return (-1);
	probe_object(p, rq, "HEAD", "mpu");
	return (0);
}

static int
build_part_number(struct s3_probe *p, const struct probe_step *s,
    struct s3_request *rq)
{
	(void)s;
	if (p->mpu_etag == NULL)
		return (-1);
	probe_object(p, rq, "HEAD", "mpu");
	rq->query = "partNumber=1";
	return (0);
}

/* A copy into "copy" from src, conditioned by header on etag. */
static void
probe_copy(struct s3_probe *p, struct s3_request *rq, const char *src,
    const char *header, const char *etag)
{
	probe_object(p, rq, "PUT", "copy");
	buf_reset(&p->value);
	buf_addf(&p->value, "/%s/%s%s", p->caps->bucket, p->prefix, src);
	probe_header(p, rq, "x-amz-copy-source", p->value.data);
	buf_reset(&p->query);
	if (etag[0] == '"')
		buf_adds(&p->query, etag);
	else
		buf_addf(&p->query, "\"%s\"", etag);
	probe_header(p, rq, header, p->query.data);
	rq->flags |= S3_ERROR_IN_200;
}

static int
build_copy_mpu(struct s3_probe *p, const struct probe_step *s,
    struct s3_request *rq)
{
	(void)s;
	if (p->mpu_etag == NULL)
		return (-1);
	probe_copy(p, rq, "mpu", "x-amz-copy-source-if-match", p->mpu_etag);
	return (0);
}

static int
build_copy_wrong(struct s3_probe *p, const struct probe_step *s,
    struct s3_request *rq)
{
	probe_copy(p, rq, "plain", s->cap == S3_CAP_COPY_SOURCE_IF_MATCH ?
	    "x-amz-copy-source-if-match" : "x-amz-copy-if-match",
	    PROBE_WRONG_ETAG);
	return (0);
}

#define SC_STEP(c) { "PutObject with x-amz-storage-class", (c), \
	build_storage_class, judge_put }

static const struct probe_step probe_steps[] = {
	{ "PutObject", -1, build_first, judge_first },
	{ "PutObjectTagging", S3_CAP_TAGGING, build_tagging, judge_write },
	{ "PutObjectAcl", S3_CAP_ACL, build_acl, judge_write },
	SC_STEP(S3_CAP_SC_REDUCED_REDUNDANCY),
	SC_STEP(S3_CAP_SC_STANDARD_IA),
	SC_STEP(S3_CAP_SC_ONEZONE_IA),
	SC_STEP(S3_CAP_SC_INTELLIGENT_TIERING),
	SC_STEP(S3_CAP_SC_GLACIER),
	SC_STEP(S3_CAP_SC_DEEP_ARCHIVE),
	SC_STEP(S3_CAP_SC_GLACIER_IR),
	{ "PutObject with SSE-S3", S3_CAP_SSE_S3, build_sse, judge_sse },
	{ "PutObject with SSE-KMS", S3_CAP_SSE_KMS, build_sse,
	  judge_sse },
	{ "RestoreObject", S3_CAP_RESTORE, build_restore, judge_restore },
	{ "GetBucketVersioning", S3_CAP_VERSIONING, build_bucket_get,
	  judge_versioning },
	{ "GetObjectLockConfiguration", S3_CAP_OBJECT_LOCK, build_bucket_get,
	  judge_object_lock },
	{ "GetBucketReplication", S3_CAP_REPLICATION, build_bucket_get,
	  judge_replication },
	{ "CreateMultipartUpload", -1, build_initiate, judge_initiate },
	{ "UploadPart", -1, build_part, judge_part },
	{ "CompleteMultipartUpload", -1, build_complete, judge_complete },
	{ "HeadObject", -1, build_head_mpu, judge_head_mpu },
	{ "HeadObject ?partNumber=1", S3_CAP_PART_NUMBER, build_part_number,
	  judge_part_number },
	{ "CopyObject of a multipart source with x-amz-copy-source-if-match",
	  S3_CAP_COPY_IF_MATCH_MPU, build_copy_mpu, judge_copy_mpu },
	{ "CopyObject with x-amz-copy-source-if-match",
	  S3_CAP_COPY_SOURCE_IF_MATCH, build_copy_wrong,
	  judge_wrong_condition },
	{ "CopyObject with x-amz-copy-if-match", S3_CAP_COPY_IF_MATCH_RGW,
	  build_copy_wrong, judge_wrong_condition },
};

/* ------------------------------------------------------------------ */
/* Running the sequence, then the cleanup. */

static void
probe_free(struct s3_probe *p)
{
	size_t	 i;

	if (p->call != NULL)
		s3_call_cancel(p->call);
	if (p->defer != NULL)
		event_free(p->defer);
	s3_caps_free(p->caps);
	for (i = 0; i < p->nmade; i++) {
		free(p->made[i].key);
		free(p->made[i].version_id);
	}
	free(p->prefix);
	free(p->error);
	free(p->plain_etag);
	free(p->upload_id);
	free(p->part_etag);
	free(p->mpu_etag);
	buf_free(&p->key);
	buf_free(&p->query);
	buf_free(&p->value);
	buf_free(&p->body);
	free(p);
}

static void
probe_finish(struct s3_probe *p)
{
	p->caps->took_ms = time_mono_ms() - p->t0;
	if (p->error != NULL)
		p->done_cb(NULL, p->error, p->arg);
	else
		p->done_cb(p->caps, NULL, p->arg);
	probe_free(p);
}

static void
probe_request_init(struct s3_probe *p, struct s3_request *rq)
{
	memset(rq, 0, sizeof *rq);
	rq->bucket = p->caps->bucket;
	rq->max_attempts = PROBE_ATTEMPTS;
	rq->timeout_ms = PROBE_TIMEOUT_MS;
}

static void
probe_cleanup_cb(const struct s3_result *r, void *arg)
{
	struct s3_probe	*p = arg;
	char		 a[256];

	p->call = NULL;
	if (!probe_ok(r) && r->status != 404) {
		probe_answer(r, a, sizeof a);
		log_warnx("probe %s: removing scratch object %s/%s %s",
		    p->caps->endpoint, p->caps->bucket, p->key.data, a);
	}
	probe_next(p);
}

static int
probe_version_cb(const struct s3xml_version *v, void *arg, char **cause)
{
	struct s3_probe	*p = arg;

	(void)cause;
	if (p->nmade < PROBE_MAX_MADE && v->key.len > 0) {
		p->made[p->nmade].key = xstrdup(v->key.data);
		p->made[p->nmade].version_id = v->version_id.len > 0 ?
		    xstrdup(v->version_id.data) : NULL;
		p->nmade++;
	}
	return (0);
}

static void
probe_versions_cb(const struct s3_result *r, void *arg)
{
	struct s3_probe			*p = arg;
	struct s3xml_versions_page	 page;
	struct s3xml_cbs		 cbs;
	char				*cause = NULL, a[256];
	size_t				 i;

	p->call = NULL;
	for (i = 0; i < p->nmade; i++) {
		free(p->made[i].key);
		free(p->made[i].version_id);
	}
	p->nmade = p->cleaned = 0;
	memset(&cbs, 0, sizeof cbs);
	cbs.version_cb = probe_version_cb;
	memset(&page, 0, sizeof page);
	if (!probe_ok(r) || s3xml_parse(S3XML_DOC_LIST_VERSIONS,
	    r->http->body.data, r->http->body.len, &page, &cbs, p,
	    &cause) != 0) {
		probe_answer(r, a, sizeof a);
		log_warnx("probe %s: listing the versions under %s/%s %s%s%s",
		    p->caps->endpoint, p->caps->bucket, p->prefix, a,
		    cause != NULL ? ": " : "", cause != NULL ? cause : "");
	}
	free(cause);
	s3xml_versions_page_free(&page);
	probe_next(p);
}

/*
 * Delete what was made, then (versioned bucket) every version left under
 * the prefix, then abort an upload that did not complete.
 */
static int
probe_cleanup(struct s3_probe *p)
{
	struct s3_request	 rq;

	probe_request_init(p, &rq);
	if (p->cleaned < p->nmade) {
		buf_reset(&p->key);
		buf_adds(&p->key, p->made[p->cleaned].key);
		rq.method = "DELETE";
		rq.key = p->key.data;
		rq.version_id = p->made[p->cleaned].version_id;
		p->cleaned++;
	} else if (p->versioned && !p->swept) {
		/*
		 * On a versioned bucket a copy or a complete may not say which
		 * version it made, and DELETE leaves markers: list what is
		 * left under the prefix and delete it version by version.
		 */
		p->swept = 1;
		rq.method = "GET";
		buf_reset(&p->query);
		buf_adds(&p->query, "versions&prefix=");
		url_encode(&p->query, p->prefix, strlen(p->prefix), 0);
		rq.query = p->query.data;
		p->call = s3_call(p->s3, &rq, probe_versions_cb, p);
		return (0);
	} else if (p->upload_id != NULL && !p->mpu_done) {
		probe_key(p, "mpu");
		rq.method = "DELETE";
		rq.key = p->key.data;
		buf_reset(&p->query);
		buf_adds(&p->query, "uploadId=");
		url_encode(&p->query, p->upload_id, strlen(p->upload_id), 0);
		rq.query = p->query.data;
		free(p->upload_id);
		p->upload_id = NULL;
	} else
		return (-1);
	p->call = s3_call(p->s3, &rq, probe_cleanup_cb, p);
	return (0);
}

static void
probe_step_cb(const struct s3_result *r, void *arg)
{
	struct s3_probe		*p = arg;
	const struct probe_step	*s = &probe_steps[p->step];

	p->call = NULL;
	s->judge(p, s, r);
	p->step++;
	if (p->error != NULL)
		p->step = nitems(probe_steps);	/* straight to the cleanup */
	probe_next(p);
}

static void
probe_next(struct s3_probe *p)
{
	const struct probe_step	*s;
	struct s3_request	 rq;

	for (; p->step < nitems(probe_steps); p->step++) {
		s = &probe_steps[p->step];
		probe_request_init(p, &rq);
		if (s->build(p, s, &rq) != 0) {
			if (s->cap >= 0)
				probe_set(p, s->cap, S3_CAP_UNKNOWN, "not "
				    "probed: the multipart upload it needs "
				    "failed");
			continue;
		}
		p->call = s3_call(p->s3, &rq, probe_step_cb, p);
		return;
	}
	if (probe_cleanup(p) == 0)
		return;
	probe_finish(p);
}

static void
probe_defer_cb(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	probe_finish(arg);
}

struct s3_probe *
s3_probe_start(struct event_base *base, struct s3 *s3, const char *endpoint,
    const char *bucket, s3_probe_done_cb done_cb, void *arg)
{
	struct s3_probe	*p;
	const char	*resolved;
	char		 uuid[37];

	p = xcalloc(1, sizeof *p);
	p->s3 = s3;
	p->done_cb = done_cb;
	p->arg = arg;
	p->t0 = time_mono_ms();
	p->caps = xcalloc(1, sizeof *p->caps);
	p->caps->endpoint = xstrdup(endpoint);
	p->caps->bucket = xstrdup(bucket);
	p->caps->probed_ms = time_now_ms();
	uuid_generate_v4(uuid);
	xasprintf(&p->prefix, "%s%s/", PROBE_PREFIX, uuid);
	buf_init(&p->key);
	buf_init(&p->query);
	buf_init(&p->value);
	buf_init(&p->body);

	resolved = s3_bucket_endpoint(s3, bucket);
	if (resolved == NULL || strcmp(resolved, endpoint) != 0) {
		xasprintf(&p->error, "bucket %s is on endpoint %s, not %s: "
		    "probe in a bucket of endpoint %s", bucket,
		    resolved != NULL ? resolved : "(none)", endpoint, endpoint);
		/* done_cb is never called before returning. */
		p->defer = evtimer_new(base, probe_defer_cb, p);
		event_active(p->defer, EV_TIMEOUT, 1);
		return (p);
	}
	probe_next(p);
	return (p);
}

void
s3_probe_cancel(struct s3_probe *p)
{
	if (p != NULL)
		probe_free(p);
}

/* ------------------------------------------------------------------ */
/* The per-endpoint cache: a handful of endpoints, a list is enough. */

struct s3_caps_cache {
	struct s3_caps	**v;
	size_t		  n;
};

struct s3_caps_cache *
s3_caps_cache_new(void)
{
	return (xcalloc(1, sizeof (struct s3_caps_cache)));
}

void
s3_caps_cache_free(struct s3_caps_cache *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		s3_caps_free(c->v[i]);
	free(c->v);
	free(c);
}

const struct s3_caps *
s3_caps_cache_get(struct s3_caps_cache *c, const char *endpoint)
{
	size_t	 i;

	for (i = 0; i < c->n; i++) {
		if (strcmp(c->v[i]->endpoint, endpoint) == 0)
			return (c->v[i]);
	}
	return (NULL);
}

void
s3_caps_cache_put(struct s3_caps_cache *c, const struct s3_caps *caps)
{
	size_t	 i;

	for (i = 0; i < c->n; i++) {
		if (strcmp(c->v[i]->endpoint, caps->endpoint) == 0) {
			s3_caps_free(c->v[i]);
			c->v[i] = s3_caps_copy(caps);
			return;
		}
	}
	c->v = xreallocarray(c->v, c->n + 1, sizeof *c->v);
	c->v[c->n++] = s3_caps_copy(caps);
}
