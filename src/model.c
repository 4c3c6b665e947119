/*
 * Validation of JSON requests against the service model tables. One walk
 * over the shape tables, stopping at the first error, whose message names
 * the offending field by its full path.
 */
#include <sys/types.h>

#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "model.h"

/* How much of a bad value a message quotes, in characters. */
#define MODEL_QUOTE_MAX		64
/* Year 9999 in seconds: the end of what ISO 8601 strings can say. */
#define MODEL_TIME_MAX		INT64_C(253402300799)

struct model_ctx {
	struct buf		 path;
	const char		*root;		/* names the top in messages */
	const char		*prefix;	/* before the message */
	const char *const	*except;	/* may be absent if required */
	char			*cause;
};

static int	model_check(struct model_ctx *, const struct model_shape *,
		    struct json_object *);
static int	model_fail(struct model_ctx *, const char *, ...)
		    printflike(2, 3);

/* One compiled pattern per shape, built once for every thread. */
static regex_t		*model_regex;
static pthread_once_t	 model_regex_once = PTHREAD_ONCE_INIT;

static void
model_regex_init(void)
{
	const struct model_shape	*sh;
	size_t				 i;
	int				 error;
	char				 msg[256];

	model_regex = xcalloc(model_nshapes, sizeof *model_regex);
	for (i = 0; i < model_nshapes; i++) {
		sh = &model_shapes[i];
		if (sh->regex == NULL)
			continue;
		error = regcomp(&model_regex[i], sh->regex,
		    REG_EXTENDED | REG_NOSUB);
		if (error != 0) {
			regerror(error, &model_regex[i], msg, sizeof msg);
			fatalx("model: pattern of %s: %s", sh->name, msg);
		}
	}
}

static int
model_find_cmp(const void *key, const void *elem)
{
	const struct model_shape	*sh = elem;

	return (strcmp(key, sh->name));
}

const struct model_shape *
model_find(const char *name)
{
	return (bsearch(name, model_shapes, model_nshapes,
	    sizeof model_shapes[0], model_find_cmp));
}

const char *const *
model_enum_values(const char *name)
{
	const struct model_shape	*sh;

	if ((sh = model_find(name)) == NULL)
		return (NULL);
	return (sh->enums);
}

static const struct model_member *
model_member_find(const struct model_shape *sh, const char *name)
{
	size_t	 lo = 0, hi = sh->nmembers, mid;
	int	 c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(name, sh->members[mid].name);
		if (c == 0)
			return (&sh->members[mid]);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (NULL);
}

/* Code points in a valid UTF-8 string: bytes that do not continue one. */
static size_t
model_utf8_len(const char *s, size_t len)
{
	size_t	 i, n = 0;

	for (i = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	}
	return (n);
}

void
model_quote(struct buf *b, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n = 0;
	int			 valid = utf8_valid(s, len);

	buf_addc(b, '"');
	for (i = 0; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80 || !valid) {
			if (n++ == MODEL_QUOTE_MAX) {
				buf_adds(b, "...");
				break;
			}
		}
		if (p[i] == '"' || p[i] == '\\') {
			buf_addc(b, '\\');
			buf_addc(b, (char)p[i]);
		} else if (p[i] < 0x20 || p[i] == 0x7f || (p[i] >= 0x80 &&
		    !valid))
			buf_addf(b, "\\x%02x", p[i]);
		else
			buf_addc(b, (char)p[i]);
	}
	buf_addc(b, '"');
}

static int
model_fail(struct model_ctx *ctx, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	if (ctx->cause != NULL)
		return (-1);
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	xasprintf(&ctx->cause, "%s: %s%s",
	    ctx->path.len != 0 ? ctx->path.data : ctx->root, ctx->prefix, msg);
	free(msg);
	return (-1);
}

/* Fail with a message about a quoted value: "\"x\" is not ...". */
static int
model_fail_value(struct model_ctx *ctx, const char *s, size_t len,
    const char *what)
{
	struct buf	 b;
	int		 r;

	buf_init(&b);
	model_quote(&b, s, len);
	r = model_fail(ctx, "%s %s", b.data, what);
	buf_free(&b);
	return (r);
}

static size_t
model_path_push(struct model_ctx *ctx, const char *name)
{
	size_t	 mark = ctx->path.len;

	if (mark != 0)
		buf_addc(&ctx->path, '.');
	buf_adds(&ctx->path, name);
	return (mark);
}

