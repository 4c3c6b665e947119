/*
 * S3ReplicateObject: replicate each object as the source bucket's
 * replication configuration says. The configuration is read once per
 * bucket and job (GET ?replication; tasks arriving while it loads wait).
 * A task HEADs its object (the ETag check of DESIGN.md §4), reads its tags
 * when a rule filters on tags, picks per destination bucket the enabled
 * rule of highest priority whose filter matches, reads the source's ACL
 * unless the rule hands ownership to the destination, then copies the
 * object to each destination in turn with S3PutObjectCopy's own machinery
 * (server-side, or streamed when the destination is on another endpoint):
 * metadata and tags kept, grants carried as x-amz-grant-* headers, the
 * rule's StorageClass or else the source's. A delete marker is replicated
 * as a DELETE of the key where the rule enables DeleteMarkerReplication.
 * See docs/operations/S3ReplicateObject.md.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "http.h"
#include "jobspec.h"
#include "op.h"
#include "s3.h"
#include "s3xml.h"

struct op_repl_task;

/* One source bucket's configuration, shared by the job's tasks. */
struct op_repl_conf {
	char				*bucket;
	int				 ready;
	struct s3xml_replication	 rc;
	struct s3_call			*call;	/* loading */
	struct op_repl			*ctx;
	int				 linked;	/* in ctx->confs */
	TAILQ_HEAD(, op_repl_task)	 waiting;
	TAILQ_ENTRY(op_repl_conf)	 entry;
};

struct op_repl {
	TAILQ_HEAD(, op_repl_conf)	 confs;
};

/* Where one object goes: the winning rule for a destination bucket. */
struct op_repl_dest {
	const struct s3xml_repl_rule	*rule;
	char				*bucket;
};

struct op_repl_task {
	struct op_run			*run;
	struct op_repl_conf		*conf;
	int				 waiting;
	TAILQ_ENTRY(op_repl_task)	 entry;
	/* The source object. */
	int				 delete_marker;
	int				 kms;
	char				*storage_class;
	struct s3xml_tagging		*tags;
	struct json_object		*grants;	/* AccessControlGrants */
	char				*owner_perms[8]; /* the owner's own */
	size_t				 nowner_perms;
	char				*dest_owner;	/* of the bucket */
	int				 dest_owner_pending;
	/* Destinations, done one after the other. */
	struct op_repl_dest		*dests;
	size_t				 ndests;
	size_t				 next;
	/* The copy in flight. */
	struct op_run			 sub;
	void				*sub_ctx;
	int				 sub_active;
	struct buf			 done;		/* names, for the message */
};

static void	op_repl_head(struct op_repl_task *);
static void	op_repl_next(struct op_repl_task *);

static int
op_repl_compile(struct json_object *params, struct json_object *spec,
    void **ctxp, char **cause)
{
	struct op_repl	*ctx;

	/* S3ReplicateObjectOperation has no members: the bucket says all. */
	if (params != NULL && json_object_is_type(params, json_type_object) &&
	    json_object_object_length(params) != 0) {
		xasprintf(cause, "Operation.S3ReplicateObject: takes no "
		    "parameters; the source bucket's replication configuration "
		    "says what to do");
		return (-1);
	}
	ctx = xcalloc(1, sizeof *ctx);
	TAILQ_INIT(&ctx->confs);
	*ctxp = ctx;
	return (0);
}

static void
op_repl_conf_free(struct op_repl_conf *c)
{
	if (c->call != NULL)
		s3_call_cancel(c->call);
	if (c->linked)
		TAILQ_REMOVE(&c->ctx->confs, c, entry);
	s3xml_replication_free(&c->rc);
	free(c->bucket);
	free(c);
}

static void
op_repl_free(void *arg)
{
	struct op_repl		*ctx = arg;
	struct op_repl_conf	*c;

	if (ctx == NULL)
		return;
	while ((c = TAILQ_FIRST(&ctx->confs)) != NULL)
		op_repl_conf_free(c);
	free(ctx);
}

