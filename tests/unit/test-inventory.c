/*
 * Unit tests for inventory.c: InventoryConfiguration checked from the
 * model (errors name the member), the rules the model lacks, the
 * extensions, and the schedule arithmetic (inv_next_run, inv_last_due).
 */
#include <json-c/json.h>

#include "s3batchd.h"
#include "inventory.h"
#include "unit.h"

#define J unit_json

#define DEST \
    "'Destination': { 'S3BucketDestination': { 'AccountId': '123456789012'," \
    " 'Bucket': 'arn:aws:s3:::reports', 'Format': 'CSV', 'Prefix': 'inv' } }"

static struct inv_config *
ok(const char *text)
{
	struct json_object	*doc = J(text);
	struct inv_config	*c = NULL;
	char			*cause = NULL;

	if (inv_config_parse(doc, "src", "cfg1", &c, &cause) != 0) {
		fprintf(stderr, "unexpected: %s\n", cause);
		free(cause);
	}
	CHECK(c != NULL);
	json_object_put(doc);
	return (c);
}

/* The parse fails and the message starts with want. */
static void
bad(const char *text, const char *want)
{
	struct json_object	*doc = J(text);
	struct inv_config	*c = NULL;
	char			*cause = NULL;

	CHECK(inv_config_parse(doc, "src", "cfg1", &c, &cause) == -1);
	CHECK(c == NULL);
	CHECK(cause != NULL && strncmp(cause, want, strlen(want)) == 0);
	if (cause != NULL && strncmp(cause, want, strlen(want)) != 0)
		fprintf(stderr, "  got: %s\n  want: %s...\n", cause, want);
	free(cause);
	json_object_put(doc);
}

static void
test_parse(void)
{
	struct inv_config	*c;

	c = ok("{ 'Id': 'cfg1', 'IsEnabled': true, " DEST ","
	    " 'Filter': { 'Prefix': 'logs/' },"
	    " 'IncludedObjectVersions': 'All',"
	    " 'OptionalFields': [ 'Size', 'ETag', 'EncryptionStatus',"
	    "   'BucketKeyStatus' ],"
	    " 'Schedule': { 'Frequency': 'Weekly', 'TimeOfDay': '03:30',"
	    "   'DayOfWeek': 'Tuesday' } }");
	if (c != NULL) {
		CHECK_STR(c->bucket, "src");
		CHECK_STR(c->id, "cfg1");
		CHECK_INT(c->enabled, 1);
		CHECK_STR(c->dest_bucket, "reports");
		CHECK_STR(c->dest_arn, "arn:aws:s3:::reports");
		CHECK_STR(c->dest_account, "123456789012");
		CHECK_STR(c->dest_prefix, "inv");
		CHECK_INT(c->dest_sse, INV_SSE_NONE);
		CHECK_STR(c->filter_prefix, "logs/");
		CHECK_INT(c->all_versions, 1);
		CHECK_INT(c->fields, INV_FIELD_BIT(INV_F_SIZE) |
		    INV_FIELD_BIT(INV_F_ETAG) |
		    INV_FIELD_BIT(INV_F_ENCRYPTION_STATUS) |
		    INV_FIELD_BIT(INV_F_BUCKET_KEY_STATUS));
		CHECK_INT(c->frequency, INV_WEEKLY);
		CHECK_INT(c->minute, 3 * 60 + 30);
		CHECK_INT(c->weekday, 2);
		CHECK(c->job_template == NULL);
		CHECK(c->json != NULL);
	}
	inv_config_free(c);

	/* Defaults: Sunday 00:00; SSE-KMS; a job template without Manifest. */
	c = ok("{ 'Id': 'cfg1', 'IsEnabled': false,"
	    " 'Destination': { 'S3BucketDestination': {"
	    "   'Bucket': 'arn:aws:s3:::r', 'Format': 'CSV',"
	    "   'Encryption': { 'SSEKMS': { 'KeyId': 'testkey-1' } } } },"
	    " 'IncludedObjectVersions': 'Current',"
	    " 'Schedule': { 'Frequency': 'Daily' },"
	    " 'JobTemplate': { 'Operation': { 'S3PutObjectTagging': {"
	    "   'TagSet': [] } }, 'Priority': 10, 'RoleArn': "
	    "   'arn:aws:iam::123456789012:role/batch',"
	    "   'Report': { 'Enabled': false } },"
	    " 'JobFilter': 's._6 IS NOT NULL' }");
	if (c != NULL) {
		CHECK_INT(c->enabled, 0);
		CHECK_INT(c->all_versions, 0);
		CHECK_INT(c->dest_sse, INV_SSE_KMS);
		CHECK_STR(c->dest_kms_key, "testkey-1");
		CHECK(c->dest_prefix == NULL);
		CHECK_INT(c->minute, 0);
		CHECK_INT(c->weekday, 0);
		CHECK(c->job_template != NULL);
		CHECK_STR(c->job_filter, "s._6 IS NOT NULL");
	}
	inv_config_free(c);

	c = ok("{ 'Id': 'cfg1', 'IsEnabled': true, " DEST ","
	    " 'IncludedObjectVersions': 'Current',"
	    " 'Schedule': { 'Frequency': 'Hourly', 'TimeOfDay': '00:15' } }");
	if (c != NULL) {
		CHECK_INT(c->frequency, INV_HOURLY);
		CHECK_INT(c->minute, 15);
	}
	inv_config_free(c);
}

