/*
 * Incremental checksums for S3ComputeObjectChecksum (checksum.h).
 *
 * CRC32C and CRC64NVME are reflected CRCs with all-ones initial value and
 * final XOR, computed eight bytes at a time from eight derived tables
 * ("slicing by 8"), built once. CRC32 is zlib's; the digests are OpenSSL's.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "s3batchd.h"
#include "checksum.h"

/* The reflected (bit-reversed) polynomials. */
#define CHECKSUM_CRC32C_POLY	0x82f63b78U		/* 0x1edc6f41 */
#define CHECKSUM_CRC64NVME_POLY	0x9a6c9329ac4bc9b5ULL	/* 0xad93d23594c93659 */

static uint32_t		checksum_crc32c_table[8][256];
static uint64_t		checksum_crc64_table[8][256];
static pthread_once_t	checksum_tables_once = PTHREAD_ONCE_INIT;

static const struct checksum_alg_def {
	const char		*name;
	size_t			 len;
	const EVP_MD		*(*md)(void);
} checksum_algs[] = {
	[CHECKSUM_CRC32] =	{ "CRC32", 4, NULL },
	[CHECKSUM_CRC32C] =	{ "CRC32C", 4, NULL },
	[CHECKSUM_CRC64NVME] =	{ "CRC64NVME", 8, NULL },
	[CHECKSUM_MD5] =	{ "MD5", 16, EVP_md5 },
	[CHECKSUM_SHA1] =	{ "SHA1", 20, EVP_sha1 },
	[CHECKSUM_SHA256] =	{ "SHA256", 32, EVP_sha256 },
	[CHECKSUM_SHA512] =	{ "SHA512", 64, EVP_sha512 },
};

static void
checksum_tables_init(void)
{
	uint32_t	c32;
	uint64_t	c64;
	int		i, j;

	for (i = 0; i < 256; i++) {
		c32 = (uint32_t)i;
		c64 = (uint64_t)i;
		for (j = 0; j < 8; j++) {
			c32 = (c32 & 1) ? (c32 >> 1) ^ CHECKSUM_CRC32C_POLY :
			    c32 >> 1;
			c64 = (c64 & 1) ? (c64 >> 1) ^ CHECKSUM_CRC64NVME_POLY :
			    c64 >> 1;
		}
		checksum_crc32c_table[0][i] = c32;
		checksum_crc64_table[0][i] = c64;
	}
	/* Table k: the CRC of a byte followed by k zero bytes. */
	for (j = 1; j < 8; j++) {
		for (i = 0; i < 256; i++) {
			c32 = checksum_crc32c_table[j - 1][i];
			checksum_crc32c_table[j][i] = (c32 >> 8) ^
			    checksum_crc32c_table[0][c32 & 0xff];
			c64 = checksum_crc64_table[j - 1][i];
			checksum_crc64_table[j][i] = (c64 >> 8) ^
			    checksum_crc64_table[0][c64 & 0xff];
		}
	}
}

