/*
 * Checksums: the standard check values ("123456789"), empty input, data fed
 * in chunks of every size and alignment against one pass and against a
 * bit-at-a-time reference CRC written here, S3's composite form, and the
 * operation's parameter checks.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "checksum.h"
#include "op.h"
#include "unit.h"

static const struct {
	const char	*alg;
	const char	*hex;
	const char	*base64;
} check_values[] = {
	{ "CRC32", "cbf43926", "y/Q5Jg==" },
	{ "CRC32C", "e3069283", "4waSgw==" },
	{ "CRC64NVME", "ae8b14860a799888", "rosUhgp5mIg=" },
	{ "MD5", "25f9e794323b453885f5181f1b624d0b",
	  "JfnnlDI7RTiF9RgfG2JNCw==" },
	{ "SHA1", "f7c3bc1d808e04732adf679965ccc34ca7ae3441",
	  "98O8HYCOBHMq32eZZczDTKeuNEE=" },
	{ "SHA256", "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312"
	  "448eb225", "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=" },
	{ "SHA512", "d9e6762dd1c8eaf6d61b3c6192fc408d4d6d5f1176d0c29169bc24e7"
	  "1c3f274ad27fcd5811b313d681f7e55ec02d73d499c95455b6b5bb503acf574fba"
	  "8ffe85", "2eZ2LdHI6vbWGzxhkvxAjU1tXxF20MKRabwk5xw/J0rSf81YEbMT1oH35V"
	  "7ALXPUmclUVba1u1A6z1dPuo/+hQ==" },
};

static const struct {
	const char	*alg;
	const char	*hex;
} empty_values[] = {
	{ "CRC32", "00000000" },
	{ "CRC32C", "00000000" },
	{ "CRC64NVME", "0000000000000000" },
	{ "MD5", "d41d8cd98f00b204e9800998ecf8427e" },
	{ "SHA1", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
	{ "SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
	  "7852b855" },
};

/* A plain bit-at-a-time reflected CRC, to check the sliced tables. */
static uint64_t
ref_crc(const uint8_t *p, size_t len, uint64_t poly, int width)
{
	uint64_t	mask = width == 64 ? ~0ULL : (1ULL << width) - 1;
	uint64_t	c = mask;
	size_t		i;
	int		j;

	for (i = 0; i < len; i++) {
		c ^= p[i];
		for (j = 0; j < 8; j++)
			c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
	}
	return (c ^ mask);
}

static char *
value_of(enum checksum_alg alg, const uint8_t *p, size_t len, int as_hex)
{
	struct checksum	c;
	struct buf	b;
	uint8_t		v[CHECKSUM_MAX_LEN];
	size_t		n;

	checksum_init(&c, alg);
	checksum_update(&c, p, len);
	n = checksum_final(&c, v);
	checksum_free(&c);
	buf_init(&b);
	if (as_hex)
		checksum_hex(&b, v, n);
	else
		checksum_base64(&b, v, n);
	buf_addc(&b, '\0');
	return (buf_detach(&b));
}

static void
test_check_values(void)
{
	enum checksum_alg	 alg;
	size_t			 i;
	char			*s;

	for (i = 0; i < nitems(check_values); i++) {
		CHECK(checksum_alg_find(check_values[i].alg, &alg) == 0);
		CHECK_STR(checksum_alg_name(alg), check_values[i].alg);
		CHECK_INT(checksum_alg_len(alg) * 2,
		    strlen(check_values[i].hex));
		s = value_of(alg, (const uint8_t *)"123456789", 9, 1);
		CHECK_STR(s, check_values[i].hex);
		free(s);
		s = value_of(alg, (const uint8_t *)"123456789", 9, 0);
		CHECK_STR(s, check_values[i].base64);
		free(s);
	}
	for (i = 0; i < nitems(empty_values); i++) {
		CHECK(checksum_alg_find(empty_values[i].alg, &alg) == 0);
		s = value_of(alg, NULL, 0, 1);
		CHECK_STR(s, empty_values[i].hex);
		free(s);
	}
	CHECK(checksum_alg_find("XXHASH3", &alg) == -1);
	CHECK(checksum_alg_find("crc32", &alg) == -1);
	CHECK(checksum_alg_is_crc(CHECKSUM_CRC64NVME));
	CHECK(!checksum_alg_is_crc(CHECKSUM_MD5));
	CHECK_INT(checksum_crc32c(0, "123456789", 9), 0xe3069283U);
	CHECK(checksum_crc64nvme(0, "123456789", 9) == 0xae8b14860a799888ULL);
}

