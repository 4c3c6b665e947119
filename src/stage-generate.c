/*
 * ManifestGenerator: list the source bucket a page at a time (ListObjectsV2,
 * or ListObjectVersions when the bucket has versioning so that each task is
 * pinned to the version listed), filter each entry, and stream the
 * survivors into gzip'd CSV data files in the spool. Filters the listing
 * cannot answer (encryption, replication status, replication eligibility
 * by tag) cost a HEAD or GetObjectTagging per candidate, a bounded number
 * at a time, and only for entries the cheap filters kept. Memory is one
 * page of entries and one deflate stream, whatever the bucket's size.
 *
 * When the listing is complete: manifest.json, then (EnableManifestOutput)
 * the upload of the files; the stage reports back and the prepare stage
 * reads the spool as it reads a downloaded inventory report.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "cfg.h"
#include "core.h"
#include "http.h"
#include "inventory.h"
#include "invreport.h"
#include "job.h"
#include "jobspec.h"
#include "lister.h"
#include "model.h"
#include "s3.h"
#include "s3xml.h"
#include "spool.h"
#include "stage-generate.h"
#include "store.h"

#define GEN_FILE_ROWS		1000000	/* rows per data file */
#define GEN_ROWS_FLUSH		(64 * 1024)	/* CSV text before deflate */
#define GEN_PROGRESS_MS		2000	/* StatusUpdateReason refresh */
#define GEN_CODE		"ManifestGeneratorFailed"

/* Server-side encryption of an object, as the filter names it. */
enum gen_sse {
	GEN_SSE_NONE,
	GEN_SSE_S3,
	GEN_SSE_KMS,
	GEN_SSE_DSSE,
	GEN_SSE_C
};

static const struct {
	const char	*member;	/* ObjectEncryptionFilter */
	enum gen_sse	 kind;
} gen_sse_members[] = {
	{ "NOTSSE", GEN_SSE_NONE },
	{ "SSES3", GEN_SSE_S3 },
	{ "SSEKMS", GEN_SSE_KMS },
	{ "DSSEKMS", GEN_SSE_DSSE },
	{ "SSEC", GEN_SSE_C },
};

static const struct {
	const char	*value;		/* x-amz-server-side-encryption */
	enum gen_sse	 kind;
} gen_sse_headers[] = {
	{ "AES256", GEN_SSE_S3 },
	{ "aws:kms", GEN_SSE_KMS },
	{ "aws:kms:dsse", GEN_SSE_DSSE },
};

/* ReplicationStatus values; the header's as well as the filter's. */
#define GEN_REPL_COMPLETED	0x01
#define GEN_REPL_FAILED		0x02
#define GEN_REPL_REPLICA	0x04
#define GEN_REPL_NONE		0x08
#define GEN_REPL_PENDING	0x10
static const struct {
	const char	*name;
	unsigned	 bit;
} gen_repl_names[] = {
	{ "COMPLETED", GEN_REPL_COMPLETED },
	{ "COMPLETE", GEN_REPL_COMPLETED },	/* older S3 answers */
	{ "FAILED", GEN_REPL_FAILED },
	{ "REPLICA", GEN_REPL_REPLICA },
	{ "NONE", GEN_REPL_NONE },
	{ "PENDING", GEN_REPL_PENDING },
};

struct gen_enc {
	enum gen_sse	 kind;
	const char	*kms_key;	/* NULL: any key */
	int		 bucket_key;	/* -1: either */
};

struct gen_strings {
	const char	**v;		/* point into the spec */
	size_t		  n;
};

/* A job's ManifestGenerator, compiled. Strings point into json. */
struct gen_spec {
	struct json_object	*json;
	char			*bucket;
	const char		*bucket_arn;
	const char		*role_arn;
	const char		*owner;		/* ExpectedBucketOwner */
	int			 has_after;
	int			 has_before;
	int64_t			 after_ms;
	int64_t			 before_ms;
	int			 has_gt;
	int			 has_lt;
	int64_t			 gt;
	int64_t			 lt;
	struct gen_strings	 prefixes;
	struct gen_strings	 suffixes;
	struct gen_strings	 substrings;
	struct gen_strings	 classes;
	struct gen_enc		*encs;
	size_t			 nencs;
	int			 has_repl;
	unsigned		 repl_mask;
	int			 eligible;
	char			*list_prefix;	/* common to MatchAnyPrefix */
	/* ManifestOutputLocation, with EnableManifestOutput. */
	int			 output;
	char			*out_bucket;
	const char		*out_arn;
	char			*out_prefix;	/* without a trailing '/' */
	const char		*out_owner;
	const char		*out_sse;	/* header value or NULL */
	const char		*out_kms_key;
};

/* One listed object that passed the filters the listing can answer. */
struct gen_entry {
	struct generator	*g;
	struct lister_item	 it;
	int			 keep;		/* decided: 1 keep, 0 drop */
	int			 need_tags;
	struct s3_call		*call;
};

struct gen_file {
	char		*key;		/* in the output location */
	uint64_t	 size;
	uint64_t	 rows;
	char		 md5[33];
};

enum gen_step {
	GEN_STEP_VERSIONING,
	GEN_STEP_REPLICATION,
	GEN_STEP_LIST,
	GEN_STEP_CHECK,
	GEN_STEP_UPLOAD
};

struct generator {
	struct core		*core;
	stage_done_cb		 done_cb;
	void			*arg;
	char			 id[37];
	struct gen_spec		 spec;
	enum gen_step		 step;
	int			 local;		/* the spool failed, not S3 */
	struct s3_call		*call;
	struct s3_header	 headers[3];
	int			 versioned;
	struct s3xml_replication repl;

	/* The page being listed, and its HEAD/tagging calls. */
	struct lister		*lister;
	struct s3_request	 list_req;
	struct s3_header	 list_owner;
	struct gen_entry	*ents;
	size_t			 nents;
	struct lister_fetch	 fetch;
	int			 last_page;

	/* The data file being written. */
	struct invreport_file	*file;
	char			*part;
	struct buf		 rows;
	struct gen_file		*files;
	size_t			 nfiles;
	char			*manifest;	/* manifest.json text */

	/* Upload: files[up_cur], then manifest.json. */
	size_t			 up_cur;
	int			 up_fd;
	uint64_t		 up_pos;
	uint64_t		 up_len;
	char			*up_cause;
	char			*manifest_key;

	uint64_t		 listed;
	uint64_t		 listed_before;	/* this page's first try */
	uint64_t		 selected;
	uint64_t		 heads;
	uint64_t		 t0;
	uint64_t		 progress_ms;
};

