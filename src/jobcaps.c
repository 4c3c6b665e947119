/*
 * jobcaps: a job against an endpoint's capabilities (jobcaps.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "s3batchd.h"
#include "json.h"
#include "jobspec.h"
#include "s3.h"
#include "s3-probe.h"
#include "jobcaps.h"

/*
 * What each operation needs, whatever its parameters; why (NULL: the
 * capability is the operation's own) when the capability stands for more.
 */
static const struct {
	const char	*op;
	enum s3_cap	 cap;
	const char	*why;
} jobcaps_ops[] = {
	{ "S3PutObjectTagging",		S3_CAP_TAGGING, NULL },
	{ "S3DeleteObjectTagging",	S3_CAP_TAGGING, NULL },
	{ "S3PutObjectAcl",		S3_CAP_ACL, NULL },
	{ "S3PutObjectRetention",	S3_CAP_OBJECT_LOCK, NULL },
	{ "S3PutObjectLegalHold",	S3_CAP_OBJECT_LOCK, NULL },
	{ "S3InitiateRestoreObject",	S3_CAP_RESTORE, NULL },
	{ "S3ReplicateObject",		S3_CAP_REPLICATION, NULL },
	{ "S3UpdateObjectEncryption",	S3_CAP_SSE_KMS, "needs" },
};

/*
 * What an operation's parameters add: the member (a path under the
 * operation's object) present and not empty needs cap. StorageClass is
 * looked up by its value instead (jobcaps_storage_class).
 */
static const struct {
	const char	*op;
	const char	*member;
	enum s3_cap	 cap;
} jobcaps_params[] = {
	{ "S3PutObjectCopy", "NewObjectTagging",	   S3_CAP_TAGGING },
	{ "S3PutObjectCopy", "AccessControlGrants",	   S3_CAP_ACL },
	{ "S3PutObjectCopy", "CannedAccessControlList",	   S3_CAP_ACL },
	{ "S3PutObjectCopy", "ObjectLockMode",		   S3_CAP_OBJECT_LOCK },
	{ "S3PutObjectCopy", "ObjectLockLegalHoldStatus", S3_CAP_OBJECT_LOCK },
	{ "S3PutObjectCopy", "ObjectLockRetainUntilDate", S3_CAP_OBJECT_LOCK },
	{ "S3PutObjectCopy", "NewObjectMetadata.SSEAlgorithm", S3_CAP_SSE_S3 },
};

static int
jobcaps_present(struct json_object *v)
{
	if (v == NULL || json_object_is_type(v, json_type_null))
		return (0);
	if (json_object_is_type(v, json_type_array))
		return (json_object_array_length(v) > 0);
	if (json_object_is_type(v, json_type_string))
		return (json_object_get_string_len(v) > 0);
	return (1);
}

static char *
jobcaps_say(const struct s3_caps *caps, enum s3_cap cap, const char *op,
    const char *why)
{
	const struct s3_cap_result	*c = &caps->cap[cap];
	char				*s;

	xasprintf(&s, "endpoint %s does not support %s%s%s%s%s (%s)",
	    caps->endpoint, s3_cap_what(cap),
	    why != NULL ? ", which " : "", why != NULL ? op : "",
	    why != NULL ? " " : "", why != NULL ? why : "",
	    c->detail != NULL ? c->detail : "probed");
	return (s);
}

char *
jobcaps_refusal(struct json_object *spec, const struct s3_caps *caps)
{
	struct json_object	*params, *fields, *f;
	const char		*op, *sc;
	char			 why[128];
	size_t			 i, n;
	int			 cap;

	if (caps == NULL || (op = jobspec_operation_name(spec)) == NULL)
		return (NULL);
	for (i = 0; i < nitems(jobcaps_ops); i++) {
		if (strcmp(jobcaps_ops[i].op, op) == 0 &&
		    caps->cap[jobcaps_ops[i].cap].state == S3_CAP_NO)
			return (jobcaps_say(caps, jobcaps_ops[i].cap, op,
			    jobcaps_ops[i].why));
	}
	params = json_path(json_path(spec, "Operation"), op);
	for (i = 0; i < nitems(jobcaps_params); i++) {
		if (strcmp(jobcaps_params[i].op, op) != 0 ||
		    caps->cap[jobcaps_params[i].cap].state != S3_CAP_NO ||
		    !jobcaps_present(json_path(params,
		    jobcaps_params[i].member)))
			continue;
		/* Only SSE-S3 is probed: KMS and others tell nothing here. */
		if (jobcaps_params[i].cap == S3_CAP_SSE_S3 &&
		    ((sc = json_path_string(params,
		    jobcaps_params[i].member)) == NULL ||
		    strcmp(sc, "AES256") != 0))
			continue;
		snprintf(why, sizeof why, "asks for with %s",
		    jobcaps_params[i].member);
		return (jobcaps_say(caps, jobcaps_params[i].cap, op, why));
	}
	if ((sc = json_path_string(params, "StorageClass")) != NULL &&
	    (cap = s3_cap_storage_class(sc)) >= 0 &&
	    caps->cap[cap].state == S3_CAP_NO)
		return (jobcaps_say(caps, (enum s3_cap)cap, op,
		    "asks for with StorageClass"));
	/* A manifest with version ids needs versioning. */
	fields = json_path(spec, "Manifest.Spec.Fields");
	if (fields != NULL && json_object_is_type(fields, json_type_array) &&
	    caps->cap[S3_CAP_VERSIONING].state == S3_CAP_NO) {
		n = json_object_array_length(fields);
		for (i = 0; i < n; i++) {
			f = json_object_array_get_idx(fields, i);
			if (json_object_is_type(f, json_type_string) &&
			    strcmp(json_object_get_string(f), "VersionId") == 0)
				return (jobcaps_say(caps, S3_CAP_VERSIONING,
				    "the manifest", "needs for its VersionId "
				    "field"));
		}
	}
	return (NULL);
}

