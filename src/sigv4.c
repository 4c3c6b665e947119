/*
 * AWS Signature Version 4, header-based, HMAC-SHA256, with OpenSSL.
 *
 * Two sets of rules share this code: the generic algorithm of Amazon's
 * published test suite (path normalised, each segment encoded once more),
 * and S3's (path used exactly as sent, x-amz-content-sha256 signed).
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "s3batchd.h"
#include "sigv4.h"

#define SIGV4_TERMINATOR	"aws4_request"
#define SIGV4_TIME_MAX_MS	253402300800000ULL	/* 10000-01-01 */

/* A header in the canonical list: lowercased name, untrimmed value. */
struct sigv4_chdr {
	char		*name;
	const char	*value;
	size_t		 order;		/* keeps repeated names in sent order */
};

/* One decoded-then-encoded query parameter. */
struct sigv4_qparam {
	char		*key;
	char		*value;
};

/*
 * Signing keys depend only on (date, region, service, secret), so a small
 * cache saves four HMACs on nearly every request. The secret itself is not
 * kept: a SHA-256 of it tells entries apart.
 */
#define SIGV4_CACHE_SIZE	8
#define SIGV4_CACHE_NAME	64
struct sigv4_cache_entry {
	int		 used;
	uint64_t	 last_use;
	char		 date[9];
	char		 region[SIGV4_CACHE_NAME];
	char		 service[SIGV4_CACHE_NAME];
	unsigned char	 secret_id[SIGV4_SHA256_LEN];
	unsigned char	 key[SIGV4_SHA256_LEN];
};
static struct sigv4_cache_entry	 sigv4_cache[SIGV4_CACHE_SIZE];
static uint64_t			 sigv4_cache_clock;
static uint64_t			 sigv4_cache_hits, sigv4_cache_misses;
static pthread_mutex_t		 sigv4_cache_lock = PTHREAD_MUTEX_INITIALIZER;

struct sigv4_sha256 {
	EVP_MD_CTX	*ctx;
};

/* ---- hashing */

static void
sigv4_sha256_raw(const void *p, size_t len, unsigned char md[SIGV4_SHA256_LEN])
{
	unsigned int	 mdlen = 0;

	if (EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != SIGV4_SHA256_LEN)
		fatalx("%s: EVP_Digest failed", __func__);
}

void
sigv4_sha256_hex(const void *p, size_t len, char hex[SIGV4_HEX_SIZE])
{
	unsigned char	 md[SIGV4_SHA256_LEN];

	sigv4_sha256_raw(p, len, md);
	hex_encode(md, sizeof md, hex);
}

struct sigv4_sha256 *
sigv4_sha256_new(void)
{
	struct sigv4_sha256	*h;

	h = xcalloc(1, sizeof *h);
	if ((h->ctx = EVP_MD_CTX_new()) == NULL)
		fatalx("%s: out of memory", __func__);
	if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		fatalx("%s: EVP_DigestInit_ex failed", __func__);
	return (h);
}

void
sigv4_sha256_update(struct sigv4_sha256 *h, const void *p, size_t len)
{
	if (len != 0 && EVP_DigestUpdate(h->ctx, p, len) != 1)
		fatalx("%s: EVP_DigestUpdate failed", __func__);
}

void
sigv4_sha256_final(struct sigv4_sha256 *h, unsigned char raw[SIGV4_SHA256_LEN],
    char hex[SIGV4_HEX_SIZE])
{
	unsigned char	 md[SIGV4_SHA256_LEN];
	unsigned int	 mdlen = 0;

	if (EVP_DigestFinal_ex(h->ctx, md, &mdlen) != 1 ||
	    mdlen != SIGV4_SHA256_LEN)
		fatalx("%s: EVP_DigestFinal_ex failed", __func__);
	if (raw != NULL)
		memcpy(raw, md, sizeof md);
	if (hex != NULL)
		hex_encode(md, sizeof md, hex);
	/* Ready for the next body (a retried upload, say). */
	if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		fatalx("%s: EVP_DigestInit_ex failed", __func__);
}

