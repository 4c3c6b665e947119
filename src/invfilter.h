/*
 * invfilter: a filter in S3 Select's WHERE syntax over the rows of an
 * inventory report (Manifest.Filter in CreateJob, the job filter of an
 * inventory configuration). See docs/FILTERS.md.
 *
 * The text is compiled once by SQLite's expression engine, not by a parser
 * of ours: "SELECT 1 FROM inventory AS s WHERE (<text>)" over a one-row
 * virtual table whose columns are _1.._N (the report's columns by 1-based
 * position) and the report's column names. An authorizer allows nothing
 * but reading that table's columns and a short list of pure functions;
 * subqueries, other tables, PRAGMA, ATTACH and every write are refused when
 * the text is compiled, and a progress handler bounds the work per row.
 *
 * Every value is the row's raw CSV field as a string, as S3 Select sees a
 * CSV without a header: numbers need CAST, an empty field is '' (not
 * NULL), and Key is URL-encoded as the report writes it.
 *
 * A filter is used by one thread at a time; distinct filters are
 * independent. Messages in *cause are xasprintf'd and do not name the
 * member that holds the text: the caller prefixes it ("Manifest.Filter: ").
 */
#ifndef INVFILTER_H
#define INVFILTER_H

#include <stddef.h>

#define INVFILTER_MAX_TEXT	4096	/* bytes of WHERE text */
#define INVFILTER_MAX_COLUMNS	64	/* = MANIFEST_MAX_COLUMNS */

struct invfilter;

/*
 * Compile where against a report whose columns, in order, are named by
 * columns[0..ncolumns-1] (a fileSchema; 1 <= ncolumns <=
 * INVFILTER_MAX_COLUMNS). A name equal to a position (_3) or to an earlier
 * name, ignoring case, is reachable only by position. Returns 0 with *out,
 * or -1 with *cause ("no such column: Foo", "near \"DROP\": syntax
 * error", "the function randomblob() is not allowed", ...).
 */
int	invfilter_new(const char *, const char *const *, size_t,
	    struct invfilter **, char **);

/*
 * Evaluate the filter on one row: values[i] (lens[i] bytes, need not be
 * NUL-terminated) is column i; n must be the ncolumns the filter was made
 * with. The pointers are read only during the call. Returns 1 when the row
 * is selected, 0 when not, -1 with *cause when the evaluation fails (a
 * value too large, the work bound reached): the caller stops, it does not
 * skip the row.
 */
int	invfilter_match(struct invfilter *, const char *const *,
	    const size_t *, size_t, char **);

void	invfilter_free(struct invfilter *);

/*
 * Compile and discard: a validation before the report's schema is known.
 * With columns NULL the columns are Amazon's inventory fields by name
 * (Bucket, Key, VersionId, ..., BucketKeyStatus, ChecksumAlgorithm,
 * ObjectAccessControlList, ObjectOwner) and every position _1 to
 * _INVFILTER_MAX_COLUMNS, since the report fixes the positions only when
 * it is read. Returns 0 or -1 with *cause as invfilter_new.
 */
int	invfilter_check(const char *, const char *const *, size_t, char **);

#endif /* INVFILTER_H */
