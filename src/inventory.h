/*
 * Inventory configurations (S3's InventoryConfiguration, the shape of
 * PutBucketInventoryConfiguration) as the daemon keeps them: validated
 * from Amazon's model like a CreateJob request, stored canonical, and
 * compiled into this struct for the scheduler and the run stage. The
 * schedule arithmetic (when the next run is due) lives here too, so that
 * it is a pure function of stored times. See docs/INVENTORY.md.
 */
#ifndef INVENTORY_H
#define INVENTORY_H

#include <stdint.h>
#include <time.h>

struct json_object;

/*
 * OptionalFields, in the order of Amazon's InventoryOptionalField enum
 * (not the report's column order: the run stage maps them to columns).
 */
enum inv_field {
	INV_F_SIZE,
	INV_F_LAST_MODIFIED_DATE,
	INV_F_STORAGE_CLASS,
	INV_F_ETAG,
	INV_F_IS_MULTIPART_UPLOADED,
	INV_F_REPLICATION_STATUS,
	INV_F_ENCRYPTION_STATUS,
	INV_F_OBJECT_LOCK_RETAIN_UNTIL_DATE,
	INV_F_OBJECT_LOCK_MODE,
	INV_F_OBJECT_LOCK_LEGAL_HOLD_STATUS,
	INV_F_INTELLIGENT_TIERING_ACCESS_TIER,
	INV_F_BUCKET_KEY_STATUS,
	INV_F_CHECKSUM_ALGORITHM,
	INV_F_COUNT
};
#define INV_FIELD_BIT(f)	((uint32_t)1 << (f))

enum inv_frequency {
	INV_HOURLY,		/* extension */
	INV_DAILY,
	INV_WEEKLY
};

enum inv_sse {
	INV_SSE_NONE,
	INV_SSE_S3,		/* Encryption.SSES3 */
	INV_SSE_KMS		/* Encryption.SSEKMS.KeyId */
};

struct inv_config {
	char			*bucket;	/* the source bucket */
	char			*id;		/* Id */
	int			 enabled;	/* IsEnabled */
	/* Destination.S3BucketDestination */
	char			*dest_account;	/* AccountId or NULL */
	char			*dest_arn;	/* Bucket, arn:aws:s3:::NAME */
	char			*dest_bucket;	/* NAME, from the ARN */
	char			*dest_prefix;	/* Prefix or NULL */
	enum inv_sse		 dest_sse;
	char			*dest_kms_key;	/* INV_SSE_KMS */
	char			*filter_prefix;	/* Filter.Prefix or NULL */
	int			 all_versions;	/* IncludedObjectVersions */
	uint32_t		 fields;	/* INV_FIELD_BIT(OptionalFields) */
	enum inv_frequency	 frequency;	/* Schedule.Frequency */
	/* Extensions (docs/INVENTORY.md), with their defaults. */
	int			 minute;	/* of the hour/day, UTC: 0 */
	int			 weekday;	/* Weekly: 0 Sunday .. 6; 0 */
	struct json_object	*job_template;	/* CreateJob minus Manifest */
	char			*job_filter;	/* WHERE text or NULL */
	/* The stored document (canonical, owned). */
	struct json_object	*json;
};

/*
 * Check an InventoryConfiguration document for BUCKET (its Id must equal
 * ID when ID is not NULL) and compile it. -1 with *cause naming the
 * member that is wrong (as CreateJob's validation does).
 */
int		 inv_config_parse(struct json_object *, const char *,
		     const char *, struct inv_config **, char **);
void		 inv_config_free(struct inv_config *);

/*
 * The first scheduled time strictly after AFTER (a time in UTC seconds)
 * for the configuration's frequency, minute and weekday. Runs missed while
 * the daemon was down are not owed one by one: the scheduler runs once
 * when inv_next_run(cfg, last) <= now, then asks again after now.
 */
time_t		 inv_next_run(const struct inv_config *, time_t);
/*
 * The newest scheduled time in (LAST, NOW], or 0 if none: what the
 * scheduler owes when the last time it ran for was LAST. However long the
 * daemon was down, that is one run.
 */
time_t		 inv_last_due(const struct inv_config *, time_t, time_t);

/* Amazon's names: "ETag", "Weekly"; NULL or "?" when out of range. */
const char	*inv_field_name(enum inv_field);
const char	*inv_frequency_name(enum inv_frequency);

#endif /* INVENTORY_H */
