/*
 * Manifest parsers: S3BatchOperations_CSV_20180820 rows, inventory
 * manifest.json and inventory data files (gzip'd CSV). The CSV parser is a
 * byte-driven state machine writing field bytes into one row buffer sized
 * at creation, so a manifest of any length parses in fixed memory with no
 * allocation per row.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#define ZLIB_CONST
#include <zlib.h>

#include "s3batchd.h"
#include "invfilter.h"
#include "manifest.h"

/* What a column holds. */
enum manifest_col {
	MANIFEST_COL_IGNORE,
	MANIFEST_COL_BUCKET,
	MANIFEST_COL_KEY,
	MANIFEST_COL_VERSION_ID,
	MANIFEST_COL_ETAG,
	MANIFEST_COL_DELETE_MARKER,
	MANIFEST_COL_IS_LATEST,
	MANIFEST_COL_MAX
};

/* Spec.Fields values (JobManifestFieldName), case as Amazon spells them. */
static const struct manifest_name {
	const char		*name;
	enum manifest_col	 col;
} manifest_field_names[] = {
	{ "Ignore", MANIFEST_COL_IGNORE },
	{ "Bucket", MANIFEST_COL_BUCKET },
	{ "Key", MANIFEST_COL_KEY },
	{ "VersionId", MANIFEST_COL_VERSION_ID },
}, manifest_inventory_names[] = {
	/* Inventory fileSchema names that matter; the rest are ignored. */
	{ "Bucket", MANIFEST_COL_BUCKET },
	{ "Key", MANIFEST_COL_KEY },
	{ "VersionId", MANIFEST_COL_VERSION_ID },
	{ "ETag", MANIFEST_COL_ETAG },
	{ "IsDeleteMarker", MANIFEST_COL_DELETE_MARKER },
	{ "IsLatest", MANIFEST_COL_IS_LATEST },
};

static const struct {
	const char		*name;
	enum manifest_format	 format;
} manifest_formats[] = {
	{ MANIFEST_FORMAT_CSV_NAME, MANIFEST_FORMAT_CSV },
	{ MANIFEST_FORMAT_INVENTORY_NAME, MANIFEST_FORMAT_INVENTORY },
	{ MANIFEST_FORMAT_INVENTORY2_NAME, MANIFEST_FORMAT_INVENTORY },
};

/* Inventory manifest.json "version" values this parser knows. */
static const char *const manifest_inventory_versions[] = {
	"2016-11-30", "2021-11-30",
};

/* First-row values that mean "this is a header", compared ignoring case. */
static const char *const manifest_header_bucket[] = {
	"bucket", "bucketname", "bucket name", "bucket_name", "bucket-name",
};
static const char *const manifest_header_key[] = {
	"key", "keyname", "key name", "key_name", "objectkey", "object key",
	"object_key", "object",
};

/* Bytes that end a run of plain field bytes, outside and inside quotes. */
static const unsigned char manifest_stop_plain[256] = {
	['\0'] = 1, ['\n'] = 1, ['\r'] = 1, [','] = 1, ['"'] = 1,
};
static const unsigned char manifest_stop_quoted[256] = {
	['\0'] = 1, ['\n'] = 1, ['"'] = 1,
};

enum manifest_state {
	MANIFEST_ST_FIELD,	/* at the start of a field */
	MANIFEST_ST_PLAIN,	/* inside an unquoted field */
	MANIFEST_ST_QUOTED,	/* inside a quoted field */
	MANIFEST_ST_QUOTE,	/* a quote inside a quoted field: end or "" */
	MANIFEST_ST_CR		/* after CR: LF must follow */
};

struct manifest_csv {
	enum manifest_col	 cols[MANIFEST_MAX_COLUMNS];
	size_t			 ncols;
	int			 idx[MANIFEST_COL_MAX];	/* column or -1 */
	int			 flags;
#define MANIFEST_CSV_INVENTORY	0x1	/* '+' is a space, ETag, markers */
	char			*name;		/* message prefix or NULL */
	struct invfilter	*filter;	/* Manifest.Filter, not owned */
	char			*names;		/* "Bucket,Key" for messages */
	size_t			 max_line;

	enum manifest_state	 state;
	int			 sniffed;	/* first bytes checked */
	unsigned char		 head[3];
	size_t			 nhead;
	int			 fed;
	int			 failed;
	int			 finished;

	uint64_t		 line;		/* current physical line */
	uint64_t		 row_line;	/* line the row started on */
	size_t			 row_bytes;	/* raw bytes of this row */
	size_t			 nfield;	/* fields ended in this row */
	char			*rowbuf;	/* field bytes, NUL after each */
	size_t			 rowlen;
	size_t			 rowcap;
	size_t			 off[MANIFEST_MAX_COLUMNS];
	size_t			 len[MANIFEST_MAX_COLUMNS];

	uint64_t		 seen;		/* rows that were not blank */
	uint64_t		 rows;		/* rows given to the callback */
	uint64_t		 skipped;	/* delete markers */
	uint64_t		 filtered;	/* rows the filter left out */
	struct buf		 key;		/* decoded key */
};

static int	manifest_csv_fail(struct manifest_csv *, char **,
		    const char *, ...) printflike(3, 4);

/* Printable, bounded copy of untrusted bytes for an error message. */
static void
manifest_quote(struct buf *b, const char *s, size_t len)
{
	size_t		i, max = 80;
	unsigned char	c;

	buf_addc(b, '"');
	for (i = 0; i < len && i < max; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			buf_addf(b, "\\x%02x", c);
		else
			buf_addc(b, (char)c);
	}
	buf_addc(b, '"');
	if (len > max)
		buf_adds(b, "...");
}

static char *
manifest_quoted(const char *s, size_t len)
{
	struct buf	b;

	buf_init(&b);
	manifest_quote(&b, s, len);
	return (buf_detach(&b));
}

static int
manifest_csv_fail(struct manifest_csv *mc, char **cause, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (mc->name != NULL)
		xasprintf(cause, "%s: line %" PRIu64 ": %s", mc->name,
		    mc->row_line, msg);
	else
		xasprintf(cause, "line %" PRIu64 ": %s", mc->row_line, msg);
	free(msg);
	mc->failed = 1;
	return (-1);
}

int
manifest_format_parse(const char *s, enum manifest_format *format,
    char **cause)
{
	char	*q;
	size_t	 i;

	for (i = 0; i < nitems(manifest_formats); i++) {
		if (strcmp(s, manifest_formats[i].name) == 0) {
			*format = manifest_formats[i].format;
			return (0);
		}
	}
	q = manifest_quoted(s, strlen(s));
	xasprintf(cause, "unknown manifest format %s (expected %s or %s)",
	    q, MANIFEST_FORMAT_CSV_NAME, MANIFEST_FORMAT_INVENTORY_NAME);
	free(q);
	return (-1);
}

