/*
 * s3xml: S3's XML bodies, both ways.
 *
 * Responses are parsed with expat as a stream: feed the body as it arrives,
 * entries of the long lists (ListObjectsV2 Contents, ListObjectVersions
 * Version/DeleteMarker, DeleteObjects results, multipart uploads) are handed
 * to a callback one at a time as each closes, so memory does not grow with
 * the page. Input is untrusted: DOCTYPE (hence every entity trick) is
 * refused, depth, text per element and document size are bounded.
 *
 * Writers build request bodies with XML escaping, and refuse what XML 1.0
 * cannot carry (most control characters, invalid UTF-8).
 */
#ifndef S3XML_H
#define S3XML_H

#include <stddef.h>
#include <stdint.h>

#include "s3batchd.h"

#define S3XML_NS		"http://s3.amazonaws.com/doc/2006-03-01/"
#define S3XML_MAX_DEPTH		32		/* element nesting */
#define S3XML_MAX_TEXT		(64 * 1024)	/* text of one element */
#define S3XML_MAX_NAME		256		/* one element name */
#define S3XML_MAX_TAGS		50		/* Tagging TagSet */
#define S3XML_MAX_FILTER_TAGS	10		/* replication rule filter */
#define S3XML_MAX_GRANTS	100		/* S3's own ACL limit */
#define S3XML_MAX_RULES		1000		/* S3's replication limit */
#define S3XML_MAX_DELETE	1000		/* DeleteObjects limit */
#define S3XML_MAX_PARTS		10000		/* multipart upload limit */

/*
 * Document kinds, named after their root element, and the result struct
 * each fills (the "out" argument of s3xml_new), struct s3xml_<name>:
 *
 *   ERROR               Error                          error
 *   LIST_OBJECTS        ListBucketResult               list_page
 *   LIST_VERSIONS       ListVersionsResult             versions_page
 *   LIST_UPLOADS        ListMultipartUploadsResult     uploads_page
 *   DELETE_RESULT       DeleteResult                   delete_result
 *   COPY_OBJECT         CopyObjectResult               copy
 *   COPY_PART           CopyPartResult                 copy
 *   INITIATE_MULTIPART  InitiateMultipartUploadResult  initiate
 *   COMPLETE_MULTIPART  CompleteMultipartUploadResult  complete
 *   TAGGING             Tagging                        tagging
 *   LEGAL_HOLD          LegalHold                      legal_hold
 *   RETENTION           Retention                      retention
 *   ACL                 AccessControlPolicy            acl
 *   REPLICATION         ReplicationConfiguration       replication
 *   OBJECT_LOCK         ObjectLockConfiguration        object_lock
 *
 * The two copy kinds accept either root.
 */
enum s3xml_doc {
	S3XML_DOC_NONE = 0,		/* no root element seen yet */
	S3XML_DOC_ERROR,
	S3XML_DOC_LIST_OBJECTS,
	S3XML_DOC_LIST_VERSIONS,
	S3XML_DOC_LIST_UPLOADS,
	S3XML_DOC_DELETE_RESULT,
	S3XML_DOC_COPY_OBJECT,
	S3XML_DOC_COPY_PART,
	S3XML_DOC_INITIATE_MULTIPART,
	S3XML_DOC_COMPLETE_MULTIPART,
	S3XML_DOC_TAGGING,
	S3XML_DOC_LEGAL_HOLD,
	S3XML_DOC_RETENTION,
	S3XML_DOC_ACL,
	S3XML_DOC_REPLICATION,
	S3XML_DOC_OBJECT_LOCK,
	S3XML_DOC_COUNT
};

/* Times are milliseconds since the epoch, UTC; 0 when absent. */

/* <Error>: alone, or in a 200 answer to CopyObject, CompleteMultipartUpload. */
struct s3xml_error {
	struct buf	 code;
	struct buf	 message;
	struct buf	 request_id;
	struct buf	 host_id;
	struct buf	 resource;
	struct buf	 key;
	struct buf	 version_id;
	struct buf	 bucket_name;
	struct buf	 region;		/* redirects */
	struct buf	 endpoint;		/* redirects */
};