static void	gen_next_page(struct generator *);
static void	gen_check_next(struct generator *);

/* ---- the spec */

static struct json_object *
gen_get(struct json_object *o, const char *path)
{
	struct json_object	*v = o;
	char			*copy, *p, *name;

	copy = xstrdup(path);
	p = copy;
	while (v != NULL && (name = strsep(&p, ".")) != NULL) {
		if (!json_object_is_type(v, json_type_object) ||
		    !json_object_object_get_ex(v, name, &v))
			v = NULL;
	}
	free(copy);
	return (v);
}

static const char *
gen_get_string(struct json_object *o, const char *path)
{
	struct json_object	*v = gen_get(o, path);

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return (NULL);
	return (json_object_get_string(v));
}

static int
gen_strings(struct json_object *f, const char *path, struct gen_strings *s,
    char **cause)
{
	struct json_object	*a, *v;
	size_t			 i;

	if ((a = gen_get(f, path)) == NULL)
		return (0);
	if (!json_object_is_type(a, json_type_array)) {
		xasprintf(cause, "ManifestGenerator.S3JobManifestGenerator."
		    "Filter.%s: must be a list", path);
		return (-1);
	}
	s->n = json_object_array_length(a);
	s->v = xcalloc(s->n + 1, sizeof *s->v);
	for (i = 0; i < s->n; i++) {
		v = json_object_array_get_idx(a, i);
		if (!json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) == 0) {
			xasprintf(cause, "ManifestGenerator.S3JobManifest"
			    "Generator.Filter.%s[%zu]: must be a non-empty "
			    "string", path, i);
			return (-1);
		}
		s->v[i] = json_object_get_string(v);
	}
	return (0);
}

static void
gen_spec_free(struct gen_spec *gs)
{
	free(gs->bucket);
	free(gs->prefixes.v);
	free(gs->suffixes.v);
	free(gs->substrings.v);
	free(gs->classes.v);
	free(gs->encs);
	free(gs->list_prefix);
	free(gs->out_bucket);
	free(gs->out_prefix);
	json_object_put(gs->json);
	memset(gs, 0, sizeof *gs);
}

static int
gen_spec_time(struct json_object *f, const char *name, int *has,
    int64_t *ms, char **cause)
{
	struct json_object	*v;
	char			*why = NULL;

	if ((v = gen_get(f, name)) == NULL)
		return (0);
	if (model_timestamp(v, ms, &why) != 0) {
		xasprintf(cause, "ManifestGenerator.S3JobManifestGenerator."
		    "Filter.%s: %s", name, why);
		free(why);
		return (-1);
	}
	*has = 1;
	return (0);
}

static int
gen_spec_encryption(struct gen_spec *gs, struct json_object *f, char **cause)
{
	struct json_object	*list, *e, *v;
	struct gen_enc		*enc;
	size_t			 i, j, n;

	if ((list = gen_get(f, "MatchAnyObjectEncryption")) == NULL)
		return (0);
	n = json_object_array_length(list);
	gs->encs = xcalloc(n + 1, sizeof *gs->encs);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(list, i);
		enc = &gs->encs[gs->nencs];
		enc->bucket_key = -1;
		for (j = 0; j < nitems(gen_sse_members); j++) {
			if (json_object_object_get_ex(e,
			    gen_sse_members[j].member, &v))
				break;
		}
		if (j == nitems(gen_sse_members)) {
			xasprintf(cause, "ManifestGenerator.S3JobManifest"
			    "Generator.Filter.MatchAnyObjectEncryption[%zu]: "
			    "name one of NOTSSE, SSES3, SSEKMS, DSSEKMS or "
			    "SSEC", i);
			return (-1);
		}
		enc->kind = gen_sse_members[j].kind;
		enc->kms_key = gen_get_string(v, "KmsKeyArn");
		if ((v = gen_get(v, "BucketKeyEnabled")) != NULL)
			enc->bucket_key = json_object_get_boolean(v);
		gs->nencs++;
	}
	return (0);
}

static int
gen_spec_replication(struct gen_spec *gs, struct json_object *f,
    char **cause)
{
	struct json_object	*list, *v;
	const char		*s;
	size_t			 i, j, n;

	if ((list = gen_get(f, "ObjectReplicationStatuses")) == NULL)
		return (0);
	gs->has_repl = 1;
	n = json_object_array_length(list);
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(list, i);
		s = json_object_get_string(v);
		for (j = 0; j < nitems(gen_repl_names); j++) {
			if (s != NULL && strcmp(s, gen_repl_names[j].name) == 0)
				break;
		}
		if (j == nitems(gen_repl_names)) {
			xasprintf(cause, "ManifestGenerator.S3JobManifest"
			    "Generator.Filter.ObjectReplicationStatuses[%zu]: "
			    "\"%.64s\" is not COMPLETED, FAILED, REPLICA or "
			    "NONE", i, s != NULL ? s : "");
			return (-1);
		}
		gs->repl_mask |= gen_repl_names[j].bit;
	}
	return (0);
}

/* The longest prefix common to every MatchAnyPrefix: the listing's. */
static void
gen_spec_list_prefix(struct gen_spec *gs)
{
	size_t	i, len;

	if (gs->prefixes.n == 0)
		return;
	len = strlen(gs->prefixes.v[0]);
	for (i = 1; i < gs->prefixes.n; i++) {
		while (len > 0 && strncmp(gs->prefixes.v[0],
		    gs->prefixes.v[i], len) != 0)
			len--;
	}
	if (len != 0)
		gs->list_prefix = xstrndup(gs->prefixes.v[0], len);
}

static int
gen_spec_output(struct gen_spec *gs, struct json_object *g, char **cause)
{
	struct json_object	*out, *v;
	const char		*p;
	size_t			 len;

	if ((v = gen_get(g, "EnableManifestOutput")) == NULL ||
	    !json_object_get_boolean(v))
		return (0);
	gs->output = 1;
	if ((out = gen_get(g, "ManifestOutputLocation")) == NULL ||
	    (gs->out_arn = gen_get_string(out, "Bucket")) == NULL) {
		xasprintf(cause, "ManifestGenerator.S3JobManifestGenerator."
		    "ManifestOutputLocation: required when EnableManifestOutput"
		    " is true");
		return (-1);
	}
	if (jobspec_arn_bucket(gs->out_arn, &gs->out_bucket, NULL,
	    cause) != 0)
		return (-1);
	if ((p = gen_get_string(out, "ManifestFormat")) != NULL &&
	    strcmp(p, GENERATOR_FORMAT) != 0) {
		xasprintf(cause, "ManifestGenerator.S3JobManifestGenerator."
		    "ManifestOutputLocation.ManifestFormat: only %s",
		    GENERATOR_FORMAT);
		return (-1);
	}
	if ((p = gen_get_string(out, "ManifestPrefix")) != NULL) {
		len = strlen(p);
		while (len > 0 && p[len - 1] == '/')
			len--;
		if (len != 0)
			gs->out_prefix = xstrndup(p, len);
	}
	gs->out_owner = gen_get_string(out, "ExpectedManifestBucketOwner");
	if (gen_get(out, "ManifestEncryption.SSES3") != NULL)
		gs->out_sse = "AES256";
	else if ((v = gen_get(out, "ManifestEncryption.SSEKMS")) != NULL) {
		gs->out_sse = "aws:kms";
		gs->out_kms_key = gen_get_string(v, "KeyId");
	}
	return (0);
}

