/*
 * One multipart upload (s3-mpu.h): create, parts, complete, abort.
 *
 * The upload ends only from an S3 call's callback (s3_call never calls back
 * before it returns), so a caller's synchronous s3_mpu_fail or send inside
 * part_cb never frees the upload under it; `pumping` keeps part_cb from
 * being re-entered, `ending` keeps the abort or complete from being sent
 * twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3batchd.h"
#include "http.h"
#include "s3.h"
#include "s3-mpu.h"
#include "s3xml.h"

struct s3_mpu_part {
	struct s3_mpu	*mpu;
	int		 index;
	int		 copy;		/* UploadPartCopy: ETag in the body */
	struct s3_call	*call;
};

struct s3_mpu {
	struct s3		*s3;
	char			*bucket;
	char			*key;
	size_t			 key_len;
	char			*role_arn;
	char			*owner;
	uint64_t		 size;
	uint64_t		 part_size;
	int			 nparts;
	int			 parallel;
	void			 (*part_cb)(struct s3_mpu *, int, uint64_t,
				     uint64_t, void *);
	void			 (*part_done_cb)(struct s3_mpu *, int,
				     const struct s3_result *, void *);
	void			 (*done_cb)(const struct s3_mpu_end *, void *);
	void			*arg;

	char			*upload_id;
	struct s3_call		*call;		/* create, complete, abort */
	struct s3_mpu_part	*parts;
	char			**etags;	/* quoted */
	int			 next;		/* the next part to hand out */
	int			 out;		/* handed out, not ended */
	int			 done;		/* parts with an ETag */
	int			 pumping;
	int			 ending;	/* complete or abort sent */
	int			 attempts;

	/* The first failure. */
	int			 failed;
	enum s3_mpu_step	 step;
	int			 status;
	char			*code;
	char			*message;
};

static void	s3_mpu_check(struct s3_mpu *);

uint64_t
s3_mpu_part_size(uint64_t size, uint64_t wanted)
{
	uint64_t	min;

	min = (size + S3_MPU_MAX_PARTS - 1) / S3_MPU_MAX_PARTS;
	if (wanted < min)
		wanted = (min + S3_MPU_MiB - 1) / S3_MPU_MiB * S3_MPU_MiB;
	return (wanted);
}

int
s3_mpu_nparts(uint64_t size, uint64_t part_size)
{
	if (size == 0)
		return (1);
	return ((int)((size + part_size - 1) / part_size));
}

static void
s3_mpu_free(struct s3_mpu *m)
{
	int	i;

	for (i = 0; m->etags != NULL && i < m->nparts; i++)
		free(m->etags[i]);
	free(m->etags);
	free(m->parts);
	free(m->bucket);
	free(m->key);
	free(m->role_arn);
	free(m->owner);
	free(m->upload_id);
	free(m->code);
	free(m->message);
	free(m);
}

static void
s3_mpu_end(struct s3_mpu *m, const struct s3_result *r)
{
	struct s3_mpu_end	end;

	memset(&end, 0, sizeof end);
	end.attempts = m->attempts;
	if (m->failed) {
		end.step = m->step;
		end.status = m->status;
		end.code = m->code;
		end.message = m->message;
	} else {
		end.step = S3_MPU_COMPLETE;
		end.status = r->status;
		end.result = r;
	}
	m->done_cb(&end, m->arg);
	s3_mpu_free(m);
}

/*
 * Send a request to the upload's object with req's headers and the
 * owner's; the query stays the caller's.
 */
static struct s3_call *
s3_mpu_call(struct s3_mpu *m, struct s3_request *req, const char *method,
    const char *query, s3_done_cb cb, void *arg)
{
	struct s3_call		*call;
	struct s3_header	*h = NULL;

	req->method = method;
	req->bucket = m->bucket;
	req->key = m->key;
	req->key_len = m->key_len;
	req->query = query;
	req->role_arn = m->role_arn;
	if (m->owner != NULL) {
		h = xcalloc(req->nheaders + 1, sizeof *h);
		if (req->nheaders != 0)
			memcpy(h, req->headers, req->nheaders * sizeof *h);
		h[req->nheaders].name = "x-amz-expected-bucket-owner";
		h[req->nheaders].value = m->owner;
		req->headers = h;
		req->nheaders++;
	}
	call = s3_call(m->s3, req, cb, arg);
	free(h);
	return (call);
}

/* "[partNumber=N&]uploadId=..." */
static char *
s3_mpu_query(const struct s3_mpu *m, int part)
{
	struct buf	q;

	buf_init(&q);
	if (part != 0)
		buf_addf(&q, "partNumber=%d&", part);
	buf_adds(&q, "uploadId=");
	url_encode(&q, m->upload_id, strlen(m->upload_id), 0);
	return (buf_detach(&q));
}

