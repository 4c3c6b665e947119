/*
 * Unit tests for sigv4.c: every case of Amazon's SigV4 test suite found
 * under $srcdir/tests/vectors/sigv4, the worked S3 examples of Amazon's S3
 * documentation, key and query encoding, the key cache, and bad input.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <strings.h>

#include "s3batchd.h"
#include "sigv4.h"
#include "unit.h"

/* The suite's fixed inputs (from its documentation). */
#define SUITE_ACCESS_KEY	"AKIDEXAMPLE"
#define SUITE_SECRET		"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_REGION		"us-east-1"
#define SUITE_SERVICE		"service"
#define SUITE_AMZ_DATE		"20150830T123600Z"
#define SUITE_TIME_MS		1440938160000ULL

/* The S3 documentation's examples. */
#define S3DOC_ACCESS_KEY	"AKIAIOSFODNN7EXAMPLE"
#define S3DOC_SECRET		"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define S3DOC_HOST		"examplebucket.s3.amazonaws.com"
#define S3DOC_TIME_MS		1369353600000ULL

/*
 * Per-case facts the request files cannot carry. post-sts-header-after
 * models a service that wants the token appended after signing.
 * get-vanilla-with-session-token's .sreq repeats get-vanilla's signature
 * (an erratum of the published suite: its .authz and .sts, which are
 * consistent with its .creq, are what we check), so only that one line of
 * its .sreq is not compared.
 */
static const struct {
	const char	*name;
	int		 token_unsigned;
	int		 sreq_authz_wrong;
} suite_quirks[] = {
	{ "post-sts-header-after", 1, 0 },
	{ "get-vanilla-with-session-token", 0, 1 },
};

static int	 suite_run, suite_skipped, suite_failed;

struct suite_hdr {
	char		*name;
	char		*value;
};

struct suite_req {
	char			*method;
	char			*path;
	char			*query;
	struct suite_hdr	*hdrs;
	size_t			 nhdrs;
	struct buf		 body;
};

static int
read_file(const char *path, struct buf *b)
{
	FILE	*f;
	char	 tmp[4096];
	size_t	 n;

	buf_init(b);
	if ((f = fopen(path, "rb")) == NULL)
		return (-1);
	while ((n = fread(tmp, 1, sizeof tmp, f)) != 0)
		buf_add(b, tmp, n);
	fclose(f);
	if (b->data == NULL)
		buf_add(b, "", 0);
	return (0);
}

/* The expected files end without a newline; tolerate one anyway. */
static void
chomp(struct buf *b)
{
	while (b->len > 0 && (b->data[b->len - 1] == '\n' ||
	    b->data[b->len - 1] == '\r'))
		b->data[--b->len] = '\0';
}

static void
suite_req_free(struct suite_req *r)
{
	size_t	 i;

	free(r->method);
	free(r->path);
	free(r->query);
	for (i = 0; i < r->nhdrs; i++) {
		free(r->hdrs[i].name);
		free(r->hdrs[i].value);
	}
	free(r->hdrs);
	buf_free(&r->body);
}

/* Next line of s (LF or CRLF), or NULL at the end; *next moves past it. */
static char *
next_line(const char **s, const char *end, int *eof)
{
	const char	*p = *s, *nl;
	size_t		 len;

	if (p >= end) {
		*eof = 1;
		return (NULL);
	}
	nl = memchr(p, '\n', (size_t)(end - p));
	len = nl == NULL ? (size_t)(end - p) : (size_t)(nl - p);
	*s = nl == NULL ? end : nl + 1;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	*eof = 0;
	return (xstrndup(p, len));
}

/*
 * Parse a .req file: "METHOD target HTTP/1.1" (the target may hold
 * spaces), headers with obs-fold continuation lines, a blank line, a body.
 */