/* A name from the request: plain if it reads as one, else quoted. */
static size_t
model_path_push_key(struct model_ctx *ctx, const char *name, int bracket)
{
	size_t	 mark = ctx->path.len, i, len = strlen(name);

	for (i = 0; i < len && !bracket; i++) {
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789_-", name[i]) == NULL)
			bracket = 1;
	}
	if (len == 0 || len > MODEL_QUOTE_MAX)
		bracket = 1;
	if (!bracket)
		return (model_path_push(ctx, name));
	buf_addc(&ctx->path, '[');
	model_quote(&ctx->path, name, len);
	buf_addc(&ctx->path, ']');
	return (mark);
}

static void
model_path_pop(struct model_ctx *ctx, size_t mark)
{
	ctx->path.len = mark;
	if (ctx->path.data != NULL)
		ctx->path.data[mark] = '\0';
}

static int
model_match(const struct model_shape *sh, const char *s, size_t len)
{
	char	*copy = NULL;
	size_t	 i, j;
	int	 r;

	pthread_once(&model_regex_once, model_regex_init);
	if (sh->flags & MODEL_S_PATTERN_UNI) {
		/*
		 * POSIX has no Unicode classes: each non-ASCII character
		 * stands as a letter, which the pattern allows.
		 */
		copy = xmalloc(len + 1);
		for (i = j = 0; i < len; i++) {
			if ((unsigned char)s[i] < 0x80)
				copy[j++] = s[i];
			else if (((unsigned char)s[i] & 0xc0) != 0x80)
				copy[j++] = 'a';
		}
		copy[j] = '\0';
		s = copy;
	}
	r = regexec(&model_regex[sh - model_shapes], s, 0, NULL, 0);
	free(copy);
	return (r == 0);
}

static int
model_check_string(struct model_ctx *ctx, const struct model_shape *sh,
    const char *s, size_t len)
{
	const char *const	*e;
	struct buf		 b;
	size_t			 n;
	int			 r;

	/* Strings become C strings later: a NUL would cut them silently. */
	if (memchr(s, '\0', len) != NULL)
		return (model_fail(ctx, "contains a NUL character"));
	if (!utf8_valid(s, len))
		return (model_fail(ctx, "is not valid UTF-8"));
	n = model_utf8_len(s, len);
	if ((sh->flags & MODEL_S_MIN) && (int64_t)n < sh->min) {
		return (model_fail(ctx, "length %zu is below the minimum of "
		    "%lld", n, (long long)sh->min));
	}
	if ((sh->flags & MODEL_S_MAX) && (int64_t)n > sh->max) {
		return (model_fail(ctx, "length %zu is above the maximum of "
		    "%lld", n, (long long)sh->max));
	}
	if (sh->enums != NULL) {
		for (e = sh->enums; *e != NULL; e++) {
			if (strlen(*e) == len && memcmp(*e, s, len) == 0)
				break;
		}
		if (*e == NULL) {
			buf_init(&b);
			buf_adds(&b, "is not one of ");
			for (e = sh->enums; *e != NULL; e++) {
				if (e != sh->enums)
					buf_adds(&b, ", ");
				buf_adds(&b, *e);
			}
			r = model_fail_value(ctx, s, len, b.data);
			buf_free(&b);
			return (r);
		}
	}
	if (sh->regex != NULL && !model_match(sh, s, len)) {
		buf_init(&b);
		buf_addf(&b, "does not match the pattern %s", sh->pattern);
		r = model_fail_value(ctx, s, len, b.data);
		buf_free(&b);
		return (r);
	}
	return (0);
}

static int
model_check_number(struct model_ctx *ctx, const struct model_shape *sh,
    struct json_object *v)
{
	int64_t		 i;
	uint64_t	 u;

	if (!json_object_is_type(v, json_type_int))
		return (model_fail(ctx, "expected an integer"));
	i = json_object_get_int64(v);
	if (i == INT64_MAX && (u = json_object_get_uint64(v)) > INT64_MAX) {
		return (model_fail(ctx, "%llu is out of range",
		    (unsigned long long)u));
	}
	if (sh->type == MODEL_INTEGER && (i < INT32_MIN || i > INT32_MAX)) {
		return (model_fail(ctx, "%lld is out of range for an integer",
		    (long long)i));
	}
	if ((sh->flags & MODEL_S_MIN) && i < sh->min) {
		return (model_fail(ctx, "%lld is below the minimum of %lld",
		    (long long)i, (long long)sh->min));
	}
	if ((sh->flags & MODEL_S_MAX) && i > sh->max) {
		return (model_fail(ctx, "%lld is above the maximum of %lld",
		    (long long)i, (long long)sh->max));
	}
	return (0);
}