/* Takes a reference to spec. */
static int
gen_spec_parse(struct json_object *spec, struct gen_spec *gs, char **cause)
{
	struct json_object	*g, *f, *v;

	memset(gs, 0, sizeof *gs);
	gs->json = json_object_get(spec);
	g = gen_get(spec, "ManifestGenerator.S3JobManifestGenerator");
	if (g == NULL) {
		xasprintf(cause, "ManifestGenerator.S3JobManifestGenerator: "
		    "required");
		return (-1);
	}
	gs->role_arn = gen_get_string(spec, "RoleArn");
	gs->bucket_arn = gen_get_string(g, "SourceBucket");
	if (gs->bucket_arn == NULL) {
		xasprintf(cause, "ManifestGenerator.S3JobManifestGenerator."
		    "SourceBucket: required");
		return (-1);
	}
	if (jobspec_arn_bucket(gs->bucket_arn, &gs->bucket, NULL, cause) != 0)
		return (-1);
	gs->owner = gen_get_string(g, "ExpectedBucketOwner");
	if (gen_spec_output(gs, g, cause) != 0)
		return (-1);
	if ((f = gen_get(g, "Filter")) == NULL)
		return (0);
	if (gen_spec_time(f, "CreatedAfter", &gs->has_after, &gs->after_ms,
	    cause) != 0 || gen_spec_time(f, "CreatedBefore", &gs->has_before,
	    &gs->before_ms, cause) != 0)
		return (-1);
	if ((v = gen_get(f, "ObjectSizeGreaterThanBytes")) != NULL) {
		gs->has_gt = 1;
		gs->gt = json_object_get_int64(v);
	}
	if ((v = gen_get(f, "ObjectSizeLessThanBytes")) != NULL) {
		gs->has_lt = 1;
		gs->lt = json_object_get_int64(v);
	}
	if (gen_strings(f, "KeyNameConstraint.MatchAnyPrefix", &gs->prefixes,
	    cause) != 0 || gen_strings(f, "KeyNameConstraint.MatchAnySuffix",
	    &gs->suffixes, cause) != 0 || gen_strings(f,
	    "KeyNameConstraint.MatchAnySubstring", &gs->substrings,
	    cause) != 0 || gen_strings(f, "MatchAnyStorageClass", &gs->classes,
	    cause) != 0)
		return (-1);
	if (gen_spec_encryption(gs, f, cause) != 0 ||
	    gen_spec_replication(gs, f, cause) != 0)
		return (-1);
	if ((v = gen_get(f, "EligibleForReplication")) != NULL)
		gs->eligible = json_object_get_boolean(v);
	gen_spec_list_prefix(gs);
	return (0);
}

/* ---- filters */

static int
gen_match_any(const struct gen_strings *s, const char *key, size_t len,
    int where)
{
	size_t	i, n;

	if (s->n == 0)
		return (1);
	for (i = 0; i < s->n; i++) {
		n = strlen(s->v[i]);
		if (n > len)
			continue;
		switch (where) {
		case 0:		/* prefix */
			if (memcmp(key, s->v[i], n) == 0)
				return (1);
			break;
		case 1:		/* suffix */
			if (memcmp(key + len - n, s->v[i], n) == 0)
				return (1);
			break;
		default:	/* substring */
			if (memmem(key, len, s->v[i], n) != NULL)
				return (1);
			break;
		}
	}
	return (0);
}

/* What the listing itself tells: key, times, size, storage class. */
static int
gen_match_listing(const struct gen_spec *gs, const char *key, size_t len,
    uint64_t mtime, int64_t size, const char *storage_class)
{
	size_t	i;

	if (!gen_match_any(&gs->prefixes, key, len, 0) ||
	    !gen_match_any(&gs->suffixes, key, len, 1) ||
	    !gen_match_any(&gs->substrings, key, len, 2))
		return (0);
	if (gs->has_after && (int64_t)mtime <= gs->after_ms)
		return (0);
	if (gs->has_before && (int64_t)mtime >= gs->before_ms)
		return (0);
	if (gs->has_gt && size <= gs->gt)
		return (0);
	if (gs->has_lt && size >= gs->lt)
		return (0);
	if (gs->classes.n != 0) {
		/* S3 leaves StorageClass out for STANDARD at times. */
		if (storage_class == NULL || *storage_class == '\0')
			storage_class = "STANDARD";
		for (i = 0; i < gs->classes.n; i++) {
			if (strcmp(gs->classes.v[i], storage_class) == 0)
				break;
		}
		if (i == gs->classes.n)
			return (0);
	}
	return (1);
}

/* A KMS key as the filter names it (an ARN) against the header's. */
static int
gen_kms_key_match(const char *want, const char *got)
{
	size_t	wl, gl;

	if (want == NULL)
		return (1);
	if (got == NULL)
		return (0);
	if (strcmp(want, got) == 0)
		return (1);
	/* "arn:...:key/ID" names the same key as "ID", either way round. */
	wl = strlen(want);
	gl = strlen(got);
	if (wl > gl && want[wl - gl - 1] == '/' &&
	    strcmp(want + wl - gl, got) == 0)
		return (1);
	if (gl > wl && got[gl - wl - 1] == '/' &&
	    strcmp(got + gl - wl, want) == 0)
		return (1);
	return (0);
}