static int
parse_req(const struct buf *in, struct suite_req *r)
{
	const char	*s = in->data, *end = in->data + in->len;
	char		*line, *sp, *colon, *q, *v;
	int		 eof;

	memset(r, 0, sizeof *r);
	buf_init(&r->body);
	if ((line = next_line(&s, end, &eof)) == NULL)
		return (-1);
	sp = strchr(line, ' ');
	q = strrchr(line, ' ');
	if (sp == NULL || q == sp || strncmp(q + 1, "HTTP/", 5) != 0) {
		free(line);
		return (-1);
	}
	r->method = xstrndup(line, (size_t)(sp - line));
	*q = '\0';
	if ((q = strchr(sp + 1, '?')) != NULL) {
		r->query = xstrdup(q + 1);
		*q = '\0';
	}
	r->path = xstrdup(sp + 1);
	free(line);

	while ((line = next_line(&s, end, &eof)) != NULL) {
		if (*line == '\0') {
			free(line);
			buf_add(&r->body, s, (size_t)(end - s));
			break;
		}
		if (*line == ' ' || *line == '\t') {
			/* RFC 7230 3.2.4: an obs-fold stands for one space. */
			if (r->nhdrs == 0) {
				free(line);
				return (-1);
			}
			xasprintf(&v, "%s %s", r->hdrs[r->nhdrs - 1].value,
			    line);
			free(r->hdrs[r->nhdrs - 1].value);
			r->hdrs[r->nhdrs - 1].value = v;
			free(line);
			continue;
		}
		if ((colon = strchr(line, ':')) == NULL) {
			free(line);
			return (-1);
		}
		r->hdrs = xreallocarray(r->hdrs, r->nhdrs + 1,
		    sizeof *r->hdrs);
		r->hdrs[r->nhdrs].name = xstrndup(line,
		    (size_t)(colon - line));
		r->hdrs[r->nhdrs].value = xstrdup(colon + 1);
		r->nhdrs++;
		free(line);
	}
	if (r->body.data == NULL)
		buf_add(&r->body, "", 0);
	return (0);
}

/* The value of the first header line "name:" of a request file. */
static char *
req_header(const struct buf *in, const char *name)
{
	const char	*s = in->data, *end = in->data + in->len, *v;
	char		*line, *out = NULL;
	size_t		 nlen = strlen(name);
	int		 eof, first = 1;

	while (out == NULL && (line = next_line(&s, end, &eof)) != NULL) {
		if (!first && *line == '\0') {
			free(line);
			break;
		}
		if (!first && strncasecmp(line, name, nlen) == 0 &&
		    line[nlen] == ':') {
			for (v = line + nlen + 1; *v == ' '; v++)
				/* nothing */;
			out = xstrdup(v);
		}
		first = 0;
		free(line);
	}
	return (out);
}

static void
run_case(const char *dir, const char *name)
{
	struct buf		 req, creq, sts, authz, sreq;
	struct suite_req	 r;
	struct sigv4_header	*hdrs = NULL;
	struct sigv4_request	 sr;
	struct sigv4_creds	 creds;
	struct sigv4_params	 params;
	struct sigv4_signed	 out;
	char			*path, *cause = NULL, *token = NULL, *host = NULL;
	char			*v, body_hash[SIGV4_HEX_SIZE];
	const char		*ext[] = { "req", "creq", "sts", "authz", "sreq" };
	struct buf		*files[] = { &req, &creq, &sts, &authz, &sreq };
	size_t			 i, nh = 0;
	int			 before = unit_failures, sreq_authz_wrong = 0;

	memset(&params, 0, sizeof params);
	for (i = 0; i < nitems(suite_quirks); i++) {
		if (strcmp(suite_quirks[i].name, name) == 0) {
			params.token_unsigned = suite_quirks[i].token_unsigned;
			sreq_authz_wrong = suite_quirks[i].sreq_authz_wrong;
		}
	}
	for (i = 0; i < nitems(files); i++) {
		xasprintf(&path, "%s/%s.%s", dir, name, ext[i]);
		if (read_file(path, files[i]) != 0) {
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
			CHECK(0);
		}
		free(path);
	}
	chomp(&creq);
	chomp(&sts);
	chomp(&authz);
	if (parse_req(&req, &r) != 0) {
		fprintf(stderr, "%s: cannot parse the .req file\n", name);
		CHECK(0);
		goto out;
	}

	hdrs = xcalloc(r.nhdrs + 1, sizeof *hdrs);
	for (i = 0; i < r.nhdrs; i++) {
		if (strcasecmp(r.hdrs[i].name, "Host") == 0)
			host = r.hdrs[i].value;
		else if (strcasecmp(r.hdrs[i].name, "X-Amz-Date") == 0)
			CHECK_STR(r.hdrs[i].value, SUITE_AMZ_DATE);
		else if (strcasecmp(r.hdrs[i].name,
		    "X-Amz-Security-Token") == 0)
			token = xstrdup(r.hdrs[i].value);
		else {
			hdrs[nh].name = r.hdrs[i].name;
			hdrs[nh].value = r.hdrs[i].value;
			nh++;
		}
	}
	/* A token the .req lacks but the signed request carries is ours. */
	if (token == NULL)
		token = req_header(&sreq, "X-Amz-Security-Token");

	memset(&sr, 0, sizeof sr);
	sr.method = r.method;
	sr.host = host;
	sr.path = r.path;
	sr.query = r.query;
	sr.headers = hdrs;
	sr.nheaders = nh;
	if (r.body.len != 0) {
		sigv4_sha256_hex(r.body.data, r.body.len, body_hash);
		sr.payload_hash = body_hash;
	}
	creds.access_key_id = SUITE_ACCESS_KEY;
	creds.secret_access_key = SUITE_SECRET;
	creds.session_token = token;
	params.region = SUITE_REGION;
	params.service = SUITE_SERVICE;
	params.time_ms = SUITE_TIME_MS;

	if (sigv4_sign(&sr, &creds, &params, &out, &cause) != 0) {
		fprintf(stderr, "%s: %s\n", name, cause);
		free(cause);
		CHECK(0);
		goto out;
	}
	CHECK_STR(out.canonical_request, creq.data);
	CHECK_STR(out.string_to_sign, sts.data);
	CHECK_STR(sigv4_signed_header(&out, "Authorization"), authz.data);
	CHECK_STR(out.amz_date, SUITE_AMZ_DATE);

	/* Every header we add must be in the signed request as written. */
	for (i = 0; i < out.nheaders; i++) {
		if (sreq_authz_wrong &&
		    strcmp(out.headers[i].name, "Authorization") == 0)
			continue;
		v = req_header(&sreq, out.headers[i].name);
		CHECK_STR(out.headers[i].value, v);
		free(v);
	}
	sigv4_signed_free(&out);

out:
	suite_run++;
	if (unit_failures != before) {
		suite_failed++;
		fprintf(stderr, "suite case %s FAILED\n", name);
	}
	free(token);
	free(hdrs);
	suite_req_free(&r);
	for (i = 0; i < nitems(files); i++)
		buf_free(files[i]);
}

