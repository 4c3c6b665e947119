/*
 * The checks Amazon makes on a CreateJob request that its service model
 * cannot say: Manifest or ManifestGenerator, what an enabled report needs,
 * the columns of a CSV manifest, the format of a streamed one, S3 ARNs in
 * the form Batch Operations takes, job tag limits. ManifestGenerator's
 * filter needs nothing more: the model already checks its times, key
 * constraints, encryption kinds and replication statuses. Run after
 * model_validate, so member types are known to be right; the lookups stay
 * defensive all the same.
 */
#include <sys/types.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "json.h"
#include "model.h"
#include "invfilter.h"
#include "manifest.h"
#include "jobspec.h"

/* Legacy S3 bucket names, which other S3 servers still allow. */
#define JOBSPEC_BUCKET_MIN	3
#define JOBSPEC_BUCKET_MAX	255
#define JOBSPEC_KEY_MAX		1024	/* bytes, S3's limit */

static int	jobspec_check_manifest(struct json_object *, int, char **);
static int	jobspec_check_generator(struct json_object *, int, char **);
static int	jobspec_check_operation(struct json_object *, int, char **);
static int	jobspec_check_report(struct json_object *, int, char **);
static int	jobspec_check_tags(struct json_object *, int, char **);

static const struct jobspec_rule {
	const char	*name;
	int		(*check)(struct json_object *, int, char **);
} jobspec_rules[] = {
	{ "operation", jobspec_check_operation },
	{ "manifest", jobspec_check_manifest },
	{ "generator", jobspec_check_generator },
	{ "report", jobspec_check_report },
	{ "tags", jobspec_check_tags },
};

/* Columns of an S3BatchOperations_CSV_20180820 manifest. */
static const struct jobspec_field {
	const char	*name;
	int		 required;
	int		 max;
} jobspec_csv_fields[] = {
	{ "Bucket", 1, 1 },
	{ "Key", 1, 1 },
	{ "VersionId", 0, 1 },
	{ "Ignore", 0, INT_MAX },
};

/* The ARN at path must name a bucket (key NULL) or an object. */
static int
jobspec_check_arn(struct json_object *v, const char *path, int object,
    char **cause)
{
	const char	*arn;
	char		*bucket, *key, *msg;

	if ((arn = json_path_string(v, path)) == NULL)
		return (0);
	if (jobspec_arn_bucket(arn, &bucket, object ? &key : NULL, &msg) != 0) {
		xasprintf(cause, "%s: %s", path, msg);
		free(msg);
		return (-1);
	}
	free(bucket);
	if (object)
		free(key);
	return (0);
}

