/*
 * S3PutObjectAcl: one PUT ?acl per object (version-pinned), either an
 * AccessControlPolicy document built once from the job's
 * AccessControlList, or a canned ACL in x-amz-acl with an empty body.
 * The task itself (the ETag check's HEAD, the PUT with Content-MD5) is
 * op-lock.c's op_subres runner.
 *
 * The ACL replaces the object's whole ACL, as on Amazon: a list that
 * grants the owner nothing leaves the owner only what S3 always lets an
 * owner do (read and write the ACL). docs/operations/S3PutObjectAcl.md
 * says what that means on Ceph RGW.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "json.h"
#include "model.h"
#include "op.h"
#include "s3xml.h"

#define OP_ACL_PATH	"Operation.S3PutObjectAcl.AccessControlPolicy"

/* Batch Operations' TypeIdentifier -> the Grantee's xsi:type and field. */
static const struct {
	const char	*type_identifier;
	const char	*xsi_type;
	size_t		 off;
} op_acl_grantees[] = {
	{ "id", "CanonicalUser", offsetof(struct s3xml_grant, id) },
	{ "emailAddress", "AmazonCustomerByEmail",
	  offsetof(struct s3xml_grant, email) },
	{ "uri", "Group", offsetof(struct s3xml_grant, uri) },
};

static int
op_acl_one_of(const char *s, const char *shape)
{
	const char *const	*e = model_enum_values(shape);

	for (; s != NULL && e != NULL && *e != NULL; e++) {
		if (strcmp(*e, s) == 0)
			return (1);
	}
	return (0);
}

static int
op_acl_grant(struct json_object *g, size_t i, struct s3xml_grant *out,
    char **cause)
{
	struct json_object	*grantee = NULL;
	const char		*type, *id, *name, *perm;
	struct buf		*field;
	size_t			 j;

	if (!json_object_object_get_ex(g, "Grantee", &grantee) ||
	    !json_object_is_type(grantee, json_type_object)) {
		xasprintf(cause, OP_ACL_PATH ".AccessControlList.Grants[%zu]."
		    "Grantee: required", i);
		return (-1);
	}
	type = json_path_string(grantee, "TypeIdentifier");
	for (j = 0; type != NULL && j < nitems(op_acl_grantees); j++) {
		if (strcmp(op_acl_grantees[j].type_identifier, type) == 0)
			break;
	}
	if (type == NULL || j == nitems(op_acl_grantees)) {
		xasprintf(cause, OP_ACL_PATH ".AccessControlList.Grants[%zu]."
		    "Grantee.TypeIdentifier: required, one of id, "
		    "emailAddress, uri", i);
		return (-1);
	}
	if ((id = json_path_string(grantee, "Identifier")) == NULL ||
	    *id == '\0') {
		xasprintf(cause, OP_ACL_PATH ".AccessControlList.Grants[%zu]."
		    "Grantee.Identifier: required", i);
		return (-1);
	}
	perm = json_path_string(g, "Permission");
	if (!op_acl_one_of(perm, "S3Permission")) {
		xasprintf(cause, OP_ACL_PATH ".AccessControlList.Grants[%zu]."
		    "Permission: required, one of FULL_CONTROL, READ, WRITE, "
		    "READ_ACP, WRITE_ACP", i);
		return (-1);
	}
	buf_adds(&out->type, op_acl_grantees[j].xsi_type);
	field = (struct buf *)(void *)((char *)out + op_acl_grantees[j].off);
	buf_adds(field, id);
	/* S3 shows a DisplayName for canonical users only. */
	if ((name = json_path_string(grantee, "DisplayName")) != NULL)
		buf_adds(&out->display_name, name);
	buf_adds(&out->permission, perm);
	return (0);
}

static int
op_acl_compile_list(struct json_object *list, struct buf *body,
    char **cause)
{
	struct s3xml_acl	*acl;
	struct json_object	*owner = NULL, *grants = NULL;
	const char		*s;
	size_t			 i, n = 0;
	char			*c = NULL;
	int			 r = -1;

	acl = xcalloc(1, sizeof *acl);
	if (!json_object_object_get_ex(list, "Owner", &owner) ||
	    (s = json_path_string(owner, "ID")) == NULL || *s == '\0') {
		xasprintf(cause, OP_ACL_PATH ".AccessControlList.Owner.ID: "
		    "required (the object owner's canonical user ID)");
		goto out;
	}
	buf_adds(&acl->owner_id, s);
	if ((s = json_path_string(owner, "DisplayName")) != NULL)
		buf_adds(&acl->owner_name, s);
	if (json_object_object_get_ex(list, "Grants", &grants)) {
		if (!json_object_is_type(grants, json_type_array)) {
			xasprintf(cause, OP_ACL_PATH ".AccessControlList."
			    "Grants: not a list");
			goto out;
		}
		n = json_object_array_length(grants);
	}
	if (n > S3XML_MAX_GRANTS) {
		xasprintf(cause, OP_ACL_PATH ".AccessControlList.Grants: %zu "
		    "grants; S3 allows at most %d", n, S3XML_MAX_GRANTS);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (op_acl_grant(json_object_array_get_idx(grants, i), i,
		    &acl->grants[i], cause) != 0)
			goto out;
		acl->ngrants++;
	}
	if (s3xml_write_acl(body, acl, &c) != 0) {
		xasprintf(cause, OP_ACL_PATH ".AccessControlList: %s", c);
		free(c);
		goto out;
	}
	r = 0;
out:
	s3xml_acl_free(acl);
	free(acl);
	return (r);
}

static int
op_acl_compile(struct json_object *params, struct json_object *spec,
    void **ctxp, char **cause)
{
	struct op_subres	*ctx;
	struct json_object	*policy = NULL, *list = NULL, *canned = NULL;
	struct buf		 body;

	if (params == NULL ||
	    !json_object_object_get_ex(params, "AccessControlPolicy",
	    &policy) || !json_object_is_type(policy, json_type_object)) {
		xasprintf(cause, OP_ACL_PATH ": required (an AccessControlList "
		    "or a CannedAccessControlList)");
		return (-1);
	}
	json_object_object_get_ex(policy, "AccessControlList", &list);
	json_object_object_get_ex(policy, "CannedAccessControlList", &canned);
	if ((list == NULL) == (canned == NULL)) {
		xasprintf(cause, OP_ACL_PATH ": give either AccessControlList "
		    "or CannedAccessControlList%s", list != NULL ?
		    ", not both" : "");
		return (-1);
	}
	ctx = xcalloc(1, sizeof *ctx);
	ctx->query = "acl";
	ctx->what = "ACL";
	if (canned != NULL) {
		if (!op_acl_one_of(json_object_get_string(canned),
		    "S3CannedAccessControlList")) {
			xasprintf(cause, OP_ACL_PATH ".CannedAccessControlList: "
			    "not one of Amazon's canned ACLs (private, "
			    "public-read, ...)");
			free(ctx);
			return (-1);
		}
		ctx->header = xstrdup("x-amz-acl");
		ctx->value = xstrdup(json_object_get_string(canned));
		*ctxp = ctx;
		return (0);
	}
	buf_init(&body);
	if (op_acl_compile_list(list, &body, cause) != 0) {
		buf_free(&body);
		free(ctx);
		return (-1);
	}
	ctx->body_len = body.len;
	ctx->body = buf_detach(&body);
	*ctxp = ctx;
	return (0);
}

const struct op_def op_put_acl = {
	.name = "S3PutObjectAcl",
	.compile = op_acl_compile,
	.free = op_subres_free,
	.start = op_subres_start,
	.cancel = op_subres_cancel,
};
