/*
 * Fuzz the inventory row filter with untrusted WHERE text and row bytes.
 * Input: the text, a newline, then rows (one a line, fields split by ',').
 * A text that compiles must evaluate every row to 1, 0 or -1 with a cause;
 * one that does not must say why. The work per row is bounded by the
 * filter itself, so any hang here is a finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3batchd.h"
#include "invfilter.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_COLUMNS	6
#define FUZZ_ROWS	32

static const char *const fuzz_schema[FUZZ_COLUMNS] = {
	"Bucket", "Key", "Size", "LastModifiedDate", "EncryptionStatus",
	"BucketKeyStatus",
};

static void
fuzz_rows(struct invfilter *f, const uint8_t *p, const uint8_t *end)
{
	const char	*values[FUZZ_COLUMNS];
	size_t		 lens[FUZZ_COLUMNS], i, nrows = 0;
	const uint8_t	*line, *q;
	char		*cause = NULL;
	int		 r;

	while (p <= end && nrows++ < FUZZ_ROWS) {
		line = p;
		if ((q = memchr(p, '\n', (size_t)(end - p))) == NULL)
			q = end;
		/* Fields split at ','; missing ones are empty. */
		for (i = 0; i < FUZZ_COLUMNS; i++) {
			values[i] = (const char *)line;
			lens[i] = 0;
			if (line >= q)
				continue;
			while (line + lens[i] < q && line[lens[i]] != ',')
				lens[i]++;
			line += lens[i] + 1;
		}
		r = invfilter_match(f, values, lens, FUZZ_COLUMNS, &cause);
		if (r < -1 || r > 1 || (r == -1) != (cause != NULL))
			abort();
		free(cause);
		cause = NULL;
		p = q + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct invfilter	*f = NULL;
	const uint8_t		*nl;
	char			*where, *cause = NULL;
	size_t			 wlen;
	int			 r;

	nl = memchr(data, '\n', len);
	wlen = nl == NULL ? len : (size_t)(nl - data);
	where = xstrndup((const char *)data, wlen);
	r = invfilter_new(where, fuzz_schema, FUZZ_COLUMNS, &f, &cause);
	if ((r == 0) != (f != NULL) || (r == -1) != (cause != NULL))
		abort();
	free(cause);
	cause = NULL;
	/* Before the schema is known: Amazon's names, any position. */
	if (invfilter_check(where, NULL, 0, &cause) == -1) {
		if (cause == NULL)
			abort();
		free(cause);
	}
	if (f != NULL) {
		if (nl != NULL)
			fuzz_rows(f, nl + 1, data + len);
		invfilter_free(f);
	}
	free(where);
	return (0);
}
