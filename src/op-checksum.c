/*
 * S3ComputeObjectChecksum: stream each object (version-pinned, If-Match on
 * its ETag) through one checksum and put the value in the report's
 * ResultMessage, as JSON: checksum_base64, checksum_hex,
 * checksumAlgorithm, checksumType. Nothing of the object is kept in memory.
 *
 * FULL_OBJECT is one GET over the whole byte stream. COMPOSITE is S3's
 * checksum of the part checksums with a "-N" suffix, so it needs the part
 * boundaries of a multipart object (an ETag ending in "-N"):
 *   - a server that answers partNumber= (x-amz-mp-parts-count) gives each
 *     part with its own GET ?partNumber=k;
 *   - one that ignores it (Ceph RGW before Reef) or refuses it (Swift's
 *     s3api: 405) gets one GET of the whole object while a few likely
 *     part sizes are tried side by side; the
 *     one whose part MD5s reproduce the multipart ETag proves the
 *     boundaries, and no value is reported without that proof.
 * A single-part object's composite value is its plain checksum, as in S3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "cfg.h"
#include "checksum.h"
#include "op.h"
#include "s3.h"

#define OP_CHECKSUM_MIB		(1024ULL * 1024)
#define OP_CHECKSUM_MAX_PARTS	10000
#define OP_CHECKSUM_MAX_GUESSES	8

/* The job's compiled parameters. */
struct op_checksum {
	enum checksum_alg	 alg;
	int			 composite;
};

/*
 * Which types each algorithm has, as S3 defines them: CRCs both, the SHA
 * digests composite only, CRC64NVME full-object only; MD5 both (Amazon's
 * Compute checksum gives full-object MD5 of multipart objects, and the
 * composite MD5 is what the multipart ETag is made of).
 */
#define OP_CHECKSUM_FULL	0x1
#define OP_CHECKSUM_COMPOSITE	0x2
static const struct {
	enum checksum_alg	 alg;
	int			 types;
	int			 dflt;		/* without ChecksumType */
} op_checksum_types[] = {
	{ CHECKSUM_CRC32, OP_CHECKSUM_FULL | OP_CHECKSUM_COMPOSITE,
	  OP_CHECKSUM_FULL },
	{ CHECKSUM_CRC32C, OP_CHECKSUM_FULL | OP_CHECKSUM_COMPOSITE,
	  OP_CHECKSUM_FULL },
	{ CHECKSUM_CRC64NVME, OP_CHECKSUM_FULL, OP_CHECKSUM_FULL },
	{ CHECKSUM_MD5, OP_CHECKSUM_FULL | OP_CHECKSUM_COMPOSITE,
	  OP_CHECKSUM_FULL },
	{ CHECKSUM_SHA1, OP_CHECKSUM_COMPOSITE, OP_CHECKSUM_COMPOSITE },
	{ CHECKSUM_SHA256, OP_CHECKSUM_COMPOSITE, OP_CHECKSUM_COMPOSITE },
	{ CHECKSUM_SHA512, OP_CHECKSUM_COMPOSITE, OP_CHECKSUM_COMPOSITE },
};

/* Part sizes tried when the server cannot tell (common clients' sizes). */
static const uint64_t op_checksum_guess_mib[] = {
	8, 5, 16, 15, 10, 32, 64, 100, 128, 256, 512, 1024,
};

/* One guess at the part size: the composite value and ETag it gives. */
struct op_checksum_guess {
	uint64_t		 part_size;
	uint64_t		 part_left;
	int			 nparts;
	struct checksum		 part;		/* the current part */
	struct checksum		 part_md5;
	struct checksum		 outer;		/* over the part values */
	struct checksum		 outer_md5;	/* the ETag's MD5 */
};

enum op_checksum_mode {
	OP_CHECKSUM_WHOLE,	/* one GET, the plain value */
	OP_CHECKSUM_PARTS,	/* GET ?partNumber=k, k = 1..nparts */
	OP_CHECKSUM_GUESS,	/* one GET, part sizes proved by the ETag */
};