void
sigv4_sha256_free(struct sigv4_sha256 *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

static void
sigv4_hmac(const void *key, size_t keylen, const void *msg, size_t msglen,
    unsigned char out[SIGV4_SHA256_LEN])
{
	unsigned int	 outlen = 0;

	if (HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out,
	    &outlen) == NULL || outlen != SIGV4_SHA256_LEN)
		fatalx("%s: HMAC failed", __func__);
}

/* ---- signing key and its cache */

static void
sigv4_derive_key(const char *secret, const char *date, const char *region,
    const char *service, unsigned char key[SIGV4_SHA256_LEN])
{
	unsigned char	 k[SIGV4_SHA256_LEN];
	char		*ksecret;
	int		 n;

	n = xasprintf(&ksecret, "AWS4%s", secret);
	sigv4_hmac(ksecret, (size_t)n, date, strlen(date), k);
	freezero_str(ksecret);
	sigv4_hmac(k, sizeof k, region, strlen(region), k);
	sigv4_hmac(k, sizeof k, service, strlen(service), k);
	sigv4_hmac(k, sizeof k, SIGV4_TERMINATOR, strlen(SIGV4_TERMINATOR),
	    key);
	explicit_wipe(k, sizeof k);
}

static void
sigv4_signing_key(const char *secret, const char *date, const char *region,
    const char *service, unsigned char key[SIGV4_SHA256_LEN])
{
	struct sigv4_cache_entry	*e, *victim = NULL;
	unsigned char			 id[SIGV4_SHA256_LEN];
	size_t				 i;

	/* Names too long for an entry are rare enough to go uncached. */
	if (strlen(region) >= SIGV4_CACHE_NAME ||
	    strlen(service) >= SIGV4_CACHE_NAME) {
		sigv4_derive_key(secret, date, region, service, key);
		return;
	}
	sigv4_sha256_raw(secret, strlen(secret), id);

	pthread_mutex_lock(&sigv4_cache_lock);
	sigv4_cache_clock++;
	for (i = 0; i < SIGV4_CACHE_SIZE; i++) {
		e = &sigv4_cache[i];
		if (!e->used) {
			if (victim == NULL || victim->used)
				victim = e;
			continue;
		}
		if (strcmp(e->date, date) == 0 &&
		    strcmp(e->region, region) == 0 &&
		    strcmp(e->service, service) == 0 &&
		    memcmp(e->secret_id, id, sizeof id) == 0) {
			e->last_use = sigv4_cache_clock;
			memcpy(key, e->key, SIGV4_SHA256_LEN);
			sigv4_cache_hits++;
			pthread_mutex_unlock(&sigv4_cache_lock);
			explicit_wipe(id, sizeof id);
			return;
		}
		if (victim == NULL ||
		    (victim->used && e->last_use < victim->last_use))
			victim = e;
	}
	sigv4_cache_misses++;

	sigv4_derive_key(secret, date, region, service, key);
	explicit_wipe(victim, sizeof *victim);
	victim->used = 1;
	victim->last_use = sigv4_cache_clock;
	/* Lengths were checked above; the entry was zeroed. */
	memcpy(victim->date, date, strnlen(date, sizeof victim->date - 1));
	memcpy(victim->region, region, strlen(region));
	memcpy(victim->service, service, strlen(service));
	memcpy(victim->secret_id, id, sizeof id);
	memcpy(victim->key, key, SIGV4_SHA256_LEN);
	pthread_mutex_unlock(&sigv4_cache_lock);
	explicit_wipe(id, sizeof id);
}

void
sigv4_cache_clear(void)
{
	pthread_mutex_lock(&sigv4_cache_lock);
	explicit_wipe(sigv4_cache, sizeof sigv4_cache);
	pthread_mutex_unlock(&sigv4_cache_lock);
}

void
sigv4_cache_stats(uint64_t *hits, uint64_t *misses)
{
	pthread_mutex_lock(&sigv4_cache_lock);
	*hits = sigv4_cache_hits;
	*misses = sigv4_cache_misses;
	pthread_mutex_unlock(&sigv4_cache_lock);
}

/* ---- canonical pieces */

void
sigv4_amz_date(uint64_t ms, char out[SIGV4_AMZ_DATE_SIZE])
{
	time_t		 t = (time_t)(ms / 1000);
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, SIGV4_AMZ_DATE_SIZE, "%Y%m%dT%H%M%SZ", &tm) !=
	    SIGV4_AMZ_DATE_SIZE - 1)
		fatalx("%s: time %llu out of range", __func__,
		    (unsigned long long)ms);
}

