/*
 * One bucket listing for the stages that read a whole bucket (the
 * ManifestGenerator, an inventory run): ListObjectsV2 (current versions)
 * or ListObjectVersions (all versions) of a bucket and prefix, page by
 * page (max-keys 1000, encoding-type=url) through the shared S3 client.
 * Each entry of a page goes to entry_cb as it is parsed; page_cb says when
 * the page is in. The next page is asked for only when the consumer calls
 * lister_next(): it may hold the listing while it HEADs or uploads, so
 * that memory stays one page (at most LISTER_PAGE_MAX entries, an XML
 * answer of at most LISTER_PAGE_BYTES). A retried page is parsed again
 * from its start: reset_cb comes first on every try, so that the consumer
 * forgets what an earlier try gave.
 */
#ifndef LISTER_H
#define LISTER_H

#include <stddef.h>
#include <stdint.h>

#include "s3.h"

#define LISTER_PAGE_KEYS	1000	/* max-keys of a listing page */
#define LISTER_PAGE_MAX		10000	/* entries a page may bring */
#define LISTER_PAGE_BYTES	(64 * 1024 * 1024) /* one page's XML */
#define LISTER_FETCH_MAX	32	/* per-entry calls at a time */

struct buf;
struct lister;

/* One listed object, version or delete marker; valid in entry_cb only. */
struct lister_entry {
	const struct buf	*key;
	const char		*version_id;	/* NULL: ListObjectsV2 */
	const struct buf	*etag;		/* NULL: a delete marker */
	const struct buf	*storage_class;	/* NULL: a delete marker */
	const struct buf	*checksum;	/* NULL: ListObjectVersions */
	int64_t			 size;
	uint64_t		 mtime;
	int			 is_latest;
	int			 delete_marker;
};

/* An entry's copy that outlives the page's parse (lister_item_set). */
struct lister_item {
	char			*key;
	size_t			 key_len;
	char			*version_id;	/* NULL: ListObjectsV2 */
	char			*etag;		/* without quotes */
	char			*storage_class;	/* "STANDARD" when none */
	int64_t			 size;
	uint64_t		 mtime;
};

/* -1 with *cause ends the page (and the listing) with that cause. */
typedef int	(*lister_entry_cb)(const struct lister_entry *, void *,
		    char **);
typedef void	(*lister_reset_cb)(void *);
/*
 * The page is in (r and cause NULL; last: no page follows), or the
 * listing failed: r is the S3 error answer, or cause says why the answer
 * is not a listing (e.g. "an empty answer"). After a failure only
 * lister_free() is left.
 */
typedef void	(*lister_page_cb)(int, const struct s3_result *,
		    const char *, void *);

struct lister_cbs {
	lister_entry_cb		 entry_cb;
	lister_reset_cb		 reset_cb;
	lister_page_cb		 page_cb;
};

/*
 * A lister of REQ's bucket (REQ's bucket, role_arn and headers are used
 * for every page and must live as long as the lister) under PREFIX (NULL:
 * all), ALL_VERSIONS or not. Nothing is asked before lister_next().
 */
struct lister	*lister_new(struct s3 *, const struct s3_request *,
		     const char *, int, const struct lister_cbs *, void *);
/* Ask for the next page (the first at the start). */
void		 lister_next(struct lister *);
/* Cancel a page in flight; no callback follows. */
void		 lister_free(struct lister *);

/*
 * The bounded per-entry calls of a page (HEAD, GET ?tagging, ...): at
 * most LISTER_FETCH_MAX in flight, in the order of the page.
 */
struct lister_fetch {
	size_t		 next;		/* the next entry to look at */
	size_t		 inflight;
};
/*
 * Start calls on the entries from f->next on, up to the bound: start_cb
 * returns 1 when it started a call on entry I, 0 when I needs none.
 * Returns 1 when all N entries are done and none is in flight.
 */
int		 lister_fetch_next(struct lister_fetch *, size_t,
		     int (*)(size_t, void *), void *);
/* A call that lister_fetch_next() started has ended. */
void		 lister_fetch_done(struct lister_fetch *);

/*
 * -1 with *cause when a page already holds N == LISTER_PAGE_MAX entries
 * (the memory bound), else 0.
 */
int		 lister_page_room(size_t, char **);
/* Copy an entry's common fields into IT (zeroed first). */
void		 lister_item_set(struct lister_item *,
		     const struct lister_entry *);
void		 lister_item_clear(struct lister_item *);

/* "AccessDenied (HTTP 403): message", without repeating "HTTP 403". */
char		*lister_result_text(const struct s3_result *);

#endif /* LISTER_H */