/* One task's progress. */
struct op_checksum_task {
	enum op_checksum_mode	 mode;
	struct checksum		 sum;		/* the stream, or the part */
	struct checksum		 outer;		/* PARTS: over the part values */
	int			 nparts;	/* the ETag's -N; 0: none */
	int			 part;		/* PARTS: the one being read */
	uint64_t		 size;
	uint64_t		 got;		/* this GET's body bytes */
	uint64_t		 total;		/* PARTS: the parts' bytes */
	struct op_checksum_guess guesses[OP_CHECKSUM_MAX_GUESSES];
	size_t			 nguesses;
};

static int
op_checksum_compile(struct json_object *params, struct json_object *spec,
    void **ctxp, char **cause)
{
	struct op_checksum	*ctx;
	struct json_object	*v;
	const char		*name = "CRC64NVME", *type = NULL;
	enum checksum_alg	 alg;
	size_t			 i;
	int			 t;

	if (params != NULL &&
	    json_object_object_get_ex(params, "ChecksumAlgorithm", &v))
		name = json_object_get_string(v);
	if (params != NULL &&
	    json_object_object_get_ex(params, "ChecksumType", &v))
		type = json_object_get_string(v);
	if (checksum_alg_find(name, &alg) != 0) {
		xasprintf(cause, "Operation.S3ComputeObjectChecksum."
		    "ChecksumAlgorithm: %s is not supported by this s3batchd "
		    "(CRC32, CRC32C, CRC64NVME, MD5, SHA1, SHA256 and SHA512 "
		    "are)", name);
		return (-1);
	}
	for (i = 0; i < nitems(op_checksum_types); i++) {
		if (op_checksum_types[i].alg == alg)
			break;
	}
	if (i == nitems(op_checksum_types))
		fatalx("op-checksum: %s has no types", name);
	if (type == NULL)
		t = op_checksum_types[i].dflt;
	else if (strcmp(type, "FULL_OBJECT") == 0)
		t = OP_CHECKSUM_FULL;
	else if (strcmp(type, "COMPOSITE") == 0)
		t = OP_CHECKSUM_COMPOSITE;
	else {
		xasprintf(cause, "Operation.S3ComputeObjectChecksum."
		    "ChecksumType: %s is not FULL_OBJECT or COMPOSITE", type);
		return (-1);
	}
	if ((op_checksum_types[i].types & t) == 0) {
		xasprintf(cause, "Operation.S3ComputeObjectChecksum."
		    "ChecksumType: S3 has no %s %s checksum (%s is %s only)",
		    type, name, name, t == OP_CHECKSUM_FULL ? "COMPOSITE" :
		    "FULL_OBJECT");
		return (-1);
	}
	ctx = xcalloc(1, sizeof *ctx);
	ctx->alg = alg;
	ctx->composite = (t == OP_CHECKSUM_COMPOSITE);
	*ctxp = ctx;
	return (0);
}

static void
op_checksum_free(void *arg)
{
	free(arg);
}

static void
op_checksum_task_free(struct op_checksum_task *ct)
{
	size_t	i;

	if (ct == NULL)
		return;
	checksum_free(&ct->sum);
	checksum_free(&ct->outer);
	for (i = 0; i < ct->nguesses; i++) {
		checksum_free(&ct->guesses[i].part);
		checksum_free(&ct->guesses[i].part_md5);
		checksum_free(&ct->guesses[i].outer);
		checksum_free(&ct->guesses[i].outer_md5);
	}
	free(ct);
}

/* End the task, freeing its state first. */
static void
op_checksum_end(struct op_run *run, enum task_state state, int status,
    const char *code, const char *message)
{
	struct op_checksum_task	*ct = run->state;

	run->state = NULL;
	op_checksum_task_free(ct);
	if (state == TASK_SUCCEEDED)
		op_succeed(run, status, message);
	else
		op_finish(run, state, status, code, message);
}

