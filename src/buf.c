/* A growable, always NUL-terminated byte buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3batchd.h"

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->size = 0;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static void
buf_grow(struct buf *b, size_t need)
{
	size_t	 size;

	if (b->len + need + 1 <= b->size)
		return;
	if (need > SIZE_MAX / 2 - b->len)
		fatalx("buf_grow: too large");
	size = b->size == 0 ? 64 : b->size;
	while (size < b->len + need + 1)
		size *= 2;
	b->data = xrealloc(b->data, size);
	b->size = size;
}

void
buf_add(struct buf *b, const void *p, size_t len)
{
	buf_grow(b, len);
	if (len != 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap, ap2;
	int	 n;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("buf_addf: bad format");
	buf_grow(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	b->len += (size_t)n;
}

/* Drop the first n bytes. */
void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

/* Hand the string to the caller; the buffer is left empty. */
char *
buf_detach(struct buf *b)
{
	char	*s;

	if (b->data == NULL)
		return (xstrdup(""));
	s = b->data;
	buf_init(b);
	return (s);
}
