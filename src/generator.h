/*
 * ManifestGenerator (S3JobManifestGenerator): the daemon lists the source
 * bucket itself, page by page, applies every JobManifestGeneratorFilter
 * field and writes the survivors as an S3InventoryReport_CSV_20211130
 * report (gzip'd CSV data files and a manifest.json) into the spool, where
 * the worker prepares it like a downloaded inventory. With
 * EnableManifestOutput the same files go to ManifestOutputLocation. A job
 * waits in New while its listing runs. See docs/MANIFEST_GENERATOR.md.
 */
#ifndef GENERATOR_H
#define GENERATOR_H

struct json_object;
struct server;

/* The schema of the data files the generator writes. */
#define GENERATOR_FORMAT	"S3InventoryReport_CSV_20211130"
#define GENERATOR_SCHEMA	"Bucket, Key, VersionId, IsLatest, " \
				"IsDeleteMarker, Size, LastModifiedDate, ETag, " \
				"StorageClass"

/*
 * The checks create-job makes on ManifestGenerator beyond the model (a
 * filter that can never be read, a bad time): 0, or -1 with *cause naming
 * the field.
 */
int		 generator_check(struct json_object *, char **);
/* List the source bucket of a New job that has a ManifestGenerator. */
void		 generator_start(struct server *, const char *);
/* Stop every listing (at shutdown; New jobs list again at start). */
void		 generator_free_all(struct server *);
/*
 * GeneratedManifestDescriptor of a job whose generated manifest was
 * written to its ManifestOutputLocation, or NULL (the caller owns it).
 */
struct json_object *generator_descriptor(const char *, const char *);
/* Forget a job's descriptor (its job is purged). */
void		 generator_forget(const char *, const char *);

#endif /* GENERATOR_H */