static void
op_repl_task_free(struct op_repl_task *rt)
{
	size_t	i;

	if (rt->waiting)
		TAILQ_REMOVE(&rt->conf->waiting, rt, entry);
	if (rt->sub_active) {
		if (rt->sub.call != NULL)
			s3_call_cancel(rt->sub.call);
		op_copy.cancel(&rt->sub);
	}
	if (rt->sub_ctx != NULL)
		op_copy.free(rt->sub_ctx);
	free(rt->sub.recorded_etag);
	free(rt->storage_class);
	if (rt->tags != NULL) {
		s3xml_tagging_free(rt->tags);
		free(rt->tags);
	}
	if (rt->grants != NULL)
		json_object_put(rt->grants);
	for (i = 0; i < rt->nowner_perms; i++)
		free(rt->owner_perms[i]);
	free(rt->dest_owner);
	for (i = 0; i < rt->ndests; i++)
		free(rt->dests[i].bucket);
	free(rt->dests);
	buf_free(&rt->done);
	free(rt);
}

/* End the task: free its state first (the callback may start another). */
static void
op_repl_end(struct op_repl_task *rt, enum task_state state, int status,
    const char *code, const char *message)
{
	struct op_run	*run = rt->run;
	char		*c, *m;

	c = code != NULL ? xstrdup(code) : NULL;
	m = message != NULL ? xstrdup(message) : NULL;
	run->state = NULL;
	op_repl_task_free(rt);
	if (state == TASK_SUCCEEDED)
		op_succeed(run, status, m);
	else
		op_finish(run, state, status, c, m);
	free(c);
	free(m);
}

static void
op_repl_end_result(struct op_repl_task *rt, const struct s3_result *r,
    const char *what)
{
	char	*m;

	xasprintf(&m, "%s: %s", what, r->error_message != NULL ?
	    r->error_message : "");
	op_repl_end(rt, TASK_FAILED, r->status, r->error_code != NULL ?
	    r->error_code : "UnknownError", m);
	free(m);
}

static void
op_repl_source_request(struct op_repl_task *rt, struct s3_request *req,
    const char *method, const char *query)
{
	struct op_run	*run = rt->run;

	memset(req, 0, sizeof *req);
	req->method = method;
	req->bucket = run->bucket;
	req->key = run->key;
	req->key_len = run->key_len;
	req->version_id = run->version_id;
	req->query = query;
	req->role_arn = run->role_arn;
}

/* --- the configuration */

static void
op_repl_conf_cb(const struct s3_result *r, void *arg)
{
	struct op_repl_conf	*c = arg;
	struct op_repl_task	*rt;
	char			*cause = NULL, *m;
	int			 status;
	const char		*code;

	c->call = NULL;
	if (r->error_code == NULL && s3xml_parse_replication(r->http->body.data,
	    r->http->body.len, &c->rc, &cause) == 0) {
		c->ready = 1;
		while ((rt = TAILQ_FIRST(&c->waiting)) != NULL) {
			TAILQ_REMOVE(&c->waiting, rt, entry);
			rt->waiting = 0;
			op_repl_head(rt);
		}
		return;
	}
	/* Every waiting task fails; the next one asks again. */
	if (r->error_code != NULL) {
		status = r->status;
		code = r->error_code;
		xasprintf(&m, "GetBucketReplication %s: %s", c->bucket,
		    r->error_message);
	} else {
		status = r->status;
		code = "InvalidResponse";
		xasprintf(&m, "GetBucketReplication %s: %s", c->bucket, cause);
	}
	free(cause);
	/* Unlinked first: a task started meanwhile asks again. */
	TAILQ_REMOVE(&c->ctx->confs, c, entry);
	c->linked = 0;
	while ((rt = TAILQ_FIRST(&c->waiting)) != NULL) {
		TAILQ_REMOVE(&c->waiting, rt, entry);
		rt->waiting = 0;
		rt->run->attempts += r->attempts;
		op_repl_end(rt, TASK_FAILED, status, code, m);
	}
	free(m);
	op_repl_conf_free(c);
}