/* Chunks of every size and alignment give what one pass gives. */
static void
test_chunked(void)
{
	enum checksum_alg	 alg;
	struct checksum		 c;
	uint8_t			*data, one[CHECKSUM_MAX_LEN];
	uint8_t			 got[CHECKSUM_MAX_LEN];
	size_t			 len = 300000, off, n, vlen, step;
	unsigned int		 seed = 12345;
	int			 a, same;

	data = xmalloc(len);
	for (off = 0; off < len; off++) {
		seed = seed * 1103515245 + 12345;
		data[off] = (uint8_t)(seed >> 16);
	}
	for (a = CHECKSUM_CRC32; a <= CHECKSUM_SHA512; a++) {
		alg = (enum checksum_alg)a;
		checksum_init(&c, alg);
		checksum_update(&c, data, len);
		vlen = checksum_final(&c, one);
		/* After final the context starts over: same value again. */
		checksum_update(&c, data, len);
		checksum_final(&c, got);
		CHECK(memcmp(one, got, vlen) == 0);
		for (step = 1; step <= 4099; step = step * 3 + 1) {
			for (off = 0; off < len; off += n) {
				n = (off / step) % 2 ? step : step / 2 + 1;
				if (n > len - off)
					n = len - off;
				checksum_update(&c, data + off, n);
			}
			checksum_final(&c, got);
			same = memcmp(one, got, vlen) == 0;
			CHECK(same);
			if (!same)
				fprintf(stderr, "  %s, step %zu\n",
				    checksum_alg_name(alg), step);
		}
		/* A reset drops what was fed. */
		checksum_update(&c, "junk", 4);
		checksum_reset(&c);
		checksum_update(&c, data, len);
		checksum_final(&c, got);
		CHECK(memcmp(one, got, vlen) == 0);
		checksum_free(&c);
	}
	/* The sliced CRCs against the bitwise reference, at odd offsets. */
	for (off = 0; off < 16; off++) {
		for (n = 0; n < 70; n += 7) {
			CHECK(checksum_crc32c(0, data + off, n) ==
			    (uint32_t)ref_crc(data + off, n, 0x82f63b78, 32));
			CHECK(checksum_crc64nvme(0, data + off, n) ==
			    ref_crc(data + off, n, 0x9a6c9329ac4bc9b5ULL, 64));
		}
	}
	CHECK(checksum_crc32c(0, data, len) ==
	    (uint32_t)ref_crc(data, len, 0x82f63b78, 32));
	CHECK(checksum_crc64nvme(0, data, len) ==
	    ref_crc(data, len, 0x9a6c9329ac4bc9b5ULL, 64));
	/* Chaining the raw CRCs. */
	CHECK(checksum_crc32c(checksum_crc32c(0, data, 1001), data + 1001,
	    len - 1001) == checksum_crc32c(0, data, len));
	CHECK(checksum_crc64nvme(checksum_crc64nvme(0, data, 77), data + 77,
	    len - 77) == checksum_crc64nvme(0, data, len));
	/* 0..255 three times, values from an independent implementation. */
	for (off = 0; off < 768; off++)
		data[off] = (uint8_t)off;
	CHECK_INT(checksum_crc32c(0, data, 768), 0x9fa293b3U);
	CHECK(checksum_crc64nvme(0, data, 768) == 0x4ef1921c56f5c1a6ULL);
	free(data);
}

