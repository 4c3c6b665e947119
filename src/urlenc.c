/* Percent-encoding as S3 and SigV4 use it (RFC 3986 unreserved set). */
#include <stdio.h>
#include <string.h>

#include "s3batchd.h"

static int
urlenc_unreserved(unsigned char c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '~');
}

void
url_encode(struct buf *out, const char *s, size_t len, int flags)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 c;
	char			 esc[3];
	size_t			 i;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (urlenc_unreserved(c) ||
		    (c == '/' && (flags & URLENC_KEEP_SLASH)))
			buf_addc(out, (char)c);
		else {
			esc[0] = '%';
			esc[1] = hex[c >> 4];
			esc[2] = hex[c & 0xf];
			buf_add(out, esc, 3);
		}
	}
}

static int
urlenc_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

int
url_decode(struct buf *out, const char *s, size_t len, int flags,
    char **cause)
{
	size_t	i;
	int	hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '+' && (flags & URLENC_PLUS_SPACE)) {
			buf_addc(out, ' ');
			continue;
		}
		if (s[i] != '%') {
			buf_addc(out, s[i]);
			continue;
		}
		if (len - i < 3) {
			xasprintf(cause, "truncated percent-escape at offset "
			    "%zu", i);
			return (-1);
		}
		hi = urlenc_hexval(s[i + 1]);
		lo = urlenc_hexval(s[i + 2]);
		if (hi == -1 || lo == -1) {
			xasprintf(cause, "invalid percent-escape \"%%%c%c\" "
			    "at offset %zu", s[i + 1], s[i + 2], i);
			return (-1);
		}
		buf_addc(out, (char)(hi << 4 | lo));
		i += 2;
	}
	return (0);
}
