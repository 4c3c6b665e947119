/*
 * Time, durations, sizes, identifiers, UTF-8, hex and whole reads and
 * writes: small helpers with no state.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "s3batchd.h"

uint64_t
time_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

uint64_t
time_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

void
time_format_iso(uint64_t ms, char *out, size_t len)
{
	time_t		 t = (time_t)(ms / 1000);
	struct tm	 tm;
	char		 base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%06u+00:00", base, (unsigned)(ms % 1000) * 1000);
}

void
time_format_utc(uint64_t ms, char *out, size_t len)
{
	time_t		 t = (time_t)(ms / 1000);
	struct tm	 tm;

	gmtime_r(&t, &tm);
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}

/* Howard Hinnant's days_from_civil: exact for every proleptic year. */
int64_t
time_days_from_civil(int64_t y, int m, int d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

/* Exactly n digits at *pos, within len. */
static int
time_digits(const char *s, size_t len, size_t *pos, int n, int *out)
{
	int	 v = 0;

	if (len - *pos < (size_t)n)
		return (-1);
	while (n-- > 0) {
		if (s[*pos] < '0' || s[*pos] > '9')
			return (-1);
		v = v * 10 + (s[(*pos)++] - '0');
	}
	*out = v;
	return (0);
}

/* The character c at *pos, consumed. */
static int
time_expect(const char *s, size_t len, size_t *pos, char c)
{
	if (*pos >= len || s[*pos] != c)
		return (-1);
	(*pos)++;
	return (0);
}

int
time_parse_iso(const char *s, size_t len, int flags, int64_t *ms)
{
	static const int	 mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31,
				    30, 31, 30, 31 };
	int			 strict = (flags & TIME_ISO_RFC3339) != 0;
	int			 y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
	int			 oh = 0, om = 0, sign = 0, n, has_time = 0;
	size_t			 pos = 0;
	char			 c;

#define PEEK()	(pos < len ? s[pos] : '\0')
	if (time_digits(s, len, &pos, 4, &y) != 0 ||
	    time_expect(s, len, &pos, '-') != 0 ||
	    time_digits(s, len, &pos, 2, &mo) != 0 ||
	    time_expect(s, len, &pos, '-') != 0 ||
	    time_digits(s, len, &pos, 2, &d) != 0)
		return (-1);
	c = PEEK();
	if (c == 'T' || c == 't' || (c == ' ' && !strict)) {
		pos++;
		has_time = 1;
		if (time_digits(s, len, &pos, 2, &h) != 0 ||
		    time_expect(s, len, &pos, ':') != 0 ||
		    time_digits(s, len, &pos, 2, &mi) != 0)
			return (-1);
		if (time_expect(s, len, &pos, ':') == 0) {
			if (time_digits(s, len, &pos, 2, &sec) != 0)
				return (-1);
			c = PEEK();
			if (c == '.' || (c == ',' && !strict)) {
				pos++;
				for (n = 0; PEEK() >= '0' && PEEK() <= '9';
				    n++, pos++) {
					if (n < 3)
						frac = frac * 10 +
						    (s[pos] - '0');
				}
				if (n == 0 || n > 9)
					return (-1);
				for (; n < 3; n++)
					frac *= 10;
			}
		} else if (strict)
			return (-1);
		c = PEEK();
		if (c == 'Z' || c == 'z')
			pos++;
		else if (c == '+' || c == '-') {
			sign = c == '-' ? -1 : 1;
			pos++;
			if (time_digits(s, len, &pos, 2, &oh) != 0)
				return (-1);
			if (pos < len) {
				if (time_expect(s, len, &pos, ':') != 0 &&
				    strict)
					return (-1);
				if (time_digits(s, len, &pos, 2, &om) != 0)
					return (-1);
			} else if (strict)
				return (-1);
		} else if (strict)
			return (-1);
	}
#undef PEEK
	if (pos != len || (strict && !has_time))
		return (-1);
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 ||
	    y % 400 == 0))) || h > 23 || mi > 59 || sec > 60 || oh > 23 ||
	    om > 59)
		return (-1);
	*ms = ((((time_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 +
	    sec) * 1000) + frac - (int64_t)sign * (oh * 60 + om) * 60000;
	return (0);
}

int
time_parse_http(const char *s, uint64_t *ms)
{
	static const char	 months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char		*p;
	char			 mon[4];
	int			 day, year, hh, mm, ss, n = 0;

	if (s == NULL || (p = strchr(s, ',')) == NULL)
		return (-1);
	if (sscanf(p + 1, " %2d %3s %4d %2d:%2d:%2d GMT%n", &day, mon, &year,
	    &hh, &mm, &ss, &n) != 6 || n == 0 || p[1 + n] != '\0')
		return (-1);
	if ((p = strstr(months, mon)) == NULL || strlen(mon) != 3 ||
	    (p - months) % 3 != 0)
		return (-1);
	if (day < 1 || day > 31 || year < 1970 || hh > 23 || mm > 59 ||
	    ss > 60)
		return (-1);
	*ms = (uint64_t)((((time_days_from_civil(year,
	    (int)((p - months) / 3) + 1, day) * 24 + hh) * 60 + mm) * 60 +
	    ss) * 1000);
	return (0);
}

/* Units for durations and sizes: the longest suffixes first. */
static const struct unit {
	const char	*suffix;
	uint64_t	 mult;
} duration_units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 3600 * 1000 },
	{ "d", 86400 * 1000 },
	{ "w", 7 * 86400 * 1000 },
}, size_units[] = {
	{ "KiB", 1ULL << 10 }, { "MiB", 1ULL << 20 }, { "GiB", 1ULL << 30 },
	{ "TiB", 1ULL << 40 },
	{ "KB", 1ULL << 10 }, { "MB", 1ULL << 20 }, { "GB", 1ULL << 30 },
	{ "TB", 1ULL << 40 },
	{ "k", 1ULL << 10 }, { "K", 1ULL << 10 }, { "M", 1ULL << 20 },
	{ "G", 1ULL << 30 }, { "T", 1ULL << 40 },
	{ "B", 1 },
};

