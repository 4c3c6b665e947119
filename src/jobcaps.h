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

struct event_base;
struct json_object;
struct s3;
struct s3_caps;
struct s3_caps_cache;

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

/*
 * The whole check for the lifecycle, before a job's first task: resolve
 * bucket (jobcaps_bucket's, else the first task's) to its endpoint, take
 * the endpoint's capabilities from cache or probe it (writing scratch
 * objects under a prefix of bucket, s3-probe.h) and store the result in
 * cache, then call done_cb with NULL (run the job) or the refusal. A probe
 * that cannot run (no write access to the bucket, the server down) is
 * logged and lets the job run: its tasks say what happens. done_cb is
 * never called before jobcaps_check_start returns; the check is freed when
 * done_cb returns (do not cancel it from there). The spec is referenced
 * (json_object_get) until done_cb returns; s3 and cache must outlive the
 * check. Two jobs checked at once on an uncached endpoint probe it twice.
 */
typedef void	(*jobcaps_done_cb)(const char *, void *);
struct jobcaps_check;
struct jobcaps_check *jobcaps_check_start(struct event_base *, struct s3 *,
		    struct s3_caps_cache *, struct json_object *, const char *,
		    jobcaps_done_cb, void *);
/* No callback; a probe in flight is cancelled. */
void		 jobcaps_check_cancel(struct jobcaps_check *);

#endif /* JOBCAPS_H */
