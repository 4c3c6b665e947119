/*
 * Inventory row filters: S3 Select's WHERE syntax, compiled and evaluated
 * by SQLite (invfilter.h). Our part is the fence around it: what the text
 * may be, what the compiled statement may touch, how much it may do per
 * row. The grammar is SQLite's; we parse nothing.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "s3batchd.h"
#include "invfilter.h"

/* The eponymous virtual table that holds the current row. */
#define INVFILTER_TABLE		"inventory"
#define INVFILTER_HEAD		"SELECT 1 FROM " INVFILTER_TABLE " AS s WHERE ("
/* A newline first, so that a trailing "-- comment" cannot hide it. */
#define INVFILTER_TAIL		"\n)"

/*
 * Bounds on what a text may build and do. The expression depth allows a
 * chain of some two hundred ORs (IN (...) is the better spelling); the
 * work bound is far above what any honest filter needs per row (a few
 * dozen operations) and far below a noticeable stall.
 */
#define INVFILTER_MAX_DEPTH	256
#define INVFILTER_MAX_LIKE	1024		/* LIKE/GLOB pattern bytes */
#define INVFILTER_MAX_VALUE	(1024 * 1024)	/* any string it makes */
#define INVFILTER_MAX_OPS	20000		/* program size */
#define INVFILTER_MAX_ARGS	8		/* per function call */
#define INVFILTER_PROGRESS	100		/* operations per tick */
#define INVFILTER_MAX_TICKS	1000		/* ticks per row */

/*
 * Amazon's inventory columns, in the order a report lists them: the names
 * a filter may use before the report says which of them it has.
 */
static const char *const invfilter_amazon_columns[] = {
	"Bucket", "Key", "VersionId", "IsLatest", "IsDeleteMarker", "Size",
	"LastModifiedDate", "ETag", "StorageClass", "IsMultipartUploaded",
	"ReplicationStatus", "EncryptionStatus", "ObjectLockRetainUntilDate",
	"ObjectLockMode", "ObjectLockLegalHoldStatus",
	"IntelligentTieringAccessTier", "BucketKeyStatus", "ChecksumAlgorithm",
	"ObjectAccessControlList", "ObjectOwner",
};

/* Pure functions of their arguments, all a row filter needs. */
static const char *const invfilter_functions[] = {
	"abs", "char_length", "character_length", "coalesce", "glob",
	"ifnull", "iif", "instr", "length", "like", "lower", "ltrim",
	"nullif", "replace", "rtrim", "substr", "substring", "trim", "upper",
};

/* Authorizer actions refused by name, for a message that says what. */
static const struct {
	int		 action;
	const char	*what;
} invfilter_refused[] = {
	{ SQLITE_ATTACH, "ATTACH" },
	{ SQLITE_DETACH, "DETACH" },
	{ SQLITE_PRAGMA, "PRAGMA" },
	{ SQLITE_INSERT, "INSERT" },
	{ SQLITE_UPDATE, "UPDATE" },
	{ SQLITE_DELETE, "DELETE" },
	{ SQLITE_TRANSACTION, "a transaction" },
	{ SQLITE_RECURSIVE, "a recursive query" },
	{ SQLITE_ANALYZE, "ANALYZE" },
};

struct invfilter {
	sqlite3			*db;
	sqlite3_stmt		*stmt;
	size_t			 nfields;	/* values per row */
	size_t			 ncols;		/* table columns */
	size_t			*map;		/* table column -> field */
	char			*decl;		/* the table's CREATE TABLE */
	/* The row being matched. */
	const char *const	*values;
	const size_t		*lens;
	unsigned		 ticks;
	/* While compiling. */
	int			 compiling;
	int			 selects;
	char			*denied;	/* why the authorizer said no */
};

struct invfilter_vtab {
	sqlite3_vtab		 base;
	struct invfilter	*f;
};

struct invfilter_cursor {
	sqlite3_vtab_cursor	 base;
	int			 eof;
};

static int
invfilter_connect_cb(sqlite3 *db, void *aux, int argc,
    const char *const *argv, sqlite3_vtab **out, char **err)
{
	struct invfilter	*f = aux;
	struct invfilter_vtab	*vt;
	int			 rc;

	(void)argc;
	(void)argv;
	(void)err;
	if ((rc = sqlite3_declare_vtab(db, f->decl)) != SQLITE_OK)
		return (rc);
	vt = xcalloc(1, sizeof *vt);
	vt->f = f;
	*out = &vt->base;
	return (SQLITE_OK);
}