static const struct manifest_name *
manifest_name_find(const struct manifest_name *table, size_t n,
    const char *name, int nocase)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if ((nocase ? strcasecmp(name, table[i].name) :
		    strcmp(name, table[i].name)) == 0)
			return (&table[i]);
	}
	return (NULL);
}

static struct manifest_csv *
manifest_csv_alloc(void)
{
	struct manifest_csv	*mc;
	size_t			 i;

	mc = xcalloc(1, sizeof *mc);
	for (i = 0; i < MANIFEST_COL_MAX; i++)
		mc->idx[i] = -1;
	mc->line = mc->row_line = 1;
	buf_init(&mc->key);
	return (mc);
}

/* Size the row buffer: field bytes never exceed the row's raw bytes. */
static void
manifest_csv_size(struct manifest_csv *mc, size_t max_line)
{
	mc->max_line = max_line;
	mc->rowcap = max_line + mc->ncols + 1;
	free(mc->rowbuf);
	mc->rowbuf = xmalloc(mc->rowcap);
}

/* Record a column's role; a role may appear once (Ignore any number). */
static int
manifest_csv_column(struct manifest_csv *mc, enum manifest_col col,
    const char *name, char **cause)
{
	if (mc->ncols == MANIFEST_MAX_COLUMNS) {
		xasprintf(cause, "too many columns (at most %d)",
		    MANIFEST_MAX_COLUMNS);
		return (-1);
	}
	if (col != MANIFEST_COL_IGNORE) {
		if (mc->idx[col] != -1) {
			xasprintf(cause, "column %s appears more than once",
			    name);
			return (-1);
		}
		mc->idx[col] = (int)mc->ncols;
	}
	mc->cols[mc->ncols++] = col;
	return (0);
}

struct manifest_csv *
manifest_csv_new(const char *const *fields, size_t nfields, char **cause)
{
	struct manifest_csv		*mc;
	const struct manifest_name	*n;
	struct buf			 names;
	char				*q;
	size_t				 i;

	if (nfields == 0 || nfields > MANIFEST_MAX_FIELDS) {
		xasprintf(cause, "manifest Fields must list 1 to %d columns",
		    MANIFEST_MAX_FIELDS);
		return (NULL);
	}
	mc = manifest_csv_alloc();
	buf_init(&names);
	for (i = 0; i < nfields; i++) {
		n = manifest_name_find(manifest_field_names,
		    nitems(manifest_field_names), fields[i], 0);
		if (n == NULL) {
			q = manifest_quoted(fields[i], strlen(fields[i]));
			xasprintf(cause, "unknown manifest field %s (expected "
			    "Ignore, Bucket, Key or VersionId)", q);
			free(q);
			goto fail;
		}
		if (manifest_csv_column(mc, n->col, n->name, cause) != 0)
			goto fail;
		buf_addf(&names, "%s%s", i == 0 ? "" : ",", n->name);
	}
	if (mc->idx[MANIFEST_COL_BUCKET] == -1 ||
	    mc->idx[MANIFEST_COL_KEY] == -1) {
		xasprintf(cause, "manifest Fields must include Bucket and Key");
		goto fail;
	}
	mc->names = buf_detach(&names);
	manifest_csv_size(mc, MANIFEST_MAX_LINE);
	return (mc);
fail:
	buf_free(&names);
	manifest_csv_free(mc);
	return (NULL);
}

void
manifest_csv_set_name(struct manifest_csv *mc, const char *name)
{
	free(mc->name);
	mc->name = name == NULL ? NULL : xstrdup(name);
}

void
manifest_csv_set_max_line(struct manifest_csv *mc, size_t max_line)
{
	if (mc->fed)
		fatalx("manifest_csv_set_max_line after feeding");
	if (max_line == 0 || max_line > SIZE_MAX / 2)
		fatalx("manifest_csv_set_max_line: bad limit %zu", max_line);
	manifest_csv_size(mc, max_line);
}

uint64_t
manifest_csv_rows(struct manifest_csv *mc)
{
	return (mc->rows);
}

void
manifest_csv_set_filter(struct manifest_csv *mc, struct invfilter *filter)
{
	mc->filter = filter;
}

uint64_t
manifest_csv_filtered(struct manifest_csv *mc)
{
	return (mc->filtered);
}

uint64_t
manifest_csv_skipped(struct manifest_csv *mc)
{
	return (mc->skipped);
}

uint64_t
manifest_csv_lines(struct manifest_csv *mc)
{
	return (mc->line - 1);
}

void
manifest_csv_free(struct manifest_csv *mc)
{
	if (mc == NULL)
		return;
	free(mc->name);
	free(mc->names);
	free(mc->rowbuf);
	buf_free(&mc->key);
	free(mc);
}

/*
 * Bucket names by the legacy rules (what S3 and RGW may still hold: upper
 * case and '_' allowed, 3 to 255 bytes). NULL if good, else why not.
 */