static void
op_checksum_end_result(struct op_run *run, const struct s3_result *r)
{
	if (r->status == 412) {
		op_checksum_end(run, TASK_FAILED, 412, "PreconditionFailed",
		    "the object's ETag is no longer the one first seen; no "
		    "checksum was computed");
		return;
	}
	if (r->status == 404 && r->error_code != NULL &&
	    strcmp(r->error_code, "NotFound") == 0) {
		/* A HEAD: no error document. */
		op_checksum_end(run, TASK_FAILED, 404, run->version_id != NULL ?
		    "NoSuchVersion" : "NoSuchKey", "The specified key does "
		    "not exist.");
		return;
	}
	op_checksum_end(run, TASK_FAILED, r->status, r->error_code != NULL ?
	    r->error_code : "UnknownError", r->error_message != NULL ?
	    r->error_message : "");
}

/* The report's ResultMessage. */
static void
op_checksum_succeed(struct op_run *run, const uint8_t *v, size_t len,
    int nparts)
{
	struct op_checksum	*ctx = run->ctx;
	struct json_object	*o;
	struct buf		 b64, hex;
	char			*msg;

	buf_init(&b64);
	buf_init(&hex);
	checksum_base64(&b64, v, len);
	if (nparts > 0)
		buf_addf(&b64, "-%d", nparts);
	checksum_hex(&hex, v, len);
	o = json_object_new_object();
	json_object_object_add(o, "checksum_base64",
	    json_object_new_string(b64.data));
	json_object_object_add(o, "checksum_hex",
	    json_object_new_string(hex.data));
	json_object_object_add(o, "checksumAlgorithm",
	    json_object_new_string(checksum_alg_name(ctx->alg)));
	json_object_object_add(o, "checksumType", json_object_new_string(
	    ctx->composite ? "COMPOSITE" : "FULL_OBJECT"));
	msg = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	buf_free(&b64);
	buf_free(&hex);
	op_checksum_end(run, TASK_SUCCEEDED, 200, NULL, msg);
	free(msg);
}

/* --- guessed part sizes */

static void
op_checksum_guess_reset(struct op_checksum_guess *g)
{
	g->part_left = g->part_size;
	g->nparts = 0;
	checksum_reset(&g->part);
	checksum_reset(&g->part_md5);
	checksum_reset(&g->outer);
	checksum_reset(&g->outer_md5);
}

static void
op_checksum_guess_close(struct op_checksum_guess *g)
{
	uint8_t	v[CHECKSUM_MAX_LEN];
	size_t	len;

	len = checksum_final(&g->part, v);
	checksum_update(&g->outer, v, len);
	len = checksum_final(&g->part_md5, v);
	checksum_update(&g->outer_md5, v, len);
	g->nparts++;
	g->part_left = g->part_size;
}

static void
op_checksum_guess_update(struct op_checksum_guess *g, const uint8_t *p,
    size_t len)
{
	size_t	n;

	while (len > 0) {
		n = len < g->part_left ? len : (size_t)g->part_left;
		checksum_update(&g->part, p, n);
		checksum_update(&g->part_md5, p, n);
		g->part_left -= n;
		p += n;
		len -= n;
		if (g->part_left == 0)
			op_checksum_guess_close(g);
	}
}

/*
 * The part sizes that could give nparts parts of size bytes: each client's
 * usual size, the configured one, and the size split evenly in whole MiB.
 */
