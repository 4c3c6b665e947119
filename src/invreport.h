/*
 * Amazon S3 Inventory reports (CSV, manifest version 2016-11-30) as files:
 * the columns in Amazon's order, a row's fields quoted and its key
 * URL-encoded as Amazon's inventory encodes keys (Java's URLEncoder: '+'
 * for a space; manifest.c's inventory reader decodes it), gzip'd data
 * files with their size and MD5 kept while they are written, and
 * manifest.json in the layout Amazon writes. The inventory run
 * (stage-inventory.c) and the ManifestGenerator (stage-generate.c) write
 * their reports with it. See docs/INVENTORY_REPORTS.md.
 */
#ifndef INVREPORT_H
#define INVREPORT_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* A report's columns, in the order Amazon writes them. */
enum invreport_col {
	INVR_BUCKET,
	INVR_KEY,
	INVR_VERSION_ID,		/* All versions only */
	INVR_IS_LATEST,			/* All versions only */
	INVR_IS_DELETE_MARKER,		/* All versions only */
	INVR_SIZE,
	INVR_LAST_MODIFIED_DATE,
	INVR_ETAG,
	INVR_STORAGE_CLASS,
	INVR_IS_MULTIPART_UPLOADED,
	INVR_REPLICATION_STATUS,
	INVR_ENCRYPTION_STATUS,
	INVR_OBJECT_LOCK_RETAIN_UNTIL_DATE,
	INVR_OBJECT_LOCK_MODE,
	INVR_OBJECT_LOCK_LEGAL_HOLD_STATUS,
	INVR_INTELLIGENT_TIERING_ACCESS_TIER,
	INVR_BUCKET_KEY_STATUS,
	INVR_CHECKSUM_ALGORITHM,
	INVR_NCOLS
};
#define INVR_COL_BIT(c)		((uint32_t)1 << (c))

/* The name of a column as fileSchema and OptionalFields spell it. */
const char	*invreport_col_name(enum invreport_col);
/*
 * The columns of a report: Bucket and Key, the version columns when ALL
 * (IncludedObjectVersions All), and the OptionalFields in FIELDS (a mask
 * of INV_FIELD_BIT, inventory.h).
 */
uint32_t	 invreport_columns(int, uint32_t);
/* fileSchema: the columns' names joined by ", ". */
void		 invreport_schema(struct buf *, uint32_t);

/*
 * A key URL-encoded as Amazon's inventory does: A-Z a-z 0-9 . - * _ as
 * they are, a space as '+', every other byte as %XX (upper-case hex).
 */
void		 invreport_key_encode(struct buf *, const char *, size_t);

/*
 * One row: the values of the columns in the mask (others are ignored);
 * a NULL value is written as an empty field. Every field is quoted, a
 * quote doubled; the key is given raw and encoded here.
 */
struct invreport_row {
	const char	*v[INVR_NCOLS];
	size_t		 len[INVR_NCOLS];	/* 0: strlen(v) */
};
void		 invreport_row(struct buf *, uint32_t,
		     const struct invreport_row *);
/* One quoted CSV field, followed by ',' or (LAST) '\n'. */
void		 invreport_field(struct buf *, const char *, size_t, int);

/*
 * A gzip'd data file being written at a path (made with mode 0600 and
 * truncated). Its compressed size and MD5 grow with every write: the
 * values manifest.json lists. -1 with *cause on a local error (errno
 * kept in the cause's text); the caller removes the file.
 */
struct invreport_file;
struct invreport_file *invreport_file_open(const char *, char **);
int		 invreport_file_write(struct invreport_file *, const void *,
		     size_t, char **);
/* Finish the gzip stream, fsync and close; md5 holds 33 bytes. */
int		 invreport_file_close(struct invreport_file *, char [33],
		     char **);
/* Compressed bytes so far (close adds the stream's tail). */
uint64_t	 invreport_file_size(const struct invreport_file *);
void		 invreport_file_free(struct invreport_file *);

/* manifest.json's content. */
struct invreport_manifest_file {
	const char	*key;
	uint64_t	 size;
	const char	*md5;		/* hex */
};
struct invreport_manifest {
	const char	*source_bucket;
	const char	*destination_arn;	/* arn:aws:s3:::NAME */
	const char	*version;	/* "2016-11-30", "2021-11-30" */
	uint64_t	 creation_ms;
	const char	*file_schema;
	const struct invreport_manifest_file *files;
	size_t		 nfiles;
};
/* manifest.json in Amazon's layout (" : ", two-space indent); caller frees. */
char		*invreport_manifest_json(const struct invreport_manifest *);

#endif /* INVREPORT_H */