char *
jobcaps_bucket(struct json_object *spec)
{
	const char	*op, *arn;
	char		*bucket = NULL, *cause = NULL;

	op = jobspec_operation_name(spec);
	arn = NULL;
	if (op != NULL && strcmp(op, "S3PutObjectCopy") == 0)
		arn = json_path_string(json_path(json_path(spec, "Operation"),
		    op), "TargetResource");
	if (arn == NULL)
		arn = json_path_string(spec, "ManifestGenerator."
		    "S3JobManifestGenerator.SourceBucket");
	if (arn == NULL)
		return (NULL);
	if (jobspec_arn_bucket(arn, &bucket, NULL, &cause) != 0) {
		free(cause);
		return (NULL);
	}
	return (bucket);
}

struct jobcaps_check {
	struct s3_caps_cache	*cache;
	struct json_object	*spec;
	struct s3_probe		*probe;
	struct event		*defer;		/* a cached answer */
	struct s3_caps		*cached;	/* a copy: the entry may be
						   replaced meanwhile */
	jobcaps_done_cb		 done_cb;
	void			*arg;
};

static void
jobcaps_check_free(struct jobcaps_check *c)
{
	if (c->probe != NULL)
		s3_probe_cancel(c->probe);
	if (c->defer != NULL)
		event_free(c->defer);
	s3_caps_free(c->cached);
	json_object_put(c->spec);
	free(c);
}

static void
jobcaps_check_finish(struct jobcaps_check *c, const struct s3_caps *caps)
{
	char	*why;

	why = jobcaps_refusal(c->spec, caps);
	c->done_cb(why, c->arg);
	free(why);
	jobcaps_check_free(c);
}

static void
jobcaps_probe_cb(const struct s3_caps *caps, const char *error, void *arg)
{
	struct jobcaps_check	*c = arg;

	c->probe = NULL;	/* the probe frees itself after this call */
	if (caps == NULL) {
		log_warnx("capability probe: %s; the job runs unchecked", error);
		jobcaps_check_finish(c, NULL);
		return;
	}
	s3_caps_cache_put(c->cache, caps);
	jobcaps_check_finish(c, caps);
}

static void
jobcaps_defer_cb(int fd, short ev, void *arg)
{
	struct jobcaps_check	*c = arg;

	(void)fd;
	(void)ev;
	jobcaps_check_finish(c, c->cached);
}

struct jobcaps_check *
jobcaps_check_start(struct event_base *base, struct s3 *s3,
    struct s3_caps_cache *cache, struct json_object *spec,
    const char *bucket, jobcaps_done_cb done_cb, void *arg)
{
	struct jobcaps_check	*c;
	const struct s3_caps	*have = NULL;
	const char		*endpoint;

	c = xcalloc(1, sizeof *c);
	c->cache = cache;
	c->spec = json_object_get(spec);
	c->done_cb = done_cb;
	c->arg = arg;
	endpoint = s3_bucket_endpoint(s3, bucket);
	if (endpoint == NULL ||
	    (have = s3_caps_cache_get(cache, endpoint)) != NULL) {
		/* No endpoint: the tasks fail with NoSuchEndpoint. */
		if (have != NULL)
			c->cached = s3_caps_copy(have);
		c->defer = evtimer_new(base, jobcaps_defer_cb, c);
		event_active(c->defer, EV_TIMEOUT, 1);
		return (c);
	}
	c->probe = s3_probe_start(base, s3, endpoint, bucket,
	    jobcaps_probe_cb, c);
	return (c);
}

void
jobcaps_check_cancel(struct jobcaps_check *c)
{
	if (c != NULL)
		jobcaps_check_free(c);
}
