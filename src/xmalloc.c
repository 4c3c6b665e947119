/* Allocation wrappers: out of memory is fatal, everything else is checked. */
#include <sys/mman.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s3batchd.h"

void *
xmalloc(size_t size)
{
	void	*p;

	if (size == 0)
		fatalx("xmalloc: zero size");
	if ((p = malloc(size)) == NULL)
		fatal("xmalloc: allocating %zu bytes", size);
	return (p);
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p;

	if (nmemb == 0 || size == 0)
		fatalx("xcalloc: zero size");
	if ((p = calloc(nmemb, size)) == NULL)
		fatal("xcalloc: allocating %zu * %zu bytes", nmemb, size);
	return (p);
}

void *
xrealloc(void *ptr, size_t size)
{
	return (xreallocarray(ptr, 1, size));
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void	*p;

	if (nmemb == 0 || size == 0)
		fatalx("xreallocarray: zero size");
	if (SIZE_MAX / nmemb < size)
		fatalx("xreallocarray: %zu * %zu overflows", nmemb, size);
	if ((p = realloc(ptr, nmemb * size)) == NULL)
		fatal("xreallocarray: allocating %zu * %zu bytes", nmemb, size);
	return (p);
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("xstrdup");
	return (p);
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		fatal("xstrndup");
	return (p);
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	 ap;
	int	 i;

	va_start(ap, fmt);
	i = xvasprintf(ret, fmt, ap);
	va_end(ap);
	return (i);
}

int
xvasprintf(char **ret, const char *fmt, va_list ap)
{
	int	 i;

	i = vasprintf(ret, fmt, ap);
	if (i < 0 || *ret == NULL)
		fatal("xvasprintf");
	return (i);
}

void
explicit_wipe(void *p, size_t len)
{
	if (p != NULL && len != 0)
		explicit_bzero(p, len);
}

void
freezero_str(char *s)
{
	if (s == NULL)
		return;
	explicit_wipe(s, strlen(s));
	free(s);
}

/*
 * A secret gets pages of its own: madvise(MADV_DONTDUMP) keeps them out of
 * a core dump whatever else is dumped, which cannot be done for a piece of
 * a malloc page. The mapping's size sits in front of the string.
 */
#define SECRET_HDR	16	/* keeps the string 16-byte aligned */

char *
secret_strdup(const char *s)
{
	size_t	 len = strlen(s) + 1, page, size;
	char	*p;

	page = (size_t)sysconf(_SC_PAGESIZE);
	size = (SECRET_HDR + len + page - 1) / page * page;
	p = mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		fatal("secret_strdup: mmap %zu bytes", size);
	/* Not every kernel has it; the daemon is non-dumpable anyway. */
	(void)madvise(p, size, MADV_DONTDUMP);
	memcpy(p, &size, sizeof size);
	memcpy(p + SECRET_HDR, s, len);
	return (p + SECRET_HDR);
}

void
secret_free(char *s)
{
	char	*p;
	size_t	 size;

	if (s == NULL)
		return;
	p = s - SECRET_HDR;
	memcpy(&size, p, sizeof size);
	explicit_wipe(p, size);
	if (munmap(p, size) == -1)
		fatal("secret_free: munmap");
}