/* The filters a HEAD answers; status 400 is an SSE-C object without key. */
static int
gen_match_head(const struct gen_spec *gs, const struct s3_result *r)
{
	const char	*sse, *kms, *bk, *rs;
	enum gen_sse	 kind = GEN_SSE_NONE;
	unsigned	 repl = GEN_REPL_NONE;
	size_t		 i;
	int		 bucket_key;

	if (r->status == 400)
		kind = GEN_SSE_C;
	else if (s3_result_header(r,
	    "x-amz-server-side-encryption-customer-algorithm") != NULL)
		kind = GEN_SSE_C;
	else if ((sse = s3_result_header(r,
	    "x-amz-server-side-encryption")) != NULL) {
		for (i = 0; i < nitems(gen_sse_headers); i++) {
			if (strcmp(sse, gen_sse_headers[i].value) == 0)
				kind = gen_sse_headers[i].kind;
		}
	}
	if (gs->nencs != 0) {
		kms = s3_result_header(r,
		    "x-amz-server-side-encryption-aws-kms-key-id");
		bk = s3_result_header(r,
		    "x-amz-server-side-encryption-bucket-key-enabled");
		bucket_key = bk != NULL && strcasecmp(bk, "true") == 0;
		for (i = 0; i < gs->nencs; i++) {
			if (gs->encs[i].kind != kind)
				continue;
			if ((kind == GEN_SSE_KMS || kind == GEN_SSE_DSSE) &&
			    !gen_kms_key_match(gs->encs[i].kms_key, kms))
				continue;
			if (kind == GEN_SSE_KMS && gs->encs[i].bucket_key != -1 &&
			    gs->encs[i].bucket_key != bucket_key)
				continue;
			break;
		}
		if (i == gs->nencs)
			return (0);
	}
	if (gs->has_repl) {
		if ((rs = s3_result_header(r, "x-amz-replication-status")) !=
		    NULL) {
			repl = 0;
			for (i = 0; i < nitems(gen_repl_names); i++) {
				if (strcasecmp(rs, gen_repl_names[i].name) == 0)
					repl = gen_repl_names[i].bit;
			}
		}
		if ((repl & gs->repl_mask) == 0)
			return (0);
	}
	return (1);
}

static const char *
gen_rule_prefix(const struct s3xml_repl_rule *rule)
{
	if (rule->has_filter)
		return (rule->filter_prefix.data != NULL ?
		    rule->filter_prefix.data : "");
	return (rule->prefix.data != NULL ? rule->prefix.data : "");
}

static int
gen_rule_enabled(const struct s3xml_repl_rule *rule, const char *key,
    size_t len)
{
	const char	*p;
	size_t		 n;

	if (rule->status.data == NULL ||
	    strcmp(rule->status.data, "Enabled") != 0)
		return (0);
	p = gen_rule_prefix(rule);
	n = strlen(p);
	return (n <= len && memcmp(key, p, n) == 0);
}

/*
 * EligibleForReplication from the rules alone: 1 eligible, 0 not, -1 when
 * only a rule with a tag filter could say (the object's tags are needed).
 */
static int
gen_match_rules(const struct s3xml_replication *repl, const char *key,
    size_t len)
{
	size_t	i;
	int	r = 0;

	for (i = 0; i < repl->nrules; i++) {
		if (!gen_rule_enabled(&repl->rules[i], key, len))
			continue;
		if (repl->rules[i].nfilter_tags == 0)
			return (1);
		r = -1;
	}
	return (r);
}

static int
gen_match_tags(const struct s3xml_replication *repl, const char *key,
    size_t len, const struct s3xml_tagging *t)
{
	const struct s3xml_repl_rule	*rule;
	size_t				 i, j, k;

	for (i = 0; i < repl->nrules; i++) {
		rule = &repl->rules[i];
		if (!gen_rule_enabled(rule, key, len))
			continue;
		for (j = 0; j < rule->nfilter_tags; j++) {
			for (k = 0; k < t->ntags; k++) {
				if (strcmp(t->tags[k].key.data != NULL ?
				    t->tags[k].key.data : "",
				    rule->filter_tags[j].key.data != NULL ?
				    rule->filter_tags[j].key.data : "") == 0 &&
				    strcmp(t->tags[k].value.data != NULL ?
				    t->tags[k].value.data : "",
				    rule->filter_tags[j].value.data != NULL ?
				    rule->filter_tags[j].value.data : "") == 0)
					break;
			}
			if (k == t->ntags)
				break;
		}
		if (j == rule->nfilter_tags)
			return (1);
	}
	return (0);
}

/* ---- writing the data files (invreport.c's form) */

static int
gen_file_open(struct generator *g, char **cause)
{
	struct gen_file	*f;
	char		*path, uuid[37];

	g->files = xreallocarray(g->files, g->nfiles + 1, sizeof *g->files);
	f = &g->files[g->nfiles++];
	memset(f, 0, sizeof *f);
	uuid_generate_v4(uuid);
	xasprintf(&f->key, "%s%sjob-%s/data/%s.csv.gz",
	    g->spec.out_prefix != NULL ? g->spec.out_prefix : "",
	    g->spec.out_prefix != NULL ? "/" : "", g->id, uuid);
	path = spool_inventory_data_path((*g->core->cfg)->state_dir, g->id,
	    g->nfiles - 1);
	free(g->part);
	xasprintf(&g->part, "%s.part", path);
	free(path);
	if ((g->file = invreport_file_open(g->part, cause)) == NULL) {
		g->local = 1;
		return (-1);
	}
	return (0);
}

static int
gen_flush_rows(struct generator *g, char **cause)
{
	int	r;

	r = invreport_file_write(g->file, g->rows.data, g->rows.len, cause);
	buf_reset(&g->rows);
	if (r != 0)
		g->local = 1;
	return (r);
}

static int
gen_file_close(struct generator *g, char **cause)
{
	struct gen_file	*f = &g->files[g->nfiles - 1];
	char		*path;
	int		 r = 0;

	if (gen_flush_rows(g, cause) != 0 ||
	    invreport_file_close(g->file, f->md5, cause) != 0) {
		g->local = 1;
		return (-1);
	}
	f->size = invreport_file_size(g->file);
	invreport_file_free(g->file);
	g->file = NULL;
	path = spool_inventory_data_path((*g->core->cfg)->state_dir, g->id,
	    g->nfiles - 1);
	if (rename(g->part, path) == -1) {
		xasprintf(cause, "cannot keep %s: %s", path, strerror(errno));
		g->local = 1;
		r = -1;
	}
	free(path);
	free(g->part);
	g->part = NULL;
	return (r);
}

/* GENERATOR_SCHEMA's columns. */
#define GEN_COLS	invreport_columns(1, INV_FIELD_BIT(INV_F_SIZE) |	\
			    INV_FIELD_BIT(INV_F_LAST_MODIFIED_DATE) |	\
			    INV_FIELD_BIT(INV_F_ETAG) |			\
			    INV_FIELD_BIT(INV_F_STORAGE_CLASS))