static int
invfilter_disconnect_cb(sqlite3_vtab *base)
{
	free(base);
	return (SQLITE_OK);
}

/* One row, no index: SQLite evaluates the whole WHERE itself. */
static int
invfilter_best_index_cb(sqlite3_vtab *base, sqlite3_index_info *info)
{
	(void)base;
	info->estimatedCost = 1.0;
	info->estimatedRows = 1;
	info->idxFlags = SQLITE_INDEX_SCAN_UNIQUE;
	return (SQLITE_OK);
}

static int
invfilter_open_cb(sqlite3_vtab *base, sqlite3_vtab_cursor **out)
{
	struct invfilter_cursor	*c;

	(void)base;
	c = xcalloc(1, sizeof *c);
	c->eof = 1;
	*out = &c->base;
	return (SQLITE_OK);
}

static int
invfilter_close_cb(sqlite3_vtab_cursor *base)
{
	free(base);
	return (SQLITE_OK);
}

static int
invfilter_filter_cb(sqlite3_vtab_cursor *base, int idx, const char *idxstr,
    int argc, sqlite3_value **argv)
{
	struct invfilter_cursor	*c = (struct invfilter_cursor *)base;
	struct invfilter_vtab	*vt = (struct invfilter_vtab *)base->pVtab;

	(void)idx;
	(void)idxstr;
	(void)argc;
	(void)argv;
	c->eof = vt->f->values == NULL;
	return (SQLITE_OK);
}

static int
invfilter_next_cb(sqlite3_vtab_cursor *base)
{
	((struct invfilter_cursor *)base)->eof = 1;
	return (SQLITE_OK);
}

static int
invfilter_eof_cb(sqlite3_vtab_cursor *base)
{
	return (((struct invfilter_cursor *)base)->eof);
}

/* The field as it is: a string, never copied (the row outlives the step). */
static int
invfilter_column_cb(sqlite3_vtab_cursor *base, sqlite3_context *ctx, int i)
{
	struct invfilter	*f = ((struct invfilter_vtab *)base->pVtab)->f;
	size_t			 field;

	if (i < 0 || (size_t)i >= f->ncols || f->values == NULL) {
		sqlite3_result_null(ctx);
		return (SQLITE_OK);
	}
	field = f->map[i];
	if (f->lens[field] > INVFILTER_MAX_VALUE) {
		sqlite3_result_error_toobig(ctx);
		return (SQLITE_TOOBIG);
	}
	sqlite3_result_text(ctx, f->values[field], (int)f->lens[field],
	    SQLITE_STATIC);
	return (SQLITE_OK);
}

static int
invfilter_rowid_cb(sqlite3_vtab_cursor *base, sqlite3_int64 *rowid)
{
	(void)base;
	*rowid = 1;
	return (SQLITE_OK);
}

/* Eponymous only (no xCreate): the table exists without CREATE. */
static const sqlite3_module invfilter_module = {
	.iVersion = 0,
	.xConnect = invfilter_connect_cb,
	.xBestIndex = invfilter_best_index_cb,
	.xDisconnect = invfilter_disconnect_cb,
	.xOpen = invfilter_open_cb,
	.xClose = invfilter_close_cb,
	.xFilter = invfilter_filter_cb,
	.xNext = invfilter_next_cb,
	.xEof = invfilter_eof_cb,
	.xColumn = invfilter_column_cb,
	.xRowid = invfilter_rowid_cb,
};

