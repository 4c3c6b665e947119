/*
 * s3-probe: what an S3 endpoint can do, measured rather than assumed.
 *
 * A probe runs a fixed sequence of S3 calls (s3.h, on the caller's event
 * loop) against one endpoint, inside one bucket the caller names, under a
 * scratch key prefix ".s3batchd-probe/<uuid>/" that it empties again at the
 * end: a small PUT, then tagging, an ACL, each non-STANDARD storage class,
 * SSE-S3, SSE-KMS (without a key id), a restore request, GET ?versioning, ?object-lock and
 * ?replication on the bucket, a one-part multipart upload, HEAD
 * ?partNumber=1 on it, and three copies that tell which copy-source
 * conditions the server honours. Each answer is judged into one
 * capability: YES, NO (with the answer that says so, for messages such as
 * "PutObjectTagging answered 501 NotImplemented") or UNKNOWN (the server
 * did not answer in a way that tells: a timeout, a 403, a 500).
 *
 * Bucket-level calls only read the bucket's configuration; nothing is
 * changed on the bucket itself. Servers that ignore a subresource they do
 * not know (Swift's s3api answers GET ?object-lock with a bucket listing
 * and treats PUT ?retention as an object PUT) are caught by the shape of
 * the answer, which is why Object Lock is probed with a GET and never
 * with a PUT on an object.
 *
 * The bucket must resolve to the probed endpoint (a [bucket NAME] section
 * naming it, or the endpoint is "default"); otherwise the probe fails at
 * once. The probe needs PUT, GET and DELETE on objects in that bucket.
 */
#ifndef S3_PROBE_H
#define S3_PROBE_H

#include <stdint.h>

struct event_base;
struct s3;

/* One row per capability; the order is the table's (s3-probe.c). */
enum s3_cap {
	S3_CAP_TAGGING,
	S3_CAP_ACL,
	S3_CAP_VERSIONING,
	S3_CAP_OBJECT_LOCK,
	S3_CAP_REPLICATION,
	S3_CAP_RESTORE,
	S3_CAP_SSE_S3,
	S3_CAP_SSE_KMS,			/* aws:kms without a key id */
	S3_CAP_PART_NUMBER,		/* HEAD ?partNumber= answers the part */
	S3_CAP_COPY_IF_MATCH_MPU,	/* copy-source-if-match, multipart src */
	S3_CAP_COPY_SOURCE_IF_MATCH,	/* a wrong x-amz-copy-source-if-match
					   fails the copy */
	S3_CAP_COPY_IF_MATCH_RGW,	/* RGW's x-amz-copy-if-match honoured */
	S3_CAP_SC_REDUCED_REDUNDANCY,	/* storage classes, STANDARD excluded */
	S3_CAP_SC_STANDARD_IA,
	S3_CAP_SC_ONEZONE_IA,
	S3_CAP_SC_INTELLIGENT_TIERING,
	S3_CAP_SC_GLACIER,
	S3_CAP_SC_DEEP_ARCHIVE,
	S3_CAP_SC_GLACIER_IR,
	S3_NCAPS
};

enum s3_cap_state {
	S3_CAP_UNKNOWN = 0,
	S3_CAP_YES,
	S3_CAP_NO
};

struct s3_cap_result {
	enum s3_cap_state	 state;
	/* The answer judged, "PutObjectTagging answered 501 NotImplemented";
	   NULL when not probed. */
	char			*detail;
};

struct s3_caps {
	char			*endpoint;
	char			*bucket;	/* the bucket probed in */
	uint64_t		 probed_ms;	/* wall clock, ms since epoch */
	uint64_t		 took_ms;
	struct s3_cap_result	 cap[S3_NCAPS];
};

/* "Tagging", "StorageClass.GLACIER", ...: names for JSON and tables. */
const char	*s3_cap_name(enum s3_cap);
/* What the capability is, for messages: "object tagging". */
const char	*s3_cap_what(enum s3_cap);
const char	*s3_cap_state_name(enum s3_cap_state);	/* yes, no, unknown */
/*
 * The capability of writing objects of a storage class; -1 for STANDARD
 * (always there) and for a name that is none of Amazon's classes.
 */
int		 s3_cap_storage_class(const char *);

struct s3_caps	*s3_caps_copy(const struct s3_caps *);
void		 s3_caps_free(struct s3_caps *);

/*
 * Called once with the capabilities, or with caps NULL and error set when
 * the probe could not run at all (the bucket is on another endpoint, the
 * scratch PUT failed). Both are valid during the callback only.
 */
typedef void	(*s3_probe_done_cb)(const struct s3_caps *, const char *,
		    void *);

struct s3_probe;

/*
 * Start a probe of endpoint inside bucket, on the loop the s3 handle runs
 * on. Never calls done_cb before returning; the probe is freed when
 * done_cb returns (do not cancel it from there). The s3 handle must
 * outlive the probe.
 */
struct s3_probe	*s3_probe_start(struct event_base *, struct s3 *,
		    const char *, const char *, s3_probe_done_cb, void *);
/*
 * Cancel without a callback. The call in flight is cancelled; scratch
 * objects already written may stay under the probe's prefix.
 */
void		 s3_probe_cancel(struct s3_probe *);

/*
 * A cache of probe results, one per endpoint, for the daemon: probe once
 * when an endpoint is first used, again on check-endpoint. Entries live
 * until replaced or the cache is freed (a SIGHUP that changes endpoints
 * should free it).
 */
struct s3_caps_cache;
struct s3_caps_cache	*s3_caps_cache_new(void);
void		 s3_caps_cache_free(struct s3_caps_cache *);
/* The cached result for an endpoint, or NULL. */
const struct s3_caps *s3_caps_cache_get(struct s3_caps_cache *, const char *);
/* Store a copy of caps, replacing the endpoint's entry. */
void		 s3_caps_cache_put(struct s3_caps_cache *, const struct s3_caps *);

#endif /* S3_PROBE_H */