static uint64_t
checksum_le64(const uint8_t *p)
{
	return ((uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	    (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56);
}

uint32_t
checksum_crc32c(uint32_t crc, const void *data, size_t len)
{
	const uint32_t	(*t)[256] = checksum_crc32c_table;
	const uint8_t	*p = data;
	uint64_t	 w;

	pthread_once(&checksum_tables_once, checksum_tables_init);
	crc = ~crc;
	for (; len >= 8; p += 8, len -= 8) {
		w = checksum_le64(p) ^ crc;
		crc = t[7][w & 0xff] ^ t[6][(w >> 8) & 0xff] ^
		    t[5][(w >> 16) & 0xff] ^ t[4][(w >> 24) & 0xff] ^
		    t[3][(w >> 32) & 0xff] ^ t[2][(w >> 40) & 0xff] ^
		    t[1][(w >> 48) & 0xff] ^ t[0][w >> 56];
	}
	for (; len > 0; p++, len--)
		crc = (crc >> 8) ^ t[0][(crc ^ *p) & 0xff];
	return (~crc);
}

uint64_t
checksum_crc64nvme(uint64_t crc, const void *data, size_t len)
{
	const uint64_t	(*t)[256] = checksum_crc64_table;
	const uint8_t	*p = data;
	uint64_t	 w;

	pthread_once(&checksum_tables_once, checksum_tables_init);
	crc = ~crc;
	for (; len >= 8; p += 8, len -= 8) {
		w = checksum_le64(p) ^ crc;
		crc = t[7][w & 0xff] ^ t[6][(w >> 8) & 0xff] ^
		    t[5][(w >> 16) & 0xff] ^ t[4][(w >> 24) & 0xff] ^
		    t[3][(w >> 32) & 0xff] ^ t[2][(w >> 40) & 0xff] ^
		    t[1][(w >> 48) & 0xff] ^ t[0][w >> 56];
	}
	for (; len > 0; p++, len--)
		crc = (crc >> 8) ^ t[0][(crc ^ *p) & 0xff];
	return (~crc);
}

int
checksum_alg_find(const char *name, enum checksum_alg *alg)
{
	size_t	i;

	for (i = 0; i < nitems(checksum_algs); i++) {
		if (strcmp(checksum_algs[i].name, name) == 0) {
			*alg = (enum checksum_alg)i;
			return (0);
		}
	}
	return (-1);
}

const char *
checksum_alg_name(enum checksum_alg alg)
{
	return (checksum_algs[alg].name);
}

size_t
checksum_alg_len(enum checksum_alg alg)
{
	return (checksum_algs[alg].len);
}

int
checksum_alg_is_crc(enum checksum_alg alg)
{
	return (checksum_algs[alg].md == NULL);
}

void
checksum_init(struct checksum *c, enum checksum_alg alg)
{
	memset(c, 0, sizeof *c);
	c->alg = alg;
	if (checksum_algs[alg].md != NULL) {
		if ((c->md = EVP_MD_CTX_new()) == NULL)
			fatalx("checksum: out of memory");
	}
	checksum_reset(c);
}

void
checksum_reset(struct checksum *c)
{
	c->crc = 0;
	if (c->md != NULL &&
	    EVP_DigestInit_ex(c->md, checksum_algs[c->alg].md(), NULL) != 1)
		fatalx("checksum: %s unavailable", checksum_algs[c->alg].name);
}

void
checksum_update(struct checksum *c, const void *data, size_t len)
{
	switch (c->alg) {
	case CHECKSUM_CRC32:
		c->crc = crc32_z((uLong)c->crc, data, len);
		break;
	case CHECKSUM_CRC32C:
		c->crc = checksum_crc32c((uint32_t)c->crc, data, len);
		break;
	case CHECKSUM_CRC64NVME:
		c->crc = checksum_crc64nvme(c->crc, data, len);
		break;
	default:
		if (EVP_DigestUpdate(c->md, data, len) != 1)
			fatalx("checksum: digest update failed");
		break;
	}
}

size_t
checksum_final(struct checksum *c, uint8_t *out)
{
	size_t		len = checksum_algs[c->alg].len, i;
	unsigned int	mdlen;

	if (c->md != NULL) {
		if (EVP_DigestFinal_ex(c->md, out, &mdlen) != 1 ||
		    mdlen != len)
			fatalx("checksum: digest final failed");
	} else {
		for (i = 0; i < len; i++)
			out[i] = (uint8_t)(c->crc >> (8 * (len - 1 - i)));
	}
	checksum_reset(c);
	return (len);
}

void
checksum_free(struct checksum *c)
{
	if (c->md != NULL)
		EVP_MD_CTX_free(c->md);
	c->md = NULL;
}

void
checksum_base64(struct buf *b, const uint8_t *v, size_t len)
{
	char	out[4 * ((CHECKSUM_MAX_LEN + 2) / 3) + 1];

	if (len > CHECKSUM_MAX_LEN)
		fatalx("checksum: value too long");
	EVP_EncodeBlock((unsigned char *)out, v, (int)len);
	buf_adds(b, out);
}

void
checksum_hex(struct buf *b, const uint8_t *v, size_t len)
{
	char	out[2 * CHECKSUM_MAX_LEN + 1];

	if (len > CHECKSUM_MAX_LEN)
		fatalx("checksum: value too long");
	hex_encode(v, len, out);
	buf_adds(b, out);
}