void
sigv4_encode_key(struct buf *out, const char *key, size_t len)
{
	url_encode(out, key, len, URLENC_KEEP_SLASH);
}

/*
 * S3: the path exactly as sent (it is already encoded once). Generic: drop
 * empty and "." segments, resolve "..", and encode every segment again, so
 * that a "%20" on the wire becomes "%2520" as the suite expects.
 */
void
sigv4_canonical_path(struct buf *out, const char *path, int s3)
{
	const char	**seg;
	size_t		 *seglen, nseg = 0, maxseg = 1, i, len;
	const char	 *p, *end;

	if (path == NULL || *path == '\0') {
		buf_addc(out, '/');
		return;
	}
	if (s3) {
		if (*path != '/')
			buf_addc(out, '/');
		buf_adds(out, path);
		return;
	}

	for (p = path; *p != '\0'; p++) {
		if (*p == '/')
			maxseg++;
	}
	seg = xreallocarray(NULL, maxseg, sizeof *seg);
	seglen = xreallocarray(NULL, maxseg, sizeof *seglen);
	for (p = path; *p != '\0'; p = end) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if (len == 1 && p[0] == '.')
			continue;
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (nseg > 0)
				nseg--;
			continue;
		}
		seg[nseg] = p;
		seglen[nseg] = len;
		nseg++;
	}

	for (i = 0; i < nseg; i++) {
		buf_addc(out, '/');
		url_encode(out, seg[i], seglen[i], 0);
	}
	if (nseg == 0 || path[strlen(path) - 1] == '/')
		buf_addc(out, '/');
	free(seg);
	free(seglen);
}

static int
sigv4_qparam_cmp(const void *a, const void *b)
{
	const struct sigv4_qparam	*qa = a, *qb = b;
	int				 r;

	if ((r = strcmp(qa->key, qb->key)) != 0)
		return (r);
	return (strcmp(qa->value, qb->value));
}

/* Decode then encode, so an already-encoded query is not encoded twice. */
static int
sigv4_query_reencode(const char *s, size_t len, char **out, const char *what,
    char **cause)
{
	struct buf	 dec, enc;
	char		*why = NULL;

	buf_init(&dec);
	buf_init(&enc);
	if (url_decode(&dec, s, len, 0, &why) != 0) {
		xasprintf(cause, "query %s \"%.*s\": %s", what, (int)len, s,
		    why);
		free(why);
		buf_free(&dec);
		return (-1);
	}
	url_encode(&enc, dec.data == NULL ? "" : dec.data, dec.len, 0);
	buf_free(&dec);
	*out = buf_detach(&enc);
	return (0);
}

int
sigv4_canonical_query(struct buf *out, const char *query, char **cause)
{
	struct sigv4_qparam	*qp = NULL;
	size_t			 nqp = 0, maxqp = 1, i, len;
	const char		*p, *end, *eq;
	int			 rv = -1;

	if (query == NULL || *query == '\0')
		return (0);
	for (p = query; *p != '\0'; p++) {
		if (*p == '&')
			maxqp++;
	}
	qp = xcalloc(maxqp, sizeof *qp);
	for (p = query; *p != '\0'; p = end) {
		if (*p == '&') {
			end = p + 1;
			continue;
		}
		end = strchr(p, '&');
		if (end == NULL)
			end = p + strlen(p);
		len = (size_t)(end - p);
		eq = memchr(p, '=', len);
		if (eq == NULL)
			eq = end;
		if (sigv4_query_reencode(p, (size_t)(eq - p), &qp[nqp].key,
		    "parameter name", cause) != 0)
			goto fail;
		if (sigv4_query_reencode(eq == end ? eq : eq + 1,
		    eq == end ? 0 : (size_t)(end - eq - 1), &qp[nqp].value,
		    "parameter value", cause) != 0) {
			free(qp[nqp].key);
			goto fail;
		}
		nqp++;
	}

	qsort(qp, nqp, sizeof *qp, sigv4_qparam_cmp);
	for (i = 0; i < nqp; i++) {
		if (i != 0)
			buf_addc(out, '&');
		buf_adds(out, qp[i].key);
		buf_addc(out, '=');
		buf_adds(out, qp[i].value);
	}
	rv = 0;
fail:
	for (i = 0; i < nqp; i++) {
		free(qp[i].key);
		free(qp[i].value);
	}
	free(qp);
	return (rv);
}