static int
name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* A case is a directory D holding D.req; anything else is walked into. */
static void
walk(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		**names = NULL, *sub, *req;
	size_t		 n = 0, i;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		CHECK(0);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = xreallocarray(names, n + 1, sizeof *names);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, name_cmp);

	for (i = 0; i < n; i++) {
		xasprintf(&sub, "%s/%s", dir, names[i]);
		if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
			xasprintf(&req, "%s/%s.req", sub, names[i]);
			if (stat(req, &st) == 0)
				run_case(sub, names[i]);
			else
				walk(sub);
			free(req);
		}
		free(sub);
		free(names[i]);
	}
	free(names);
}

static void
test_suite(void)
{
	const char	*srcdir;
	char		*dir;

	if ((srcdir = getenv("srcdir")) == NULL)
		srcdir = ".";
	xasprintf(&dir, "%s/tests/vectors/sigv4", srcdir);
	walk(dir);
	printf("sigv4 test suite (%s): %d cases run, %d passed, %d failed, "
	    "%d skipped\n", dir, suite_run, suite_run - suite_failed,
	    suite_failed, suite_skipped);
	/* An empty or missing directory must not pass quietly. */
	CHECK(suite_run >= 30);
	free(dir);
}

/* ---- S3 documentation examples */

static void
s3doc_setup(struct sigv4_creds *creds, struct sigv4_params *params)
{
	memset(creds, 0, sizeof *creds);
	memset(params, 0, sizeof *params);
	creds->access_key_id = S3DOC_ACCESS_KEY;
	creds->secret_access_key = S3DOC_SECRET;
	params->region = "us-east-1";
	params->service = "s3";
	params->time_ms = S3DOC_TIME_MS;
	params->s3 = 1;
}