/* One <Contents> of ListObjectsV2. */
struct s3xml_object {
	struct buf	 key;			/* URL-decoded if encoded */
	uint64_t	 last_modified;
	struct buf	 etag;			/* as sent, with its quotes */
	int64_t		 size;
	struct buf	 storage_class;
	struct buf	 owner_id;
	struct buf	 owner_name;
	struct buf	 checksum_algorithm;	/* comma-separated if several */
	struct buf	 checksum_type;
};

/* The page-level fields of ListObjectsV2, complete after s3xml_finish. */
struct s3xml_list_page {
	struct buf	 name;
	struct buf	 prefix;
	struct buf	 delimiter;
	struct buf	 start_after;
	struct buf	 continuation_token;
	struct buf	 next_continuation_token;
	struct buf	 encoding_type;
	int64_t		 key_count;
	int64_t		 max_keys;
	int		 is_truncated;
	uint64_t	 objects;		/* Contents seen */
	uint64_t	 prefixes;		/* CommonPrefixes seen */
};

/* One <Version> or <DeleteMarker> of ListObjectVersions. */
struct s3xml_version {
	int		 delete_marker;
	struct buf	 key;
	struct buf	 version_id;
	int		 is_latest;
	uint64_t	 last_modified;
	struct buf	 etag;			/* versions only */
	int64_t		 size;			/* versions only */
	struct buf	 storage_class;		/* versions only */
	struct buf	 owner_id;
	struct buf	 owner_name;
};

struct s3xml_versions_page {
	struct buf	 name;
	struct buf	 prefix;
	struct buf	 delimiter;
	struct buf	 key_marker;
	struct buf	 version_id_marker;
	struct buf	 next_key_marker;
	struct buf	 next_version_id_marker;
	struct buf	 encoding_type;
	int64_t		 max_keys;
	int		 is_truncated;
	uint64_t	 versions;
	uint64_t	 delete_markers;
	uint64_t	 prefixes;
};

/* One <Upload> of ListMultipartUploads. */
struct s3xml_upload {
	struct buf	 key;
	struct buf	 upload_id;
	uint64_t	 initiated;
	struct buf	 storage_class;
};

struct s3xml_uploads_page {
	struct buf	 bucket;
	struct buf	 prefix;
	struct buf	 delimiter;
	struct buf	 key_marker;
	struct buf	 upload_id_marker;
	struct buf	 next_key_marker;
	struct buf	 next_upload_id_marker;
	struct buf	 encoding_type;
	int64_t		 max_uploads;
	int		 is_truncated;
	uint64_t	 uploads;
	uint64_t	 prefixes;
};

/* One <Deleted> or <Error> entry of a DeleteObjects answer. */
struct s3xml_deleted {
	int		 error;			/* an <Error> entry */
	struct buf	 key;
	struct buf	 version_id;
	int		 delete_marker;
	struct buf	 delete_marker_version_id;
	struct buf	 code;			/* errors only */
	struct buf	 message;		/* errors only */
};

struct s3xml_delete_result {
	uint64_t	 deleted;
	uint64_t	 errors;
};

/* CopyObjectResult and CopyPartResult. */
struct s3xml_copy {
	struct buf	 etag;
	uint64_t	 last_modified;
	struct buf	 checksum_crc32;
	struct buf	 checksum_crc32c;
	struct buf	 checksum_crc64nvme;
	struct buf	 checksum_sha1;
	struct buf	 checksum_sha256;
	struct buf	 checksum_type;
};

struct s3xml_initiate {
	struct buf	 bucket;
	struct buf	 key;
	struct buf	 upload_id;
};

struct s3xml_complete {
	struct buf	 location;
	struct buf	 bucket;
	struct buf	 key;
	struct buf	 etag;
	struct buf	 checksum_crc32;
	struct buf	 checksum_crc32c;
	struct buf	 checksum_crc64nvme;
	struct buf	 checksum_sha1;
	struct buf	 checksum_sha256;
	struct buf	 checksum_type;
};

struct s3xml_tag {
	struct buf	 key;
	struct buf	 value;
};

struct s3xml_tagging {
	struct s3xml_tag tags[S3XML_MAX_TAGS];
	size_t		 ntags;
};

struct s3xml_legal_hold {
	struct buf	 status;		/* ON or OFF */
};