static void
s3_mpu_record(struct s3_mpu *m, enum s3_mpu_step step, int status,
    const char *code, const char *message)
{
	if (m->failed)
		return;
	m->failed = 1;
	m->step = step;
	m->status = status;
	m->code = xstrdup(code != NULL ? code : "UnknownError");
	m->message = xstrdup(message != NULL ? message : "");
}

void
s3_mpu_fail(struct s3_mpu *m, int index, int status, const char *code,
    const char *message)
{
	s3_mpu_record(m, S3_MPU_PART, status, code, message);
	if (index >= 0)
		m->out--;
	s3_mpu_check(m);
}

int
s3_mpu_failed(const struct s3_mpu *m)
{
	return (m->failed);
}

static void
s3_mpu_abort_cb(const struct s3_result *r, void *arg)
{
	struct s3_mpu	*m = arg;

	m->call = NULL;
	m->attempts += r->attempts;
	if (r->error_code != NULL)
		log_warnx("aborting multipart upload %s of s3://%s/%.*s: %s",
		    m->upload_id, m->bucket, (int)m->key_len, m->key,
		    r->error_code);
	s3_mpu_end(m, NULL);
}

/*
 * A completed upload's answer must be a CompleteMultipartUploadResult: S3
 * sends its 200 before the work is done and may put an <Error> in it
 * (S3_ERROR_IN_200 makes that a failed call), and anything else is no
 * proof that the object exists. The root element is the proof: its ETag
 * may be empty (Ceph RGW 16 sends <ETag></ETag>, which the parser counts
 * as missing); callers that compare it read it themselves.
 */
static int
s3_mpu_complete_ok(const struct s3_result *r, char **cause)
{
	struct s3xml_complete	 done;
	struct s3xml		*x;
	char			*c = NULL;
	int			 ok = 0;

	if (r->http == NULL) {
		*cause = xstrdup("CompleteMultipartUpload answered 2xx "
		    "without a body");
		return (0);
	}
	x = s3xml_new(S3XML_DOC_COMPLETE_MULTIPART, &done, NULL, NULL, 0);
	if (s3xml_feed(x, r->http->body.data, r->http->body.len, &c) == 0 &&
	    s3xml_finish(x, &c) == 0)
		ok = 1;
	else if (s3xml_kind(x) == S3XML_DOC_COMPLETE_MULTIPART &&
	    done.etag.len == 0)
		ok = 1;
	if (!ok)
		xasprintf(cause, "CompleteMultipartUpload answered 2xx without "
		    "a CompleteMultipartUploadResult%s%s", c != NULL ? ": " :
		    "", c != NULL ? c : "");
	free(c);
	s3xml_free(x);
	s3xml_complete_free(&done);
	return (ok);
}

static void
s3_mpu_complete_cb(const struct s3_result *r, void *arg)
{
	struct s3_mpu	*m = arg;
	char		*cause = NULL;

	m->call = NULL;
	m->attempts += r->attempts;
	if (r->error_code != NULL || !s3_mpu_complete_ok(r, &cause)) {
		/* Then abort: a no-op if the upload did complete after all. */
		s3_mpu_record(m, S3_MPU_COMPLETE, r->status,
		    r->error_code != NULL ? r->error_code : "InvalidResponse",
		    r->error_code != NULL ? r->error_message : cause);
		free(cause);
		m->ending = 0;
		s3_mpu_check(m);
		return;
	}
	/* Complete: nothing is left to abort. */
	free(m->upload_id);
	m->upload_id = NULL;
	s3_mpu_end(m, r);
}

/* Complete after the last part, abort after a failure, or wait for parts. */
static void
s3_mpu_check(struct s3_mpu *m)
{
	struct s3_request	 req;
	struct s3_header	 ct;
	struct s3xml_part	*parts;
	struct buf		 body;
	char			*q, *cause = NULL;
	int			 i;

	if (m->pumping || m->ending || m->out != 0 || m->upload_id == NULL)
		return;
	if (!m->failed && m->done < m->nparts)
		return;
	memset(&req, 0, sizeof req);
	q = s3_mpu_query(m, 0);
	m->ending = 1;
	if (m->failed) {
		m->call = s3_mpu_call(m, &req, "DELETE", q, s3_mpu_abort_cb, m);
		free(q);
		return;
	}
	parts = xcalloc((size_t)m->nparts, sizeof *parts);
	for (i = 0; i < m->nparts; i++) {
		parts[i].number = i + 1;
		parts[i].etag = m->etags[i];
	}
	buf_init(&body);
	if (s3xml_write_complete(&body, parts, (size_t)m->nparts,
	    &cause) != 0) {
		s3_mpu_record(m, S3_MPU_COMPLETE, 0, "InternalError", cause);
		free(cause);
		m->call = s3_mpu_call(m, &req, "DELETE", q, s3_mpu_abort_cb, m);
	} else {
		ct.name = "Content-Type";
		ct.value = "application/xml";
		req.headers = &ct;
		req.nheaders = 1;
		req.body = body.data;
		req.body_len = body.len;
		req.flags = S3_ERROR_IN_200;
		m->call = s3_mpu_call(m, &req, "POST", q, s3_mpu_complete_cb,
		    m);
	}
	free(parts);
	buf_free(&body);
	free(q);
}

