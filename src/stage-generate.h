/*
 * The generate stage of a New job with a ManifestGenerator
 * (S3JobManifestGenerator): it lists the source bucket page by page through
 * the shared S3 client, applies every JobManifestGeneratorFilter field and
 * writes the survivors as an S3InventoryReport_CSV_20211130 report (gzip'd
 * CSV data files and a manifest.json) into the spool, where the prepare
 * stage reads it like a downloaded inventory. With EnableManifestOutput the
 * same files go to ManifestOutputLocation. It reports STAGE_DONE,
 * STAGE_FAILED (ManifestGeneratorFailed) or STAGE_STOPPED (the job left
 * New); the lifecycle moves the job out of New. See
 * docs/MANIFEST_GENERATOR.md.
 */
#ifndef STAGE_GENERATE_H
#define STAGE_GENERATE_H

#include "stage.h"

struct json_object;
struct core;
struct generator;

/* The schema of the data files the generator writes. */
#define GENERATOR_FORMAT	"S3InventoryReport_CSV_20211130"
#define GENERATOR_SCHEMA	"Bucket, Key, VersionId, IsLatest, " \
				"IsDeleteMarker, Size, LastModifiedDate, ETag, " \
				"StorageClass"

/* NULL when it ended at once (done_cb has been called). */
struct generator *stage_generate_start(struct core *, const char *,
		     stage_done_cb, void *);
/* Stop the listing (no callback); its spool files are removed. */
void		 stage_generate_stop(struct generator *);
/*
 * GeneratedManifestDescriptor of a job whose generated manifest was
 * written to its ManifestOutputLocation, or NULL (the caller owns it).
 */
struct json_object *stage_generate_descriptor(const char *, const char *);

#endif /* STAGE_GENERATE_H */