struct s3xml_retention {
	struct buf	 mode;			/* GOVERNANCE or COMPLIANCE */
	uint64_t	 retain_until;
};

struct s3xml_grant {
	/* xsi:type: CanonicalUser, Group or AmazonCustomerByEmail */
	struct buf	 type;
	struct buf	 id;
	struct buf	 display_name;
	struct buf	 uri;
	struct buf	 email;
	struct buf	 permission;
};

struct s3xml_acl {
	struct buf	 owner_id;
	struct buf	 owner_name;
	struct s3xml_grant grants[S3XML_MAX_GRANTS];
	size_t		 ngrants;
};

struct s3xml_repl_rule {
	struct buf	 id;
	int64_t		 priority;		/* -1 when absent */
	struct buf	 status;		/* Enabled or Disabled */
	struct buf	 prefix;		/* old rule-level Prefix */
	int		 has_filter;
	/* Filter Prefix, Tag, or And of both: an object matches all of them. */
	struct buf	 filter_prefix;
	struct s3xml_tag filter_tags[S3XML_MAX_FILTER_TAGS];
	size_t		 nfilter_tags;
	struct buf	 dest_bucket;		/* an ARN */
	struct buf	 dest_storage_class;
	struct buf	 dest_account;
	struct buf	 dest_owner;		/* AccessControlTranslation */
	struct buf	 dest_kms_key_id;
	struct buf	 delete_marker_replication;
	struct buf	 existing_object_replication;
	struct buf	 sse_kms_encrypted_objects;
};

struct s3xml_replication {
	struct buf	 role;
	struct s3xml_repl_rule *rules;
	size_t		 nrules;
};

struct s3xml_object_lock {
	struct buf	 enabled;		/* "Enabled" */
	struct buf	 mode;			/* DefaultRetention */
	int64_t		 days;
	int64_t		 years;
};

/*
 * Options and callbacks. A callback returns 0 to go on, or -1 with *cause
 * set (or not) to stop: feed/finish then return -1 with that cause. The
 * entry passed is valid only during the call.
 */
struct s3xml_cbs {
	int	 flags;
#define S3XML_URL_ENCODED	0x1	/* the request had encoding-type=url */
	int	(*object_cb)(const struct s3xml_object *, void *, char **);
	int	(*prefix_cb)(const struct buf *, void *, char **);
	int	(*version_cb)(const struct s3xml_version *, void *, char **);
	int	(*upload_cb)(const struct s3xml_upload *, void *, char **);
	int	(*deleted_cb)(const struct s3xml_deleted *, void *, char **);
};

struct s3xml;

/*
 * Streaming parser. s3xml_new clears *out (of the type the kind names);
 * free it with that type's _free function whatever the outcome. cbs may be
 * NULL. max_bytes bounds the whole document (0: no bound). A document
 * whose root is <Error> is accepted by every kind: s3xml_kind then says
 * S3XML_DOC_ERROR, s3xml_get_error gives it, and unless the kind asked for
 * was S3XML_DOC_ERROR, s3xml_finish returns -1 with the S3 error as cause.
 */
struct s3xml	*s3xml_new(enum s3xml_doc, void *, const struct s3xml_cbs *,
		    void *, size_t);
int		 s3xml_feed(struct s3xml *, const void *, size_t, char **);
int		 s3xml_finish(struct s3xml *, char **);
enum s3xml_doc	 s3xml_kind(const struct s3xml *);
const struct s3xml_error *s3xml_get_error(const struct s3xml *);
void		 s3xml_free(struct s3xml *);
const char	*s3xml_doc_name(enum s3xml_doc);

/* Whole-document helpers: new + one feed + finish. */
int		 s3xml_parse(enum s3xml_doc, const void *, size_t, void *,
		    const struct s3xml_cbs *, void *, char **);
int		 s3xml_parse_error(const void *, size_t, struct s3xml_error *,
		    char **);
int		 s3xml_parse_copy(const void *, size_t, struct s3xml_copy *,
		    char **);
int		 s3xml_parse_initiate(const void *, size_t,
		    struct s3xml_initiate *, char **);
int		 s3xml_parse_complete(const void *, size_t,
		    struct s3xml_complete *, char **);
