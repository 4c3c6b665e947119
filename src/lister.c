/*
 * One bucket listing, page by page, for the generate stage and an
 * inventory run; see lister.h. The page's XML is parsed as it streams in
 * (s3xml), each entry handed on at once, so the lister holds no more
 * than the parser's state and the markers for the next page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3batchd.h"
#include "lister.h"
#include "s3.h"
#include "s3xml.h"

struct lister {
	struct s3		*s3;
	const struct s3_request	*tmpl;
	char			*prefix;
	int			 all_versions;
	struct lister_cbs	 cbs;
	void			*arg;

	struct s3_call		*call;
	char			*query;
	struct s3xml		*xml;
	struct s3xml_list_page	 lpage;
	struct s3xml_versions_page vpage;
	char			*sink_cause;
	struct buf		 token;		/* continuation, or key marker */
	struct buf		 vmarker;	/* version-id marker */
};

static void
lister_page_clear(struct lister *l)
{
	if (l->xml != NULL)
		s3xml_free(l->xml);
	l->xml = NULL;
	s3xml_list_page_free(&l->lpage);
	s3xml_versions_page_free(&l->vpage);
	free(l->sink_cause);
	l->sink_cause = NULL;
}

static int
lister_object_cb(const struct s3xml_object *o, void *arg, char **cause)
{
	struct lister		*l = arg;
	struct lister_entry	 e;

	memset(&e, 0, sizeof e);
	e.key = &o->key;
	e.etag = &o->etag;
	e.storage_class = &o->storage_class;
	e.checksum = &o->checksum_algorithm;
	e.size = o->size;
	e.mtime = o->last_modified;
	e.is_latest = 1;
	return (l->cbs.entry_cb(&e, l->arg, cause));
}

static int
lister_version_cb(const struct s3xml_version *v, void *arg, char **cause)
{
	struct lister		*l = arg;
	struct lister_entry	 e;

	memset(&e, 0, sizeof e);
	e.key = &v->key;
	e.version_id = v->version_id.data != NULL ? v->version_id.data :
	    "null";
	if (!v->delete_marker) {
		e.etag = &v->etag;
		e.storage_class = &v->storage_class;
	}
	e.size = v->size;
	e.mtime = v->last_modified;
	e.is_latest = v->is_latest;
	e.delete_marker = v->delete_marker;
	return (l->cbs.entry_cb(&e, l->arg, cause));
}

static int
lister_sink_cb(uint64_t offset, const void *data, size_t len, void *arg)
{
	struct lister		*l = arg;
	struct s3xml_cbs	 cbs;

	if (offset == 0) {
		/* A retry sends the page again: forget the first try. */
		lister_page_clear(l);
		l->cbs.reset_cb(l->arg);
		memset(&cbs, 0, sizeof cbs);
		cbs.flags = S3XML_URL_ENCODED;
		cbs.object_cb = lister_object_cb;
		cbs.version_cb = lister_version_cb;
		l->xml = l->all_versions ?
		    s3xml_new(S3XML_DOC_LIST_VERSIONS, &l->vpage, &cbs, l,
		    LISTER_PAGE_BYTES) :
		    s3xml_new(S3XML_DOC_LIST_OBJECTS, &l->lpage, &cbs, l,
		    LISTER_PAGE_BYTES);
	}
	if (l->xml == NULL || l->sink_cause != NULL)
		return (-1);
	if (s3xml_feed(l->xml, data, len, &l->sink_cause) != 0)
		return (-1);
	return (0);
}

/* The page is in: keep its markers, free it, hand on. */
static void
lister_list_cb(const struct s3_result *r, void *arg)
{
	struct lister	*l = arg;
	char		*cause = NULL;
	int		 truncated;

	l->call = NULL;
	if (l->sink_cause != NULL) {
		l->cbs.page_cb(0, NULL, l->sink_cause, l->arg);
		return;
	}
	if (r->error_code != NULL) {
		l->cbs.page_cb(0, r, NULL, l->arg);
		return;
	}
	if (l->xml == NULL || s3xml_finish(l->xml, &cause) != 0) {
		l->cbs.page_cb(0, NULL, cause != NULL ? cause :
		    "an empty answer", l->arg);
		free(cause);
		return;
	}
	buf_reset(&l->token);
	buf_reset(&l->vmarker);
	if (l->all_versions) {
		truncated = l->vpage.is_truncated;
		if (l->vpage.next_key_marker.len != 0)
			buf_add(&l->token, l->vpage.next_key_marker.data,
			    l->vpage.next_key_marker.len);
		if (l->vpage.next_version_id_marker.len != 0)
			buf_add(&l->vmarker,
			    l->vpage.next_version_id_marker.data,
			    l->vpage.next_version_id_marker.len);
	} else {
		truncated = l->lpage.is_truncated;
		if (l->lpage.next_continuation_token.len != 0)
			buf_add(&l->token,
			    l->lpage.next_continuation_token.data,
			    l->lpage.next_continuation_token.len);
	}
	lister_page_clear(l);
	if (truncated && l->token.len == 0) {
		l->cbs.page_cb(0, NULL, "a truncated page without a marker "
		    "for the next one", l->arg);
		return;
	}
	l->cbs.page_cb(!truncated, NULL, NULL, l->arg);
}

