/*
 * manifest: streaming parsers for the object lists a job reads (DESIGN.md
 * section 3). The caller feeds bytes in chunks of any size; a row may
 * straddle chunks; memory is fixed when the parser is created and never
 * grows with the manifest. Every row goes to a callback; an error stops the
 * parse and names the line. See docs/MANIFESTS.md.
 */
#ifndef MANIFEST_H
#define MANIFEST_H

#include <stddef.h>
#include <stdint.h>

struct invfilter;
struct json_object;

#define MANIFEST_FORMAT_CSV_NAME	"S3BatchOperations_CSV_20180820"
#define MANIFEST_FORMAT_INVENTORY_NAME	"S3InventoryReport_CSV_20161130"
#define MANIFEST_FORMAT_INVENTORY2_NAME	"S3InventoryReport_CSV_20211130"

enum manifest_format {
	MANIFEST_FORMAT_CSV,		/* bucket,key[,version-id] rows */
	MANIFEST_FORMAT_INVENTORY	/* an inventory manifest.json */
};

/* Limits; the row limit counts raw bytes, quotes and commas included. */
#define MANIFEST_MAX_LINE	8192	/* S3BatchOperations_CSV rows */
#define MANIFEST_MAX_INV_LINE	65536	/* inventory rows carry ACLs */
#define MANIFEST_MAX_FIELDS	32	/* Spec.Fields entries */
#define MANIFEST_MAX_COLUMNS	64	/* inventory fileSchema columns */
#define MANIFEST_MAX_KEY	1024	/* S3's limit, decoded bytes */
#define MANIFEST_MAX_VERSION_ID	1024
#define MANIFEST_MAX_JSON	(16 * 1024 * 1024) /* inventory manifest.json */

/*
 * One object. Pointers are valid only during the callback. key is decoded,
 * NUL-terminated and contains no NUL. version_id is NULL when the row has
 * none and "null" for the null version. etag is NULL unless an inventory
 * ETag column pins it (written without quotes).
 */
struct manifest_row {
	const char	*bucket;
	const char	*key;
	size_t		 key_len;
	const char	*version_id;
	const char	*etag;
	uint64_t	 line;		/* 1-based line where the row starts */
};

/*
 * Returns 0 to go on or -1 to stop the parse; on -1 it may set *cause
 * (xasprintf'd), which the feed or finish call then returns unchanged.
 */
typedef int	(*manifest_row_cb)(const struct manifest_row *, void *,
		    char **);

/* "S3BatchOperations_CSV_20180820" and the inventory names. */
int		 manifest_format_parse(const char *, enum manifest_format *,
		     char **);

/*
 * From a job's Manifest.Spec object: the format and, for the CSV format, the
 * Fields list (fields must have room for MANIFEST_MAX_FIELDS; the strings
 * point into spec). For inventory manifests *nfields is 0.
 */
int		 manifest_fields_from_spec(struct json_object *,
		     enum manifest_format *, const char **, size_t *, char **);

/* S3BatchOperations_CSV_20180820, columns named by Spec.Fields values. */
struct manifest_csv;
struct manifest_csv *manifest_csv_new(const char *const *, size_t, char **);
/* Prefix for error messages (a file name); default none. */
void		 manifest_csv_set_name(struct manifest_csv *, const char *);
/* Change the row limit; only before the first feed. */
void		 manifest_csv_set_max_line(struct manifest_csv *, size_t);
int		 manifest_csv_feed(struct manifest_csv *, const void *, size_t,
		     manifest_row_cb, void *, char **);
/* End of input: the last row may lack its newline. */
int		 manifest_csv_finish(struct manifest_csv *, manifest_row_cb,
		     void *, char **);
uint64_t	 manifest_csv_rows(struct manifest_csv *);	/* delivered */
uint64_t	 manifest_csv_skipped(struct manifest_csv *);	/* delete markers */
/*
 * Only rows the filter selects reach the callback (inventory parsers; set
 * before the first feed; the caller keeps the filter alive and frees it).
 * Delete markers are skipped before the filter sees them; a row is checked
 * (bucket, key, version id) before it is filtered, so a broken row fails
 * the parse whether selected or not. A filter error fails the parse.
 */
void		 manifest_csv_set_filter(struct manifest_csv *,
		     struct invfilter *);
uint64_t	 manifest_csv_filtered(struct manifest_csv *);	/* left out */
uint64_t	 manifest_csv_lines(struct manifest_csv *);	/* lines ended */
void		 manifest_csv_free(struct manifest_csv *);

/* An inventory report's manifest.json. */
struct manifest_inventory_file {
	char		*key;		/* data file, in the destination bucket */
	uint64_t	 size;		/* compressed bytes */
	char		 md5[33];	/* lower-case hex of the compressed bytes */
};

struct manifest_inventory {
	char		*source_bucket;
	char		*destination_bucket;	/* name, ARN prefix removed */
	char		*destination_arn;	/* as written */
	char		*version;		/* "2016-11-30" */
	char		*file_format;		/* "CSV" */
	char		*file_schema;		/* as written */
	uint64_t	 creation_ms;		/* 0 when absent */
	char		**columns;		/* fileSchema, trimmed */
	size_t		 ncolumns;
	struct manifest_inventory_file *files;
	size_t		 nfiles;
};

int		 manifest_inventory_parse(const void *, size_t,
		     struct manifest_inventory **, char **);
void		 manifest_inventory_free(struct manifest_inventory *);

/*
 * A row parser for one (already decompressed) data file of an inventory,
 * with columns from its fileSchema; file names the file in messages.
 */
struct manifest_csv *manifest_inventory_csv_new(
		     const struct manifest_inventory *, const char *, char **);

/*
 * Decompress a gzip'd data file into a row parser, computing the MD5 of the
 * compressed bytes. With expect (may be NULL), finish checks its size and
 * MD5checksum. Rows reach the callback before the checksum can be verified:
 * treat a file's rows as tentative until finish returns 0.
 */
struct manifest_gunzip;
struct manifest_gunzip *manifest_gunzip_new(struct manifest_csv *,
		     const struct manifest_inventory_file *);
int		 manifest_gunzip_feed(struct manifest_gunzip *, const void *,
		     size_t, manifest_row_cb, void *, char **);
int		 manifest_gunzip_finish(struct manifest_gunzip *,
		     manifest_row_cb, void *, char **);
/* Lower-case hex MD5 of the compressed bytes; valid after finish. */
const char	*manifest_gunzip_md5(struct manifest_gunzip *);
uint64_t	 manifest_gunzip_bytes_in(struct manifest_gunzip *);
void		 manifest_gunzip_free(struct manifest_gunzip *);

#endif /* MANIFEST_H */