/* S3 Select's CHAR_LENGTH: characters, where SQLite's length() is too. */
static void
invfilter_char_length_cb(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char	*s;
	sqlite3_int64		 n = 0;

	(void)argc;
	if ((s = sqlite3_value_text(argv[0])) == NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	for (; *s != '\0'; s++) {
		if ((*s & 0xc0) != 0x80)
			n++;
	}
	sqlite3_result_int64(ctx, n);
}

static int	invfilter_deny(struct invfilter *, const char *, ...)
		    printflike(2, 3);

/* Keep the first reason: the one the text's author must read. */
static int
invfilter_deny(struct invfilter *f, const char *fmt, ...)
{
	va_list	ap;

	if (f->denied == NULL) {
		va_start(ap, fmt);
		xvasprintf(&f->denied, fmt, ap);
		va_end(ap);
	}
	return (SQLITE_DENY);
}

static int
invfilter_auth_cb(void *arg, int action, const char *a1, const char *a2,
    const char *dbname, const char *trigger)
{
	struct invfilter	*f = arg;
	size_t			 i;

	(void)trigger;
	/* Only our one prepare; a re-prepare would mean a schema changed. */
	if (!f->compiling)
		return (invfilter_deny(f, "%s", "running a statement"));
	switch (action) {
	case SQLITE_SELECT:
		/* Ours. Any other is a subquery or a compound's term. */
		if (f->selects++ == 0)
			return (SQLITE_OK);
		return (invfilter_deny(f, "%s", "a subquery (SELECT) is not "
		    "allowed"));
	case SQLITE_READ:
		/* The table alone (no column) comes without a schema. */
		if (a1 != NULL && strcmp(a1, INVFILTER_TABLE) == 0 &&
		    (dbname == NULL || strcmp(dbname, "main") == 0))
			return (SQLITE_OK);
		return (invfilter_deny(f, "reading %s is not allowed (a "
		    "filter sees only the row's columns)",
		    a1 == NULL ? "?" : a1));
	case SQLITE_FUNCTION:
		for (i = 0; a2 != NULL && i < nitems(invfilter_functions);
		    i++) {
			if (strcasecmp(a2, invfilter_functions[i]) == 0)
				return (SQLITE_OK);
		}
		return (invfilter_deny(f, "the function %s() is not allowed "
		    "(docs/FILTERS.md lists those that are)",
		    a2 == NULL ? "?" : a2));
	}
	for (i = 0; i < nitems(invfilter_refused); i++) {
		if (invfilter_refused[i].action == action) {
			return (invfilter_deny(f, "%s is not allowed",
			    invfilter_refused[i].what));
		}
	}
	return (invfilter_deny(f, "%s", "this statement is not allowed (a "
	    "filter only reads the row)"));
}

static int
invfilter_progress_cb(void *arg)
{
	struct invfilter	*f = arg;

	return (++f->ticks > INVFILTER_MAX_TICKS);
}

/* "name" with its quotes doubled. */
static void
invfilter_quote(struct buf *b, const char *s)
{
	buf_addc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			buf_addc(b, '"');
		buf_addc(b, *s);
	}
	buf_addc(b, '"');
}

/* Is name _N for N in 1..npos, or the same (ignoring case) as a name? */
static int
invfilter_taken(const char *const *names, size_t n, size_t npos,
    const char *name)
{
	const char	*p;
	size_t		 i, v = 0;

	if (name[0] == '_' && name[1] >= '1' && name[1] <= '9') {
		for (p = name + 1; *p >= '0' && *p <= '9' && v <= npos; p++)
			v = v * 10 + (size_t)(*p - '0');
		if (*p == '\0' && v <= npos)
			return (1);
	}
	for (i = 0; i < n; i++) {
		if (strcasecmp(names[i], name) == 0)
			return (1);
	}
	return (0);
}

/*
 * The table: _1.._npos for fields 0..npos-1, then names[i] for field i
 * (unless taken). The CREATE TABLE is TEXT throughout: every value is a
 * string, and a string literal compares as one.
 */
static void
invfilter_declare(struct invfilter *f, const char *const *names,
    size_t nnames, size_t npos)
{
	struct buf	b;
	size_t		i;

	f->nfields = npos > nnames ? npos : nnames;
	f->map = xcalloc(npos + nnames, sizeof *f->map);
	buf_init(&b);
	buf_adds(&b, "CREATE TABLE x(");
	for (i = 0; i < npos; i++) {
		buf_addf(&b, "%s_%zu TEXT", i == 0 ? "" : ", ", i + 1);
		f->map[f->ncols++] = i;
	}
	for (i = 0; i < nnames; i++) {
		if (names[i] == NULL || names[i][0] == '\0' ||
		    invfilter_taken(names, i, npos, names[i]))
			continue;
		if (f->ncols != 0)
			buf_adds(&b, ", ");
		invfilter_quote(&b, names[i]);
		buf_adds(&b, " TEXT");
		f->map[f->ncols++] = i;
	}
	buf_adds(&b, ")");
	f->decl = buf_detach(&b);
}

static int
invfilter_sqlite_fail(struct invfilter *f, const char *what, char **cause)
{
	xasprintf(cause, "%s: %s", what, sqlite3_errmsg(f->db));
	return (-1);
}