int
jobspec_arn_bucket(const char *arn, char **bucket, char **key, char **cause)
{
	const char	*part[5], *p, *slash, *res;
	size_t		 i, blen;

	/* arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE; keys may hold ':'. */
	if (strncmp(arn, "arn:", 4) != 0)
		goto bad;
	p = arn + 4;
	for (i = 0; i < nitems(part); i++) {
		part[i] = p;
		if (i == nitems(part) - 1)
			break;
		if ((p = strchr(p, ':')) == NULL)
			goto bad;
		p++;
	}
	res = part[4];
	if (part[1] - part[0] <= 1)
		goto bad;
	if (strncmp(part[1], "s3express:", 10) == 0) {
		xasprintf(cause, "S3 Express directory buckets are not "
		    "supported");
		return (-1);
	}
	if (strncmp(part[1], "s3:", 3) != 0)
		goto bad;
	if (part[3] - part[2] != 1 || part[4] - part[3] != 1) {
		xasprintf(cause, "access point and other regional S3 ARNs are "
		    "not supported; expected %s", key == NULL ?
		    "arn:aws:s3:::bucket" : "arn:aws:s3:::bucket/key");
		return (-1);
	}
	slash = strchr(res, '/');
	blen = slash != NULL ? (size_t)(slash - res) : strlen(res);
	if (blen < JOBSPEC_BUCKET_MIN || blen > JOBSPEC_BUCKET_MAX ||
	    strspn(res, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-_") < blen)
		goto bad;
	if (key == NULL && slash != NULL) {
		xasprintf(cause, "names an object; expected a bucket ARN, "
		    "arn:aws:s3:::bucket");
		return (-1);
	}
	if (key != NULL) {
		if (slash == NULL || slash[1] == '\0') {
			xasprintf(cause, "names no object key; expected "
			    "arn:aws:s3:::bucket/key");
			return (-1);
		}
		if (strlen(slash + 1) > JOBSPEC_KEY_MAX) {
			xasprintf(cause, "object key is longer than %d bytes",
			    JOBSPEC_KEY_MAX);
			return (-1);
		}
		*key = xstrdup(slash + 1);
	}
	if (bucket != NULL)
		*bucket = xstrndup(res, blen);
	return (0);

bad:
	{
		struct buf	 b;

		buf_init(&b);
		model_quote(&b, arn, strlen(arn));
		xasprintf(cause, "%s is not an S3 %s ARN (%s)", b.data,
		    key == NULL ? "bucket" : "object",
		    key == NULL ? "arn:aws:s3:::bucket" :
		    "arn:aws:s3:::bucket/key");
		buf_free(&b);
	}
	return (-1);
}

const char *
jobspec_operation_name(struct json_object *req)
{
	struct json_object		*op;
	struct json_object_iterator	 it;

	if ((op = json_path(req, "Operation")) == NULL ||
	    !json_object_is_type(op, json_type_object) ||
	    json_object_object_length(op) != 1)
		return (NULL);
	it = json_object_iter_begin(op);
	return (json_object_iter_peek_name(&it));
}

/* The model's union says as much; jobcheck_create relies on the name. */
static int
jobspec_check_operation(struct json_object *req, int local, char **cause)
{
	if (jobspec_operation_name(req) == NULL) {
		xasprintf(cause, "Operation: exactly one operation must be "
		    "set");
		return (-1);
	}
	return (0);
}

static int
jobspec_check_fields(struct json_object *fields, char **cause)
{
	const struct jobspec_field	*f;
	const char			*name;
	int				 count[nitems(jobspec_csv_fields)];
	size_t				 i, j, n;

	memset(count, 0, sizeof count);
	n = json_object_array_length(fields);
	for (i = 0; i < n; i++) {
		name = json_object_get_string(json_object_array_get_idx(fields,
		    i));
		for (j = 0; j < nitems(jobspec_csv_fields); j++) {
			f = &jobspec_csv_fields[j];
			if (name == NULL || strcmp(name, f->name) != 0)
				continue;
			if (++count[j] > f->max) {
				xasprintf(cause, "Manifest.Spec.Fields[%zu]: "
				    "%s appears more than once", i, f->name);
				return (-1);
			}
		}
	}
	for (j = 0; j < nitems(jobspec_csv_fields); j++) {
		f = &jobspec_csv_fields[j];
		if (f->required && count[j] == 0) {
			xasprintf(cause, "Manifest.Spec.Fields: must contain "
			    "%s for %s", f->name, MANIFEST_FORMAT_CSV_NAME);
			return (-1);
		}
	}
	return (0);
}

/*
 * Manifest.Filter (an extension, docs/FILTERS.md): an inventory report's
 * rows only, compiled now against Amazon's column names and any position,
 * and again at prepare against the report's own fileSchema.
 */
static int
jobspec_check_filter(struct json_object *man, const char *format,
    char **cause)
{
	const char	*where;
	char		*why = NULL;

	if ((where = json_path_string(man, "Filter")) == NULL)
		return (0);
	if (format == NULL ||
	    strcmp(format, MANIFEST_FORMAT_INVENTORY_NAME) != 0) {
		xasprintf(cause, "Manifest.Filter: only for %s manifests (a "
		    "%s manifest lists exactly the objects to act on)",
		    MANIFEST_FORMAT_INVENTORY_NAME, MANIFEST_FORMAT_CSV_NAME);
		return (-1);
	}
	if (invfilter_check(where, NULL, 0, &why) != 0) {
		xasprintf(cause, "Manifest.Filter: %s", why);
		free(why);
		return (-1);
	}
	return (0);
}

static int
jobspec_check_manifest(struct json_object *req, int local, char **cause)
{
	struct json_object	*man, *gen, *fields;
	const char		*format;

	man = json_path(req, "Manifest");
	gen = json_path(req, "ManifestGenerator");
	if (local) {
		if (gen != NULL) {
			xasprintf(cause, "ManifestGenerator: cannot be used "
			    "with a local manifest file");
			return (-1);
		}
		if (man == NULL) {
			xasprintf(cause, "Manifest: required with a local "
			    "manifest file, to give its Spec");
			return (-1);
		}
	} else if (man != NULL && gen != NULL) {
		xasprintf(cause, "ManifestGenerator: only one of Manifest and "
		    "ManifestGenerator may be set");
		return (-1);
	} else if (man == NULL && gen == NULL) {
		xasprintf(cause, "Manifest: either Manifest or "
		    "ManifestGenerator is required");
		return (-1);
	}
	if (man == NULL)
		return (0);

	if (json_path(man, "Spec") == NULL) {
		xasprintf(cause, "Manifest.Spec: required");
		return (-1);
	}
	format = json_path_string(man, "Spec.Format");
	/* The daemon parses a stream as CSV; an inventory names S3 files. */
	if (local && format != NULL &&
	    strcmp(format, MANIFEST_FORMAT_CSV_NAME) != 0) {
		xasprintf(cause, "Manifest.Spec.Format: a manifest streamed by "
		    "s3batchctl must be %s; an inventory report is read from "
		    "S3", MANIFEST_FORMAT_CSV_NAME);
		return (-1);
	}
	if (json_path(man, "Location") == NULL && !local) {
		xasprintf(cause, "Manifest.Location: required");
		return (-1);
	}
	if (jobspec_check_arn(req, "Manifest.Location.ObjectArn", 1,
	    cause) != 0)
		return (-1);
	if (jobspec_check_filter(man, format, cause) != 0)
		return (-1);

	fields = json_path(man, "Spec.Fields");
	if (format != NULL && strcmp(format, MANIFEST_FORMAT_CSV_NAME) == 0) {
		if (fields == NULL ||
		    !json_object_is_type(fields, json_type_array)) {
			xasprintf(cause, "Manifest.Spec.Fields: required for "
			    "%s", MANIFEST_FORMAT_CSV_NAME);
			return (-1);
		}
		return (jobspec_check_fields(fields, cause));
	}
	if (format != NULL &&
	    strcmp(format, MANIFEST_FORMAT_INVENTORY_NAME) == 0 &&
	    fields != NULL) {
		xasprintf(cause, "Manifest.Spec.Fields: must be absent for %s "
		    "(the inventory's manifest.json gives the columns)",
		    MANIFEST_FORMAT_INVENTORY_NAME);
		return (-1);
	}
	return (0);
}

static int
jobspec_check_generator(struct json_object *req, int local, char **cause)
{
	struct json_object	*gen;

	gen = json_path(req, "ManifestGenerator.S3JobManifestGenerator");
	if (gen == NULL)
		return (0);
	if (jobspec_check_arn(req,
	    "ManifestGenerator.S3JobManifestGenerator.SourceBucket", 0,
	    cause) != 0)
		return (-1);
	if (json_path_bool(gen, "EnableManifestOutput") == 1 &&
	    json_path(gen, "ManifestOutputLocation") == NULL) {
		xasprintf(cause, "ManifestGenerator.S3JobManifestGenerator."
		    "ManifestOutputLocation: required when "
		    "EnableManifestOutput is true");
		return (-1);
	}
	return (jobspec_check_arn(req, "ManifestGenerator."
	    "S3JobManifestGenerator.ManifestOutputLocation.Bucket", 0, cause));
}

static int
jobspec_check_report(struct json_object *req, int local, char **cause)
{
	static const char *const need[] = { "Bucket", "Format", "ReportScope" };
	struct json_object	*rep;
	size_t			 i;

	if ((rep = json_path(req, "Report")) == NULL) {
		xasprintf(cause, "Report: required");
		return (-1);
	}
	if (json_path_bool(rep, "Enabled") == 1) {
		for (i = 0; i < nitems(need); i++) {
			if (json_path(rep, need[i]) == NULL) {
				xasprintf(cause, "Report.%s: required when "
				    "Report.Enabled is true", need[i]);
				return (-1);
			}
		}
	}
	return (jobspec_check_arn(req, "Report.Bucket", 0, cause));
}

static int
jobspec_check_tags(struct json_object *req, int local, char **cause)
{
	struct json_object	*tags;

	if ((tags = json_path(req, "Tags")) == NULL)
		return (0);
	return (jobspec_validate_tags(tags, cause));
}

int
jobspec_validate_tags(struct json_object *tags, char **cause)
{
	const char	*key, *other;
	struct buf	 b;
	size_t		 i, j, n;

	if (!json_object_is_type(tags, json_type_array)) {
		xasprintf(cause, "Tags: expected an array");
		return (-1);
	}
	n = json_object_array_length(tags);
	if (n > JOBSPEC_MAX_TAGS) {
		xasprintf(cause, "Tags: %zu tags is more than the %d a job may "
		    "have", n, JOBSPEC_MAX_TAGS);
		return (-1);
	}
	/* At most 50: comparing each pair costs nothing. */
	for (i = 0; i < n; i++) {
		key = json_path_string(json_object_array_get_idx(tags, i),
		    "Key");
		if (key == NULL)
			continue;
		for (j = 0; j < i; j++) {
			other = json_path_string(json_object_array_get_idx(
			    tags, j), "Key");
			if (other != NULL && strcmp(key, other) == 0) {
				buf_init(&b);
				model_quote(&b, key, strlen(key));
				xasprintf(cause, "Tags[%zu].Key: %s is already "
				    "the key of Tags[%zu]", i, b.data, j);
				buf_free(&b);
				return (-1);
			}
		}
	}
	return (0);
}

static int
jobspec_validate(struct json_object *req, int have_local_manifest,
    char **cause)
{
	size_t	 i;

	if (!json_object_is_type(req, json_type_object)) {
		xasprintf(cause, "CreateJobRequest: expected an object");
		return (-1);
	}
	for (i = 0; i < nitems(jobspec_rules); i++) {
		if (jobspec_rules[i].check(req, have_local_manifest != 0,
		    cause) != 0)
			return (-1);
	}
	return (0);
}

int
jobspec_check(struct json_object *req, int have_local_manifest, char **cause)
{
	static const char *const except_local[] = { "Manifest.Location", NULL };

	if (model_validate_except("CreateJobRequest", req,
	    have_local_manifest ? except_local : NULL, cause) != 0)
		return (-1);
	return (jobspec_validate(req, have_local_manifest, cause));
}