static void
op_repl_start(struct op_run *run)
{
	struct op_repl		*ctx = run->ctx;
	struct op_repl_conf	*c;
	struct op_repl_task	*rt;
	struct s3_request	 req;

	rt = xcalloc(1, sizeof *rt);
	rt->run = run;
	buf_init(&rt->done);
	run->state = rt;
	TAILQ_FOREACH(c, &ctx->confs, entry) {
		if (strcmp(c->bucket, run->bucket) == 0)
			break;
	}
	if (c != NULL && c->ready) {
		rt->conf = c;
		op_repl_head(rt);
		return;
	}
	if (c == NULL) {
		c = xcalloc(1, sizeof *c);
		c->bucket = xstrdup(run->bucket);
		c->ctx = ctx;
		TAILQ_INIT(&c->waiting);
		TAILQ_INSERT_TAIL(&ctx->confs, c, entry);
		c->linked = 1;
		memset(&req, 0, sizeof req);
		req.method = "GET";
		req.bucket = run->bucket;
		req.query = "replication";
		req.role_arn = run->role_arn;
		c->call = s3_call(run->s3, &req, op_repl_conf_cb, c);
	}
	rt->conf = c;
	rt->waiting = 1;
	TAILQ_INSERT_TAIL(&c->waiting, rt, entry);
}

/* --- choosing destinations */

static int
op_repl_rule_matches(const struct op_repl_task *rt,
    const struct s3xml_repl_rule *rule)
{
	const struct op_run	*run = rt->run;
	const char		*prefix;
	size_t			 i, j, plen;

	if (strcmp(rule->status.len != 0 ? rule->status.data : "",
	    "Enabled") != 0 || rule->dest_bucket.len == 0)
		return (0);
	prefix = rule->has_filter ? rule->filter_prefix.data :
	    rule->prefix.data;
	plen = prefix != NULL ? strlen(prefix) : 0;
	if (plen > run->key_len || (plen != 0 &&
	    memcmp(run->key, prefix, plen) != 0))
		return (0);
	if (rt->delete_marker) {
		/*
		 * Amazon: V1 rules (no Filter) replicate delete markers, V2
		 * rules when they say so and do not filter on tags.
		 */
		if (!rule->has_filter)
			return (1);
		return (rule->nfilter_tags == 0 &&
		    rule->delete_marker_replication.len != 0 &&
		    strcmp(rule->delete_marker_replication.data,
		    "Enabled") == 0);
	}
	if (rt->kms && (rule->sse_kms_encrypted_objects.len == 0 ||
	    strcmp(rule->sse_kms_encrypted_objects.data, "Enabled") != 0))
		return (0);
	for (i = 0; i < rule->nfilter_tags; i++) {
		for (j = 0; rt->tags != NULL && j < rt->tags->ntags; j++) {
			if (strcmp(rt->tags->tags[j].key.data,
			    rule->filter_tags[i].key.data) == 0 &&
			    strcmp(rt->tags->tags[j].value.len != 0 ?
			    rt->tags->tags[j].value.data : "",
			    rule->filter_tags[i].value.len != 0 ?
			    rule->filter_tags[i].value.data : "") == 0)
				break;
		}
		if (rt->tags == NULL || j == rt->tags->ntags)
			return (0);
	}
	return (1);
}

