/*
 * jobspec: the checks Amazon makes on a CreateJob request beyond its
 * service model, and helpers to read a job spec.
 */
#ifndef JOBSPEC_H
#define JOBSPEC_H

struct json_object;

/* Amazon's limit on the tags of one job. */
#define JOBSPEC_MAX_TAGS	50

/*
 * The formats' half of jobcheck_create (jobcheck.h), which is what callers
 * use: model_validate("CreateJobRequest"), then the semantic checks.
 * have_local_manifest is nonzero when the client streams a local manifest
 * file: then Manifest.Location may be absent (if present it is checked,
 * but the local file is what is read), Manifest.Spec must still be there
 * and name S3BatchOperations_CSV_20180820, and ManifestGenerator must not
 * be there. Returns 0, or -1 with *cause naming the field.
 */
int		 jobspec_check(struct json_object *, int, char **);
/* Tags of a job (CreateJob Tags, PutJobTagging Tags): count, unique keys. */
int		 jobspec_validate_tags(struct json_object *, char **);

/*
 * The name of the one member of Operation, such as "S3PutObjectTagging";
 * NULL if there is not exactly one. Points into req.
 */
const char	*jobspec_operation_name(struct json_object *);

/*
 * Parse an S3 ARN. With key NULL the ARN must name a bucket,
 * "arn:aws:s3:::bucket"; otherwise an object, "arn:aws:s3:::bucket/key",
 * whose key (not URL-encoded, may hold '/') is returned in *key. *bucket
 * (if bucket is not NULL) and *key are allocated; the caller frees them.
 * Returns -1 with *cause on an ARN of another form.
 */
int		 jobspec_arn_bucket(const char *, char **, char **, char **);

#endif /* JOBSPEC_H */