/* Hand parts out up to the limit. */
static void
s3_mpu_pump(struct s3_mpu *m)
{
	uint64_t	first, len;
	int		i;

	if (m->pumping)
		return;
	m->pumping = 1;
	while (!m->failed && m->next < m->nparts && m->out < m->parallel) {
		i = m->next++;
		m->out++;
		first = (uint64_t)i * m->part_size;
		len = m->size - first;
		if (len > m->part_size)
			len = m->part_size;
		m->part_cb(m, i, first, len, m->arg);
	}
	m->pumping = 0;
	s3_mpu_check(m);
}

/* The part's ETag, quoted, from its answer; NULL with *cause if none. */
static char *
s3_mpu_part_etag(const struct s3_mpu_part *p, const struct s3_result *r,
    char **cause)
{
	struct s3xml_copy	 copy;
	char			*etag = NULL;

	if (!p->copy) {
		if (r->etag == NULL || *r->etag == '\0') {
			*cause = xstrdup("UploadPart returned no ETag");
			return (NULL);
		}
		xasprintf(&etag, "\"%s\"", r->etag);
		return (etag);
	}
	memset(&copy, 0, sizeof copy);
	if (r->http == NULL || s3xml_parse_copy(r->http->body.data,
	    r->http->body.len, &copy, cause) != 0 || copy.etag.len == 0) {
		if (*cause == NULL)
			*cause = xstrdup("UploadPartCopy returned no ETag");
	} else
		etag = xstrdup(copy.etag.data);
	s3xml_copy_free(&copy);
	return (etag);
}

static void
s3_mpu_part_cb(const struct s3_result *r, void *arg)
{
	struct s3_mpu_part	*p = arg;
	struct s3_mpu		*m = p->mpu;
	char			*cause = NULL, *etag = NULL;

	p->call = NULL;
	m->out--;
	m->attempts += r->attempts;
	if (r->error_code == NULL &&
	    (etag = s3_mpu_part_etag(p, r, &cause)) != NULL) {
		m->etags[p->index] = etag;
		m->done++;
	}
	/* The caller sees the result first: its own failure wins. */
	m->pumping = 1;
	if (m->part_done_cb != NULL)
		m->part_done_cb(m, p->index, r, m->arg);
	m->pumping = 0;
	if (r->error_code != NULL)
		s3_mpu_record(m, S3_MPU_PART, r->status, r->error_code,
		    r->error_message);
	else if (etag == NULL)
		s3_mpu_record(m, S3_MPU_PART, r->status, "InvalidResponse",
		    cause);
	free(cause);
	s3_mpu_pump(m);
}

static int
s3_mpu_send(struct s3_mpu *m, int index, struct s3_request *req, int copy)
{
	struct s3_mpu_part	*p = &m->parts[index];
	char			*q;

	if (m->failed) {
		m->out--;
		s3_mpu_check(m);
		return (-1);
	}
	q = s3_mpu_query(m, index + 1);
	p->mpu = m;
	p->index = index;
	p->copy = copy;
	p->call = s3_mpu_call(m, req, "PUT", q, s3_mpu_part_cb, p);
	free(q);
	return (0);
}

int
s3_mpu_part_body(struct s3_mpu *m, int index, struct s3_request *req)
{
	return (s3_mpu_send(m, index, req, 0));
}