/* Per destination bucket the matching rule of highest priority. */
static int
op_repl_choose(struct op_repl_task *rt, char **cause)
{
	const struct s3xml_replication	*rc = &rt->conf->rc;
	const struct s3xml_repl_rule	*rule;
	char				*bucket;
	size_t				 i, j;

	rt->dests = xcalloc(rc->nrules != 0 ? rc->nrules : 1,
	    sizeof *rt->dests);
	for (i = 0; i < rc->nrules; i++) {
		rule = &rc->rules[i];
		if (!op_repl_rule_matches(rt, rule))
			continue;
		if (jobspec_arn_bucket(rule->dest_bucket.data, &bucket, NULL,
		    cause) != 0) {
			free(*cause);
			xasprintf(cause, "replication rule %s: Destination "
			    "Bucket \"%.64s\" is not a bucket ARN",
			    rule->id.len != 0 ? rule->id.data : "(no ID)",
			    rule->dest_bucket.data);
			return (-1);
		}
		for (j = 0; j < rt->ndests; j++) {
			if (strcmp(rt->dests[j].bucket, bucket) == 0)
				break;
		}
		if (j == rt->ndests) {
			rt->dests[rt->ndests].bucket = bucket;
			rt->dests[rt->ndests].rule = rule;
			rt->ndests++;
			continue;
		}
		free(bucket);
		if (rule->priority > rt->dests[j].rule->priority)
			rt->dests[j].rule = rule;
	}
	return (0);
}

/*
 * The grants of the source's ACL. Explicit grants replace S3's default ACL,
 * so the owner's own grants must travel too, given to the destination
 * bucket's owner (the source's owner may not exist there).
 */
static void
op_repl_keep_grants(struct op_repl_task *rt, const struct s3xml_acl *acl)
{
	static const struct {
		const char	*xsi;
		const char	*type;
	} types[] = {
		{ "CanonicalUser", "id" },
		{ "Group", "uri" },
		{ "AmazonCustomerByEmail", "emailAddress" },
	};
	struct json_object	*g, *grantee;
	const struct s3xml_grant *gr;
	const char		*id;
	size_t			 i, t;

	rt->grants = json_object_new_array();
	for (i = 0; i < acl->ngrants; i++) {
		gr = &acl->grants[i];
		for (t = 0; t < nitems(types); t++) {
			if (gr->type.len != 0 &&
			    strcmp(gr->type.data, types[t].xsi) == 0)
				break;
		}
		if (t == nitems(types) || gr->permission.len == 0)
			continue;
		id = t == 0 ? gr->id.data : t == 1 ? gr->uri.data :
		    gr->email.data;
		if (id == NULL || *id == '\0')
			continue;
		if (t == 0 && acl->owner_id.len != 0 &&
		    strcmp(id, acl->owner_id.data) == 0) {
			if (rt->nowner_perms < nitems(rt->owner_perms))
				rt->owner_perms[rt->nowner_perms++] =
				    xstrdup(gr->permission.data);
			continue;
		}
		grantee = json_object_new_object();
		json_object_object_add(grantee, "TypeIdentifier",
		    json_object_new_string(types[t].type));
		json_object_object_add(grantee, "Identifier",
		    json_object_new_string(id));
		g = json_object_new_object();
		json_object_object_add(g, "Grantee", grantee);
		json_object_object_add(g, "Permission",
		    json_object_new_string(gr->permission.data));
		json_object_array_add(rt->grants, g);
	}
}

static void
op_repl_acl_cb(const struct s3_result *r, void *arg)
{
	struct op_repl_task	*rt = arg;
	struct op_run		*run = rt->run;
	struct s3xml_acl	*acl;
	char			*cause = NULL;

	run->call = NULL;
	run->attempts += r->attempts;
	if (r->error_code != NULL) {
		op_repl_end_result(rt, r, "GetObjectAcl");
		return;
	}
	acl = xcalloc(1, sizeof *acl);
	if (s3xml_parse_acl(r->http->body.data, r->http->body.len, acl,
	    &cause) != 0) {
		op_repl_end(rt, TASK_FAILED, r->status, "InvalidResponse",
		    cause);
		free(cause);
		s3xml_acl_free(acl);
		free(acl);
		return;
	}
	op_repl_keep_grants(rt, acl);
	s3xml_acl_free(acl);
	free(acl);
	op_repl_next(rt);
}

