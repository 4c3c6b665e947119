/*
 * Inventory configurations: Amazon's InventoryConfiguration checked
 * against the model (model-data.c holds the S3 model's inventory shapes
 * and the extensions of docs/INVENTORY.md), then the rules the model does
 * not carry, and compiled for the scheduler and the run stage. The
 * schedule is plain arithmetic on UTC seconds: every frequency is a fixed
 * period from a fixed origin, so month and year ends need no calendar.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "inventory.h"
#include "invfilter.h"
#include "json.h"
#include "model.h"

#define INV_ID_MAX		64
#define INV_BUCKET_MAX		255
#define INV_ARN_PREFIX		"arn:aws:s3:::"

/* Amazon's InventoryOptionalField values, in enum inv_field's order. */
static const char *const inv_field_names[INV_F_COUNT] = {
	[INV_F_SIZE] = "Size",
	[INV_F_LAST_MODIFIED_DATE] = "LastModifiedDate",
	[INV_F_STORAGE_CLASS] = "StorageClass",
	[INV_F_ETAG] = "ETag",
	[INV_F_IS_MULTIPART_UPLOADED] = "IsMultipartUploaded",
	[INV_F_REPLICATION_STATUS] = "ReplicationStatus",
	[INV_F_ENCRYPTION_STATUS] = "EncryptionStatus",
	[INV_F_OBJECT_LOCK_RETAIN_UNTIL_DATE] = "ObjectLockRetainUntilDate",
	[INV_F_OBJECT_LOCK_MODE] = "ObjectLockMode",
	[INV_F_OBJECT_LOCK_LEGAL_HOLD_STATUS] = "ObjectLockLegalHoldStatus",
	[INV_F_INTELLIGENT_TIERING_ACCESS_TIER] =
	    "IntelligentTieringAccessTier",
	[INV_F_BUCKET_KEY_STATUS] = "BucketKeyStatus",
	[INV_F_CHECKSUM_ALGORITHM] = "ChecksumAlgorithm",
};

static const struct {
	const char		*name;
	enum inv_frequency	 frequency;
} inv_frequencies[] = {
	{ "Hourly",	INV_HOURLY },
	{ "Daily",	INV_DAILY },
	{ "Weekly",	INV_WEEKLY },
};

static const char *const inv_weekdays[] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday"
};

/* The report's Manifest is filled in per run: the template has none. */
static const char *const inv_model_except[] = {
	"JobTemplate.Manifest", NULL
};

#define P	"InventoryConfiguration."

/*
 * An Id becomes part of the report's keys (prefix/bucket/id/...) and of
 * metric labels: a safe alphabet, as Amazon's console allows.
 */
static int
inv_check_id(const char *id, char **cause)
{
	size_t	 len = strlen(id), i;

	if (len == 0 || len > INV_ID_MAX) {
		xasprintf(cause, P "Id: length %zu is not between 1 and %d",
		    len, INV_ID_MAX);
		return (-1);
	}
	for (i = 0; i < len; i++) {
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", id[i]) == NULL) {
			xasprintf(cause, P "Id: \"%s\" may hold only letters, "
			    "digits, '-', '_' and '.'", id);
			return (-1);
		}
	}
	return (0);
}

static int
inv_check_bucket(const char *what, const char *name, char **cause)
{
	size_t	 len = strlen(name);

	if (len == 0 || len > INV_BUCKET_MAX || strchr(name, '/') != NULL) {
		xasprintf(cause, "%s: \"%s\" is not a bucket name", what,
		    name);
		return (-1);
	}
	return (0);
}

/* "HH:MM", the model's pattern already checked. */
static int
inv_time_of_day(const char *s)
{
	return (((s[0] - '0') * 10 + (s[1] - '0')) * 60 +
	    (s[3] - '0') * 10 + (s[4] - '0'));
}

