/*
 * jobcaps: whether a job can run on an endpoint, from the endpoint's
 * probed capabilities (s3-probe.h). A job whose operation the endpoint
 * cannot do is refused (or failed) before any task runs, with one clear
 * reason, instead of failing task by task.
 *
 * Only a capability probed as NO refuses a job: UNKNOWN (not probed, or an
 * answer that told nothing) lets it run, and its tasks say what happens.
 * The quirks the operations absorb themselves (a copy of a multipart
 * source on a server that refuses x-amz-copy-source-if-match on it, a
 * COMPOSITE checksum where HEAD ?partNumber= is refused) refuse nothing.
 */
#ifndef JOBCAPS_H
#define JOBCAPS_H

struct json_object;
struct s3_caps;

/*
 * NULL when the job (a CreateJob request, as stored) can run on the
 * endpoint caps describes; else the reason, allocated, the caller frees
 * it: "endpoint swift does not support object tagging (PutObjectTagging
 * answered 501 NotImplemented)". caps are those of the endpoint the
 * operation writes to: the target bucket's for S3PutObjectCopy, the
 * objects' bucket for the others (jobcaps_bucket).
 */
char		*jobcaps_refusal(struct json_object *, const struct s3_caps *);

/*
 * The bucket whose endpoint jobcaps_refusal needs, and in which a probe
 * may write its scratch objects, as far as the spec says: the copy's
 * TargetResource, else the ManifestGenerator's SourceBucket. NULL when
 * only the manifest's rows tell (then the first task's bucket is the one).
 * Allocated; the caller frees it.
 */
char		*jobcaps_bucket(struct json_object *);

#endif /* JOBCAPS_H */