/* Destinations chosen: the source's ACL if a copy keeps it, then copy. */
static void
op_repl_route(struct op_repl_task *rt)
{
	struct op_run		*run = rt->run;
	struct s3_request	 req;
	char			*cause = NULL;
	size_t			 i;
	int			 need_acl = 0;

	if (op_repl_choose(rt, &cause) != 0) {
		op_repl_end(rt, TASK_FAILED, 400, "InvalidRequest", cause);
		free(cause);
		return;
	}
	if (rt->ndests == 0) {
		op_repl_end(rt, TASK_SUCCEEDED, 200, NULL, rt->delete_marker ?
		    "Not replicated: a delete marker, and no enabled rule "
		    "replicates delete markers for this key" : "Not "
		    "replicated: no enabled replication rule matches");
		return;
	}
	for (i = 0; i < rt->ndests && !rt->delete_marker; i++) {
		if (rt->dests[i].rule->dest_owner.len == 0 ||
		    strcmp(rt->dests[i].rule->dest_owner.data,
		    "Destination") != 0)
			need_acl = 1;
	}
	if (!need_acl) {
		op_repl_next(rt);
		return;
	}
	op_repl_source_request(rt, &req, "GET", "acl");
	run->call = s3_call(run->s3, &req, op_repl_acl_cb, rt);
}

static void
op_repl_tags_cb(const struct s3_result *r, void *arg)
{
	struct op_repl_task	*rt = arg;
	struct op_run		*run = rt->run;
	char			*cause = NULL;

	run->call = NULL;
	run->attempts += r->attempts;
	if (r->error_code != NULL) {
		op_repl_end_result(rt, r, "GetObjectTagging");
		return;
	}
	rt->tags = xcalloc(1, sizeof *rt->tags);
	if (s3xml_parse_tagging(r->http->body.data, r->http->body.len,
	    rt->tags, &cause) != 0) {
		op_repl_end(rt, TASK_FAILED, r->status, "InvalidResponse",
		    cause);
		free(cause);
		return;
	}
	op_repl_route(rt);
}

/* A version list entry that says the task's object is a delete marker. */
static int
op_repl_version_cb(const struct s3xml_version *v, void *arg, char **cause)
{
	struct op_repl_task	*rt = arg;
	const struct op_run	*run = rt->run;

	if (v->key.len != run->key_len || memcmp(v->key.data, run->key,
	    run->key_len) != 0)
		return (0);
	if (run->version_id != NULL ? v->version_id.len != 0 &&
	    strcmp(v->version_id.data, run->version_id) == 0 : v->is_latest)
		rt->delete_marker = v->delete_marker ? 1 : -1;
	return (0);
}

static void
op_repl_versions_cb(const struct s3_result *r, void *arg)
{
	struct op_repl_task		*rt = arg;
	struct op_run			*run = rt->run;
	struct s3xml_versions_page	 page;
	struct s3xml_cbs		 cbs;
	char				*cause = NULL;

	run->call = NULL;
	run->attempts += r->attempts;
	if (r->error_code != NULL) {
		op_repl_end_result(rt, r, "ListObjectVersions");
		return;
	}
	memset(&cbs, 0, sizeof cbs);
	cbs.version_cb = op_repl_version_cb;
	if (s3xml_parse(S3XML_DOC_LIST_VERSIONS, r->http->body.data,
	    r->http->body.len, &page, &cbs, rt, &cause) != 0) {
		s3xml_versions_page_free(&page);
		op_repl_end(rt, TASK_FAILED, r->status, "InvalidResponse",
		    cause);
		free(cause);
		return;
	}
	s3xml_versions_page_free(&page);
	if (rt->delete_marker != 1) {
		rt->delete_marker = 0;
		op_repl_end(rt, TASK_FAILED, 404, run->version_id != NULL ?
		    "NoSuchVersion" : "NoSuchKey", "The specified key does "
		    "not exist.");
		return;
	}
	op_repl_route(rt);
}

/*
 * A 404 without x-amz-delete-marker (Ceph RGW sends none): the object's
 * versions say whether it is a delete marker. The key's own versions come
 * first in a listing of its prefix.
 */