static void
op_checksum_guesses(struct op_run *run, struct op_checksum_task *ct)
{
	struct op_checksum	*ctx = run->ctx;
	uint64_t		 cand[nitems(op_checksum_guess_mib) + 2], p, n;
	size_t			 ncand = 0, i, j;

	n = (uint64_t)ct->nparts;
	if (n == 1)
		cand[ncand++] = ct->size > 0 ? ct->size : 1;
	else {
		cand[ncand++] = run->cfg->multipart_part_size;
		for (i = 0; i < nitems(op_checksum_guess_mib); i++)
			cand[ncand++] = op_checksum_guess_mib[i] *
			    OP_CHECKSUM_MIB;
		p = (ct->size + n - 1) / n;
		cand[ncand++] = (p + OP_CHECKSUM_MIB - 1) / OP_CHECKSUM_MIB *
		    OP_CHECKSUM_MIB;
	}
	for (i = 0; i < ncand && ct->nguesses < OP_CHECKSUM_MAX_GUESSES; i++) {
		p = cand[i];
		/* Exactly n parts: (n - 1) full ones and a last of 1..p. */
		if (p == 0 || (n - 1) * p >= ct->size || n * p < ct->size)
			continue;
		for (j = 0; j < ct->nguesses; j++) {
			if (ct->guesses[j].part_size == p)
				break;
		}
		if (j != ct->nguesses)
			continue;
		ct->guesses[ct->nguesses].part_size = p;
		checksum_init(&ct->guesses[ct->nguesses].part, ctx->alg);
		checksum_init(&ct->guesses[ct->nguesses].part_md5, CHECKSUM_MD5);
		checksum_init(&ct->guesses[ct->nguesses].outer, ctx->alg);
		checksum_init(&ct->guesses[ct->nguesses].outer_md5,
		    CHECKSUM_MD5);
		op_checksum_guess_reset(&ct->guesses[ct->nguesses]);
		ct->nguesses++;
	}
}

/* The guess whose part MD5s give the ETag, or NULL. */
static struct op_checksum_guess *
op_checksum_guess_proved(struct op_checksum_task *ct, const char *etag)
{
	struct op_checksum_guess	*g;
	struct buf			 b;
	uint8_t				 v[CHECKSUM_MAX_LEN];
	size_t				 i, len;
	int				 ok;

	for (i = 0; i < ct->nguesses; i++) {
		g = &ct->guesses[i];
		if (g->part_left != g->part_size || g->nparts == 0)
			op_checksum_guess_close(g);	/* the last part */
		if (g->nparts != ct->nparts)
			continue;
		buf_init(&b);
		len = checksum_final(&g->outer_md5, v);
		checksum_hex(&b, v, len);
		buf_addf(&b, "-%d", g->nparts);
		ok = strcasecmp(b.data, etag) == 0;
		buf_free(&b);
		if (ok)
			return (g);
	}
	return (NULL);
}

/* --- the GETs */

static void	op_checksum_get(struct op_run *);

static int
op_checksum_sink_cb(uint64_t off, const void *data, size_t len, void *arg)
{
	struct op_run		*run = arg;
	struct op_checksum_task	*ct = run->state;
	size_t			 i;

	if (off == 0) {
		/* A new attempt: what an earlier one fed is discarded. */
		checksum_reset(&ct->sum);
		for (i = 0; i < ct->nguesses; i++)
			op_checksum_guess_reset(&ct->guesses[i]);
	}
	if (ct->mode == OP_CHECKSUM_GUESS) {
		for (i = 0; i < ct->nguesses; i++)
			op_checksum_guess_update(&ct->guesses[i], data, len);
	} else
		checksum_update(&ct->sum, data, len);
	ct->got = off + len;
	return (0);
}

/*
 * What a GET must have been to be summed: an ETag (the one If-Match
 * named), and as many bytes as the object has: its Content-Length, and
 * what HEAD said when a composite checksum asked (the parts' bytes are
 * added up at the end). A 200 carrying an HTML page has no ETag.
 */
static int
op_checksum_get_valid(struct op_run *run, const struct s3_result *r)
{
	struct op_checksum	*ctx = run->ctx;
	struct op_checksum_task	*ct = run->state;
	char			*msg;

	if (r->etag == NULL || (r->status != 200 && r->status != 206)) {
		xasprintf(&msg, "GetObject answered %d without an ETag; no "
		    "checksum was computed", r->status);
		goto fail;
	}
	if (r->content_length >= 0 && ct->got != (uint64_t)r->content_length) {
		xasprintf(&msg, "GetObject answered %llu bytes with a "
		    "Content-Length of %lld; no checksum was computed",
		    (unsigned long long)ct->got, (long long)r->content_length);
		goto fail;
	}
	if (ctx->composite && ct->mode != OP_CHECKSUM_PARTS &&
	    ct->got != ct->size) {
		xasprintf(&msg, "GetObject answered %llu bytes where HEAD "
		    "said the object has %llu; no checksum was computed",
		    (unsigned long long)ct->got,
		    (unsigned long long)ct->size);
		goto fail;
	}
	return (1);
fail:
	op_checksum_end(run, TASK_FAILED, r->status, "InvalidResponse", msg);
	free(msg);
	return (0);
}

