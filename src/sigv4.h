/*
 * sigv4.c: AWS Signature Version 4 (header-based, HMAC-SHA256) for S3 and
 * for the generic algorithm of Amazon's test suite. See docs/SIGV4.md.
 */
#ifndef SIGV4_H
#define SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "s3batchd.h"

#define SIGV4_ALGORITHM		"AWS4-HMAC-SHA256"
#define SIGV4_UNSIGNED_PAYLOAD	"UNSIGNED-PAYLOAD"
/* SHA-256 of zero bytes, the payload hash of every body-less request. */
#define SIGV4_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIGV4_SHA256_LEN	32
#define SIGV4_HEX_SIZE		65	/* 64 hex digits and a NUL */
#define SIGV4_AMZ_DATE_SIZE	17	/* "20150830T123600Z" and a NUL */

struct sigv4_header {
	const char	*name;
	const char	*value;
};

struct sigv4_request {
	const char	*method;	/* "GET", "PUT", ... */
	const char	*host;		/* host[:port] exactly as sent */
	const char	*path;		/* already-encoded path as on the wire */
	const char	*query;		/* raw query string as sent; NULL or "" */
	/*
	 * Other headers to sign, in the order they are sent; a name may
	 * repeat. Host, X-Amz-Date, Authorization (and x-amz-content-sha256
	 * under s3, X-Amz-Security-Token with a session token) are the
	 * signer's and are refused here.
	 */
	const struct sigv4_header *headers;
	size_t		 nheaders;
	/* Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"; NULL: empty body. */
	const char	*payload_hash;
};

struct sigv4_creds {
	const char	*access_key_id;
	const char	*secret_access_key;
	const char	*session_token;		/* NULL or "" when none */
};

struct sigv4_params {
	const char	*region;
	const char	*service;
	uint64_t	 time_ms;	/* signing time, ms since the epoch */
	int		 s3;		/* S3 rules: see docs/SIGV4.md */
	/*
	 * Send X-Amz-Security-Token without signing it, as a few non-S3
	 * services want (the suite's post-sts-header-after). S3 signs it.
	 */
	int		 token_unsigned;
};

/* The headers to add to the request, in this order, when present. */
#define SIGV4_OUT_MAX	4
struct sigv4_out_header {
	const char	*name;		/* static string */
	char		*value;		/* owned by the sigv4_signed */
};

struct sigv4_signed {
	struct sigv4_out_header	 headers[SIGV4_OUT_MAX];
	size_t			 nheaders;

	/* Intermediate results, for tests and for debugging mismatches. */
	char			*canonical_request;
	char			*string_to_sign;
	char			 signature[SIGV4_HEX_SIZE];
	char			 amz_date[SIGV4_AMZ_DATE_SIZE];
};

/*
 * Sign a request. On success fills *out (free it with sigv4_signed_free)
 * and returns 0; on a malformed request returns -1 with *cause set.
 */
int		 sigv4_sign(const struct sigv4_request *,
		    const struct sigv4_creds *, const struct sigv4_params *,
		    struct sigv4_signed *, char **);
void		 sigv4_signed_free(struct sigv4_signed *);
/* The value of an output header (case-insensitive name), or NULL. */
const char	*sigv4_signed_header(const struct sigv4_signed *,
		    const char *);

/* Canonical pieces, exposed for tests and for presigning later. */
void		 sigv4_canonical_path(struct buf *, const char *, int);
int		 sigv4_canonical_query(struct buf *, const char *, char **);
/* "20150830T123600Z" for a time in ms since the epoch. */
void		 sigv4_amz_date(uint64_t, char [SIGV4_AMZ_DATE_SIZE]);

/* Percent-encode an S3 object key for a path: '/' kept, all else escaped. */
void		 sigv4_encode_key(struct buf *, const char *, size_t);

/* SHA-256. */
void		 sigv4_sha256_hex(const void *, size_t, char [SIGV4_HEX_SIZE]);
struct sigv4_sha256;
struct sigv4_sha256 *sigv4_sha256_new(void);
void		 sigv4_sha256_update(struct sigv4_sha256 *, const void *,
		    size_t);
/* Either output may be NULL. The context may be reused after this. */
void		 sigv4_sha256_final(struct sigv4_sha256 *,
		    unsigned char [SIGV4_SHA256_LEN], char [SIGV4_HEX_SIZE]);
void		 sigv4_sha256_free(struct sigv4_sha256 *);

/* Drop (and wipe) every cached signing key, e.g. on credential reload. */
void		 sigv4_cache_clear(void);
/* Cache statistics since start, for tests: hits and misses. */
void		 sigv4_cache_stats(uint64_t *, uint64_t *);

#endif /* SIGV4_H */