static void
op_repl_probe_marker(struct op_repl_task *rt)
{
	struct op_run		*run = rt->run;
	struct s3_request	 req;
	struct buf		 q;

	buf_init(&q);
	buf_adds(&q, "versions&max-keys=1000&prefix=");
	url_encode(&q, run->key, run->key_len, 0);
	memset(&req, 0, sizeof req);
	req.method = "GET";
	req.bucket = run->bucket;
	req.query = q.data;
	req.role_arn = run->role_arn;
	run->call = s3_call(run->s3, &req, op_repl_versions_cb, rt);
	buf_free(&q);
}

static void
op_repl_head_cb(const struct s3_result *r, void *arg)
{
	struct op_run			*run = arg;
	struct op_repl_task		*rt = run->state;
	const struct s3xml_replication	*rc = &rt->conf->rc;
	struct s3_request		 req;
	const char			*v;
	size_t				 i;

	op_account(run, r);
	v = s3_result_header(r, "x-amz-delete-marker");
	if ((r->status == 404 || r->status == 405) && v != NULL &&
	    strcmp(v, "true") == 0) {
		rt->delete_marker = 1;
		op_repl_route(rt);
		return;
	}
	if (r->status == 412) {
		op_repl_end(rt, TASK_FAILED, 412, "PreconditionFailed",
		    "the object's ETag is no longer the pinned one; it was "
		    "not replicated");
		return;
	}
	if (r->status == 404 || r->status == 405) {
		op_repl_probe_marker(rt);
		return;
	}
	if (r->error_code != NULL) {
		op_repl_end_result(rt, r, "HeadObject");
		return;
	}
	/* The copies are guarded by the ETag HeadObject always sends. */
	if (r->status != 200 || r->etag == NULL) {
		op_repl_end(rt, TASK_FAILED, r->status, "InvalidResponse",
		    "HeadObject answered without an ETag; it was not "
		    "replicated");
		return;
	}
	if ((v = s3_result_header(r, "x-amz-storage-class")) != NULL)
		rt->storage_class = xstrdup(v);
	v = s3_result_header(r, "x-amz-server-side-encryption");
	rt->kms = v != NULL && strncmp(v, "aws:kms", 7) == 0;
	for (i = 0; i < rc->nrules; i++) {
		if (rc->rules[i].nfilter_tags != 0)
			break;
	}
	if (i == rc->nrules) {
		op_repl_route(rt);
		return;
	}
	op_repl_source_request(rt, &req, "GET", "tagging");
	run->call = s3_call(run->s3, &req, op_repl_tags_cb, rt);
}

static void
op_repl_head(struct op_repl_task *rt)
{
	op_head(rt->run, op_repl_head_cb);
}

/* --- copies, one destination after the other */

/* S3 answers DeleteObject 204 without a body (some servers 200). */
static const int op_repl_delete_ok[] = { 200, 204, 0 };

static void
op_repl_delete_cb(const struct s3_result *r, void *arg)
{
	struct op_repl_task	*rt = arg;
	struct op_run		*run = rt->run;
	const struct buf	*body;
	struct buf		 none = { NULL, 0, 0 };
	char			*m, *cause = NULL;

	run->call = NULL;
	run->attempts += r->attempts;
	if (r->error_code != NULL) {
		xasprintf(&m, "DeleteObject on %s",
		    rt->dests[rt->next - 1].bucket);
		op_repl_end_result(rt, r, m);
		free(m);
		return;
	}
	body = r->http != NULL ? &r->http->body : &none;
	if (s3xml_check_bodiless("DeleteObject", r->status, op_repl_delete_ok,
	    body->data, body->len, &cause) != 0) {
		xasprintf(&m, "on %s: %s", rt->dests[rt->next - 1].bucket,
		    cause);
		op_repl_end(rt, TASK_FAILED, r->status, "InvalidResponse", m);
		free(m);
		free(cause);
		return;
	}
	op_repl_next(rt);
}