static int
sigv4_chdr_cmp(const void *a, const void *b)
{
	const struct sigv4_chdr	*ha = a, *hb = b;
	int			 r;

	if ((r = strcmp(ha->name, hb->name)) != 0)
		return (r);
	return (ha->order < hb->order ? -1 : ha->order > hb->order);
}

/* Trim, and fold every run of blanks into one space (quotes too). */
static void
sigv4_add_value(struct buf *out, const char *v)
{
	int	 blank = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v != '\0'; v++) {
		if (*v == ' ' || *v == '\t') {
			blank = 1;
			continue;
		}
		if (blank)
			buf_addc(out, ' ');
		blank = 0;
		buf_addc(out, *v);
	}
}

/* ---- validation */

static int
sigv4_is_token(const char *s)
{
	const char	*p;

	if (s == NULL || *s == '\0')
		return (0);
	for (p = s; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) &&
		    strchr("!#$%&'*+-.^_`|~", *p) == NULL)
			return (0);
	}
	return (1);
}

/* Region, service and access key go into the credential scope. */
static int
sigv4_is_scope_part(const char *s)
{
	const char	*p;

	if (s == NULL || *s == '\0')
		return (0);
	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == '/' || *p == ',' ||
		    *p == 0x7f)
			return (0);
	}
	return (1);
}

static int
sigv4_has_ctl(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\r' || *s == '\n')
			return (1);
	}
	return (0);
}

static int
sigv4_valid_payload_hash(const char *h)
{
	size_t	 i;

	if (strcmp(h, SIGV4_UNSIGNED_PAYLOAD) == 0 ||
	    strncmp(h, "STREAMING-", 10) == 0)
		return (1);
	for (i = 0; h[i] != '\0'; i++) {
		if (!((h[i] >= '0' && h[i] <= '9') ||
		    (h[i] >= 'a' && h[i] <= 'f')))
			return (0);
	}
	return (i == 64);
}

