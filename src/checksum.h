/*
 * Incremental checksums as S3 defines them: CRC32 (zlib's), CRC32C
 * (Castagnoli), CRC64NVME (the NVMe polynomial), and the MD5, SHA1,
 * SHA256 and SHA512 digests (OpenSSL EVP). A CRC's value is its big-endian
 * bytes, so that every algorithm ends in a byte string that S3 writes as
 * base64. S3's composite checksum of a multipart object is the same
 * algorithm over the concatenated part values, with a "-N" suffix.
 */
#ifndef CHECKSUM_H
#define CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

struct buf;

enum checksum_alg {
	CHECKSUM_CRC32,
	CHECKSUM_CRC32C,
	CHECKSUM_CRC64NVME,
	CHECKSUM_MD5,
	CHECKSUM_SHA1,
	CHECKSUM_SHA256,
	CHECKSUM_SHA512,
};

#define CHECKSUM_MAX_LEN	64	/* SHA512 */

struct checksum {
	enum checksum_alg	 alg;
	uint64_t		 crc;
	void			*md;		/* EVP_MD_CTX */
};

/* Amazon's name ("CRC64NVME") to an algorithm; -1 if unknown. */
int		 checksum_alg_find(const char *, enum checksum_alg *);
const char	*checksum_alg_name(enum checksum_alg);
/* The value's length in bytes. */
size_t		 checksum_alg_len(enum checksum_alg);
int		 checksum_alg_is_crc(enum checksum_alg);

void		 checksum_init(struct checksum *, enum checksum_alg);
void		 checksum_update(struct checksum *, const void *, size_t);
/* The value into out (checksum_alg_len bytes); the context starts over. */
size_t		 checksum_final(struct checksum *, uint8_t *);
/* Start over without a value. */
void		 checksum_reset(struct checksum *);
void		 checksum_free(struct checksum *);

/* The raw CRCs, chainable: pass 0 to start. */
uint32_t	 checksum_crc32c(uint32_t, const void *, size_t);
uint64_t	 checksum_crc64nvme(uint64_t, const void *, size_t);

/* Append the value as base64 or as lower-case hex. */
void		 checksum_base64(struct buf *, const uint8_t *, size_t);
void		 checksum_hex(struct buf *, const uint8_t *, size_t);

#endif /* CHECKSUM_H */