int
s3_mpu_part_copy(struct s3_mpu *m, int index, const char *copy_source,
    const struct s3_header *extra, size_t nextra)
{
	struct s3_request	 req;
	struct s3_header	*h;
	uint64_t		 first, last;
	char			 range[64];
	int			 r;

	first = (uint64_t)index * m->part_size;
	last = first + m->part_size - 1;
	if (last >= m->size)
		last = m->size - 1;
	snprintf(range, sizeof range, "bytes=%llu-%llu",
	    (unsigned long long)first, (unsigned long long)last);
	h = xcalloc(nextra + 2, sizeof *h);
	h[0].name = "x-amz-copy-source";
	h[0].value = copy_source;
	h[1].name = "x-amz-copy-source-range";
	h[1].value = range;
	if (nextra != 0)
		memcpy(h + 2, extra, nextra * sizeof *h);
	memset(&req, 0, sizeof req);
	req.headers = h;
	req.nheaders = nextra + 2;
	req.flags = S3_ERROR_IN_200;
	r = s3_mpu_send(m, index, &req, 1);
	free(h);
	return (r);
}

static void
s3_mpu_create_cb(const struct s3_result *r, void *arg)
{
	struct s3_mpu		*m = arg;
	struct s3xml_initiate	 init;
	char			*cause = NULL;

	m->call = NULL;
	m->attempts += r->attempts;
	if (r->error_code != NULL) {
		s3_mpu_record(m, S3_MPU_CREATE, r->status, r->error_code,
		    r->error_message);
		s3_mpu_end(m, NULL);
		return;
	}
	memset(&init, 0, sizeof init);
	if (r->http == NULL || s3xml_parse_initiate(r->http->body.data,
	    r->http->body.len, &init, &cause) != 0 ||
	    init.upload_id.len == 0) {
		s3_mpu_record(m, S3_MPU_CREATE, r->status, "InvalidResponse",
		    cause != NULL ? cause : "no UploadId in the answer");
		free(cause);
		s3xml_initiate_free(&init);
		s3_mpu_end(m, NULL);
		return;
	}
	m->upload_id = xstrdup(init.upload_id.data);
	s3xml_initiate_free(&init);
	m->parts = xcalloc((size_t)m->nparts, sizeof *m->parts);
	m->etags = xcalloc((size_t)m->nparts, sizeof *m->etags);
	s3_mpu_pump(m);
}

struct s3_mpu *
s3_mpu_start(struct s3 *s3, const struct s3_mpu_params *p)
{
	struct s3_mpu		*m;
	struct s3_request	 req;

	m = xcalloc(1, sizeof *m);
	m->s3 = s3;
	m->bucket = xstrdup(p->bucket);
	m->key_len = p->key_len != 0 ? p->key_len : strlen(p->key);
	m->key = xmalloc(m->key_len + 1);
	memcpy(m->key, p->key, m->key_len);
	m->key[m->key_len] = '\0';
	if (p->role_arn != NULL)
		m->role_arn = xstrdup(p->role_arn);
	if (p->owner != NULL)
		m->owner = xstrdup(p->owner);
	m->size = p->size;
	m->part_size = s3_mpu_part_size(p->size, p->part_size);
	m->nparts = s3_mpu_nparts(m->size, m->part_size);
	m->parallel = p->parallel > 0 ? p->parallel : 1;
	m->part_cb = p->part_cb;
	m->part_done_cb = p->part_done_cb;
	m->done_cb = p->done_cb;
	m->arg = p->arg;

	memset(&req, 0, sizeof req);
	req.headers = p->headers;
	req.nheaders = p->nheaders;
	m->call = s3_mpu_call(m, &req, "POST", "uploads", s3_mpu_create_cb,
	    m);
	return (m);
}

/* A cancelled upload's abort, on its own. */
struct s3_mpu_abort {
	char	*what;
};

static void
s3_mpu_abort_detached_cb(const struct s3_result *r, void *arg)
{
	struct s3_mpu_abort	*a = arg;

	if (r->error_code != NULL)
		log_warnx("aborting %s: %s", a->what, r->error_code);
	free(a->what);
	free(a);
}

void
s3_mpu_cancel(struct s3_mpu *m)
{
	struct s3_mpu_abort	*a;
	struct s3_request	 req;
	char			*q;
	int			 i;

	if (m == NULL)
		return;
	if (m->call != NULL)
		s3_call_cancel(m->call);
	for (i = 0; m->parts != NULL && i < m->nparts; i++) {
		if (m->parts[i].call != NULL)
			s3_call_cancel(m->parts[i].call);
	}
	if (m->upload_id != NULL) {
		a = xcalloc(1, sizeof *a);
		xasprintf(&a->what, "multipart upload %s of s3://%s/%.*s",
		    m->upload_id, m->bucket, (int)m->key_len, m->key);
		q = s3_mpu_query(m, 0);
		memset(&req, 0, sizeof req);
		s3_mpu_call(m, &req, "DELETE", q, s3_mpu_abort_detached_cb, a);
		free(q);
	}
	s3_mpu_free(m);
}