static int
inv_parse_schedule(struct json_object *doc, struct inv_config *c,
    char **cause)
{
	const char	*freq, *tod, *dow;
	size_t		 i;

	freq = json_path_string(doc, "Schedule.Frequency");
	for (i = 0; i < nitems(inv_frequencies); i++) {
		if (strcmp(freq, inv_frequencies[i].name) == 0)
			c->frequency = inv_frequencies[i].frequency;
	}
	if ((tod = json_path_string(doc, "Schedule.TimeOfDay")) != NULL) {
		c->minute = inv_time_of_day(tod);
		if (c->frequency == INV_HOURLY) {
			/* Hourly runs at a minute of every hour. */
			if (c->minute >= 60) {
				xasprintf(cause, P "Schedule.TimeOfDay: "
				    "\"%s\": an Hourly schedule takes the "
				    "minute only, as \"00:MM\"", tod);
				return (-1);
			}
		}
	}
	if ((dow = json_path_string(doc, "Schedule.DayOfWeek")) != NULL) {
		if (c->frequency != INV_WEEKLY) {
			xasprintf(cause, P "Schedule.DayOfWeek: only a Weekly "
			    "schedule takes a day of the week (Frequency is "
			    "%s)", freq);
			return (-1);
		}
		for (i = 0; i < nitems(inv_weekdays); i++) {
			if (strcmp(dow, inv_weekdays[i]) == 0)
				c->weekday = (int)i;
		}
	}
	return (0);
}

static int
inv_parse_destination(struct json_object *doc, struct inv_config *c,
    char **cause)
{
	struct json_object	*d, *enc;
	const char		*s;

	d = json_path(doc, "Destination.S3BucketDestination");
	s = json_path_string(d, "Format");
	if (strcmp(s, "CSV") != 0) {
		xasprintf(cause, P "Destination.S3BucketDestination.Format: "
		    "%s is not supported: s3batchd writes CSV inventory "
		    "reports (Format \"CSV\")", s);
		return (-1);
	}
	s = json_path_string(d, "Bucket");
	if (strncmp(s, INV_ARN_PREFIX, strlen(INV_ARN_PREFIX)) != 0) {
		xasprintf(cause, P "Destination.S3BucketDestination.Bucket: "
		    "\"%s\" is not a bucket ARN (arn:aws:s3:::NAME)", s);
		return (-1);
	}
	if (inv_check_bucket(P "Destination.S3BucketDestination.Bucket",
	    s + strlen(INV_ARN_PREFIX), cause) != 0)
		return (-1);
	c->dest_arn = xstrdup(s);
	c->dest_bucket = xstrdup(s + strlen(INV_ARN_PREFIX));
	if ((s = json_path_string(d, "AccountId")) != NULL)
		c->dest_account = xstrdup(s);
	if ((s = json_path_string(d, "Prefix")) != NULL && *s != '\0')
		c->dest_prefix = xstrdup(s);
	c->dest_sse = INV_SSE_NONE;
	if ((enc = json_path(d, "Encryption")) != NULL) {
		if (json_path(enc, "SSES3") != NULL &&
		    json_path(enc, "SSEKMS") != NULL) {
			xasprintf(cause, P "Destination.S3BucketDestination."
			    "Encryption: SSES3 and SSEKMS are exclusive");
			return (-1);
		}
		if (json_path(enc, "SSES3") != NULL)
			c->dest_sse = INV_SSE_S3;
		else if ((s = json_path_string(enc, "SSEKMS.KeyId")) != NULL) {
			c->dest_sse = INV_SSE_KMS;
			c->dest_kms_key = xstrdup(s);
		}
	}
	return (0);
}

static void
inv_parse_fields(struct json_object *doc, struct inv_config *c)
{
	struct json_object	*list;
	const char		*s;
	size_t			 i, f;

	if ((list = json_path(doc, "OptionalFields")) == NULL)
		return;
	for (i = 0; i < json_object_array_length(list); i++) {
		s = json_object_get_string(json_object_array_get_idx(list, i));
		for (f = 0; f < INV_F_COUNT; f++) {
			if (strcmp(s, inv_field_names[f]) == 0)
				c->fields |= INV_FIELD_BIT(f);
		}
	}
}

int
inv_config_parse(struct json_object *doc, const char *bucket, const char *id,
    struct inv_config **out, char **cause)
{
	struct inv_config	*c;
	const char		*s;
	char			*why = NULL;

	*out = NULL;
	if (inv_check_bucket("Bucket", bucket, cause) != 0)
		return (-1);
	if (doc == NULL || !json_object_is_type(doc, json_type_object)) {
		xasprintf(cause, "InventoryConfiguration: expected a JSON "
		    "object");
		return (-1);
	}
	if (model_validate_except("InventoryConfiguration", doc,
	    inv_model_except, &why) != 0) {
		xasprintf(cause, P "%s", why);
		free(why);
		return (-1);
	}
	s = json_path_string(doc, "Id");
	if (inv_check_id(s, cause) != 0)
		return (-1);
	if (id != NULL && strcmp(s, id) != 0) {
		xasprintf(cause, P "Id: \"%s\" is not the --id of the request "
		    "(\"%s\")", s, id);
		return (-1);
	}