static void
op_checksum_get_cb(const struct s3_result *r, void *arg)
{
	struct op_run			*run = arg;
	struct op_checksum_task		*ct = run->state;
	struct op_checksum_guess	*g;
	const char			*etag;
	uint8_t				 v[CHECKSUM_MAX_LEN];
	size_t				 len;
	char				*msg;

	op_account(run, r);
	if (r->error_code != NULL) {
		op_checksum_end_result(run, r);
		return;
	}
	etag = op_expected_etag(run);
	if (etag != NULL && r->etag != NULL && strcasecmp(r->etag, etag) != 0) {
		/* If-Match was not honoured: the server sent another object. */
		op_checksum_end(run, TASK_FAILED, 412, "PreconditionFailed",
		    "the object's ETag is no longer the one first seen; no "
		    "checksum was computed");
		return;
	}
	if (!op_checksum_get_valid(run, r))
		return;
	switch (ct->mode) {
	case OP_CHECKSUM_WHOLE:
		len = checksum_final(&ct->sum, v);
		op_checksum_succeed(run, v, len, 0);
		break;
	case OP_CHECKSUM_PARTS:
		len = checksum_final(&ct->sum, v);
		checksum_update(&ct->outer, v, len);
		ct->total += ct->got;
		if (++ct->part <= ct->nparts) {
			op_checksum_get(run);
			return;
		}
		if (ct->total != ct->size) {
			xasprintf(&msg, "GetObject ?partNumber= answered %llu "
			    "bytes in all where HEAD said the object has %llu; "
			    "no checksum was computed",
			    (unsigned long long)ct->total,
			    (unsigned long long)ct->size);
			op_checksum_end(run, TASK_FAILED, r->status,
			    "InvalidResponse", msg);
			free(msg);
			return;
		}
		len = checksum_final(&ct->outer, v);
		op_checksum_succeed(run, v, len, ct->nparts);
		break;
	case OP_CHECKSUM_GUESS:
		if ((g = op_checksum_guess_proved(ct, etag)) == NULL) {
			op_checksum_end(run, TASK_FAILED, 501, "NotImplemented",
			    "the server does not give the object's part "
			    "boundaries (no partNumber support) and no usual "
			    "part size reproduces its multipart ETag; use "
			    "ChecksumType FULL_OBJECT");
			return;
		}
		len = checksum_final(&g->outer, v);
		op_checksum_succeed(run, v, len, ct->nparts);
		break;
	}
}

static void
op_checksum_get(struct op_run *run)
{
	struct op_checksum_task	*ct = run->state;
	struct s3_request	 req;
	struct s3_header	 h;
	const char		*etag = op_expected_etag(run);
	char			 quoted[256], query[32];

	memset(&req, 0, sizeof req);
	req.method = "GET";
	req.bucket = run->bucket;
	req.key = run->key;
	req.key_len = run->key_len;
	req.version_id = run->version_id;
	req.role_arn = run->role_arn;
	if (ct->mode == OP_CHECKSUM_PARTS) {
		snprintf(query, sizeof query, "partNumber=%d", ct->part);
		req.query = query;
	}
	if (etag != NULL) {
		snprintf(quoted, sizeof quoted, "\"%s\"", etag);
		h.name = "If-Match";
		h.value = quoted;
		req.headers = &h;
		req.nheaders = 1;
	}
	req.sink = op_checksum_sink_cb;
	req.sink_arg = run;
	ct->got = 0;
	run->call = s3_call(run->s3, &req, op_checksum_get_cb, run);
}

/* --- composite: learn the parts */

/* Whether an answer to HEAD ?partNumber= says "no partNumber here". */
static int
op_checksum_no_part_number(const struct s3_result *r)
{
	static const int	 refusals[] = { 405, 501 };
	size_t			 i;

	for (i = 0; i < nitems(refusals); i++)
		if (r->status == refusals[i])
			return (1);
	return (0);
}