struct lister *
lister_new(struct s3 *s3, const struct s3_request *tmpl, const char *prefix,
    int all_versions, const struct lister_cbs *cbs, void *arg)
{
	struct lister	*l;

	l = xcalloc(1, sizeof *l);
	l->s3 = s3;
	l->tmpl = tmpl;
	if (prefix != NULL)
		l->prefix = xstrdup(prefix);
	l->all_versions = all_versions;
	l->cbs = *cbs;
	l->arg = arg;
	buf_init(&l->token);
	buf_init(&l->vmarker);
	return (l);
}

void
lister_next(struct lister *l)
{
	struct s3_request	req;
	struct buf		q;

	lister_page_clear(l);
	/* Parameters in any order: the signer sorts them. */
	buf_init(&q);
	if (l->all_versions)
		buf_addf(&q, "versions&encoding-type=url&max-keys=%d",
		    LISTER_PAGE_KEYS);
	else
		buf_addf(&q, "list-type=2&encoding-type=url&max-keys=%d",
		    LISTER_PAGE_KEYS);
	if (l->prefix != NULL) {
		buf_adds(&q, "&prefix=");
		url_encode(&q, l->prefix, strlen(l->prefix), 0);
	}
	if (l->token.len != 0) {
		buf_adds(&q, l->all_versions ? "&key-marker=" :
		    "&continuation-token=");
		url_encode(&q, l->token.data, l->token.len, 0);
	}
	if (l->all_versions && l->vmarker.len != 0) {
		buf_adds(&q, "&version-id-marker=");
		url_encode(&q, l->vmarker.data, l->vmarker.len, 0);
	}
	free(l->query);
	l->query = buf_detach(&q);

	memset(&req, 0, sizeof req);
	req.method = "GET";
	req.bucket = l->tmpl->bucket;
	req.role_arn = l->tmpl->role_arn;
	req.headers = l->tmpl->headers;
	req.nheaders = l->tmpl->nheaders;
	req.flags = l->tmpl->flags & S3_BACKGROUND;
	req.query = l->query;
	req.sink = lister_sink_cb;
	req.sink_arg = l;
	l->call = s3_call(l->s3, &req, lister_list_cb, l);
}

void
lister_free(struct lister *l)
{
	if (l == NULL)
		return;
	if (l->call != NULL)
		s3_call_cancel(l->call);
	lister_page_clear(l);
	buf_free(&l->token);
	buf_free(&l->vmarker);
	free(l->query);
	free(l->prefix);
	free(l);
}

int
lister_fetch_next(struct lister_fetch *f, size_t n,
    int (*start_cb)(size_t, void *), void *arg)
{
	while (f->next < n && f->inflight < LISTER_FETCH_MAX) {
		/* Counted first: a call may end before start_cb returns. */
		f->inflight++;
		if (!start_cb(f->next++, arg))
			f->inflight--;
	}
	return (f->next == n && f->inflight == 0);
}

void
lister_fetch_done(struct lister_fetch *f)
{
	f->inflight--;
}

int
lister_page_room(size_t n, char **cause)
{
	if (n == LISTER_PAGE_MAX) {
		xasprintf(cause, "a listing page brought more than %d entries",
		    LISTER_PAGE_MAX);
		return (-1);
	}
	return (0);
}

void
lister_item_set(struct lister_item *it, const struct lister_entry *e)
{
	const struct buf	*sc = e->storage_class;
	const char		*p;
	size_t			 len;

	memset(it, 0, sizeof *it);
	it->key = xmalloc(e->key->len + 1);
	memcpy(it->key, e->key->data, e->key->len);
	it->key[e->key->len] = '\0';
	it->key_len = e->key->len;
	if (e->version_id != NULL)
		it->version_id = xstrdup(e->version_id);
	p = e->etag != NULL && e->etag->data != NULL ? e->etag->data : "";
	len = strlen(p);
	if (len >= 2 && p[0] == '"' && p[len - 1] == '"')
		it->etag = xstrndup(p + 1, len - 2);
	else
		it->etag = xstrdup(p);
	it->storage_class = xstrdup(sc != NULL && sc->data != NULL &&
	    *sc->data != '\0' ? sc->data : "STANDARD");
	it->size = e->size;
	it->mtime = e->mtime;
}

void
lister_item_clear(struct lister_item *it)
{
	free(it->key);
	free(it->version_id);
	free(it->etag);
	free(it->storage_class);
	memset(it, 0, sizeof *it);
}

char *
lister_result_text(const struct s3_result *r)
{
	const char	*msg = r->error_message;
	char		*s, status[32];

	snprintf(status, sizeof status, "HTTP %d", r->status);
	if (msg != NULL && strcmp(msg, status) == 0)
		msg = NULL;
	xasprintf(&s, "%s (%s)%s%s", r->error_code != NULL ? r->error_code :
	    "error", r->status != 0 ? status : "no HTTP answer",
	    msg != NULL ? ": " : "", msg != NULL ? msg : "");
	return (s);
}
