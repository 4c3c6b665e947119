/*
 * S3UpdateObjectEncryption: an object's encryption becomes SSE-KMS with
 * the job's key (and S3 Bucket Key on or off), nothing else changes.
 *
 * Amazon has a native call for it (UpdateObjectEncryption, which re-wraps
 * the data key without moving data); Ceph RGW and Swift's s3api have none,
 * and it cannot be probed without side effects (a server that does not
 * know the subresource may take the PUT as an object write). So every
 * endpoint gets the portable form: an in-place copy with COPY directives
 * and the new encryption headers, guarded by the object's ETag, run by
 * op-copy.c's engine (op_copy_reencrypt_new). This file only checks and
 * compiles the job's parameters. See docs/operations/
 * S3UpdateObjectEncryption.md.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "json.h"
#include "op.h"

#define OP_ENC	"Operation.S3UpdateObjectEncryption"

/*
 * The key id S3 takes in x-amz-server-side-encryption-aws-kms-key-id: the
 * ARN's "key/<id>" part, which Amazon accepts for a key of the bucket
 * owner's account (the only keys UpdateObjectEncryption allows by
 * default) and which is what RGW's KMS backends name keys by.
 */
static const char *
op_encrypt_key_id(const char *arn)
{
	const char	*p;

	if (strncmp(arn, "arn:", 4) != 0 || strstr(arn, ":kms:") == NULL ||
	    (p = strstr(arn, ":key/")) == NULL || p[5] == '\0' ||
	    strchr(p + 5, '/') != NULL)
		return (NULL);
	return (p + 5);
}

static int
op_encrypt_compile(struct json_object *params, struct json_object *spec,
    void **ctxp, char **cause)
{
	struct json_object	*enc, *kms, *v;
	const char		*arn, *id;
	int			 bucket_key = 0;

	(void)spec;
	if (params == NULL ||
	    !json_object_object_get_ex(params, "ObjectEncryption", &enc) ||
	    json_object_is_type(enc, json_type_null)) {
		xasprintf(cause, OP_ENC ".ObjectEncryption: required "
		    "(SSEKMS with a KMSKeyArn)");
		return (-1);
	}
	if (!json_object_object_get_ex(enc, "SSEKMS", &kms) ||
	    json_object_is_type(kms, json_type_null)) {
		xasprintf(cause, OP_ENC ".ObjectEncryption.SSEKMS: required; "
		    "SSE-KMS is the one encryption this operation sets");
		return (-1);
	}
	if ((arn = json_path_string(kms, "KMSKeyArn")) == NULL) {
		xasprintf(cause, OP_ENC ".ObjectEncryption.SSEKMS.KMSKeyArn: "
		    "required");
		return (-1);
	}
	if ((id = op_encrypt_key_id(arn)) == NULL) {
		xasprintf(cause, OP_ENC ".ObjectEncryption.SSEKMS.KMSKeyArn: "
		    "\"%.128s\" is not a KMS key ARN "
		    "(arn:aws:kms:REGION:ACCOUNT:key/KEY-ID)", arn);
		return (-1);
	}
	if (json_object_object_get_ex(kms, "BucketKeyEnabled", &v))
		bucket_key = json_object_get_boolean(v);
	*ctxp = op_copy_reencrypt_new(id, bucket_key);
	return (0);
}

const struct op_def op_update_encryption = {
	.name = "S3UpdateObjectEncryption",
	.compile = op_encrypt_compile,
	.free = op_copy_free,
	.start = op_copy_start,
	.cancel = op_copy_cancel,
};