static void
op_checksum_parts_cb(const struct s3_result *r, void *arg)
{
	struct op_run		*run = arg;
	struct op_checksum	*ctx = run->ctx;
	struct op_checksum_task	*ct = run->state;
	const char		*count;
	char			*msg;

	op_account(run, r);
	/*
	 * A server that refuses HEAD ?partNumber= instead of ignoring it
	 * (Swift's s3api: 405 MethodNotAllowed; others 501) has no part
	 * boundaries to give: the same fallback as one that ignores it.
	 */
	if (r->error_code != NULL && !op_checksum_no_part_number(r)) {
		op_checksum_end_result(run, r);
		return;
	}
	count = r->error_code == NULL ?
	    s3_result_header(r, "x-amz-mp-parts-count") : NULL;
	if (count != NULL && atoi(count) == ct->nparts) {
		ct->mode = OP_CHECKSUM_PARTS;
		ct->part = 1;
		checksum_init(&ct->outer, ctx->alg);
	} else {
		/* partNumber ignored or refused: no boundaries. */
		ct->mode = OP_CHECKSUM_GUESS;
		op_checksum_guesses(run, ct);
		if (ct->nguesses == 0) {
			xasprintf(&msg, "the server does not give the "
			    "object's part boundaries (no partNumber support) "
			    "and no usual part size fits its %d parts of %llu "
			    "bytes; use ChecksumType FULL_OBJECT", ct->nparts,
			    (unsigned long long)ct->size);
			op_checksum_end(run, TASK_FAILED, 501, "NotImplemented",
			    msg);
			free(msg);
			return;
		}
	}
	op_checksum_get(run);
}

static void
op_checksum_head_cb(const struct s3_result *r, void *arg)
{
	struct op_run		*run = arg;
	struct op_checksum_task	*ct = run->state;
	struct s3_request	 req;
	struct s3_header	 h;
	const char		*dash;
	char			 quoted[256];
	long			 n;

	op_account(run, r);
	if (r->error_code != NULL) {
		op_checksum_end_result(run, r);
		return;
	}
	if (r->etag == NULL || r->content_length < 0) {
		op_checksum_end(run, TASK_FAILED, r->status, "InvalidResponse",
		    "HEAD gave no ETag or Content-Length");
		return;
	}
	ct->size = (uint64_t)r->content_length;
	dash = strrchr(r->etag, '-');
	n = dash != NULL ? strtol(dash + 1, NULL, 10) : 0;
	if (n <= 0 || n > OP_CHECKSUM_MAX_PARTS) {
		/* Not a multipart object: its plain checksum. */
		op_checksum_get(run);
		return;
	}
	ct->nparts = (int)n;
	memset(&req, 0, sizeof req);
	req.method = "HEAD";
	req.bucket = run->bucket;
	req.key = run->key;
	req.key_len = run->key_len;
	req.version_id = run->version_id;
	req.query = "partNumber=1";
	req.role_arn = run->role_arn;
	snprintf(quoted, sizeof quoted, "\"%s\"", op_expected_etag(run));
	h.name = "If-Match";
	h.value = quoted;
	req.headers = &h;
	req.nheaders = 1;
	run->call = s3_call(run->s3, &req, op_checksum_parts_cb, run);
}

static void
op_checksum_start(struct op_run *run)
{
	struct op_checksum	*ctx = run->ctx;
	struct op_checksum_task	*ct;

	ct = xcalloc(1, sizeof *ct);
	ct->mode = OP_CHECKSUM_WHOLE;
	checksum_init(&ct->sum, ctx->alg);
	run->state = ct;
	if (ctx->composite)
		op_head(run, op_checksum_head_cb);
	else
		op_checksum_get(run);
}

static void
op_checksum_cancel(struct op_run *run)
{
	op_checksum_task_free(run->state);
	run->state = NULL;
}

const struct op_def op_compute_checksum = {
	.name = "S3ComputeObjectChecksum",
	.compile = op_checksum_compile,
	.free = op_checksum_free,
	.start = op_checksum_start,
	.cancel = op_checksum_cancel,
};