static void
op_repl_dest_acl_cb(const struct s3_result *r, void *arg)
{
	struct op_repl_task	*rt = arg;
	struct op_run		*run = rt->run;
	struct s3xml_acl	*acl;
	char			*cause = NULL, *m;

	run->call = NULL;
	run->attempts += r->attempts;
	if (r->error_code != NULL) {
		xasprintf(&m, "GetBucketAcl %s", rt->dests[rt->next].bucket);
		op_repl_end_result(rt, r, m);
		free(m);
		return;
	}
	acl = xcalloc(1, sizeof *acl);
	if (s3xml_parse_acl(r->http->body.data, r->http->body.len, acl,
	    &cause) != 0 || acl->owner_id.len == 0) {
		op_repl_end(rt, TASK_FAILED, r->status, "InvalidResponse",
		    cause != NULL ? cause : "GetBucketAcl: no Owner");
		free(cause);
		s3xml_acl_free(acl);
		free(acl);
		return;
	}
	rt->dest_owner = xstrdup(acl->owner_id.data);
	s3xml_acl_free(acl);
	free(acl);
	rt->dest_owner_pending = 1;
	op_repl_next(rt);
}

static void
op_repl_copy_done(struct op_run *sub, enum task_state state, int status,
    const char *code, const char *message)
{
	struct op_repl_task	*rt = sub->owner;
	char			*m;

	rt->run->attempts += sub->attempts;
	rt->sub_active = 0;
	op_copy.free(rt->sub_ctx);
	rt->sub_ctx = NULL;
	if (state != TASK_SUCCEEDED) {
		xasprintf(&m, "to %s: %s", rt->dests[rt->next - 1].bucket,
		    message != NULL ? message : "");
		op_repl_end(rt, state, status, code, m);
		free(m);
		return;
	}
	op_repl_next(rt);
}

/* Grants beyond the owner's: the copy sets an explicit ACL. */
static int
op_repl_carry_grants(const struct op_repl_task *rt,
    const struct op_repl_dest *d)
{
	const struct s3xml_repl_rule	*rule = d->rule;

	return (rt->grants != NULL &&
	    json_object_array_length(rt->grants) != 0 &&
	    (rule->dest_owner.len == 0 ||
	    strcmp(rule->dest_owner.data, "Destination") != 0));
}

/* S3PutObjectCopy's parameters for one destination. */
static struct json_object *
op_repl_copy_params(struct op_repl_task *rt, const struct op_repl_dest *d)
{
	const struct s3xml_repl_rule	*rule = d->rule;
	struct json_object		*p, *meta, *grants, *g, *grantee;
	char				*arn;
	size_t				 i, n;

	p = json_object_new_object();
	xasprintf(&arn, "arn:aws:s3:::%s", d->bucket);
	json_object_object_add(p, "TargetResource",
	    json_object_new_string(arn));
	free(arn);
	json_object_object_add(p, "MetadataDirective",
	    json_object_new_string("COPY"));
	if (rule->dest_storage_class.len != 0)
		json_object_object_add(p, "StorageClass",
		    json_object_new_string(rule->dest_storage_class.data));
	else if (rt->storage_class != NULL)
		json_object_object_add(p, "StorageClass",
		    json_object_new_string(rt->storage_class));
	if (rule->dest_kms_key_id.len != 0) {
		json_object_object_add(p, "SSEAwsKmsKeyId",
		    json_object_new_string(rule->dest_kms_key_id.data));
		meta = json_object_new_object();
		json_object_object_add(meta, "SSEAlgorithm",
		    json_object_new_string("KMS"));
		json_object_object_add(p, "NewObjectMetadata", meta);
	}
	if (op_repl_carry_grants(rt, d)) {
		grants = json_object_new_array();
		n = json_object_array_length(rt->grants);
		for (i = 0; i < n; i++)
			json_object_array_add(grants, json_object_get(
			    json_object_array_get_idx(rt->grants, i)));
		for (i = 0; i < rt->nowner_perms && rt->dest_owner != NULL;
		    i++) {
			grantee = json_object_new_object();
			json_object_object_add(grantee, "TypeIdentifier",
			    json_object_new_string("id"));
			json_object_object_add(grantee, "Identifier",
			    json_object_new_string(rt->dest_owner));
			g = json_object_new_object();
			json_object_object_add(g, "Grantee", grantee);
			json_object_object_add(g, "Permission",
			    json_object_new_string(rt->owner_perms[i]));
			json_object_array_add(grants, g);
		}
		json_object_object_add(p, "AccessControlGrants", grants);
	}
	return (p);
}