static int
gen_write_row(struct generator *g, const struct gen_entry *e, char **cause)
{
	struct invreport_row	 row;
	char			 when[40], num[32];

	if (g->files[g->nfiles - 1].rows == GEN_FILE_ROWS) {
		if (gen_file_close(g, cause) != 0 ||
		    gen_file_open(g, cause) != 0)
			return (-1);
	}
	memset(&row, 0, sizeof row);
	row.v[INVR_BUCKET] = g->spec.bucket;
	row.v[INVR_KEY] = e->it.key;
	row.len[INVR_KEY] = e->it.key_len;
	/* The null version of a listing is the current object: no id. */
	if (e->it.version_id != NULL && strcmp(e->it.version_id, "null") != 0)
		row.v[INVR_VERSION_ID] = e->it.version_id;
	row.v[INVR_IS_LATEST] = "true";
	row.v[INVR_IS_DELETE_MARKER] = "false";
	snprintf(num, sizeof num, "%" PRId64, e->it.size);
	row.v[INVR_SIZE] = num;
	time_format_utc(e->it.mtime, when, sizeof when);
	row.v[INVR_LAST_MODIFIED_DATE] = when;
	row.v[INVR_ETAG] = e->it.etag;
	row.v[INVR_STORAGE_CLASS] = e->it.storage_class;
	invreport_row(&g->rows, GEN_COLS, &row);
	g->files[g->nfiles - 1].rows++;
	g->selected++;
	if (g->rows.len >= GEN_ROWS_FLUSH)
		return (gen_flush_rows(g, cause));
	return (0);
}

/* ---- life cycle */

static void
gen_entries_clear(struct generator *g)
{
	size_t	i;

	for (i = 0; i < g->nents; i++) {
		if (g->ents[i].call != NULL)
			s3_call_cancel(g->ents[i].call);
		lister_item_clear(&g->ents[i].it);
	}
	free(g->ents);
	g->ents = NULL;
	g->nents = 0;
	memset(&g->fetch, 0, sizeof g->fetch);
}

/* Remove what the spool holds for the job (not after success). */
static void
gen_unlink_spool(struct generator *g)
{
	char	*path;
	size_t	 i;

	if (g->part != NULL)
		unlink(g->part);
	for (i = 0; i < g->nfiles; i++) {
		path = spool_inventory_data_path((*g->core->cfg)->state_dir,
		    g->id, i);
		unlink(path);
		free(path);
	}
	path = spool_inventory_json_path((*g->core->cfg)->state_dir, g->id);
	unlink(path);
	free(path);
}

static void
gen_free(struct generator *g, int keep_spool)
{
	size_t	i;

	if (g->call != NULL)
		s3_call_cancel(g->call);
	lister_free(g->lister);
	gen_entries_clear(g);
	invreport_file_free(g->file);
	if (g->up_fd != -1)
		close(g->up_fd);
	if (!keep_spool)
		gen_unlink_spool(g);
	free(g->part);
	for (i = 0; i < g->nfiles; i++)
		free(g->files[i].key);
	free(g->files);
	buf_free(&g->rows);
	free(g->manifest);
	free(g->manifest_key);
	free(g->up_cause);
	s3xml_replication_free(&g->repl);
	gen_spec_free(&g->spec);
	free(g);
}

/* The end: the spool holds the manifest, or reason says why not. */
static void
gen_done(struct generator *g, const char *reason)
{
	struct stage_result	res;

	memset(&res, 0, sizeof res);
	if (reason != NULL && g->local) {
		/* The spool, not the bucket: list it again later. */
		res.status = STAGE_RETRY;
		res.code = STAGE_CODE_LOCAL;
		res.reason = reason;
	} else if (reason != NULL) {
		log_job(LOG_WARNING, g->id, "manifest generator: %s", reason);
		res.status = STAGE_FAILED;
		res.code = GEN_CODE;
		res.reason = reason;
	} else {
		log_job(LOG_INFO, g->id, "manifest generator: listed %llu "
		    "objects of s3://%s, selected %llu (%llu HEAD/tagging "
		    "calls) in %llu ms", (unsigned long long)g->listed,
		    g->spec.bucket, (unsigned long long)g->selected,
		    (unsigned long long)g->heads,
		    (unsigned long long)(time_mono_ms() - g->t0));
		res.status = STAGE_DONE;
	}
	g->done_cb(g->id, &res, g->arg);
	gen_free(g, reason == NULL);
}

/* The job left New under the listing. */
static void
gen_stopped(struct generator *g)
{
	struct stage_result	res;

	memset(&res, 0, sizeof res);
	res.status = STAGE_STOPPED;
	g->done_cb(g->id, &res, g->arg);
	gen_free(g, 0);
}

static void
gen_fail(struct generator *g, const char *fmt, ...)
{
	va_list	 ap;
	char	*reason;

	va_start(ap, fmt);
	xvasprintf(&reason, fmt, ap);
	va_end(ap);
	gen_done(g, reason);
	free(reason);
}

/*
 * Is the job still New (a cancel stops the listing)? Now and then the
 * progress goes into its StatusUpdateReason. 1 yes, 0 no (g is freed).
 */
static int
gen_still_new(struct generator *g)
{
	struct store	*st = g->core->store;
	struct job	 j;
	char		*cause = NULL;
	uint64_t	 now = time_mono_ms();
	int		 r;

	if ((r = store_job_get(st, g->id, &j, &cause)) != 0) {
		if (r == -1) {
			log_job(LOG_WARNING, g->id, "manifest generator: %s",
			    cause);
			free(cause);
		}
		gen_stopped(g);
		return (0);
	}
	if (j.status != JOB_NEW) {
		log_job(LOG_INFO, g->id, "manifest generator stopped: the job "
		    "is %s", job_status_name(j.status));
		job_clear(&j);
		gen_stopped(g);
		return (0);
	}
	if (now - g->progress_ms >= GEN_PROGRESS_MS) {
		g->progress_ms = now;
		free(j.status_reason);
		xasprintf(&j.status_reason, "Generating the manifest: %llu "
		    "objects of s3://%s listed, %llu selected",
		    (unsigned long long)g->listed, g->spec.bucket,
		    (unsigned long long)g->selected);
		if (store_job_update(st, &j, &cause) != 0) {
			log_job(LOG_WARNING, g->id, "manifest generator: %s",
			    cause);
			free(cause);
		}
	}
	job_clear(&j);
	return (1);
}