static int
model_check_size(struct model_ctx *ctx, const struct model_shape *sh,
    size_t n)
{
	if ((sh->flags & MODEL_S_MIN) && (int64_t)n < sh->min) {
		return (model_fail(ctx, "size %zu is below the minimum of %lld",
		    n, (long long)sh->min));
	}
	if ((sh->flags & MODEL_S_MAX) && (int64_t)n > sh->max) {
		return (model_fail(ctx, "size %zu is above the maximum of %lld",
		    n, (long long)sh->max));
	}
	return (0);
}

static int
model_is_excepted(struct model_ctx *ctx, const char *name)
{
	const char *const	*e;
	size_t			 plen = ctx->path.len, nlen = strlen(name);

	if (ctx->except == NULL)
		return (0);
	for (e = ctx->except; *e != NULL; e++) {
		if (plen == 0) {
			if (strcmp(*e, name) == 0)
				return (1);
			continue;
		}
		if (strlen(*e) == plen + 1 + nlen &&
		    strncmp(*e, ctx->path.data, plen) == 0 &&
		    (*e)[plen] == '.' && strcmp(*e + plen + 1, name) == 0)
			return (1);
	}
	return (0);
}

static int
model_check_union(struct model_ctx *ctx, const struct model_shape *sh,
    struct json_object *v)
{
	const char	*set[2] = { NULL, NULL };
	struct buf	 b;
	size_t		 i, n = 0;
	int		 r;

	for (i = 0; i < sh->nmembers; i++) {
		if (json_object_object_get_ex(v, sh->members[i].name, NULL)) {
			if (n < nitems(set))
				set[n] = sh->members[i].name;
			n++;
		}
	}
	if (n == 1)
		return (0);
	if (n > 1) {
		return (model_fail(ctx, "only one member may be set, "
		    "not both %s and %s", set[0], set[1]));
	}
	buf_init(&b);
	for (i = 0; i < sh->nmembers; i++) {
		if (i != 0)
			buf_adds(&b, ", ");
		buf_adds(&b, sh->members[i].name);
	}
	r = model_fail(ctx, "exactly one member must be set, one of %s",
	    b.data != NULL ? b.data : "");
	buf_free(&b);
	return (r);
}

static int
model_check_structure(struct model_ctx *ctx, const struct model_shape *sh,
    struct json_object *v)
{
	struct json_object_iterator	 it, end;
	const struct model_member	*m;
	const char			*name;
	size_t				 i, mark;

	if (!json_object_is_type(v, json_type_object))
		return (model_fail(ctx, "expected an object"));

	end = json_object_iter_end(v);
	for (it = json_object_iter_begin(v); !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it)) {
		name = json_object_iter_peek_name(&it);
		if (model_member_find(sh, name) == NULL) {
			model_path_push_key(ctx, name, 0);
			return (model_fail(ctx, "unknown field"));
		}
	}
	for (i = 0; i < sh->nmembers; i++) {
		m = &sh->members[i];
		if ((m->flags & MODEL_M_REQUIRED) &&
		    !json_object_object_get_ex(v, m->name, NULL) &&
		    !model_is_excepted(ctx, m->name)) {
			model_path_push(ctx, m->name);
			return (model_fail(ctx, "required"));
		}
	}
	if ((sh->flags & MODEL_S_UNION) && model_check_union(ctx, sh, v) != 0)
		return (-1);

	for (it = json_object_iter_begin(v); !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it)) {
		name = json_object_iter_peek_name(&it);
		m = model_member_find(sh, name);
		mark = model_path_push(ctx, m->name);
		if (model_check(ctx, &model_shapes[m->shape],
		    json_object_iter_peek_value(&it)) != 0)
			return (-1);
		model_path_pop(ctx, mark);
	}
	return (0);
}

static int
model_check_list(struct model_ctx *ctx, const struct model_shape *sh,
    struct json_object *v)
{
	size_t	 i, n, mark;

	if (!json_object_is_type(v, json_type_array))
		return (model_fail(ctx, "expected an array"));
	n = json_object_array_length(v);
	if (model_check_size(ctx, sh, n) != 0)
		return (-1);
	for (i = 0; i < n; i++) {
		mark = ctx->path.len;
		buf_addf(&ctx->path, "[%zu]", i);
		if (model_check(ctx, &model_shapes[sh->member],
		    json_object_array_get_idx(v, i)) != 0)
			return (-1);
		model_path_pop(ctx, mark);
	}
	return (0);
}

static int
model_check_map(struct model_ctx *ctx, const struct model_shape *sh,
    struct json_object *v)
{
	struct json_object_iterator	 it, end;
	const char			*name;
	struct buf			 prefix;
	size_t				 mark;
	int				 r;