static const struct unit *
unit_find(const struct unit *units, size_t n, const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strlen(units[i].suffix) == len &&
		    strncmp(units[i].suffix, s, len) == 0)
			return (&units[i]);
	}
	return (NULL);
}

/*
 * A sequence of number+unit terms ("1h30m"); a bare number is seconds for
 * durations and bytes for sizes.
 */
static int
parse_units(const char *s, const struct unit *units, size_t n,
    uint64_t bare, uint64_t *out, const char *what, char **cause)
{
	const struct unit	*u;
	const char		*p = s, *q;
	uint64_t		 total = 0, v, mult;
	int			 terms = 0;

	if (s == NULL || *s == '\0') {
		xasprintf(cause, "empty %s", what);
		return (-1);
	}
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p))
			goto bad;
		v = 0;
		while (isdigit((unsigned char)*p)) {
			if (v > (UINT64_MAX - 9) / 10)
				goto big;
			v = v * 10 + (uint64_t)(*p++ - '0');
		}
		q = p;
		while (*q != '\0' && isalpha((unsigned char)*q))
			q++;
		if (q == p) {
			if (terms != 0 || *q != '\0')
				goto bad;
			mult = bare;
		} else {
			if ((u = unit_find(units, n, p, (size_t)(q - p))) == NULL)
				goto bad;
			mult = u->mult;
		}
		if (v != 0 && mult > UINT64_MAX / v)
			goto big;
		if (total > UINT64_MAX - v * mult)
			goto big;
		total += v * mult;
		terms++;
		p = q;
	}
	*out = total;
	return (0);
bad:
	xasprintf(cause, "invalid %s \"%s\"", what, s);
	return (-1);
big:
	xasprintf(cause, "%s \"%s\" is too large", what, s);
	return (-1);
}

int
parse_duration(const char *s, uint64_t *ms, char **cause)
{
	return (parse_units(s, duration_units, nitems(duration_units), 1000,
	    ms, "duration", cause));
}

void
format_duration(uint64_t ms, char *out, size_t len)
{
	static const struct unit	 order[] = {
		{ "d", 86400 * 1000 }, { "h", 3600 * 1000 }, { "m", 60 * 1000 },
		{ "s", 1000 }, { "ms", 1 },
	};
	size_t				 i, off = 0;

	if (ms == 0) {
		snprintf(out, len, "0s");
		return;
	}
	out[0] = '\0';
	for (i = 0; i < nitems(order) && off < len; i++) {
		if (ms >= order[i].mult) {
			off += (size_t)snprintf(out + off, len - off,
			    "%" PRIu64 "%s", ms / order[i].mult,
			    order[i].suffix);
			ms %= order[i].mult;
		}
	}
}

int
parse_size(const char *s, uint64_t *bytes, char **cause)
{
	return (parse_units(s, size_units, nitems(size_units), 1, bytes,
	    "size", cause));
}

int
parse_bool(const char *s, int *v)
{
	static const struct {
		const char	*word;
		int		 value;
	} words[] = {
		{ "yes", 1 }, { "true", 1 }, { "on", 1 }, { "1", 1 },
		{ "no", 0 }, { "false", 0 }, { "off", 0 }, { "0", 0 },
	};
	size_t	i;

	for (i = 0; i < nitems(words); i++) {
		if (strcasecmp(s, words[i].word) == 0) {
			*v = words[i].value;
			return (0);
		}
	}
	return (-1);
}

void
uuid_generate_v4(char out[37])
{
	unsigned char	 b[16];
	size_t		 got = 0;
	ssize_t		 n;

	while (got < sizeof b) {
		n = getrandom(b + got, sizeof b - got, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fatal("getrandom");
		}
		got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
	    b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* Strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF. */
int
utf8_valid(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	const unsigned char	*end = p + len;
	uint32_t		 cp;
	int			 n, i;

	while (p < end) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 1;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3;
			cp = *p & 0x07;
		} else
			return (0);
		if (end - p <= n)
			return (0);
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return (0);
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return (0);
		p += n + 1;
	}
	return (1);
}

void
hex_encode(const void *in, size_t len, char *out)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = in;
	size_t			 i;

	for (i = 0; i < len; i++) {
		out[i * 2] = hex[p[i] >> 4];
		out[i * 2 + 1] = hex[p[i] & 0xf];
	}
	out[len * 2] = '\0';
}

int
io_write_all(int fd, const void *data, size_t len)
{
	const char	*p = data;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0) {
			errno = EIO;
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

ssize_t
io_read_full(int fd, void *data, size_t len)
{
	char	*p = data;
	size_t	 got = 0;
	ssize_t	 n;

	while (got < len) {
		if ((n = read(fd, p + got, len - got)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return ((ssize_t)got);
}

int
io_read_buf(int fd, struct buf *b, size_t max)
{
	char	 tmp[65536];
	size_t	 total = 0;
	ssize_t	 n;

	for (;;) {
		if ((n = read(fd, tmp, sizeof tmp)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0)
			return (0);
		total += (size_t)n;
		if (total > max) {
			errno = EFBIG;
			return (-1);
		}
		buf_add(b, tmp, (size_t)n);
	}
}