static void
gen_call(struct generator *g, const char *method, const char *key,
    const char *version_id, const char *query, s3_write_cb sink,
    s3_done_cb cb, void *arg, struct s3_call **callp)
{
	struct s3_request	req;

	memset(&req, 0, sizeof req);
	req.method = method;
	req.bucket = g->spec.bucket;
	req.key = key;
	req.version_id = version_id;
	req.query = query;
	req.role_arn = g->spec.role_arn;
	if (g->spec.owner != NULL) {
		g->headers[0].name = "x-amz-expected-bucket-owner";
		g->headers[0].value = g->spec.owner;
		req.headers = g->headers;
		req.nheaders = 1;
	}
	req.sink = sink;
	req.sink_arg = arg;
	*callp = s3_call(g->core->s3, &req, cb, arg);
}

/* ---- per-object checks: HEAD, GetObjectTagging */

static void
gen_entry_decided(struct gen_entry *e, int keep)
{
	struct generator	*g = e->g;

	e->keep = keep;
	e->need_tags = 0;
	lister_fetch_done(&g->fetch);
	gen_check_next(g);
}

static void
gen_tagging_cb(const struct s3_result *r, void *arg)
{
	struct gen_entry	*e = arg;
	struct generator	*g = e->g;
	struct s3xml_tagging	 t;
	char			*why = NULL, *text;
	int			 keep;

	e->call = NULL;
	g->heads++;
	if (r->status == 404) {
		gen_entry_decided(e, 0);	/* gone since it was listed */
		return;
	}
	if (r->error_code != NULL) {
		text = lister_result_text(r);
		gen_fail(g, "EligibleForReplication: cannot read the tags of "
		    "s3://%s/%.*s: %s", g->spec.bucket, (int)e->it.key_len,
		    e->it.key, text);
		free(text);
		return;
	}
	memset(&t, 0, sizeof t);
	if (r->http == NULL || s3xml_parse_tagging(r->http->body.data,
	    r->http->body.len, &t, &why) != 0) {
		s3xml_tagging_free(&t);
		gen_fail(g, "EligibleForReplication: the tags of s3://%s/%.*s: "
		    "%s", g->spec.bucket, (int)e->it.key_len, e->it.key,
		    why != NULL ? why : "no answer");
		free(why);
		return;
	}
	keep = gen_match_tags(&g->repl, e->it.key, e->it.key_len, &t);
	s3xml_tagging_free(&t);
	gen_entry_decided(e, keep);
}

static void
gen_tagging(struct gen_entry *e)
{
	gen_call(e->g, "GET", e->it.key, e->it.version_id, "tagging", NULL,
	    gen_tagging_cb, e, &e->call);
}

static void
gen_head_cb(const struct s3_result *r, void *arg)
{
	struct gen_entry	*e = arg;
	struct generator	*g = e->g;
	char			*text;

	e->call = NULL;
	g->heads++;
	if (r->status == 404) {
		gen_entry_decided(e, 0);
		return;
	}
	/* A HEAD of an SSE-C object without its key answers 400. */
	if (r->error_code != NULL && r->status != 400) {
		text = lister_result_text(r);
		gen_fail(g, "cannot read the encryption and replication status "
		    "of s3://%s/%.*s: %s", g->spec.bucket, (int)e->it.key_len,
		    e->it.key, text);
		free(text);
		return;
	}
	if (!gen_match_head(&g->spec, r)) {
		gen_entry_decided(e, 0);
		return;
	}
	if (e->need_tags) {
		gen_tagging(e);
		return;
	}
	gen_entry_decided(e, 1);
}

static void
gen_page_write(struct generator *g)
{
	char	*cause = NULL;
	size_t	 i;

	for (i = 0; i < g->nents; i++) {
		if (g->ents[i].keep == 1 &&
		    gen_write_row(g, &g->ents[i], &cause) != 0) {
			gen_fail(g, "%s", cause);
			free(cause);
			return;
		}
	}
	gen_entries_clear(g);
	if (!gen_still_new(g))
		return;
	gen_next_page(g);
}

/* Start entry I's HEAD or tagging call if undecided (lister_fetch_next). */
static int
gen_check_start_cb(size_t i, void *arg)
{
	struct generator	*g = arg;
	struct gen_entry	*e = &g->ents[i];

	if (e->keep != -1)
		return (0);
	if (g->spec.nencs != 0 || g->spec.has_repl)
		gen_call(g, "HEAD", e->it.key, e->it.version_id, NULL, NULL,
		    gen_head_cb, e, &e->call);
	else
		gen_tagging(e);
	return (1);
}

/* Checks up to LISTER_FETCH_MAX; write the page when all are in. */
static void
gen_check_next(struct generator *g)
{
	if (lister_fetch_next(&g->fetch, g->nents, gen_check_start_cb, g))
		gen_page_write(g);
}

/* ---- listing */

static int
gen_entry_add(struct generator *g, const struct lister_entry *le,
    char **cause)
{
	struct gen_entry	*e;
	int			 rules;

	g->listed++;
	if (!gen_match_listing(&g->spec, le->key->data, le->key->len,
	    le->mtime, le->size, le->storage_class->data))
		return (0);
	rules = 1;
	if (g->spec.eligible && (rules = gen_match_rules(&g->repl,
	    le->key->data, le->key->len)) == 0)
		return (0);
	if (lister_page_room(g->nents, cause) != 0)
		return (-1);
	if (g->nents % 256 == 0)
		g->ents = xreallocarray(g->ents, g->nents + 256,
		    sizeof *g->ents);
	e = &g->ents[g->nents++];
	memset(e, 0, sizeof *e);
	e->g = g;
	lister_item_set(&e->it, le);
	e->need_tags = rules == -1;
	e->keep = g->spec.nencs != 0 || g->spec.has_repl || e->need_tags ?
	    -1 : 1;
	return (0);
}

static int
gen_list_entry_cb(const struct lister_entry *le, void *arg, char **cause)
{
	struct generator	*g = arg;

	/* The current version of each key; a delete marker hides it. */
	if (!le->is_latest || le->delete_marker) {
		g->listed += le->is_latest;
		return (0);
	}
	return (gen_entry_add(g, le, cause));
}

/* A retry sends the page again: forget the first try. */
static void
gen_list_reset_cb(void *arg)
{
	struct generator	*g = arg;

	gen_entries_clear(g);
	g->listed = g->listed_before;
}

static void
gen_list_page_cb(int last, const struct s3_result *r, const char *cause,
    void *arg)
{
	struct generator	*g = arg;
	char			*text;

	if (r != NULL) {
		text = lister_result_text(r);
		gen_fail(g, "cannot list s3://%s: %s", g->spec.bucket, text);
		free(text);
		return;
	}
	if (cause != NULL) {
		gen_fail(g, "cannot list s3://%s: %s", g->spec.bucket, cause);
		return;
	}
	g->last_page = last;
	g->step = GEN_STEP_CHECK;
	gen_check_next(g);
}