static void
test_errors(void)
{
	/* From the model: the member is named. */
	bad("{ 'Id': 'cfg1', " DEST ", 'IncludedObjectVersions': 'Current',"
	    " 'Schedule': { 'Frequency': 'Daily' } }",
	    "InventoryConfiguration.IsEnabled");
	bad("{ 'Id': 'cfg1', 'IsEnabled': true, " DEST ","
	    " 'IncludedObjectVersions': 'Some',"
	    " 'Schedule': { 'Frequency': 'Daily' } }",
	    "InventoryConfiguration.IncludedObjectVersions");
	bad("{ 'Id': 'cfg1', 'IsEnabled': true, " DEST ","
	    " 'IncludedObjectVersions': 'All',"
	    " 'Schedule': { 'Frequency': 'Monthly' } }",
	    "InventoryConfiguration.Schedule.Frequency");
	bad("{ 'Id': 'cfg1', 'IsEnabled': true, " DEST ","
	    " 'IncludedObjectVersions': 'All', 'OptionalFields': ['Colour'],"
	    " 'Schedule': { 'Frequency': 'Daily' } }",
	    "InventoryConfiguration.OptionalFields[0]");
	bad("{ 'Id': 'cfg1', 'IsEnabled': true, " DEST ","
	    " 'IncludedObjectVersions': 'All', 'Extra': 1,"
	    " 'Schedule': { 'Frequency': 'Daily' } }",
	    "InventoryConfiguration.Extra");
	bad("{ 'Id': 'cfg1', 'IsEnabled': true, " DEST ","
	    " 'IncludedObjectVersions': 'All',"
	    " 'Schedule': { 'Frequency': 'Daily', 'TimeOfDay': '24:00' } }",
	    "InventoryConfiguration.Schedule.TimeOfDay");
	bad("{ 'Id': 'cfg1', 'IsEnabled': true, " DEST ","
	    " 'IncludedObjectVersions': 'All',"
	    " 'Schedule': { 'Frequency': 'Weekly', 'DayOfWeek': 'Caturday' } }",
	    "InventoryConfiguration.Schedule.DayOfWeek");
	/* The rules beyond the model. */
	bad("{ 'Id': 'cfg1', 'IsEnabled': true,"
	    " 'Destination': { 'S3BucketDestination': {"
	    "   'Bucket': 'arn:aws:s3:::r', 'Format': 'ORC' } },"
	    " 'IncludedObjectVersions': 'All',"
	    " 'Schedule': { 'Frequency': 'Daily' } }",
	    "InventoryConfiguration.Destination.S3BucketDestination.Format: "
	    "ORC is not supported: s3batchd writes CSV");
	bad("{ 'Id': 'cfg1', 'IsEnabled': true,"
	    " 'Destination': { 'S3BucketDestination': {"
	    "   'Bucket': 'arn:aws:s3:::r', 'Format': 'Parquet' } },"
	    " 'IncludedObjectVersions': 'All',"
	    " 'Schedule': { 'Frequency': 'Daily' } }",
	    "InventoryConfiguration.Destination.S3BucketDestination.Format: "
	    "Parquet is not supported");
	bad("{ 'Id': 'cfg1', 'IsEnabled': true,"
	    " 'Destination': { 'S3BucketDestination': {"
	    "   'Bucket': 'reports', 'Format': 'CSV' } },"
	    " 'IncludedObjectVersions': 'All',"
	    " 'Schedule': { 'Frequency': 'Daily' } }",
	    "InventoryConfiguration.Destination.S3BucketDestination.Bucket: "
	    "\"reports\" is not a bucket ARN");
	bad("{ 'Id': 'other', 'IsEnabled': true, " DEST ","
	    " 'IncludedObjectVersions': 'All',"
	    " 'Schedule': { 'Frequency': 'Daily' } }",
	    "InventoryConfiguration.Id: \"other\" is not the --id");
	bad("{ 'Id': 'cfg1', 'IsEnabled': true, " DEST ","
	    " 'IncludedObjectVersions': 'All',"
	    " 'Schedule': { 'Frequency': 'Daily', 'DayOfWeek': 'Monday' } }",
	    "InventoryConfiguration.Schedule.DayOfWeek: only a Weekly");
	bad("{ 'Id': 'cfg1', 'IsEnabled': true, " DEST ","
	    " 'IncludedObjectVersions': 'All',"
	    " 'Schedule': { 'Frequency': 'Hourly', 'TimeOfDay': '01:15' } }",
	    "InventoryConfiguration.Schedule.TimeOfDay: \"01:15\": an Hourly");
	bad("{ 'Id': 'cfg1', 'IsEnabled': true,"
	    " 'Destination': { 'S3BucketDestination': {"
	    "   'Bucket': 'arn:aws:s3:::r', 'Format': 'CSV',"
	    "   'Encryption': { 'SSES3': {}, 'SSEKMS': { 'KeyId': 'k' } } } },"
	    " 'IncludedObjectVersions': 'All',"
	    " 'Schedule': { 'Frequency': 'Daily' } }",
	    "InventoryConfiguration.Destination.S3BucketDestination."
	    "Encryption: SSES3 and SSEKMS are exclusive");
	bad("{ 'Id': 'cfg1', 'IsEnabled': true, " DEST ","
	    " 'IncludedObjectVersions': 'All', 'JobFilter': 's._1 = 1',"
	    " 'Schedule': { 'Frequency': 'Daily' } }",
	    "InventoryConfiguration.JobFilter: a filter needs a JobTemplate");
	/* The template is a CreateJob request, checked by the model too. */
	bad("{ 'Id': 'cfg1', 'IsEnabled': true, " DEST ","
	    " 'IncludedObjectVersions': 'All',"
	    " 'Schedule': { 'Frequency': 'Daily' },"
	    " 'JobTemplate': { 'Operation': { 'S3PutObjectTagging': {} },"
	    "   'Priority': -1, 'RoleArn': 'arn:aws:iam::123456789012:role/b',"
	    "   'Report': { 'Enabled': false } } }",
	    "InventoryConfiguration.JobTemplate.Priority");
	bad("{ 'Id': 'cfg1', 'IsEnabled': true, " DEST ","
	    " 'IncludedObjectVersions': 'All',"
	    " 'Schedule': { 'Frequency': 'Daily' },"
	    " 'JobTemplate': { 'Operation': { 'S3PutObjectTagging': {} },"
	    "   'Priority': 1, 'RoleArn': 'arn:aws:iam::123456789012:role/b',"
	    "   'Report': { 'Enabled': false }, 'Manifest': { 'Spec': {"
	    "   'Format': 'S3BatchOperations_CSV_20180820',"
	    "   'Fields': ['Bucket', 'Key'] }, 'Location': {"
	    "   'ObjectArn': 'arn:aws:s3:::b/m.csv', 'ETag': 'x' } } } }",
	    "InventoryConfiguration.JobTemplate.Manifest: each report is");
	bad("[]", "InventoryConfiguration: expected a JSON object");
}