int		 s3xml_parse_tagging(const void *, size_t,
		    struct s3xml_tagging *, char **);
int		 s3xml_parse_legal_hold(const void *, size_t,
		    struct s3xml_legal_hold *, char **);
int		 s3xml_parse_retention(const void *, size_t,
		    struct s3xml_retention *, char **);
int		 s3xml_parse_acl(const void *, size_t, struct s3xml_acl *,
		    char **);
int		 s3xml_parse_replication(const void *, size_t,
		    struct s3xml_replication *, char **);
int		 s3xml_parse_object_lock(const void *, size_t,
		    struct s3xml_object_lock *, char **);

/*
 * A 2xx answer to a call S3 answers without a body (PutObject,
 * PutObjectTagging, PutObjectAcl, PutObjectRetention, PutObjectLegalHold,
 * DeleteObject, RestoreObject, ...): its status one of ok[] (ended by 0)
 * and its body empty or blanks only. Anything else is not that call's
 * success (an HTML page from a proxy, a document of another call): -1
 * with a cause naming the call and what came instead (the status, or the
 * body's size and first bytes with control characters escaped).
 */
int		 s3xml_check_bodiless(const char *, int, const int *,
		    const void *, size_t, char **);

/* Free what a result holds (the struct itself is the caller's). */
void		 s3xml_error_free(struct s3xml_error *);
void		 s3xml_object_free(struct s3xml_object *);
void		 s3xml_list_page_free(struct s3xml_list_page *);
void		 s3xml_version_free(struct s3xml_version *);
void		 s3xml_versions_page_free(struct s3xml_versions_page *);
void		 s3xml_upload_free(struct s3xml_upload *);
void		 s3xml_uploads_page_free(struct s3xml_uploads_page *);
void		 s3xml_deleted_free(struct s3xml_deleted *);
void		 s3xml_delete_result_free(struct s3xml_delete_result *);
void		 s3xml_copy_free(struct s3xml_copy *);
void		 s3xml_initiate_free(struct s3xml_initiate *);
void		 s3xml_complete_free(struct s3xml_complete *);
void		 s3xml_tagging_free(struct s3xml_tagging *);
void		 s3xml_legal_hold_free(struct s3xml_legal_hold *);
void		 s3xml_retention_free(struct s3xml_retention *);
void		 s3xml_acl_free(struct s3xml_acl *);
void		 s3xml_replication_free(struct s3xml_replication *);
void		 s3xml_object_lock_free(struct s3xml_object_lock *);
/* Free the result of any kind. */
void		 s3xml_result_free(enum s3xml_doc, void *);

/*
 * "2009-10-12T17:50:30.000Z" (fraction optional, "Z" or "+HH:MM"), not
 * before 1970, to ms. time_format_utc writes the same form.
 */
int		 s3xml_parse_time(const char *, size_t, uint64_t *, char **);

/*
 * Writers: append a request body (XML declaration, S3 namespace) to the
 * buffer. On -1 (*cause set) the buffer is left as it was.
 */
struct s3xml_part {
	int		 number;		/* 1..10000, ascending */
	const char	*etag;
};

struct s3xml_object_id {
	const char	*key;
	const char	*version_id;		/* NULL: none */
};

/* Append s with &<>"' escaped; -1 if XML 1.0 cannot carry it. */
int		 s3xml_escape(struct buf *, const char *, size_t, char **);
int		 s3xml_write_tagging(struct buf *, const struct s3xml_tagging *,
		    char **);
int		 s3xml_write_complete(struct buf *, const struct s3xml_part *,
		    size_t, char **);
int		 s3xml_write_delete(struct buf *,
		    const struct s3xml_object_id *, size_t, int, char **);
int		 s3xml_write_legal_hold(struct buf *, const char *, char **);
int		 s3xml_write_retention(struct buf *, const char *, uint64_t,
		    char **);
int		 s3xml_write_acl(struct buf *, const struct s3xml_acl *,
		    char **);
/* days <= 0 omits Days; tier NULL omits GlacierJobParameters. */
int		 s3xml_write_restore(struct buf *, int64_t, const char *,
		    char **);

#endif /* S3XML_H */
