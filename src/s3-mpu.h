/*
 * One S3 multipart upload, as a state machine on top of s3.h:
 * CreateMultipartUpload, the parts (UploadPart with a body, or
 * UploadPartCopy of a range of another object), several in flight,
 * CompleteMultipartUpload with the parts' ETags, and AbortMultipartUpload
 * on failure or cancel. Report uploads (report.c) and copies (op-copy.c)
 * use it.
 *
 * The contract:
 *  - s3_mpu_start sends CreateMultipartUpload. Once the upload exists, the
 *    object's size is cut into parts of part_size bytes (enlarged to a
 *    whole MiB multiple when S3_MPU_MAX_PARTS would not do) and part_cb is
 *    called for each, in order, with at most `parallel` parts out at once.
 *  - A part given to part_cb belongs to the caller until it sends it with
 *    s3_mpu_part_body or s3_mpu_part_copy (now or later, e.g. after reading
 *    its bytes), or gives up on it with s3_mpu_fail. A send returns -1
 *    without sending when the upload has already failed: the part has
 *    ended then, and the caller drops it.
 *  - part_done_cb (optional) sees every sent part's result; it may check
 *    the ETag and call s3_mpu_fail. A part's ETag comes from the ETag
 *    header (UploadPart) or the CopyPartResult (UploadPartCopy); a part
 *    answered 2xx without one fails the upload with InvalidResponse.
 *  - The answers are verified: CreateMultipartUpload must give an
 *    UploadId, CompleteMultipartUpload a CompleteMultipartUploadResult
 *    (its ETag may be empty: Ceph RGW 16); a 200 that carries an <Error> (S3 does that for
 *    copies and completions) fails with the error's code, any other body
 *    with InvalidResponse (and the upload is aborted).
 *  - The first failure (a call's, or s3_mpu_fail's) wins: no more parts are
 *    handed out, the parts out are waited for, the upload is aborted, and
 *    done_cb reports the failure. After all parts, the upload is completed
 *    and done_cb reports CompleteMultipartUpload's result. done_cb is
 *    called once, never before s3_mpu_start returns; the upload is freed
 *    when it returns.
 *  - s3_mpu_cancel (before done_cb) cancels the calls in flight without
 *    callbacks, aborts the upload if it exists (in the background, a
 *    failure only logged) and frees it; parts held by the caller are the
 *    caller's to drop.
 */
#ifndef S3_MPU_H
#define S3_MPU_H

#include <stddef.h>
#include <stdint.h>

struct s3;
struct s3_header;
struct s3_request;
struct s3_result;
struct s3_mpu;

#define S3_MPU_MAX_PARTS	10000
#define S3_MPU_MiB		(1024ULL * 1024)

/* Where an upload ended. */
enum s3_mpu_step {
	S3_MPU_CREATE,		/* CreateMultipartUpload */
	S3_MPU_PART,		/* a part, sent or held by the caller */
	S3_MPU_COMPLETE,	/* CompleteMultipartUpload */
};

struct s3_mpu_end {
	enum s3_mpu_step	 step;
	/* NULL code: completed. Else the first failure's. */
	int			 status;
	const char		*code;
	const char		*message;
	/* On completion: CompleteMultipartUpload's result; else NULL. */
	const struct s3_result	*result;
	int			 attempts;	/* HTTP attempts, all calls */
};

struct s3_mpu_params {
	const char		*bucket;
	const char		*key;
	size_t			 key_len;	/* 0: strlen(key) */
	const char		*role_arn;
	/* x-amz-expected-bucket-owner on every call; NULL: none. */
	const char		*owner;
	/* CreateMultipartUpload's headers (metadata, class, ...). */
	const struct s3_header	*headers;
	size_t			 nheaders;
	uint64_t		 size;		/* the whole object's */
	uint64_t		 part_size;	/* wanted; may grow */
	int			 parallel;	/* parts out at once, >= 1 */
	/* Part index (0-based), bytes [first, first + len): the caller's. */
	void			 (*part_cb)(struct s3_mpu *, int, uint64_t,
				     uint64_t, void *);
	void			 (*part_done_cb)(struct s3_mpu *, int,
				     const struct s3_result *, void *);
	void			 (*done_cb)(const struct s3_mpu_end *, void *);
	void			*arg;
};

/* The part size for an object: wanted, or more to fit S3_MPU_MAX_PARTS. */
uint64_t	 s3_mpu_part_size(uint64_t, uint64_t);
/* Parts of that size. */
int		 s3_mpu_nparts(uint64_t, uint64_t);

struct s3_mpu	*s3_mpu_start(struct s3 *, const struct s3_mpu_params *);
/*
 * Send a part: UploadPart with req's body or stream, headers and flags (the
 * method, bucket, key, query and role are the upload's).
 */
int		 s3_mpu_part_body(struct s3_mpu *, int, struct s3_request *);
/*
 * UploadPartCopy of the part's range of copy_source ("/bucket/key[?
 * versionId=]", encoded) with extra headers (conditions).
 */
int		 s3_mpu_part_copy(struct s3_mpu *, int, const char *,
		     const struct s3_header *, size_t);
/* Fail the upload (the first failure wins); index -1: no part ended. */
void		 s3_mpu_fail(struct s3_mpu *, int, int, const char *,
		     const char *);
/* Whether the upload has failed (a held part should be dropped). */
int		 s3_mpu_failed(const struct s3_mpu *);
void		 s3_mpu_cancel(struct s3_mpu *);

#endif /* S3_MPU_H */