static int
sigv4_check(const struct sigv4_request *req, const struct sigv4_creds *creds,
    const struct sigv4_params *params, int token, char **cause)
{
	/* Headers the signer writes itself; the flag says when. */
	static const struct {
		const char	*name;
		int		 when;
#define SIGV4_ALWAYS	0
#define SIGV4_IF_S3	1
#define SIGV4_IF_TOKEN	2
	} reserved[] = {
		{ "host", SIGV4_ALWAYS },
		{ "authorization", SIGV4_ALWAYS },
		{ "x-amz-date", SIGV4_ALWAYS },
		{ "x-amz-content-sha256", SIGV4_IF_S3 },
		{ "x-amz-security-token", SIGV4_IF_TOKEN },
	};
	const struct sigv4_header	*h;
	size_t				 i, j;

	if (!sigv4_is_token(req->method)) {
		xasprintf(cause, "sigv4: bad request method \"%s\"",
		    req->method == NULL ? "" : req->method);
		return (-1);
	}
	if (req->host == NULL || *req->host == '\0' ||
	    strpbrk(req->host, " \t\r\n") != NULL) {
		xasprintf(cause, "sigv4: bad host \"%s\"",
		    req->host == NULL ? "" : req->host);
		return (-1);
	}
	if ((req->path != NULL && sigv4_has_ctl(req->path)) ||
	    (req->query != NULL && sigv4_has_ctl(req->query))) {
		xasprintf(cause, "sigv4: line break in the request target");
		return (-1);
	}
	if (req->payload_hash != NULL &&
	    !sigv4_valid_payload_hash(req->payload_hash)) {
		xasprintf(cause, "sigv4: payload hash \"%s\" is neither 64 "
		    "lowercase hex digits nor %s", req->payload_hash,
		    SIGV4_UNSIGNED_PAYLOAD);
		return (-1);
	}
	if (creds == NULL || !sigv4_is_scope_part(creds->access_key_id)) {
		xasprintf(cause, "sigv4: missing or malformed access key id");
		return (-1);
	}
	if (creds->secret_access_key == NULL ||
	    *creds->secret_access_key == '\0') {
		/* Never print the secret, not even a bad one. */
		xasprintf(cause, "sigv4: missing secret access key");
		return (-1);
	}
	if (token && sigv4_has_ctl(creds->session_token)) {
		xasprintf(cause, "sigv4: line break in the session token");
		return (-1);
	}
	if (!sigv4_is_scope_part(params->region)) {
		xasprintf(cause, "sigv4: bad region \"%s\"",
		    params->region == NULL ? "" : params->region);
		return (-1);
	}
	if (!sigv4_is_scope_part(params->service)) {
		xasprintf(cause, "sigv4: bad service \"%s\"",
		    params->service == NULL ? "" : params->service);
		return (-1);
	}
	/* The date must fit "YYYYMMDDTHHMMSSZ". */
	if (params->time_ms >= SIGV4_TIME_MAX_MS) {
		xasprintf(cause, "sigv4: signing time %llu ms is past 9999",
		    (unsigned long long)params->time_ms);
		return (-1);
	}
	if (req->nheaders != 0 && req->headers == NULL) {
		xasprintf(cause, "sigv4: %zu headers but no header array",
		    req->nheaders);
		return (-1);
	}

	for (i = 0; i < req->nheaders; i++) {
		h = &req->headers[i];
		if (!sigv4_is_token(h->name)) {
			xasprintf(cause, "sigv4: bad header name \"%s\"",
			    h->name == NULL ? "" : h->name);
			return (-1);
		}
		if (h->value == NULL || sigv4_has_ctl(h->value)) {
			xasprintf(cause, "sigv4: header %s: missing value or "
			    "line break in it", h->name);
			return (-1);
		}
		for (j = 0; j < nitems(reserved); j++) {
			if (strcasecmp(h->name, reserved[j].name) != 0)
				continue;
			if (reserved[j].when == SIGV4_ALWAYS ||
			    (reserved[j].when == SIGV4_IF_S3 && params->s3) ||
			    (reserved[j].when == SIGV4_IF_TOKEN && token)) {
				xasprintf(cause, "sigv4: header %s is set by "
				    "the signer, not the caller", h->name);
				return (-1);
			}
		}
	}
	return (0);
}

/* ---- signing */

static void
sigv4_out_add(struct sigv4_signed *out, const char *name, const char *value)
{
	if (out->nheaders == SIGV4_OUT_MAX)
		fatalx("%s: too many output headers", __func__);
	out->headers[out->nheaders].name = name;
	out->headers[out->nheaders].value = xstrdup(value);
	out->nheaders++;
}