static void
op_repl_next(struct op_repl_task *rt)
{
	struct op_run		*run = rt->run;
	const struct op_repl_dest *d;
	struct json_object	*params;
	struct s3_request	 req;
	char			*cause = NULL, *m;

	if (rt->next != 0 && rt->dest_owner_pending == 0) {
		buf_addf(&rt->done, "%s%s", rt->done.len != 0 ? ", " : "",
		    rt->dests[rt->next - 1].bucket);
		free(rt->dest_owner);
		rt->dest_owner = NULL;
	}
	rt->dest_owner_pending = 0;
	if (rt->next == rt->ndests) {
		xasprintf(&m, "%s to %s", rt->delete_marker ? "Delete marker "
		    "replicated" : "Replicated", rt->done.data);
		op_repl_end(rt, TASK_SUCCEEDED, 200, NULL, m);
		free(m);
		return;
	}
	d = &rt->dests[rt->next++];
	if (rt->delete_marker) {
		/* A DELETE without a version: a delete marker there too. */
		memset(&req, 0, sizeof req);
		req.method = "DELETE";
		req.bucket = d->bucket;
		req.key = run->key;
		req.key_len = run->key_len;
		req.role_arn = run->role_arn;
		req.flags = S3_ERROR_IN_200;
		run->call = s3_call(run->s3, &req, op_repl_delete_cb, rt);
		return;
	}
	if (op_repl_carry_grants(rt, d) && rt->dest_owner == NULL) {
		rt->next--;	/* again, once the owner is known */
		memset(&req, 0, sizeof req);
		req.method = "GET";
		req.bucket = d->bucket;
		req.query = "acl";
		req.role_arn = run->role_arn;
		run->call = s3_call(run->s3, &req, op_repl_dest_acl_cb, rt);
		return;
	}
	params = op_repl_copy_params(rt, d);
	if (op_copy.compile(params, NULL, &rt->sub_ctx, &cause) != 0) {
		json_object_put(params);
		xasprintf(&m, "to %s: %s", d->bucket, cause);
		op_repl_end(rt, TASK_FAILED, 400, "InvalidRequest", m);
		free(m);
		free(cause);
		return;
	}
	json_object_put(params);
	free(rt->sub.recorded_etag);
	memset(&rt->sub, 0, sizeof rt->sub);
	rt->sub.bucket = run->bucket;
	rt->sub.key = run->key;
	rt->sub.key_len = run->key_len;
	rt->sub.version_id = run->version_id;
	/* The ETag our HEAD saw: the copy may not take another object. */
	rt->sub.etag = op_expected_etag(run);
	rt->sub.role_arn = run->role_arn;
	rt->sub.ctx = rt->sub_ctx;
	rt->sub.s3 = run->s3;
	rt->sub.cfg = run->cfg;
	rt->sub.done = op_repl_copy_done;
	rt->sub.owner = rt;
	rt->sub_active = 1;
	run->call = NULL;
	op_copy.start(&rt->sub);
}

static void
op_repl_cancel(struct op_run *run)
{
	struct op_repl_task	*rt = run->state;

	if (rt == NULL)
		return;
	run->state = NULL;
	op_repl_task_free(rt);
}

const struct op_def op_replicate = {
	.name = "S3ReplicateObject",
	.compile = op_repl_compile,
	.free = op_repl_free,
	.start = op_repl_start,
	.cancel = op_repl_cancel,
};