/* S3's composite: the checksum of the parts' big-endian values. */
static void
test_composite(void)
{
	struct checksum	part, outer;
	struct buf	b;
	uint8_t		v[CHECKSUM_MAX_LEN];
	size_t		n;

	checksum_init(&part, CHECKSUM_CRC32C);
	checksum_init(&outer, CHECKSUM_CRC32C);
	checksum_update(&part, "hello", 5);
	n = checksum_final(&part, v);
	checksum_update(&outer, v, n);
	checksum_update(&part, " world", 6);
	n = checksum_final(&part, v);
	checksum_update(&outer, v, n);
	n = checksum_final(&outer, v);
	buf_init(&b);
	checksum_base64(&b, v, n);
	buf_addc(&b, '\0');
	CHECK_STR(b.data, "6AGPLw==");
	buf_free(&b);
	checksum_free(&part);
	checksum_free(&outer);
}

static int
compile(const char *json, char **cause)
{
	const struct op_def	*op = op_find("S3ComputeObjectChecksum");
	struct json_object	*params = NULL;
	void			*ctx = NULL;
	int			 r;

	*cause = NULL;
	if (json != NULL)
		params = json_tokener_parse(json);
	r = op->compile(params, NULL, &ctx, cause);
	if (r == 0)
		op->free(ctx);
	json_object_put(params);
	return (r);
}

static void
test_compile(void)
{
	static const char *const good[] = {
		NULL,
		"{}",
		"{\"ChecksumAlgorithm\":\"CRC64NVME\"}",
		"{\"ChecksumAlgorithm\":\"CRC64NVME\","
		"\"ChecksumType\":\"FULL_OBJECT\"}",
		"{\"ChecksumAlgorithm\":\"CRC32\",\"ChecksumType\":\"COMPOSITE\"}",
		"{\"ChecksumAlgorithm\":\"CRC32C\","
		"\"ChecksumType\":\"FULL_OBJECT\"}",
		"{\"ChecksumAlgorithm\":\"SHA256\"}",
		"{\"ChecksumAlgorithm\":\"SHA1\",\"ChecksumType\":\"COMPOSITE\"}",
		"{\"ChecksumAlgorithm\":\"MD5\",\"ChecksumType\":\"FULL_OBJECT\"}",
		"{\"ChecksumAlgorithm\":\"MD5\",\"ChecksumType\":\"COMPOSITE\"}",
		"{\"ChecksumAlgorithm\":\"SHA512\"}",
	};
	static const struct {
		const char	*json;
		const char	*needle;
	} bad[] = {
		{ "{\"ChecksumAlgorithm\":\"CRC64NVME\","
		  "\"ChecksumType\":\"COMPOSITE\"}",
		  "ChecksumType: S3 has no COMPOSITE CRC64NVME" },
		{ "{\"ChecksumAlgorithm\":\"SHA256\","
		  "\"ChecksumType\":\"FULL_OBJECT\"}",
		  "SHA256 is COMPOSITE only" },
		{ "{\"ChecksumAlgorithm\":\"XXHASH128\"}",
		  "ChecksumAlgorithm: XXHASH128 is not supported" },
		{ "{\"ChecksumAlgorithm\":\"CRC32\",\"ChecksumType\":\"BOTH\"}",
		  "ChecksumType: BOTH" },
	};
	size_t	 i;
	char	*cause;

	for (i = 0; i < nitems(good); i++) {
		CHECK_INT(compile(good[i], &cause), 0);
		if (cause != NULL)
			fprintf(stderr, "  %s: %s\n", good[i], cause);
		free(cause);
	}
	for (i = 0; i < nitems(bad); i++) {
		CHECK_INT(compile(bad[i].json, &cause), -1);
		CHECK(cause != NULL && strstr(cause, bad[i].needle) != NULL);
		CHECK(cause != NULL && strncmp(cause,
		    "Operation.S3ComputeObjectChecksum.", 34) == 0);
		if (cause != NULL && strstr(cause, bad[i].needle) == NULL)
			fprintf(stderr, "  %s\n", cause);
		free(cause);
	}
}

int
main(void)
{
	test_check_values();
	test_chunked();
	test_composite();
	test_compile();
	return (unit_done("test-checksum"));
}