	c = xcalloc(1, sizeof *c);
	c->bucket = xstrdup(bucket);
	c->id = xstrdup(s);
	c->enabled = json_path_bool(doc, "IsEnabled") == 1;
	c->all_versions = strcmp(json_path_string(doc,
	    "IncludedObjectVersions"), "All") == 0;
	if ((s = json_path_string(doc, "Filter.Prefix")) != NULL && *s != '\0')
		c->filter_prefix = xstrdup(s);
	if (inv_parse_destination(doc, c, cause) != 0 ||
	    inv_parse_schedule(doc, c, cause) != 0)
		goto fail;
	inv_parse_fields(doc, c);
	if ((c->job_template = json_path(doc, "JobTemplate")) != NULL)
		json_object_get(c->job_template);
	if (c->job_template != NULL &&
	    (json_path(c->job_template, "Manifest") != NULL ||
	    json_path(c->job_template, "ManifestGenerator") != NULL)) {
		xasprintf(cause, P "JobTemplate.%s: each report is the job's "
		    "manifest; leave it out", json_path(c->job_template,
		    "Manifest") != NULL ? "Manifest" : "ManifestGenerator");
		goto fail;
	}
	if ((s = json_path_string(doc, "JobFilter")) != NULL)
		c->job_filter = xstrdup(s);
	if (c->job_filter != NULL && c->job_template == NULL) {
		xasprintf(cause, P "JobFilter: a filter needs a JobTemplate "
		    "(the job it selects rows for)");
		goto fail;
	}
	/* The report's columns are known only when it is read. */
	if (c->job_filter != NULL && invfilter_check(c->job_filter, NULL, 0,
	    &why) != 0) {
		xasprintf(cause, P "JobFilter: %s", why);
		free(why);
		goto fail;
	}
	c->json = json_object_get(doc);
	*out = c;
	return (0);
fail:
	inv_config_free(c);
	return (-1);
}

#undef P

void
inv_config_free(struct inv_config *c)
{
	if (c == NULL)
		return;
	free(c->bucket);
	free(c->id);
	free(c->dest_account);
	free(c->dest_arn);
	free(c->dest_bucket);
	free(c->dest_prefix);
	free(c->dest_kms_key);
	free(c->filter_prefix);
	json_object_put(c->job_template);
	free(c->job_filter);
	json_object_put(c->json);
	free(c);
}

const char *
inv_field_name(enum inv_field f)
{
	return (f < INV_F_COUNT ? inv_field_names[f] : NULL);
}

const char *
inv_frequency_name(enum inv_frequency f)
{
	size_t	 i;

	for (i = 0; i < nitems(inv_frequencies); i++) {
		if (inv_frequencies[i].frequency == f)
			return (inv_frequencies[i].name);
	}
	return ("?");
}

/*
 * The epoch (1970-01-01) was a Thursday: the first Sunday 00:00 UTC is
 * three days later. Weeks count from there.
 */
#define INV_FIRST_SUNDAY	(3 * 86400)

time_t
inv_next_run(const struct inv_config *c, time_t after)
{
	int64_t	 period, origin, t;

	switch (c->frequency) {
	case INV_HOURLY:
		period = 3600;
		origin = (int64_t)c->minute * 60;
		break;
	case INV_DAILY:
		period = 86400;
		origin = (int64_t)c->minute * 60;
		break;
	case INV_WEEKLY:
	default:
		period = 7 * 86400;
		origin = INV_FIRST_SUNDAY + (int64_t)c->weekday * 86400 +
		    (int64_t)c->minute * 60;
		break;
	}
	t = (int64_t)after - origin;
	/* Floor division, for times before the origin too. */
	t = (t >= 0 ? t / period : -((-t + period - 1) / period)) * period +
	    origin;
	if (t <= (int64_t)after)
		t += period;
	return ((time_t)t);
}

time_t
inv_last_due(const struct inv_config *c, time_t last, time_t now)
{
	time_t	 t, due = 0;

	/*
	 * Only the newest missed time is owed; the longest period is a week,
	 * so start at most eight days back.
	 */
	if (now - last > 8 * 86400)
		last = now - 8 * 86400;
	for (t = inv_next_run(c, last); t <= now; t = inv_next_run(c, t))
		due = t;
	return (due);
}