static const struct lister_cbs gen_list_cbs = {
	gen_list_entry_cb, gen_list_reset_cb, gen_list_page_cb
};

static void	gen_finish_listing(struct generator *);

static void
gen_next_page(struct generator *g)
{
	if (g->last_page) {
		gen_finish_listing(g);
		return;
	}
	g->step = GEN_STEP_LIST;
	g->listed_before = g->listed;
	lister_next(g->lister);
}

/* ---- the end: manifest.json, the upload, the descriptor */

static char *
gen_manifest_json(struct generator *g)
{
	struct invreport_manifest	 m;
	struct invreport_manifest_file	*mf;
	char				*s, *arn;
	size_t				 i;

	xasprintf(&arn, "arn:aws:s3:::%s", g->spec.output ?
	    g->spec.out_bucket : g->spec.bucket);
	mf = xcalloc(g->nfiles, sizeof *mf);
	for (i = 0; i < g->nfiles; i++) {
		mf[i].key = g->files[i].key;
		mf[i].size = g->files[i].size;
		mf[i].md5 = g->files[i].md5;
	}
	memset(&m, 0, sizeof m);
	m.source_bucket = g->spec.bucket;
	m.destination_arn = arn;
	m.version = "2021-11-30";
	m.creation_ms = time_now_ms();
	m.file_schema = GENERATOR_SCHEMA;
	m.files = mf;
	m.nfiles = g->nfiles;
	s = invreport_manifest_json(&m);
	free(mf);
	free(arn);
	return (s);
}

/* Keep the GeneratedManifestDescriptor for describe-job. */
static int
gen_keep_descriptor(struct generator *g, const char *etag, char **cause)
{
	struct json_object	*d, *loc;
	char			*path, *part, *arn;
	const char		*s;
	int			 fd, r = -1;

	d = json_object_new_object();
	json_object_object_add(d, "Format",
	    json_object_new_string(GENERATOR_FORMAT));
	loc = json_object_new_object();
	xasprintf(&arn, "%s/%s", g->spec.out_arn, g->manifest_key);
	json_object_object_add(loc, "ObjectArn", json_object_new_string(arn));
	free(arn);
	if (etag != NULL)
		json_object_object_add(loc, "ETag",
		    json_object_new_string(etag));
	json_object_object_add(d, "Location", loc);
	s = json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN|
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	path = spool_descriptor_path((*g->core->cfg)->state_dir, g->id);
	xasprintf(&part, "%s.part", path);
	fd = open(part, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0600);
	if (fd == -1 || io_write_all(fd, s, strlen(s)) != 0 ||
	    fsync(fd) == -1 || close(fd) == -1 || rename(part, path) == -1) {
		xasprintf(cause, "cannot keep %s: %s", path, strerror(errno));
		g->local = 1;
		if (fd != -1)
			close(fd);
		unlink(part);
	} else
		r = 0;
	json_object_put(d);
	free(part);
	free(path);
	return (r);
}

static void	gen_upload_next(struct generator *);

static long
gen_upload_read_cb(void *data, size_t size, void *arg)
{
	struct generator	*g = arg;
	ssize_t			 n;
	size_t			 want = size;

	if (g->up_pos >= g->up_len)
		return (0);
	if (want > g->up_len - g->up_pos)
		want = (size_t)(g->up_len - g->up_pos);
	do
		n = pread(g->up_fd, data, want, (off_t)g->up_pos);
	while (n == -1 && errno == EINTR);
	if (n <= 0) {
		free(g->up_cause);
		xasprintf(&g->up_cause, "reading the spool: %s", n == 0 ?
		    "file is shorter than when it was written" :
		    strerror(errno));
		return (-1);
	}
	g->up_pos += (uint64_t)n;
	return ((long)n);
}

static int
gen_upload_rewind_cb(void *arg)
{
	struct generator	*g = arg;

	g->up_pos = 0;
	return (0);
}

static void
gen_upload_cb(const struct s3_result *r, void *arg)
{
	struct generator	*g = arg;
	char			*text, *cause = NULL;
	const char		*key;

	g->call = NULL;
	if (g->up_fd != -1)
		close(g->up_fd);
	g->up_fd = -1;
	key = g->up_cur < g->nfiles ? g->files[g->up_cur].key :
	    g->manifest_key;
	if (r->error_code != NULL) {
		text = g->up_cause != NULL ? xstrdup(g->up_cause) :
		    lister_result_text(r);
		gen_fail(g, "cannot write the generated manifest to "
		    "s3://%s/%s: %s", g->spec.out_bucket, key, text);
		free(text);
		return;
	}
	if (g->up_cur < g->nfiles) {
		g->up_cur++;
		gen_upload_next(g);
		return;
	}
	if (gen_keep_descriptor(g, r->etag, &cause) != 0) {
		gen_fail(g, "%s", cause);
		free(cause);
		return;
	}
	log_job(LOG_INFO, g->id, "generated manifest written to s3://%s/%s",
	    g->spec.out_bucket, g->manifest_key);
	gen_done(g, NULL);
}

static void
gen_upload_next(struct generator *g)
{
	struct s3_request	 req;
	char			*path;
	size_t			 n = 0;

	memset(&req, 0, sizeof req);
	req.method = "PUT";
	req.bucket = g->spec.out_bucket;
	req.role_arn = g->spec.role_arn;
	if (g->spec.out_owner != NULL) {
		g->headers[n].name = "x-amz-expected-bucket-owner";
		g->headers[n++].value = g->spec.out_owner;
	}
	if (g->spec.out_sse != NULL) {
		g->headers[n].name = "x-amz-server-side-encryption";
		g->headers[n++].value = g->spec.out_sse;
		if (g->spec.out_kms_key != NULL) {
			g->headers[n].name =
			    "x-amz-server-side-encryption-aws-kms-key-id";
			g->headers[n++].value = g->spec.out_kms_key;
		}
	}
	req.headers = g->headers;
	req.nheaders = n;
	if (g->up_cur == g->nfiles) {
		req.key = g->manifest_key;
		req.body = g->manifest;
		req.body_len = strlen(g->manifest);
		req.flags = S3_CONTENT_MD5;
		g->call = s3_call(g->core->s3, &req, gen_upload_cb, g);
		return;
	}
	path = spool_inventory_data_path((*g->core->cfg)->state_dir, g->id,
	    g->up_cur);
	g->up_fd = open(path, O_RDONLY|O_CLOEXEC);
	if (g->up_fd == -1) {
		g->local = 1;
		gen_fail(g, "cannot read %s: %s", path, strerror(errno));
		free(path);
		return;
	}
	free(path);
	g->up_pos = 0;
	g->up_len = g->files[g->up_cur].size;
	req.key = g->files[g->up_cur].key;
	req.stream_len = g->up_len;
	req.stream_read = gen_upload_read_cb;
	req.stream_rewind = gen_upload_rewind_cb;
	req.stream_arg = g;
	req.flags = S3_UNSIGNED_PAYLOAD;
	g->call = s3_call(g->core->s3, &req, gen_upload_cb, g);
}