static struct inv_config *
sched(enum inv_frequency f, int minute, int weekday)
{
	struct inv_config	*c = xcalloc(1, sizeof *c);

	c->frequency = f;
	c->minute = minute;
	c->weekday = weekday;
	return (c);
}

/* 2026-12-04T21:30:00Z, a Friday. */
#define FRI	((time_t)1796419800)
#define DAY	86400
#define HOUR	3600

static void
test_schedule(void)
{
	struct inv_config	*c;

	/* Daily at 00:00: the next midnight; an exact hit is not "after". */
	c = sched(INV_DAILY, 0, 0);
	CHECK_INT(inv_next_run(c, FRI), 1796428800);		/* 12-05 */
	CHECK_INT(inv_next_run(c, 1796428800), 1796428800 + DAY);
	CHECK_INT(inv_next_run(c, 1796428800 - 1), 1796428800);
	/* Month and year ends: 2026-12-31T12:00 -> 2027-01-01T00:00. */
	CHECK_INT(inv_next_run(c, 1798718400), 1798761600);
	/* 2028-02-28T23:59 -> 2028-02-29T00:00 (a leap year). */
	CHECK_INT(inv_next_run(c, 1835395140), 1835395200);
	free(c);

	/* Daily at 22:15: later the same day. */
	c = sched(INV_DAILY, 22 * 60 + 15, 0);
	CHECK_INT(inv_next_run(c, FRI), FRI + 45 * 60);
	free(c);

	/* Hourly at minute 5. */
	c = sched(INV_HOURLY, 5, 0);
	CHECK_INT(inv_next_run(c, FRI), FRI + 35 * 60);
	CHECK_INT(inv_next_run(c, FRI + 35 * 60), FRI + 35 * 60 + HOUR);
	/* 2026-12-31T23:30 -> 2027-01-01T00:05. */
	CHECK_INT(inv_next_run(c, 1798759800), 1798761900);
	free(c);

	/* Weekly, Sunday 00:00 by default: 2026-12-06T00:00. */
	c = sched(INV_WEEKLY, 0, 0);
	CHECK_INT(inv_next_run(c, FRI), 1796515200);
	CHECK_INT(inv_next_run(c, 1796515200), 1796515200 + 7 * DAY);
	free(c);
	/* Weekly, Friday 21:00: a week later; 22:00: the same evening. */
	c = sched(INV_WEEKLY, 21 * 60, 5);
	CHECK_INT(inv_next_run(c, FRI), FRI - 30 * 60 + 7 * DAY);
	free(c);
	c = sched(INV_WEEKLY, 22 * 60, 5);
	CHECK_INT(inv_next_run(c, FRI), FRI + 30 * 60);
	free(c);
	/* Before the epoch's first Sunday, and before the epoch. */
	c = sched(INV_WEEKLY, 0, 0);
	CHECK_INT(inv_next_run(c, 0), 3 * DAY);
	CHECK_INT(inv_next_run(c, -DAY), 3 * DAY);
	free(c);

	/*
	 * A run missed for days is owed once: the newest time due. Daily at
	 * 00:00, last run 2026-11-30T00:00, now Friday 21:30: 12-04T00:00.
	 */
	c = sched(INV_DAILY, 0, 0);
	CHECK_INT(inv_last_due(c, 1796428800 - 5 * DAY, FRI),
	    1796428800 - DAY);
	/* Nothing due yet. */
	CHECK_INT(inv_last_due(c, 1796428800 - DAY, FRI), 0);
	/* Down for a year: still one, the newest. */
	CHECK_INT(inv_last_due(c, FRI - 365 * DAY, FRI), 1796428800 - DAY);
	/* Exactly due. */
	CHECK_INT(inv_last_due(c, 1796428800 - DAY, 1796428800),
	    1796428800);
	free(c);
	c = sched(INV_HOURLY, 0, 0);
	CHECK_INT(inv_last_due(c, FRI - 10 * HOUR, FRI), FRI - 30 * 60);
	free(c);
	c = sched(INV_WEEKLY, 0, 0);
	CHECK_INT(inv_last_due(c, FRI - 30 * DAY, FRI), 1796515200 - 7 * DAY);
	free(c);
}

int
main(void)
{
	test_parse();
	test_errors();
	test_schedule();
	return (unit_done("test-inventory"));
}