static void
test_s3_get_object(void)
{
	static const struct sigv4_header hdrs[] = {
		{ "Range", "bytes=0-9" },
	};
	struct sigv4_request	 r;
	struct sigv4_creds	 creds;
	struct sigv4_params	 params;
	struct sigv4_signed	 out;
	char			*cause = NULL;

	s3doc_setup(&creds, &params);
	memset(&r, 0, sizeof r);
	r.method = "GET";
	r.host = S3DOC_HOST;
	r.path = "/test.txt";
	r.headers = hdrs;
	r.nheaders = nitems(hdrs);
	CHECK_INT(sigv4_sign(&r, &creds, &params, &out, &cause), 0);
	CHECK_STR(out.canonical_request,
	    "GET\n"
	    "/test.txt\n"
	    "\n"
	    "host:examplebucket.s3.amazonaws.com\n"
	    "range:bytes=0-9\n"
	    "x-amz-content-sha256:" SIGV4_EMPTY_SHA256 "\n"
	    "x-amz-date:20130524T000000Z\n"
	    "\n"
	    "host;range;x-amz-content-sha256;x-amz-date\n"
	    SIGV4_EMPTY_SHA256);
	CHECK_STR(out.string_to_sign,
	    "AWS4-HMAC-SHA256\n"
	    "20130524T000000Z\n"
	    "20130524/us-east-1/s3/aws4_request\n"
	    "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
	CHECK_STR(out.signature,
	    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	CHECK_STR(sigv4_signed_header(&out, "authorization"),
	    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/"
	    "us-east-1/s3/aws4_request, SignedHeaders=host;range;"
	    "x-amz-content-sha256;x-amz-date, Signature="
	    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	CHECK_STR(sigv4_signed_header(&out, "X-Amz-Date"), "20130524T000000Z");
	CHECK_STR(sigv4_signed_header(&out, "x-amz-content-sha256"),
	    SIGV4_EMPTY_SHA256);
	CHECK(sigv4_signed_header(&out, "X-Amz-Security-Token") == NULL);
	CHECK_INT(out.nheaders, 3);
	sigv4_signed_free(&out);
}

static void
test_s3_put_object(void)
{
	static const struct sigv4_header hdrs[] = {
		{ "Date", "Fri, 24 May 2013 00:00:00 GMT" },
		{ "x-amz-storage-class", "REDUCED_REDUNDANCY" },
	};
	static const char	 body[] = "Welcome to Amazon S3.";
	struct sigv4_request	 r;
	struct sigv4_creds	 creds;
	struct sigv4_params	 params;
	struct sigv4_signed	 out;
	struct sigv4_sha256	*h;
	struct buf		 path;
	char			*cause = NULL, hash[SIGV4_HEX_SIZE];
	size_t			 i;

	/* The body streamed in pieces, as an upload would hash it. */
	h = sigv4_sha256_new();
	for (i = 0; i < sizeof body - 1; i += 4)
		sigv4_sha256_update(h, body + i,
		    sizeof body - 1 - i < 4 ? sizeof body - 1 - i : 4);
	sigv4_sha256_final(h, NULL, hash);
	sigv4_sha256_free(h);
	CHECK_STR(hash,
	    "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");

	buf_init(&path);
	buf_addc(&path, '/');
	sigv4_encode_key(&path, "test$file.text", strlen("test$file.text"));
	CHECK_STR(path.data, "/test%24file.text");

	s3doc_setup(&creds, &params);
	memset(&r, 0, sizeof r);
	r.method = "PUT";
	r.host = S3DOC_HOST;
	r.path = path.data;
	r.headers = hdrs;
	r.nheaders = nitems(hdrs);
	r.payload_hash = hash;
	CHECK_INT(sigv4_sign(&r, &creds, &params, &out, &cause), 0);
	CHECK_STR(out.canonical_request,
	    "PUT\n"
	    "/test%24file.text\n"
	    "\n"
	    "date:Fri, 24 May 2013 00:00:00 GMT\n"
	    "host:examplebucket.s3.amazonaws.com\n"
	    "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b"
	    "4b4e99e42034a8b803f8b072\n"
	    "x-amz-date:20130524T000000Z\n"
	    "x-amz-storage-class:REDUCED_REDUNDANCY\n"
	    "\n"
	    "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
	    "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
	CHECK_STR(out.string_to_sign,
	    "AWS4-HMAC-SHA256\n"
	    "20130524T000000Z\n"
	    "20130524/us-east-1/s3/aws4_request\n"
	    "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
	CHECK_STR(out.signature,
	    "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
	CHECK_STR(sigv4_signed_header(&out, "x-amz-content-sha256"), hash);
	sigv4_signed_free(&out);
	buf_free(&path);
}

static void
test_s3_bucket_queries(void)
{
	static const struct {
		const char	*query;
		const char	*canonical;
		const char	*sts_hash;
		const char	*signature;
	} cases[] = {
		/* GET Bucket lifecycle: a parameter without a value. */
		{ "lifecycle", "lifecycle=",
		  "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca",
		  "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543" },
		/* GET Bucket (List Objects): parameters sorted. */
		{ "prefix=J&max-keys=2", "max-keys=2&prefix=J", NULL,
		  "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7" },
		{ "max-keys=2&prefix=J", "max-keys=2&prefix=J", NULL,
		  "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7" },
	};
	struct sigv4_request	 r;
	struct sigv4_creds	 creds;
	struct sigv4_params	 params;
	struct sigv4_signed	 out;
	char			*cause = NULL, *want;
	size_t			 i;

	s3doc_setup(&creds, &params);
	for (i = 0; i < nitems(cases); i++) {
		memset(&r, 0, sizeof r);
		r.method = "GET";
		r.host = S3DOC_HOST;
		r.path = "/";
		r.query = cases[i].query;
		CHECK_INT(sigv4_sign(&r, &creds, &params, &out, &cause), 0);
		xasprintf(&want, "GET\n/\n%s\n"
		    "host:examplebucket.s3.amazonaws.com\n"
		    "x-amz-content-sha256:%s\n"
		    "x-amz-date:20130524T000000Z\n\n"
		    "host;x-amz-content-sha256;x-amz-date\n%s",
		    cases[i].canonical, SIGV4_EMPTY_SHA256, SIGV4_EMPTY_SHA256);
		CHECK_STR(out.canonical_request, want);
		free(want);
		if (cases[i].sts_hash != NULL) {
			xasprintf(&want, "AWS4-HMAC-SHA256\n20130524T000000Z\n"
			    "20130524/us-east-1/s3/aws4_request\n%s",
			    cases[i].sts_hash);
			CHECK_STR(out.string_to_sign, want);
			free(want);
		}
		CHECK_STR(out.signature, cases[i].signature);
		sigv4_signed_free(&out);
	}
}

/* ---- encoding */

static void
test_encode_key(void)
{
	static const struct {
		const char	*key;
		const char	*enc;
	} cases[] = {
		{ "photos/my file.jpg", "photos/my%20file.jpg" },
		{ "a+b", "a%2Bb" },
		{ "100%", "100%25" },
		{ "100%25", "100%2525" },
		{ "caf\xc3\xa9/\xc3\xbc", "caf%C3%A9/%C3%BC" },
		{ "\xe1\x88\xb4", "%E1%88%B4" },
		{ "~*()!", "~%2A%28%29%21" },
		{ "dir/sub/", "dir/sub/" },
		{ "a//b/./../c", "a//b/./../c" },
		{ "-_.~AZaz09", "-_.~AZaz09" },
		{ "q?x=1&y#z", "q%3Fx%3D1%26y%23z" },
		{ "'\"$,;:@=<>", "%27%22%24%2C%3B%3A%40%3D%3C%3E" },
		{ "", "" },
	};
	struct buf	 b;
	size_t		 i;

	buf_init(&b);
	for (i = 0; i < nitems(cases); i++) {
		buf_reset(&b);
		sigv4_encode_key(&b, cases[i].key, strlen(cases[i].key));
		CHECK_STR(b.data == NULL ? "" : b.data, cases[i].enc);
	}
	buf_free(&b);
}

static void
test_canonical_path(void)
{
	static const struct {
		const char	*in;
		int		 s3;
		const char	*out;
	} cases[] = {
		/* S3: exactly as sent, no normalisation, no second encoding. */
		{ "/bucket/a//b/./../c", 1, "/bucket/a//b/./../c" },
		{ "/bucket/my%20file", 1, "/bucket/my%20file" },
		{ "/bucket/dir/", 1, "/bucket/dir/" },
		{ "", 1, "/" },
		{ NULL, 1, "/" },
		{ "/", 1, "/" },
		/* Generic: normalised, and encoded once more. */
		{ "/bucket/a//b/./../c", 0, "/bucket/a/c" },
		{ "/bucket/my%20file", 0, "/bucket/my%2520file" },
		{ "/example space/", 0, "/example%20space/" },
		{ "//", 0, "/" },
		{ "/..", 0, "/" },
		{ "/a/b/../../..", 0, "/" },
		{ "/a/.", 0, "/a" },
		{ "/a/./", 0, "/a/" },
		{ "", 0, "/" },
	};
	struct buf	 b;
	size_t		 i;

	buf_init(&b);
	for (i = 0; i < nitems(cases); i++) {
		buf_reset(&b);
		sigv4_canonical_path(&b, cases[i].in, cases[i].s3);
		CHECK_STR(b.data, cases[i].out);
	}
	buf_free(&b);
}

static void
test_canonical_query(void)
{
	static const struct {
		const char	*in;
		const char	*out;	/* NULL: an error */
	} cases[] = {
		{ "b=2&a=1&a=", "a=&a=1&b=2" },
		{ "key%20x=v+w", "key%20x=v%2Bw" },
		{ "x=%7e%2f", "x=~%2F" },
		{ "x=%7E&x=%41", "x=A&x=~" },
		{ "&&a=1&", "a=1" },
		{ "v=a=b", "v=a%3Db" },
		{ "uploads", "uploads=" },
		{ "prefix=a%2Fb%2F&delimiter=%2F", "delimiter=%2F&prefix=a%2Fb%2F" },
		{ "k=\xc3\xa9", "k=%C3%A9" },
		{ "versionId=3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
		  "versionId=3%2FL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY" },
		{ "Param2=value2&Param1=value1&param0=x",
		  "Param1=value1&Param2=value2&param0=x" },
		{ "", "" },
		{ "a=%ZZ", NULL },
		{ "a=100%", NULL },
		{ "%G0=1", NULL },
	};
	struct buf	 b;
	char		*cause;
	size_t		 i;
	int		 r;

	buf_init(&b);
	for (i = 0; i < nitems(cases); i++) {
		buf_reset(&b);
		cause = NULL;
		r = sigv4_canonical_query(&b, cases[i].in, &cause);
		if (cases[i].out == NULL) {
			CHECK_INT(r, -1);
			CHECK(cause != NULL && strstr(cause, "query") != NULL);
		} else {
			CHECK_INT(r, 0);
			CHECK_STR(b.data == NULL ? "" : b.data, cases[i].out);
		}
		free(cause);
	}
	buf_free(&b);
}

/* ---- the rest of the signer */

static void
test_headers(void)
{
	static const struct sigv4_header hdrs[] = {
		{ "X-Meta", "  a   b\t\tc  " },
		{ "Content-Type", "text/plain" },
		{ "x-meta", "second" },
		{ "X-Empty", "" },
		{ "X-Blank", "   " },
	};
	struct sigv4_request	 r;
	struct sigv4_creds	 creds;
	struct sigv4_params	 params;
	struct sigv4_signed	 out;
	char			*cause = NULL;

	s3doc_setup(&creds, &params);
	memset(&r, 0, sizeof r);
	r.method = "PUT";
	r.host = "127.0.0.1:7480";
	r.path = "/bucket/key";
	r.headers = hdrs;
	r.nheaders = nitems(hdrs);
	r.payload_hash = SIGV4_UNSIGNED_PAYLOAD;
	CHECK_INT(sigv4_sign(&r, &creds, &params, &out, &cause), 0);
	CHECK_STR(out.canonical_request,
	    "PUT\n"
	    "/bucket/key\n"
	    "\n"
	    "content-type:text/plain\n"
	    "host:127.0.0.1:7480\n"
	    "x-amz-content-sha256:UNSIGNED-PAYLOAD\n"
	    "x-amz-date:20130524T000000Z\n"
	    "x-blank:\n"
	    "x-empty:\n"
	    "x-meta:a b c,second\n"
	    "\n"
	    "content-type;host;x-amz-content-sha256;x-amz-date;x-blank;"
	    "x-empty;x-meta\n"
	    "UNSIGNED-PAYLOAD");
	CHECK_STR(sigv4_signed_header(&out, "x-amz-content-sha256"),
	    SIGV4_UNSIGNED_PAYLOAD);
	sigv4_signed_free(&out);
}

static void
test_session_token(void)
{
	struct sigv4_request	 r;
	struct sigv4_creds	 creds;
	struct sigv4_params	 params;
	struct sigv4_signed	 out;
	char			*cause = NULL, sig[SIGV4_HEX_SIZE];

	s3doc_setup(&creds, &params);
	creds.session_token = "FwoGZXIvYXdzEXAMPLE/token+==";
	memset(&r, 0, sizeof r);
	r.method = "GET";
	r.host = S3DOC_HOST;
	r.path = "/test.txt";
	CHECK_INT(sigv4_sign(&r, &creds, &params, &out, &cause), 0);
	CHECK(strstr(out.canonical_request,
	    "x-amz-security-token:FwoGZXIvYXdzEXAMPLE/token+==\n") != NULL);
	CHECK(strstr(sigv4_signed_header(&out, "Authorization"),
	    "SignedHeaders=host;x-amz-content-sha256;x-amz-date;"
	    "x-amz-security-token, ") != NULL);
	CHECK_STR(sigv4_signed_header(&out, "X-Amz-Security-Token"),
	    creds.session_token);
	CHECK_INT(out.nheaders, 4);
	CHECK_STR(out.headers[out.nheaders - 1].name, "Authorization");
	memcpy(sig, out.signature, sizeof sig);
	sigv4_signed_free(&out);

	params.token_unsigned = 1;
	CHECK_INT(sigv4_sign(&r, &creds, &params, &out, &cause), 0);
	CHECK(strstr(out.canonical_request, "x-amz-security-token") == NULL);
	CHECK_STR(sigv4_signed_header(&out, "X-Amz-Security-Token"),
	    creds.session_token);
	CHECK(strcmp(sig, out.signature) != 0);
	sigv4_signed_free(&out);

	/* An empty token is no token. */
	creds.session_token = "";
	params.token_unsigned = 0;
	CHECK_INT(sigv4_sign(&r, &creds, &params, &out, &cause), 0);
	CHECK(sigv4_signed_header(&out, "X-Amz-Security-Token") == NULL);
	sigv4_signed_free(&out);
}

static void
test_cache(void)
{
	struct sigv4_request	 r;
	struct sigv4_creds	 creds;
	struct sigv4_params	 params;
	struct sigv4_signed	 out;
	char			*cause = NULL, sig[SIGV4_HEX_SIZE];
	uint64_t		 h0, m0, h1, m1;
	int			 i;

	s3doc_setup(&creds, &params);
	memset(&r, 0, sizeof r);
	r.method = "GET";
	r.host = S3DOC_HOST;
	r.path = "/test.txt";

	sigv4_cache_clear();
	sigv4_cache_stats(&h0, &m0);
	CHECK_INT(sigv4_sign(&r, &creds, &params, &out, &cause), 0);
	memcpy(sig, out.signature, sizeof sig);
	sigv4_signed_free(&out);
	CHECK_INT(sigv4_sign(&r, &creds, &params, &out, &cause), 0);
	CHECK_STR(out.signature, sig);
	sigv4_signed_free(&out);
	sigv4_cache_stats(&h1, &m1);
	CHECK_INT(m1 - m0, 1);
	CHECK_INT(h1 - h0, 1);

	/* Another secret with the same scope must not share the key. */
	creds.secret_access_key = "another-secret";
	CHECK_INT(sigv4_sign(&r, &creds, &params, &out, &cause), 0);
	CHECK(strcmp(out.signature, sig) != 0);
	sigv4_signed_free(&out);

	/* More scopes than entries: old ones are evicted, results hold. */
	creds.secret_access_key = S3DOC_SECRET;
	for (i = 1; i <= 20; i++) {
		params.time_ms = S3DOC_TIME_MS + (uint64_t)i * 86400000ULL;
		CHECK_INT(sigv4_sign(&r, &creds, &params, &out, &cause), 0);
		sigv4_signed_free(&out);
	}
	params.time_ms = S3DOC_TIME_MS;
	sigv4_cache_stats(&h0, &m0);
	CHECK_INT(sigv4_sign(&r, &creds, &params, &out, &cause), 0);
	CHECK_STR(out.signature, sig);
	sigv4_signed_free(&out);
	sigv4_cache_stats(&h1, &m1);
	CHECK_INT(m1 - m0, 1);

	sigv4_cache_clear();
	CHECK_INT(sigv4_sign(&r, &creds, &params, &out, &cause), 0);
	CHECK_STR(out.signature, sig);
	sigv4_signed_free(&out);
	sigv4_cache_stats(&h0, &m0);
	CHECK_INT(m0 - m1, 1);
}

static void
test_errors(void)
{
	static const struct {
		const char	*name;
		const char	*value;
		int		 s3;
		int		 ok;
	} hcases[] = {
		{ "Host", "evil", 1, 0 },
		{ "authorization", "x", 0, 0 },
		{ "X-Amz-Date", "20000101T000000Z", 0, 0 },
		{ "x-amz-content-sha256", SIGV4_EMPTY_SHA256, 1, 0 },
		{ "x-amz-content-sha256", SIGV4_EMPTY_SHA256, 0, 1 },
		{ "bad name", "x", 0, 0 },
		{ "", "x", 0, 0 },
		{ "X-Split", "a\r\nX-Injected: 1", 0, 0 },
		{ "X-Null", NULL, 0, 0 },
	};
	struct sigv4_header	 h;
	struct sigv4_request	 r, base;
	struct sigv4_creds	 creds, bc;
	struct sigv4_params	 params, bp;
	struct sigv4_signed	 out;
	char			*cause;
	size_t			 i;
	int			 rv;

	s3doc_setup(&bc, &bp);
	memset(&base, 0, sizeof base);
	base.method = "GET";
	base.host = S3DOC_HOST;
	base.path = "/k";

	for (i = 0; i < nitems(hcases); i++) {
		r = base;
		params = bp;
		params.s3 = hcases[i].s3;
		h.name = hcases[i].name;
		h.value = hcases[i].value;
		r.headers = &h;
		r.nheaders = 1;
		cause = NULL;
		rv = sigv4_sign(&r, &bc, &params, &out, &cause);
		CHECK_INT(rv, hcases[i].ok ? 0 : -1);
		if (rv == 0)
			sigv4_signed_free(&out);
		else
			CHECK(cause != NULL);
		free(cause);
	}

#define EXPECT_FAIL(what) do {						\
	cause = NULL;							\
	CHECK_INT(sigv4_sign(&r, &creds, &params, &out, &cause), -1);	\
	CHECK(cause != NULL && strstr(cause, what) != NULL);		\
	CHECK(cause == NULL || strstr(cause, S3DOC_SECRET) == NULL);	\
	free(cause);							\
	r = base; creds = bc; params = bp;				\
} while (0)
	r = base; creds = bc; params = bp;
	r.payload_hash = "ABC";
	EXPECT_FAIL("payload hash");
	r.payload_hash = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
	EXPECT_FAIL("payload hash");
	r.method = NULL;
	EXPECT_FAIL("method");
	r.method = "GET /";
	EXPECT_FAIL("method");
	r.host = "";
	EXPECT_FAIL("host");
	r.path = "/a\nb";
	EXPECT_FAIL("line break");
	r.query = "a=%ZZ";
	EXPECT_FAIL("query");
	creds.access_key_id = NULL;
	EXPECT_FAIL("access key");
	creds.access_key_id = "AK/IA";
	EXPECT_FAIL("access key");
	creds.secret_access_key = "";
	EXPECT_FAIL("secret");
	creds.session_token = "tok\nen";
	EXPECT_FAIL("session token");
	params.region = "";
	EXPECT_FAIL("region");
	params.region = "us east";
	EXPECT_FAIL("region");
	params.service = NULL;
	EXPECT_FAIL("service");
	r.nheaders = 2;
	EXPECT_FAIL("header");
	params.time_ms = 253402300800000ULL;
	EXPECT_FAIL("signing time");
#undef EXPECT_FAIL

	/* Streaming uploads name their own payload scheme. */
	r.payload_hash = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
	cause = NULL;
	CHECK_INT(sigv4_sign(&r, &creds, &params, &out, &cause), 0);
	sigv4_signed_free(&out);
}

static void
test_misc(void)
{
	struct sigv4_sha256	*h;
	unsigned char		 raw[SIGV4_SHA256_LEN];
	char			 hex[SIGV4_HEX_SIZE], date[SIGV4_AMZ_DATE_SIZE];

	sigv4_amz_date(0, date);
	CHECK_STR(date, "19700101T000000Z");
	sigv4_amz_date(SUITE_TIME_MS + 999, date);
	CHECK_STR(date, SUITE_AMZ_DATE);
	sigv4_amz_date(951782400000ULL, date);
	CHECK_STR(date, "20000229T000000Z");
	sigv4_amz_date(253402300799999ULL, date);
	CHECK_STR(date, "99991231T235959Z");

	sigv4_sha256_hex("", 0, hex);
	CHECK_STR(hex, SIGV4_EMPTY_SHA256);
	sigv4_sha256_hex("abc", 3, hex);
	CHECK_STR(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

	h = sigv4_sha256_new();
	sigv4_sha256_update(h, "a", 1);
	sigv4_sha256_update(h, "", 0);
	sigv4_sha256_update(h, "bc", 2);
	sigv4_sha256_final(h, raw, hex);
	CHECK_STR(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK_INT(raw[0], 0xba);
	CHECK_INT(raw[31], 0xad);
	/* Reusable after final. */
	sigv4_sha256_final(h, NULL, hex);
	CHECK_STR(hex, SIGV4_EMPTY_SHA256);
	sigv4_sha256_free(h);
	sigv4_sha256_free(NULL);
}

int
main(void)
{
	test_suite();
	test_s3_get_object();
	test_s3_put_object();
	test_s3_bucket_queries();
	test_encode_key();
	test_canonical_path();
	test_canonical_query();
	test_headers();
	test_session_token();
	test_cache();
	test_errors();
	test_misc();
	sigv4_cache_clear();
	return unit_done("test-sigv4");
}