static void
gen_finish_listing(struct generator *g)
{
	char	*cause = NULL, *path;
	int	 fd;

	if (gen_file_close(g, &cause) != 0) {
		gen_fail(g, "%s", cause);
		free(cause);
		return;
	}
	g->manifest = gen_manifest_json(g);
	path = spool_inventory_json_path((*g->core->cfg)->state_dir, g->id);
	fd = open(path, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0600);
	if (fd == -1 || io_write_all(fd, g->manifest,
	    strlen(g->manifest)) != 0 || fsync(fd) == -1) {
		if (fd != -1)
			close(fd);
		g->local = 1;
		gen_fail(g, "cannot keep %s: %s", path, strerror(errno));
		free(path);
		return;
	}
	close(fd);
	free(path);
	if (!g->spec.output) {
		gen_done(g, NULL);
		return;
	}
	xasprintf(&g->manifest_key, "%s%sjob-%s/manifest.json",
	    g->spec.out_prefix != NULL ? g->spec.out_prefix : "",
	    g->spec.out_prefix != NULL ? "/" : "", g->id);
	g->step = GEN_STEP_UPLOAD;
	g->up_cur = 0;
	gen_upload_next(g);
}

/* ---- the start: versioning, replication configuration */

static void
gen_replication_cb(const struct s3_result *r, void *arg)
{
	struct generator	*g = arg;
	char			*why = NULL, *text;

	g->call = NULL;
	if (r->error_code != NULL) {
		text = lister_result_text(r);
		gen_fail(g, "EligibleForReplication: cannot read the "
		    "replication configuration of s3://%s: %s",
		    g->spec.bucket, text);
		free(text);
		return;
	}
	if (r->http == NULL || s3xml_parse_replication(r->http->body.data,
	    r->http->body.len, &g->repl, &why) != 0) {
		gen_fail(g, "EligibleForReplication: the replication "
		    "configuration of s3://%s: %s", g->spec.bucket,
		    why != NULL ? why : "no answer");
		free(why);
		return;
	}
	gen_next_page(g);
}

/*
 * GetBucketVersioning's answer is one optional <Status>: Enabled or
 * Suspended means versions exist and tasks are pinned to them.
 */
static int
gen_versioning_status(const struct buf *body)
{
	static const char *const on[] = {
		"<Status>Enabled</Status>", "<Status>Suspended</Status>",
	};
	size_t	i;

	if (body->data == NULL)
		return (0);
	for (i = 0; i < nitems(on); i++) {
		if (memmem(body->data, body->len, on[i], strlen(on[i])) != NULL)
			return (1);
	}
	return (0);
}

static void
gen_versioning_cb(const struct s3_result *r, void *arg)
{
	struct generator	*g = arg;
	char			*text;

	g->call = NULL;
	if (r->error_code != NULL) {
		text = lister_result_text(r);
		gen_fail(g, "cannot read the source bucket s3://%s: %s",
		    g->spec.bucket, text);
		free(text);
		return;
	}
	g->versioned = r->http != NULL &&
	    gen_versioning_status(&r->http->body);
	g->list_req.bucket = g->spec.bucket;
	g->list_req.role_arn = g->spec.role_arn;
	if (g->spec.owner != NULL) {
		g->list_owner.name = "x-amz-expected-bucket-owner";
		g->list_owner.value = g->spec.owner;
		g->list_req.headers = &g->list_owner;
		g->list_req.nheaders = 1;
	}
	g->lister = lister_new(g->core->s3, &g->list_req, g->spec.list_prefix,
	    g->versioned, &gen_list_cbs, g);
	if (g->spec.eligible) {
		g->step = GEN_STEP_REPLICATION;
		gen_call(g, "GET", NULL, NULL, "replication", NULL,
		    gen_replication_cb, g, &g->call);
		return;
	}
	gen_next_page(g);
}

struct generator *
stage_generate_start(struct core *core, const char *id, stage_done_cb done_cb,
    void *arg)
{
	struct generator	*g;
	struct json_object	*spec;
	struct job		 j;
	char			*cause = NULL;

	g = xcalloc(1, sizeof *g);
	g->core = core;
	g->done_cb = done_cb;
	g->arg = arg;
	g->up_fd = -1;
	snprintf(g->id, sizeof g->id, "%s", id);
	g->t0 = g->progress_ms = time_mono_ms();
	buf_init(&g->rows);
	if (store_job_get(core->store, id, &j, &cause) != 0) {
		gen_fail(g, "%s", cause != NULL ? cause : "the job is gone");
		free(cause);
		return (NULL);
	}
	spec = json_tokener_parse(j.spec);
	job_clear(&j);
	if (spec == NULL || gen_spec_parse(spec, &g->spec, &cause) != 0) {
		gen_fail(g, "%s", cause != NULL ? cause : "the job's spec is "
		    "not JSON");
		free(cause);
		json_object_put(spec);
		return (NULL);
	}
	json_object_put(spec);
	if (gen_file_open(g, &cause) != 0) {
		gen_fail(g, "%s", cause);
		free(cause);
		return (NULL);
	}
	log_job(LOG_INFO, g->id, "manifest generator: listing s3://%s%s%s",
	    g->spec.bucket, g->spec.list_prefix != NULL ? "/" : "",
	    g->spec.list_prefix != NULL ? g->spec.list_prefix : "");
	g->step = GEN_STEP_VERSIONING;
	gen_call(g, "GET", NULL, NULL, "versioning", NULL, gen_versioning_cb,
	    g, &g->call);
	return (g);
}

void
stage_generate_stop(struct generator *g)
{
	if (g != NULL)
		gen_free(g, 0);
}

struct json_object *
stage_generate_descriptor(const char *state_dir, const char *id)
{
	struct json_object	*o;
	char			*path;

	path = spool_descriptor_path(state_dir, id);
	o = json_object_from_file(path);
	free(path);
	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return (o);
}