static char *
manifest_bucket_why(const char *s, size_t len)
{
	static const unsigned char	 ok[256] = {
		['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1,
		['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
		['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1,
		['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
		['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1,
		['z'] = 1,
		['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1,
		['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
		['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1,
		['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1,
		['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1,
		['Z'] = 1,
		['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
		['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
		['.'] = 1, ['-'] = 1, ['_'] = 1,
	};
	char				*q, *why;
	size_t				 i;

	if (len == 0)
		return (xstrdup("empty bucket name"));
	for (i = 0; i < len; i++) {
		if (!ok[(unsigned char)s[i]]) {
			q = manifest_quoted(s, len);
			xasprintf(&why, "invalid character 0x%02x in bucket "
			    "name %s", (unsigned char)s[i], q);
			free(q);
			return (why);
		}
	}
	if (len < 3 || len > 255) {
		q = manifest_quoted(s, len);
		xasprintf(&why, "bucket name %s must be 3 to 255 characters "
		    "long", q);
		free(q);
		return (why);
	}
	return (NULL);
}

static int
manifest_bucket_check(struct manifest_csv *mc, const char *s, size_t len,
    char **cause)
{
	char	*why;
	int	 r;

	if ((why = manifest_bucket_why(s, len)) == NULL)
		return (0);
	r = manifest_csv_fail(mc, cause, "%s", why);
	free(why);
	return (r);
}

/* Decode the key into mc->key unless it has nothing to decode. */
static int
manifest_key_decode(struct manifest_csv *mc, const char *s, size_t len,
    const char **key, size_t *keylen, char **cause)
{
	char	*q, *why = NULL;
	int	 flags = 0, r;

	if (len == 0)
		return (manifest_csv_fail(mc, cause, "empty key"));
	if (mc->flags & MANIFEST_CSV_INVENTORY)
		flags |= URLENC_PLUS_SPACE;
	if (memchr(s, '%', len) != NULL ||
	    ((flags & URLENC_PLUS_SPACE) && memchr(s, '+', len) != NULL)) {
		buf_reset(&mc->key);
		if (url_decode(&mc->key, s, len, flags, &why) != 0) {
			q = manifest_quoted(s, len);
			r = manifest_csv_fail(mc, cause, "bad URL-encoding in "
			    "key %s: %s", q, why);
			free(q);
			free(why);
			return (r);
		}
		s = mc->key.data;
		len = mc->key.len;
	}
	if (len > MANIFEST_MAX_KEY) {
		return (manifest_csv_fail(mc, cause, "key is %zu bytes long "
		    "after URL-decoding (at most %d)", len, MANIFEST_MAX_KEY));
	}
	if (memchr(s, '\0', len) != NULL)
		return (manifest_csv_fail(mc, cause, "key contains a NUL byte"));
	if (!utf8_valid(s, len)) {
		q = manifest_quoted(s, len);
		r = manifest_csv_fail(mc, cause, "key %s is not valid UTF-8 "
		    "after URL-decoding", q);
		free(q);
		return (r);
	}
	*key = s;
	*keylen = len;
	return (0);
}

/* Version ids and ETags: visible ASCII only. */
static int
manifest_token_check(struct manifest_csv *mc, const char *what,
    const char *s, size_t len, size_t max, char **cause)
{
	char	*q;
	size_t	 i;
	int	 r;

	if (len > max) {
		return (manifest_csv_fail(mc, cause, "%s is %zu bytes long "
		    "(at most %zu)", what, len, max));
	}
	for (i = 0; i < len; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '"') {
			q = manifest_quoted(s, len);
			r = manifest_csv_fail(mc, cause, "invalid character "
			    "0x%02x in %s %s", (unsigned char)s[i], what, q);
			free(q);
			return (r);
		}
	}
	return (0);
}

/* Inventory booleans: "true" or "false"; empty is false. */
static int
manifest_bool(struct manifest_csv *mc, const char *what, const char *s,
    size_t len, int *v, char **cause)
{
	char	*q;
	int	 r;

	if (len == 0 || strcasecmp(s, "false") == 0) {
		*v = 0;
		return (0);
	}
	if (strcasecmp(s, "true") == 0) {
		*v = 1;
		return (0);
	}
	q = manifest_quoted(s, len);
	r = manifest_csv_fail(mc, cause, "%s must be true or false, not %s",
	    what, q);
	free(q);
	return (r);
}

static int
manifest_word_in(const char *s, const char *const *words, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcasecmp(s, words[i]) == 0)
			return (1);
	}
	return (0);
}

/* A first row naming the columns instead of an object. */
static int
manifest_csv_header(struct manifest_csv *mc, char **cause)
{
	struct buf	 b;
	size_t		 i, nf = mc->nfield;
	int		 bi = mc->idx[MANIFEST_COL_BUCKET];
	int		 ki = mc->idx[MANIFEST_COL_KEY];
	int		 r;

	if (nf > mc->ncols)
		nf = mc->ncols;
	if ((size_t)bi >= nf || (size_t)ki >= nf)
		return (0);
	if (!manifest_word_in(mc->rowbuf + mc->off[bi], manifest_header_bucket,
	    nitems(manifest_header_bucket)) ||
	    !manifest_word_in(mc->rowbuf + mc->off[ki], manifest_header_key,
	    nitems(manifest_header_key)))
		return (0);
	buf_init(&b);
	for (i = 0; i < nf && b.len < 200; i++) {
		if (i != 0)
			buf_addc(&b, ',');
		buf_add(&b, mc->rowbuf + mc->off[i],
		    mc->len[i] > 80 ? 80 : mc->len[i]);
	}
	if (i < mc->nfield)
		buf_adds(&b, ",...");
	r = manifest_csv_fail(mc, cause, "looks like a header row (%s); "
	    "manifests have no header", b.data);
	buf_free(&b);
	return (r);
}

#define MANIFEST_FIELD(mc, i)	((mc)->rowbuf + (mc)->off[(i)])

/*
 * The filter sees the row's fields as the file has them (Key still
 * URL-encoded); 1 selected, 0 not, -1 with *cause.
 */
static int
manifest_csv_filter(struct manifest_csv *mc, char **cause)
{
	const char	*values[MANIFEST_MAX_COLUMNS];
	char		*why = NULL;
	size_t		 i;
	int		 r;

	for (i = 0; i < mc->ncols; i++)
		values[i] = MANIFEST_FIELD(mc, i);
	if ((r = invfilter_match(mc->filter, values, mc->len, mc->ncols,
	    &why)) == -1) {
		manifest_csv_fail(mc, cause, "Manifest.Filter: %s", why);
		free(why);
	}
	return (r);
}

/* A complete row: check it and hand it over. */
static int
manifest_csv_row(struct manifest_csv *mc, manifest_row_cb cb, void *arg,
    char **cause)
{
	struct manifest_row	 row;
	char			*s, *why = NULL;
	size_t			 len;
	int			 i, marker = 0, latest = 1;

	if (mc->row_bytes == 0)
		goto next;	/* blank line */
	if (mc->seen++ == 0 && manifest_csv_header(mc, cause) != 0)
		return (-1);
	if (mc->nfield != mc->ncols) {
		return (manifest_csv_fail(mc, cause, "expected %zu field%s "
		    "(%s), found %zu", mc->ncols, mc->ncols == 1 ? "" : "s",
		    mc->names, mc->nfield));
	}
	memset(&row, 0, sizeof row);
	row.line = mc->row_line;

	i = mc->idx[MANIFEST_COL_BUCKET];
	if (manifest_bucket_check(mc, MANIFEST_FIELD(mc, i), mc->len[i],
	    cause) != 0)
		return (-1);
	row.bucket = MANIFEST_FIELD(mc, i);

	i = mc->idx[MANIFEST_COL_KEY];
	if (manifest_key_decode(mc, MANIFEST_FIELD(mc, i), mc->len[i],
	    &row.key, &row.key_len, cause) != 0)
		return (-1);

	if ((i = mc->idx[MANIFEST_COL_IS_LATEST]) != -1 &&
	    manifest_bool(mc, "IsLatest", MANIFEST_FIELD(mc, i), mc->len[i],
	    &latest, cause) != 0)
		return (-1);
	if ((i = mc->idx[MANIFEST_COL_DELETE_MARKER]) != -1 &&
	    manifest_bool(mc, "IsDeleteMarker", MANIFEST_FIELD(mc, i),
	    mc->len[i], &marker, cause) != 0)
		return (-1);

	if ((i = mc->idx[MANIFEST_COL_VERSION_ID]) != -1) {
		s = MANIFEST_FIELD(mc, i);
		len = mc->len[i];
		if (len != 0) {
			if (manifest_token_check(mc, "version id", s, len,
			    MANIFEST_MAX_VERSION_ID, cause) != 0)
				return (-1);
			row.version_id = s;
		} else if (~mc->flags & MANIFEST_CSV_INVENTORY) {
			return (manifest_csv_fail(mc, cause, "empty version "
			    "id (write null for the null version)"));
		} else if (!latest) {
			/*
			 * A noncurrent version listed with an empty id is the
			 * null version; the current object is another one.
			 */
			row.version_id = "null";
		}
	}

	/* Before the ETag loses its quotes in place. */
	if (!marker && mc->filter != NULL) {
		switch (manifest_csv_filter(mc, cause)) {
		case -1:
			return (-1);
		case 0:
			mc->filtered++;
			goto next;
		}
	}

	if ((i = mc->idx[MANIFEST_COL_ETAG]) != -1 && mc->len[i] != 0) {
		s = MANIFEST_FIELD(mc, i);
		len = mc->len[i];
		if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
			s[len - 1] = '\0';
			s++;
			len -= 2;
		}
		if (len != 0) {
			if (manifest_token_check(mc, "ETag", s, len, 1024,
			    cause) != 0)
				return (-1);
			row.etag = s;
		}
	}

	if (marker)
		mc->skipped++;
	else {
		if (cb(&row, arg, &why) != 0) {
			mc->failed = 1;
			if (why != NULL)
				*cause = why;
			else {
				manifest_csv_fail(mc, cause, "stopped by the "
				    "row handler");
			}
			return (-1);
		}
		mc->rows++;
	}
next:
	mc->nfield = 0;
	mc->rowlen = 0;
	mc->row_bytes = 0;
	mc->off[0] = 0;
	return (0);
}

static inline int
manifest_csv_count(struct manifest_csv *mc, size_t n, char **cause)
{
	mc->row_bytes += n;
	if (mc->row_bytes > mc->max_line) {
		return (manifest_csv_fail(mc, cause, "line is longer than %zu "
		    "bytes", mc->max_line));
	}
	return (0);
}

static inline int
manifest_csv_append(struct manifest_csv *mc, const unsigned char *p,
    size_t n, char **cause)
{
	if (manifest_csv_count(mc, n, cause) != 0)
		return (-1);
	if (mc->nfield < mc->ncols) {
		memcpy(mc->rowbuf + mc->rowlen, p, n);
		mc->rowlen += n;
	}
	return (0);
}

static inline void
manifest_csv_end_field(struct manifest_csv *mc)
{
	if (mc->nfield < mc->ncols) {
		mc->len[mc->nfield] = mc->rowlen - mc->off[mc->nfield];
		mc->rowbuf[mc->rowlen++] = '\0';
		if (mc->nfield + 1 < mc->ncols)
			mc->off[mc->nfield + 1] = mc->rowlen;
	}
	mc->nfield++;
}

/* End of a line outside quotes. */
static inline int
manifest_csv_end_line(struct manifest_csv *mc, manifest_row_cb cb, void *arg,
    char **cause)
{
	manifest_csv_end_field(mc);
	if (manifest_csv_row(mc, cb, arg, cause) != 0)
		return (-1);
	mc->line++;
	mc->row_line = mc->line;
	mc->state = MANIFEST_ST_FIELD;
	return (0);
}

static int
manifest_csv_nul(struct manifest_csv *mc, char **cause)
{
	return (manifest_csv_fail(mc, cause, "NUL byte in manifest (is it a "
	    "binary or compressed file?)"));
}

static int
manifest_csv_parse(struct manifest_csv *mc, const unsigned char *p,
    size_t len, manifest_row_cb cb, void *arg, char **cause)
{
	const unsigned char	*end = p + len, *q;
	unsigned char		 c;

	while (p < end) {
		switch (mc->state) {
		case MANIFEST_ST_FIELD:
			if (*p == '"') {
				if (manifest_csv_count(mc, 1, cause) != 0)
					return (-1);
				p++;
				mc->state = MANIFEST_ST_QUOTED;
				break;
			}
			mc->state = MANIFEST_ST_PLAIN;
			break;
		case MANIFEST_ST_PLAIN:
			for (q = p; q < end && !manifest_stop_plain[*q]; q++)
				/* nothing */;
			if (q != p && manifest_csv_append(mc, p,
			    (size_t)(q - p), cause) != 0)
				return (-1);
			if ((p = q) == end)
				break;
			switch ((c = *p++)) {
			case ',':
				if (manifest_csv_count(mc, 1, cause) != 0)
					return (-1);
				manifest_csv_end_field(mc);
				mc->state = MANIFEST_ST_FIELD;
				break;
			case '\n':
				if (manifest_csv_end_line(mc, cb, arg,
				    cause) != 0)
					return (-1);
				break;
			case '\r':
				mc->state = MANIFEST_ST_CR;
				break;
			case '"':
				return (manifest_csv_fail(mc, cause, "quote "
				    "inside an unquoted field (quote the whole "
				    "field and double the quote)"));
			default:
				return (manifest_csv_nul(mc, cause));
			}
			break;
		case MANIFEST_ST_QUOTED:
			for (q = p; q < end && !manifest_stop_quoted[*q]; q++)
				/* nothing */;
			if (q != p && manifest_csv_append(mc, p,
			    (size_t)(q - p), cause) != 0)
				return (-1);
			if ((p = q) == end)
				break;
			switch ((c = *p++)) {
			case '"':
				if (manifest_csv_count(mc, 1, cause) != 0)
					return (-1);
				mc->state = MANIFEST_ST_QUOTE;
				break;
			case '\n':
				if (manifest_csv_append(mc, &c, 1, cause) != 0)
					return (-1);
				mc->line++;
				break;
			default:
				return (manifest_csv_nul(mc, cause));
			}
			break;
		case MANIFEST_ST_QUOTE:
			switch ((c = *p++)) {
			case '"':
				/* A doubled quote: one quote of data. */
				if (manifest_csv_append(mc, &c, 1, cause) != 0)
					return (-1);
				mc->state = MANIFEST_ST_QUOTED;
				break;
			case ',':
				if (manifest_csv_count(mc, 1, cause) != 0)
					return (-1);
				manifest_csv_end_field(mc);
				mc->state = MANIFEST_ST_FIELD;
				break;
			case '\n':
				if (manifest_csv_end_line(mc, cb, arg,
				    cause) != 0)
					return (-1);
				break;
			case '\r':
				mc->state = MANIFEST_ST_CR;
				break;
			case '\0':
				return (manifest_csv_nul(mc, cause));
			default:
				return (manifest_csv_fail(mc, cause, "character "
				    "0x%02x after a closing quote (expected a "
				    "comma or the end of the line)", c));
			}
			break;
		case MANIFEST_ST_CR:
			if (*p != '\n') {
				return (manifest_csv_fail(mc, cause, "carriage "
				    "return not followed by a line feed"));
			}
			p++;
			if (manifest_csv_end_line(mc, cb, arg, cause) != 0)
				return (-1);
			break;
		}
	}
	return (0);
}

/*
 * The first bytes: drop a UTF-8 byte order mark (spreadsheets write one)
 * and name a gzip'd manifest instead of reporting a stray byte.
 */
static int
manifest_csv_sniff(struct manifest_csv *mc, const unsigned char **pp,
    size_t *lenp, int final, manifest_row_cb cb, void *arg, char **cause)
{
	static const unsigned char	 bom[3] = { 0xef, 0xbb, 0xbf };

	while (mc->nhead < sizeof mc->head && *lenp > 0) {
		mc->head[mc->nhead++] = **pp;
		(*pp)++;
		(*lenp)--;
		if (memcmp(mc->head, bom, mc->nhead) != 0)
			break;
	}
	if (memcmp(mc->head, bom, mc->nhead) == 0) {
		if (mc->nhead < sizeof bom && !final)
			return (0);	/* maybe a BOM: need more */
		if (mc->nhead == sizeof bom) {
			mc->sniffed = 1;
			return (0);
		}
	}
	mc->sniffed = 1;
	if (mc->nhead != 0 && mc->head[0] == 0x1f) {
		return (manifest_csv_fail(mc, cause, "manifest starts with byte "
		    "0x1f: is it gzip-compressed? CSV manifests must be plain "
		    "text"));
	}
	return (manifest_csv_parse(mc, mc->head, mc->nhead, cb, arg, cause));
}

static int
manifest_csv_usable(struct manifest_csv *mc, char **cause)
{
	if (mc->failed) {
		xasprintf(cause, "manifest parser used after an error");
		return (-1);
	}
	if (mc->finished) {
		xasprintf(cause, "manifest parser used after finish");
		return (-1);
	}
	return (0);
}

int
manifest_csv_feed(struct manifest_csv *mc, const void *data, size_t len,
    manifest_row_cb cb, void *arg, char **cause)
{
	const unsigned char	*p = data;

	if (manifest_csv_usable(mc, cause) != 0)
		return (-1);
	mc->fed = 1;
	if (!mc->sniffed) {
		if (manifest_csv_sniff(mc, &p, &len, 0, cb, arg, cause) != 0)
			return (-1);
		if (!mc->sniffed)
			return (0);
	}
	return (manifest_csv_parse(mc, p, len, cb, arg, cause));
}

int
manifest_csv_finish(struct manifest_csv *mc, manifest_row_cb cb, void *arg,
    char **cause)
{
	const unsigned char	*p = NULL;
	size_t			 len = 0;

	if (manifest_csv_usable(mc, cause) != 0)
		return (-1);
	if (!mc->sniffed &&
	    manifest_csv_sniff(mc, &p, &len, 1, cb, arg, cause) != 0)
		return (-1);
	switch (mc->state) {
	case MANIFEST_ST_QUOTED:
		return (manifest_csv_fail(mc, cause, "unterminated quoted "
		    "field at end of input"));
	case MANIFEST_ST_FIELD:
	case MANIFEST_ST_PLAIN:
	case MANIFEST_ST_QUOTE:
	case MANIFEST_ST_CR:
		/* A last line without its newline; nothing after one. */
		if ((mc->nfield != 0 || mc->row_bytes != 0) &&
		    manifest_csv_end_line(mc, cb, arg, cause) != 0)
			return (-1);
		break;
	}
	mc->finished = 1;
	return (0);
}

int
manifest_fields_from_spec(struct json_object *spec,
    enum manifest_format *format, const char **fields, size_t *nfields,
    char **cause)
{
	struct json_object		*o, *f;
	const struct manifest_name	*n;
	char				*q;
	size_t				 i, count;
	int				 seen[MANIFEST_COL_MAX] = { 0 };

	*nfields = 0;
	if (spec == NULL || !json_object_is_type(spec, json_type_object)) {
		xasprintf(cause, "Manifest.Spec must be an object");
		return (-1);
	}
	if (!json_object_object_get_ex(spec, "Format", &o) ||
	    !json_object_is_type(o, json_type_string)) {
		xasprintf(cause, "Manifest.Spec.Format is missing or not a "
		    "string");
		return (-1);
	}
	if (manifest_format_parse(json_object_get_string(o), format,
	    cause) != 0)
		return (-1);
	if (*format != MANIFEST_FORMAT_CSV)
		return (0);	/* the inventory's fileSchema names columns */

	if (!json_object_object_get_ex(spec, "Fields", &o) ||
	    !json_object_is_type(o, json_type_array)) {
		xasprintf(cause, "Manifest.Spec.Fields is required for %s "
		    "(for example [\"Bucket\", \"Key\"])",
		    MANIFEST_FORMAT_CSV_NAME);
		return (-1);
	}
	count = json_object_array_length(o);
	if (count == 0 || count > MANIFEST_MAX_FIELDS) {
		xasprintf(cause, "Manifest.Spec.Fields must list 1 to %d "
		    "columns", MANIFEST_MAX_FIELDS);
		return (-1);
	}
	for (i = 0; i < count; i++) {
		f = json_object_array_get_idx(o, i);
		if (f == NULL || !json_object_is_type(f, json_type_string)) {
			xasprintf(cause, "Manifest.Spec.Fields[%zu] is not a "
			    "string", i);
			return (-1);
		}
		fields[i] = json_object_get_string(f);
		n = manifest_name_find(manifest_field_names,
		    nitems(manifest_field_names), fields[i], 0);
		if (n == NULL) {
			q = manifest_quoted(fields[i], strlen(fields[i]));
			xasprintf(cause, "Manifest.Spec.Fields[%zu]: unknown "
			    "field %s (expected Ignore, Bucket, Key or "
			    "VersionId)", i, q);
			free(q);
			return (-1);
		}
		if (n->col != MANIFEST_COL_IGNORE && seen[n->col]++ != 0) {
			xasprintf(cause, "Manifest.Spec.Fields: %s appears more "
			    "than once", n->name);
			return (-1);
		}
	}
	if (!seen[MANIFEST_COL_BUCKET] || !seen[MANIFEST_COL_KEY]) {
		xasprintf(cause, "Manifest.Spec.Fields must include Bucket and "
		    "Key");
		return (-1);
	}
	*nfields = count;
	return (0);
}

/* Inventory manifest.json. */

#define MANIFEST_JSON_WHAT	"inventory manifest.json"

/* A member that must be a non-empty string without NUL bytes. */
static int
manifest_json_string(struct json_object *obj, const char *name,
    const char *where, const char **out, char **cause)
{
	struct json_object	*o;

	if (!json_object_object_get_ex(obj, name, &o) || o == NULL) {
		xasprintf(cause, "%s: %s%s is missing", MANIFEST_JSON_WHAT,
		    where, name);
		return (-1);
	}
	if (!json_object_is_type(o, json_type_string)) {
		xasprintf(cause, "%s: %s%s must be a string",
		    MANIFEST_JSON_WHAT, where, name);
		return (-1);
	}
	*out = json_object_get_string(o);
	if (**out == '\0' ||
	    strlen(*out) != (size_t)json_object_get_string_len(o)) {
		xasprintf(cause, "%s: %s%s is empty or contains a NUL byte",
		    MANIFEST_JSON_WHAT, where, name);
		return (-1);
	}
	return (0);
}

static int
manifest_json_bucket(const char *name, const char *s, char **cause)
{
	char	*why;

	if ((why = manifest_bucket_why(s, strlen(s))) == NULL)
		return (0);
	xasprintf(cause, "%s: %s: %s", MANIFEST_JSON_WHAT, name, why);
	free(why);
	return (-1);
}

/* A non-negative integer, as a JSON number or a string of digits. */
static int
manifest_json_u64(struct json_object *o, uint64_t *v)
{
	const char	*s;
	uint64_t	 n = 0;
	int64_t		 i;

	if (json_object_is_type(o, json_type_int)) {
		if ((i = json_object_get_int64(o)) < 0)
			return (-1);
		*v = (uint64_t)i;
		return (0);
	}
	if (!json_object_is_type(o, json_type_string))
		return (-1);
	s = json_object_get_string(o);
	if (*s == '\0')
		return (-1);
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || n > (UINT64_MAX - 9) / 10)
			return (-1);
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
	return (0);
}

/* "Bucket, Key, VersionId, ...": trimmed names, no empties or repeats. */
static int
manifest_inventory_schema(struct manifest_inventory *inv, const char *schema,
    char **cause)
{
	const char	*p = schema, *start, *end;
	char		*name, *q;
	size_t		 i;

	inv->columns = xcalloc(MANIFEST_MAX_COLUMNS, sizeof *inv->columns);
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		while (*p != ',' && *p != '\0')
			p++;
		end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end == start) {
			xasprintf(cause, "%s: fileSchema column %zu is empty",
			    MANIFEST_JSON_WHAT, inv->ncolumns + 1);
			return (-1);
		}
		if (inv->ncolumns == MANIFEST_MAX_COLUMNS) {
			xasprintf(cause, "%s: fileSchema has more than %d "
			    "columns", MANIFEST_JSON_WHAT, MANIFEST_MAX_COLUMNS);
			return (-1);
		}
		name = xstrndup(start, (size_t)(end - start));
		for (i = 0; i < inv->ncolumns; i++) {
			if (strcasecmp(inv->columns[i], name) == 0) {
				q = manifest_quoted(name, strlen(name));
				xasprintf(cause, "%s: fileSchema names column "
				    "%s twice", MANIFEST_JSON_WHAT, q);
				free(q);
				free(name);
				return (-1);
			}
		}
		inv->columns[inv->ncolumns++] = name;
		if (*p == '\0')
			break;
		p++;
	}
	for (i = 0; i < inv->ncolumns; i++) {
		if (strcasecmp(inv->columns[i], "Bucket") == 0)
			break;
	}
	if (i == inv->ncolumns) {
		xasprintf(cause, "%s: fileSchema has no Bucket column",
		    MANIFEST_JSON_WHAT);
		return (-1);
	}
	for (i = 0; i < inv->ncolumns; i++) {
		if (strcasecmp(inv->columns[i], "Key") == 0)
			break;
	}
	if (i == inv->ncolumns) {
		xasprintf(cause, "%s: fileSchema has no Key column",
		    MANIFEST_JSON_WHAT);
		return (-1);
	}
	return (0);
}

static int
manifest_inventory_files(struct manifest_inventory *inv,
    struct json_object *root, char **cause)
{
	struct json_object		*files, *f, *o;
	struct manifest_inventory_file	*mf;
	const char			*s;
	char				 where[64];
	size_t				 i, j, n;

	if (!json_object_object_get_ex(root, "files", &files) ||
	    !json_object_is_type(files, json_type_array)) {
		xasprintf(cause, "%s: files is missing or not an array",
		    MANIFEST_JSON_WHAT);
		return (-1);
	}
	n = json_object_array_length(files);
	inv->files = xcalloc(n == 0 ? 1 : n, sizeof *inv->files);
	for (i = 0; i < n; i++) {
		f = json_object_array_get_idx(files, i);
		snprintf(where, sizeof where, "files[%zu].", i);
		if (f == NULL || !json_object_is_type(f, json_type_object)) {
			xasprintf(cause, "%s: files[%zu] must be an object",
			    MANIFEST_JSON_WHAT, i);
			return (-1);
		}
		mf = &inv->files[inv->nfiles];
		if (manifest_json_string(f, "key", where, &s, cause) != 0)
			return (-1);
		mf->key = xstrdup(s);
		inv->nfiles++;
		if (!json_object_object_get_ex(f, "size", &o) || o == NULL ||
		    manifest_json_u64(o, &mf->size) != 0) {
			xasprintf(cause, "%s: %ssize is missing or not a "
			    "non-negative integer", MANIFEST_JSON_WHAT, where);
			return (-1);
		}
		if (manifest_json_string(f, "MD5checksum", where, &s,
		    cause) != 0)
			return (-1);
		for (j = 0; s[j] != '\0' && j < 32; j++) {
			if (!isxdigit((unsigned char)s[j]))
				break;
			mf->md5[j] = (char)tolower((unsigned char)s[j]);
		}
		if (j != 32 || s[j] != '\0') {
			xasprintf(cause, "%s: %sMD5checksum must be 32 hex "
			    "digits", MANIFEST_JSON_WHAT, where);
			return (-1);
		}
		mf->md5[32] = '\0';
	}
	return (0);
}

int
manifest_inventory_parse(const void *data, size_t len,
    struct manifest_inventory **out, char **cause)
{
	struct json_tokener		*tok;
	struct json_object		*root = NULL, *o;
	struct manifest_inventory	*inv = NULL;
	enum json_tokener_error		 jerr;
	const char			*s, *p;
	char				*q;
	size_t				 i, end;

	*out = NULL;
	if (len > MANIFEST_MAX_JSON) {
		xasprintf(cause, "%s is larger than %d bytes",
		    MANIFEST_JSON_WHAT, MANIFEST_MAX_JSON);
		return (-1);
	}
	if (memchr(data, '\0', len) != NULL) {
		xasprintf(cause, "%s contains a NUL byte", MANIFEST_JSON_WHAT);
		return (-1);
	}
	tok = json_tokener_new();
	if (tok == NULL)
		fatalx("json_tokener_new");
	root = json_tokener_parse_ex(tok, data, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (root == NULL) {
		if (jerr == json_tokener_continue || jerr == json_tokener_success)
			xasprintf(cause, "%s is truncated", MANIFEST_JSON_WHAT);
		else {
			xasprintf(cause, "%s is not valid JSON: %s",
			    MANIFEST_JSON_WHAT, json_tokener_error_desc(jerr));
		}
		return (-1);
	}
	for (p = (const char *)data + end; p < (const char *)data + len; p++) {
		if (!isspace((unsigned char)*p)) {
			xasprintf(cause, "%s has data after the JSON object",
			    MANIFEST_JSON_WHAT);
			goto fail;
		}
	}
	if (!json_object_is_type(root, json_type_object)) {
		xasprintf(cause, "%s must be a JSON object", MANIFEST_JSON_WHAT);
		goto fail;
	}
	inv = xcalloc(1, sizeof *inv);

	if (manifest_json_string(root, "sourceBucket", "", &s, cause) != 0 ||
	    manifest_json_bucket("sourceBucket", s, cause) != 0)
		goto fail;
	inv->source_bucket = xstrdup(s);

	/* "arn:aws:s3:::name" (any partition) or a bare name. */
	if (manifest_json_string(root, "destinationBucket", "", &s,
	    cause) != 0)
		goto fail;
	inv->destination_arn = xstrdup(s);
	if (strncmp(s, "arn:", 4) == 0) {
		if ((p = strstr(s, ":s3:::")) == NULL) {
			q = manifest_quoted(s, strlen(s));
			xasprintf(cause, "%s: destinationBucket %s is not an "
			    "S3 bucket ARN", MANIFEST_JSON_WHAT, q);
			free(q);
			goto fail;
		}
		s = p + 6;
	}
	if (manifest_json_bucket("destinationBucket", s, cause) != 0)
		goto fail;
	inv->destination_bucket = xstrdup(s);

	if (manifest_json_string(root, "version", "", &s, cause) != 0)
		goto fail;
	for (i = 0; i < nitems(manifest_inventory_versions); i++) {
		if (strcmp(s, manifest_inventory_versions[i]) == 0)
			break;
	}
	if (i == nitems(manifest_inventory_versions)) {
		q = manifest_quoted(s, strlen(s));
		xasprintf(cause, "%s: unsupported version %s (expected "
		    "2016-11-30)", MANIFEST_JSON_WHAT, q);
		free(q);
		goto fail;
	}
	inv->version = xstrdup(s);

	if (json_object_object_get_ex(root, "creationTimestamp", &o) &&
	    o != NULL && manifest_json_u64(o, &inv->creation_ms) != 0) {
		xasprintf(cause, "%s: creationTimestamp must be milliseconds "
		    "since the epoch", MANIFEST_JSON_WHAT);
		goto fail;
	}

	if (manifest_json_string(root, "fileFormat", "", &s, cause) != 0)
		goto fail;
	if (strcasecmp(s, "CSV") != 0) {
		q = manifest_quoted(s, strlen(s));
		xasprintf(cause, "%s: fileFormat %s is not supported (only "
		    "CSV)", MANIFEST_JSON_WHAT, q);
		free(q);
		goto fail;
	}
	inv->file_format = xstrdup(s);

	if (manifest_json_string(root, "fileSchema", "", &s, cause) != 0)
		goto fail;
	inv->file_schema = xstrdup(s);
	if (manifest_inventory_schema(inv, s, cause) != 0)
		goto fail;

	if (manifest_inventory_files(inv, root, cause) != 0)
		goto fail;

	json_object_put(root);
	*out = inv;
	return (0);
fail:
	json_object_put(root);
	manifest_inventory_free(inv);
	return (-1);
}

void
manifest_inventory_free(struct manifest_inventory *inv)
{
	size_t	i;

	if (inv == NULL)
		return;
	free(inv->source_bucket);
	free(inv->destination_bucket);
	free(inv->destination_arn);
	free(inv->version);
	free(inv->file_format);
	free(inv->file_schema);
	for (i = 0; i < inv->ncolumns; i++)
		free(inv->columns[i]);
	free(inv->columns);
	for (i = 0; i < inv->nfiles; i++)
		free(inv->files[i].key);
	free(inv->files);
	free(inv);
}

struct manifest_csv *
manifest_inventory_csv_new(const struct manifest_inventory *inv,
    const char *file, char **cause)
{
	struct manifest_csv		*mc;
	const struct manifest_name	*n;
	struct buf			 names;
	size_t				 i;

	if (inv->ncolumns == 0 || inv->ncolumns > MANIFEST_MAX_COLUMNS) {
		xasprintf(cause, "inventory fileSchema must have 1 to %d "
		    "columns", MANIFEST_MAX_COLUMNS);
		return (NULL);
	}
	mc = manifest_csv_alloc();
	mc->flags = MANIFEST_CSV_INVENTORY;
	buf_init(&names);
	for (i = 0; i < inv->ncolumns; i++) {
		n = manifest_name_find(manifest_inventory_names,
		    nitems(manifest_inventory_names), inv->columns[i], 1);
		if (manifest_csv_column(mc, n == NULL ? MANIFEST_COL_IGNORE :
		    n->col, inv->columns[i], cause) != 0)
			goto fail;
		buf_addf(&names, "%s%s", i == 0 ? "" : ",", inv->columns[i]);
	}
	if (mc->idx[MANIFEST_COL_BUCKET] == -1 ||
	    mc->idx[MANIFEST_COL_KEY] == -1) {
		xasprintf(cause, "inventory fileSchema must include Bucket and "
		    "Key");
		goto fail;
	}
	mc->names = buf_detach(&names);
	manifest_csv_size(mc, MANIFEST_MAX_INV_LINE);
	if (file != NULL)
		manifest_csv_set_name(mc, file);
	return (mc);
fail:
	buf_free(&names);
	manifest_csv_free(mc);
	return (NULL);
}

/* Gzip'd data files. */

#define MANIFEST_GUNZIP_OUT	65536

struct manifest_gunzip {
	struct manifest_csv	*csv;
	z_stream		 z;
	EVP_MD_CTX		*md5;
	int			 member_end;	/* a gzip member just ended */
	uint64_t		 members;
	uint64_t		 in;
	int			 check;
	uint64_t		 expect_size;
	char			 expect_md5[33];
	char			 md5_hex[33];
	int			 failed;
	int			 finished;
	unsigned char		 out[MANIFEST_GUNZIP_OUT];
};

static int	manifest_gunzip_fail(struct manifest_gunzip *, char **,
		    const char *, ...) printflike(3, 4);

static int
manifest_gunzip_fail(struct manifest_gunzip *g, char **cause,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (g->csv->name != NULL)
		xasprintf(cause, "%s: %s", g->csv->name, msg);
	else
		*cause = xstrdup(msg);
	free(msg);
	g->failed = 1;
	return (-1);
}

struct manifest_gunzip *
manifest_gunzip_new(struct manifest_csv *csv,
    const struct manifest_inventory_file *expect)
{
	struct manifest_gunzip	*g;

	g = xcalloc(1, sizeof *g);
	g->csv = csv;
	/* 16 + MAX_WBITS: gzip wrapper only. */
	if (inflateInit2(&g->z, 16 + MAX_WBITS) != Z_OK)
		fatalx("inflateInit2 failed");
	if ((g->md5 = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(g->md5, EVP_md5(), NULL) != 1)
		fatalx("MD5 is not available from libcrypto");
	if (expect != NULL) {
		g->check = 1;
		g->expect_size = expect->size;
		memcpy(g->expect_md5, expect->md5, sizeof g->expect_md5);
	}
	return (g);
}

/* Inflate what is in g->z, member after member, into the row parser. */
static int
manifest_gunzip_run(struct manifest_gunzip *g, manifest_row_cb cb, void *arg,
    char **cause)
{
	size_t	n;
	int	ret;

	for (;;) {
		if (g->member_end) {
			if (g->z.avail_in == 0)
				return (0);
			/* Concatenated members (as gzip -c a b) are one file. */
			if (inflateReset(&g->z) != Z_OK)
				fatalx("inflateReset failed");
			g->member_end = 0;
		}
		g->z.next_out = g->out;
		g->z.avail_out = sizeof g->out;
		ret = inflate(&g->z, Z_NO_FLUSH);
		if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
			return (manifest_gunzip_fail(g, cause, "corrupt gzip "
			    "data: %s", g->z.msg != NULL ? g->z.msg :
			    "inflate failed"));
		}
		n = sizeof g->out - g->z.avail_out;
		if (n != 0 && manifest_csv_feed(g->csv, g->out, n, cb, arg,
		    cause) != 0) {
			g->failed = 1;
			return (-1);
		}
		if (ret == Z_STREAM_END) {
			g->member_end = 1;
			g->members++;
			continue;
		}
		if (ret == Z_BUF_ERROR ||
		    (g->z.avail_in == 0 && g->z.avail_out != 0))
			return (0);
	}
}

int
manifest_gunzip_feed(struct manifest_gunzip *g, const void *data, size_t len,
    manifest_row_cb cb, void *arg, char **cause)
{
	const unsigned char	*p = data;
	size_t			 n;

	if (g->failed || g->finished) {
		xasprintf(cause, "gzip reader used after %s",
		    g->failed ? "an error" : "finish");
		return (-1);
	}
	if (len != 0 && EVP_DigestUpdate(g->md5, data, len) != 1)
		fatalx("EVP_DigestUpdate failed");
	g->in += len;
	while (len > 0) {
		n = len > (1U << 30) ? (1U << 30) : len;
		g->z.next_in = p;
		g->z.avail_in = (uInt)n;
		if (manifest_gunzip_run(g, cb, arg, cause) != 0)
			return (-1);
		p += n;
		len -= n;
	}
	return (0);
}

int
manifest_gunzip_finish(struct manifest_gunzip *g, manifest_row_cb cb,
    void *arg, char **cause)
{
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen;

	if (g->failed || g->finished) {
		xasprintf(cause, "gzip reader used after %s",
		    g->failed ? "an error" : "finish");
		return (-1);
	}
	g->finished = 1;
	if (EVP_DigestFinal_ex(g->md5, md, &mdlen) != 1 || mdlen != 16)
		fatalx("EVP_DigestFinal_ex failed");
	hex_encode(md, mdlen, g->md5_hex);
	if (g->in == 0)
		return (manifest_gunzip_fail(g, cause, "empty data file"));
	if (!g->member_end)
		return (manifest_gunzip_fail(g, cause, "truncated gzip data"));
	if (g->check && g->in != g->expect_size) {
		return (manifest_gunzip_fail(g, cause, "size is %" PRIu64
		    " bytes but manifest.json says %" PRIu64, g->in,
		    g->expect_size));
	}
	if (g->check && strcmp(g->md5_hex, g->expect_md5) != 0) {
		return (manifest_gunzip_fail(g, cause, "MD5 is %s but "
		    "manifest.json says %s", g->md5_hex, g->expect_md5));
	}
	if (manifest_csv_finish(g->csv, cb, arg, cause) != 0) {
		g->failed = 1;
		return (-1);
	}
	return (0);
}

const char *
manifest_gunzip_md5(struct manifest_gunzip *g)
{
	return (g->md5_hex);
}

uint64_t
manifest_gunzip_bytes_in(struct manifest_gunzip *g)
{
	return (g->in);
}

void
manifest_gunzip_free(struct manifest_gunzip *g)
{
	if (g == NULL)
		return;
	inflateEnd(&g->z);
	EVP_MD_CTX_free(g->md5);
	free(g);
}