/* An in-memory connection that can do nothing but evaluate the filter. */
static int
invfilter_open(struct invfilter *f, char **cause)
{
	sqlite3_stmt	*st = NULL;
	int		 rc;

	rc = sqlite3_open_v2(":memory:", &f->db, SQLITE_OPEN_READWRITE|
	    SQLITE_OPEN_CREATE|SQLITE_OPEN_NOMUTEX|SQLITE_OPEN_PRIVATECACHE,
	    NULL);
	if (rc != SQLITE_OK) {
		xasprintf(cause, "cannot open SQLite: %s", f->db == NULL ?
		    sqlite3_errstr(rc) : sqlite3_errmsg(f->db));
		return (-1);
	}
	sqlite3_db_config(f->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(f->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_db_config(f->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0,
	    NULL);
	sqlite3_db_config(f->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
	sqlite3_db_config(f->db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL);
	/* "x" is an identifier, as in S3 Select, never a string. */
	sqlite3_db_config(f->db, SQLITE_DBCONFIG_DQS_DML, 0, NULL);
	sqlite3_db_config(f->db, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);
	if (sqlite3_create_module_v2(f->db, INVFILTER_TABLE,
	    &invfilter_module, f, NULL) != SQLITE_OK)
		return (invfilter_sqlite_fail(f, "cannot make the row table",
		    cause));
	if (sqlite3_create_function(f->db, "char_length", 1, SQLITE_UTF8|
	    SQLITE_DETERMINISTIC|SQLITE_INNOCUOUS, NULL,
	    invfilter_char_length_cb, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(f->db, "character_length", 1,
	    SQLITE_UTF8|SQLITE_DETERMINISTIC|SQLITE_INNOCUOUS, NULL,
	    invfilter_char_length_cb, NULL, NULL) != SQLITE_OK)
		return (invfilter_sqlite_fail(f, "cannot add char_length",
		    cause));
	/* Connect the table now, before the fence goes up. */
	if (sqlite3_prepare_v2(f->db, "SELECT 1 FROM " INVFILTER_TABLE, -1,
	    &st, NULL) != SQLITE_OK) {
		invfilter_sqlite_fail(f, "cannot declare the row's columns",
		    cause);
		sqlite3_finalize(st);
		return (-1);
	}
	sqlite3_finalize(st);

	sqlite3_limit(f->db, SQLITE_LIMIT_SQL_LENGTH, INVFILTER_MAX_TEXT +
	    (int)sizeof INVFILTER_HEAD + (int)sizeof INVFILTER_TAIL);
	sqlite3_limit(f->db, SQLITE_LIMIT_LENGTH, INVFILTER_MAX_VALUE);
	sqlite3_limit(f->db, SQLITE_LIMIT_EXPR_DEPTH, INVFILTER_MAX_DEPTH);
	sqlite3_limit(f->db, SQLITE_LIMIT_COMPOUND_SELECT, 1);
	sqlite3_limit(f->db, SQLITE_LIMIT_VDBE_OP, INVFILTER_MAX_OPS);
	sqlite3_limit(f->db, SQLITE_LIMIT_FUNCTION_ARG, INVFILTER_MAX_ARGS);
	sqlite3_limit(f->db, SQLITE_LIMIT_ATTACHED, 0);
	sqlite3_limit(f->db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH,
	    INVFILTER_MAX_LIKE);
	sqlite3_limit(f->db, SQLITE_LIMIT_TRIGGER_DEPTH, 0);
	sqlite3_limit(f->db, SQLITE_LIMIT_WORKER_THREADS, 0);
	if (sqlite3_set_authorizer(f->db, invfilter_auth_cb, f) != SQLITE_OK)
		return (invfilter_sqlite_fail(f, "cannot set the authorizer",
		    cause));
	sqlite3_progress_handler(f->db, INVFILTER_PROGRESS,
	    invfilter_progress_cb, f);
	return (0);
}

/* The text alone: its size, and no string or comment left open. */
static int
invfilter_check_text(const char *where, char **cause)
{
	size_t	len;
	char	*probe;
	int	 complete;

	if (where == NULL || where[strspn(where, " \t\r\n")] == '\0') {
		xasprintf(cause, "is empty");
		return (-1);
	}
	if ((len = strlen(where)) > INVFILTER_MAX_TEXT) {
		xasprintf(cause, "is longer than %d bytes", INVFILTER_MAX_TEXT);
		return (-1);
	}
	/* SQLite's own tokenizer: ";" counts only outside strings/comments. */
	xasprintf(&probe, "%s\n;", where);
	complete = sqlite3_complete(probe);
	free(probe);
	if (!complete) {
		xasprintf(cause, "has a string, quoted name or comment that is "
		    "not closed");
		return (-1);
	}
	return (0);
}

static int
invfilter_compile(struct invfilter *f, const char *where, char **cause)
{
	const char	*tail = NULL;
	char		*sql;
	int		 rc;

	xasprintf(&sql, "%s%s%s", INVFILTER_HEAD, where, INVFILTER_TAIL);
	f->compiling = 1;
	f->selects = 0;
	rc = sqlite3_prepare_v3(f->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &f->stmt, &tail);
	f->compiling = 0;
	if (rc != SQLITE_OK) {
		if (f->denied != NULL) {
			*cause = f->denied;
			f->denied = NULL;
		} else if (rc == SQLITE_TOOBIG || rc == SQLITE_NOMEM) {
			/* SQLite's answer to a program over the op limit. */
			xasprintf(cause, "is too long or too complex (at most "
			    "%d operations)", INVFILTER_MAX_OPS);
		} else
			xasprintf(cause, "%s", sqlite3_errmsg(f->db));
		goto fail;
	}
	if (tail != NULL && tail[strspn(tail, " \t\r\n")] != '\0') {
		xasprintf(cause, "holds more than one statement (a filter is "
		    "one expression)");
		goto fail;
	}
	if (f->stmt == NULL || !sqlite3_stmt_readonly(f->stmt) ||
	    sqlite3_column_count(f->stmt) != 1) {
		xasprintf(cause, "is not one expression");
		goto fail;
	}
	free(sql);
	return (0);
fail:
	free(sql);
	sqlite3_finalize(f->stmt);
	f->stmt = NULL;
	return (-1);
}

static int
invfilter_make(const char *where, const char *const *names, size_t nnames,
    size_t npos, struct invfilter **out, char **cause)
{
	struct invfilter	*f;

	*out = NULL;
	if (invfilter_check_text(where, cause) != 0)
		return (-1);
	f = xcalloc(1, sizeof *f);
	invfilter_declare(f, names, nnames, npos);
	if (invfilter_open(f, cause) != 0 ||
	    invfilter_compile(f, where, cause) != 0) {
		invfilter_free(f);
		return (-1);
	}
	*out = f;
	return (0);
}

int
invfilter_new(const char *where, const char *const *columns, size_t ncolumns,
    struct invfilter **out, char **cause)
{
	if (columns == NULL || ncolumns == 0 ||
	    ncolumns > INVFILTER_MAX_COLUMNS) {
		*out = NULL;
		xasprintf(cause, "the report must have 1 to %d columns",
		    INVFILTER_MAX_COLUMNS);
		return (-1);
	}
	return (invfilter_make(where, columns, ncolumns, ncolumns, out,
	    cause));
}

int
invfilter_check(const char *where, const char *const *columns,
    size_t ncolumns, char **cause)
{
	struct invfilter	*f;

	if (columns == NULL) {
		if (invfilter_make(where, invfilter_amazon_columns,
		    nitems(invfilter_amazon_columns), INVFILTER_MAX_COLUMNS,
		    &f, cause) != 0)
			return (-1);
	} else if (invfilter_new(where, columns, ncolumns, &f, cause) != 0)
		return (-1);
	invfilter_free(f);
	return (0);
}

int
invfilter_match(struct invfilter *f, const char *const *values,
    const size_t *lens, size_t n, char **cause)
{
	int	rc, r;

	if (n != f->nfields) {
		xasprintf(cause, "the row has %zu fields, the filter expects "
		    "%zu", n, f->nfields);
		return (-1);
	}
	f->values = values;
	f->lens = lens;
	f->ticks = 0;
	rc = sqlite3_step(f->stmt);
	if (rc == SQLITE_ROW)
		r = 1;
	else if (rc == SQLITE_DONE)
		r = 0;
	else {
		if (rc == SQLITE_INTERRUPT && f->ticks > INVFILTER_MAX_TICKS) {
			xasprintf(cause, "did more than %d operations on one "
			    "row", INVFILTER_PROGRESS * INVFILTER_MAX_TICKS);
		} else
			xasprintf(cause, "%s", sqlite3_errmsg(f->db));
		r = -1;
	}
	sqlite3_reset(f->stmt);
	f->values = NULL;
	f->lens = NULL;
	return (r);
}

void
invfilter_free(struct invfilter *f)
{
	if (f == NULL)
		return;
	sqlite3_finalize(f->stmt);
	/* The table's disconnect runs here, while f is still whole. */
	sqlite3_close_v2(f->db);
	free(f->map);
	free(f->decl);
	free(f->denied);
	free(f);
}