static char *
sigv4_lower(const char *s)
{
	char	*l, *p;

	l = xstrdup(s);
	for (p = l; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return (l);
}

int
sigv4_sign(const struct sigv4_request *req, const struct sigv4_creds *creds,
    const struct sigv4_params *params, struct sigv4_signed *out, char **cause)
{
	struct sigv4_chdr	*ch;
	struct buf		 creq, sts, signed_hdrs, auth;
	size_t			 nch = 0, i;
	const char		*payload, *prev = NULL;
	char			 date[9], creq_hash[SIGV4_HEX_SIZE];
	unsigned char		 key[SIGV4_SHA256_LEN], sig[SIGV4_SHA256_LEN];
	int			 token, sign_token;

	memset(out, 0, sizeof *out);
	token = creds != NULL && creds->session_token != NULL &&
	    *creds->session_token != '\0';
	sign_token = token && !params->token_unsigned;
	if (sigv4_check(req, creds, params, token, cause) != 0)
		return (-1);
	payload = req->payload_hash != NULL ? req->payload_hash :
	    SIGV4_EMPTY_SHA256;

	sigv4_amz_date(params->time_ms, out->amz_date);
	memcpy(date, out->amz_date, 8);
	date[8] = '\0';

	buf_init(&creq);
	buf_init(&sts);
	buf_init(&signed_hdrs);
	buf_init(&auth);

	buf_addf(&creq, "%s\n", req->method);
	sigv4_canonical_path(&creq, req->path, params->s3);
	buf_addc(&creq, '\n');
	if (sigv4_canonical_query(&creq, req->query, cause) != 0) {
		buf_free(&creq);
		return (-1);
	}
	buf_addc(&creq, '\n');

	/* The caller's headers plus the ones the signer adds, sorted. */
	ch = xcalloc(req->nheaders + 4, sizeof *ch);
	for (i = 0; i < req->nheaders; i++) {
		ch[nch].name = sigv4_lower(req->headers[i].name);
		ch[nch].value = req->headers[i].value;
		ch[nch].order = nch;
		nch++;
	}
	ch[nch].name = xstrdup("host");
	ch[nch].value = req->host;
	ch[nch].order = nch;
	nch++;
	ch[nch].name = xstrdup("x-amz-date");
	ch[nch].value = out->amz_date;
	ch[nch].order = nch;
	nch++;
	if (params->s3) {
		ch[nch].name = xstrdup("x-amz-content-sha256");
		ch[nch].value = payload;
		ch[nch].order = nch;
		nch++;
	}
	if (sign_token) {
		ch[nch].name = xstrdup("x-amz-security-token");
		ch[nch].value = creds->session_token;
		ch[nch].order = nch;
		nch++;
	}
	qsort(ch, nch, sizeof *ch, sigv4_chdr_cmp);
	for (i = 0; i < nch; i++) {
		if (prev != NULL && strcmp(prev, ch[i].name) == 0) {
			/* Repeated header: values joined in sent order. */
			buf_addc(&creq, ',');
		} else {
			if (prev != NULL)
				buf_addc(&creq, '\n');
			buf_addf(&creq, "%s:", ch[i].name);
			if (signed_hdrs.len != 0)
				buf_addc(&signed_hdrs, ';');
			buf_adds(&signed_hdrs, ch[i].name);
		}
		sigv4_add_value(&creq, ch[i].value);
		prev = ch[i].name;
	}
	buf_addf(&creq, "\n\n%s\n%s", signed_hdrs.data, payload);
	for (i = 0; i < nch; i++)
		free(ch[i].name);
	free(ch);

	sigv4_sha256_hex(creq.data, creq.len, creq_hash);
	buf_addf(&sts, "%s\n%s\n%s/%s/%s/%s\n%s", SIGV4_ALGORITHM,
	    out->amz_date, date, params->region, params->service,
	    SIGV4_TERMINATOR, creq_hash);

	sigv4_signing_key(creds->secret_access_key, date, params->region,
	    params->service, key);
	sigv4_hmac(key, sizeof key, sts.data, sts.len, sig);
	explicit_wipe(key, sizeof key);
	hex_encode(sig, sizeof sig, out->signature);

	buf_addf(&auth, "%s Credential=%s/%s/%s/%s/%s, SignedHeaders=%s, "
	    "Signature=%s", SIGV4_ALGORITHM, creds->access_key_id, date,
	    params->region, params->service, SIGV4_TERMINATOR,
	    signed_hdrs.data, out->signature);

	sigv4_out_add(out, "X-Amz-Date", out->amz_date);
	if (params->s3)
		sigv4_out_add(out, "x-amz-content-sha256", payload);
	if (token)
		sigv4_out_add(out, "X-Amz-Security-Token",
		    creds->session_token);
	sigv4_out_add(out, "Authorization", auth.data);

	out->canonical_request = buf_detach(&creq);
	out->string_to_sign = buf_detach(&sts);
	buf_free(&signed_hdrs);
	buf_free(&auth);
	return (0);
}

void
sigv4_signed_free(struct sigv4_signed *out)
{
	size_t	 i;

	for (i = 0; i < out->nheaders; i++) {
		/* The session token is a credential. */
		freezero_str(out->headers[i].value);
	}
	free(out->canonical_request);
	free(out->string_to_sign);
	memset(out, 0, sizeof *out);
}

const char *
sigv4_signed_header(const struct sigv4_signed *out, const char *name)
{
	size_t	 i;

	for (i = 0; i < out->nheaders; i++) {
		if (strcasecmp(out->headers[i].name, name) == 0)
			return (out->headers[i].value);
	}
	return (NULL);
}