	if (!json_object_is_type(v, json_type_object))
		return (model_fail(ctx, "expected an object"));
	if (model_check_size(ctx, sh, json_object_object_length(v)) != 0)
		return (-1);

	end = json_object_iter_end(v);
	for (it = json_object_iter_begin(v); !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it)) {
		name = json_object_iter_peek_name(&it);
		buf_init(&prefix);
		buf_adds(&prefix, "key ");
		model_quote(&prefix, name, strlen(name));
		buf_adds(&prefix, ": ");
		ctx->prefix = prefix.data;
		r = model_check_string(ctx, &model_shapes[sh->key], name,
		    strlen(name));
		ctx->prefix = "";
		buf_free(&prefix);
		if (r != 0)
			return (-1);

		mark = model_path_push_key(ctx, name, 1);
		if (model_check(ctx, &model_shapes[sh->member],
		    json_object_iter_peek_value(&it)) != 0)
			return (-1);
		model_path_pop(ctx, mark);
	}
	return (0);
}

static int
model_check(struct model_ctx *ctx, const struct model_shape *sh,
    struct json_object *v)
{
	char	*msg;
	int64_t	 ms;

	switch (sh->type) {
	case MODEL_STRUCTURE:
		return (model_check_structure(ctx, sh, v));
	case MODEL_LIST:
		return (model_check_list(ctx, sh, v));
	case MODEL_MAP:
		return (model_check_map(ctx, sh, v));
	case MODEL_STRING:
		if (!json_object_is_type(v, json_type_string))
			return (model_fail(ctx, "expected a string"));
		return (model_check_string(ctx, sh, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v)));
	case MODEL_INTEGER:
	case MODEL_LONG:
		return (model_check_number(ctx, sh, v));
	case MODEL_BOOLEAN:
		if (!json_object_is_type(v, json_type_boolean))
			return (model_fail(ctx, "expected true or false"));
		return (0);
	case MODEL_TIMESTAMP:
		if (model_timestamp(v, &ms, &msg) != 0) {
			model_fail(ctx, "%s", msg);
			free(msg);
			return (-1);
		}
		return (0);
	}
	return (model_fail(ctx, "shape %s has no type", sh->name));
}

int
model_validate_except(const char *shape, struct json_object *v,
    const char *const *except, char **cause)
{
	const struct model_shape	*sh;
	struct model_ctx		 ctx;
	int				 r;

	if ((sh = model_find(shape)) == NULL) {
		xasprintf(cause, "%s: no such shape in the model", shape);
		return (-1);
	}
	memset(&ctx, 0, sizeof ctx);
	buf_init(&ctx.path);
	ctx.root = sh->name;
	ctx.prefix = "";
	ctx.except = except;
	r = model_check(&ctx, sh, v);
	buf_free(&ctx.path);
	if (r != 0) {
		*cause = ctx.cause;
		return (-1);
	}
	free(ctx.cause);
	return (0);
}

int
model_validate(const char *shape, struct json_object *v, char **cause)
{
	return (model_validate_except(shape, v, NULL, cause));
}

int
model_parse_time(const char *s, int64_t *ms, char **cause)
{
	struct buf	 b;

	if (time_parse_iso(s, strlen(s), 0, ms) == 0)
		return (0);
	buf_init(&b);
	model_quote(&b, s, strlen(s));
	xasprintf(cause, "%s is not an ISO 8601 time", b.data);
	buf_free(&b);
	return (-1);
}

int
model_timestamp(struct json_object *v, int64_t *ms, char **cause)
{
	double	 d;
	int64_t	 i;

	switch (json_object_get_type(v)) {
	case json_type_string:
		if (memchr(json_object_get_string(v), '\0',
		    (size_t)json_object_get_string_len(v)) != NULL)
			break;
		return (model_parse_time(json_object_get_string(v), ms,
		    cause));
	case json_type_int:
		i = json_object_get_int64(v);
		if (i < -MODEL_TIME_MAX || i > MODEL_TIME_MAX) {
			xasprintf(cause, "%lld seconds is out of range",
			    (long long)i);
			return (-1);
		}
		*ms = i * 1000;
		return (0);
	case json_type_double:
		d = json_object_get_double(v);
		if (!isfinite(d) || d < (double)-MODEL_TIME_MAX ||
		    d > (double)MODEL_TIME_MAX) {
			xasprintf(cause, "%g seconds is out of range", d);
			return (-1);
		}
		*ms = (int64_t)floor(d * 1000.0);
		return (0);
	default:
		break;
	}
	xasprintf(cause, "expected a timestamp (an ISO 8601 string or seconds "
	    "since the epoch)");
	return (-1);
}
