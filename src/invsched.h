/*
 * The scheduler of inventory runs (daemon core). The store is the truth:
 * each configuration's last_sched says which scheduled time the newest run
 * was for, so the next one is computed (inv_last_due) from stored times
 * and a restart changes nothing; a run missed while the daemon was down
 * runs once at start. One run per configuration at a time. A run found
 * Running at start (the daemon died under it) is marked Failed as
 * interrupted and started again as a new run for the same scheduled time.
 * Runs are the run stage's (stage-inventory.h); this module records their
 * outcomes. All on the loop's thread. See docs/INVENTORY.md.
 */
#ifndef INVSCHED_H
#define INVSCHED_H

#include <sys/types.h>

#include <stdint.h>
#include <time.h>

struct core;
struct json_object;
struct invsched;
struct lifecycle;
struct store_actor;

/*
 * The test-only fast clock: S3BATCHD_TEST_INVENTORY_CLOCK="EPOCH[:SCALE]"
 * in the daemon's environment starts the scheduler's clock at EPOCH (UTC
 * seconds) and runs it SCALE times faster than real time (default 1).
 * Nothing else reads it; docs/TESTING.md.
 */
#define INVSCHED_TEST_CLOCK_ENV	"S3BATCHD_TEST_INVENTORY_CLOCK"
/*
 * TEST ONLY: set, a finished run's job is recorded as owed but not made,
 * as if the daemon died between the two; the next start makes it.
 */
#define INVSCHED_TEST_OWE_ENV	"S3BATCHD_TEST_INVENTORY_OWE_JOB"

/*
 * When a run ends with a report and its configuration has a JobTemplate,
 * the job is created through the lifecycle (lifecycle_create_job: the
 * checks, idempotency and audit of create-job), its ClientRequestToken
 * made from the run id; a job owed when the daemon stopped is made at
 * start. Recover interrupted runs and arm the timer.
 */
struct invsched	*invsched_new(struct core *, struct lifecycle *);
/* Stop the runs under way (they stay Running in the store: see above). */
void		 invsched_free(struct invsched *);
/* The scheduler's clock, UTC seconds (the test clock if set). */
time_t		 invsched_now(const struct invsched *);
/* A configuration was stored or deleted: look at the schedule again. */
void		 invsched_changed(struct invsched *);

/*
 * Start a run of a configuration now (run-inventory), for an actor (a
 * local peer, an API key). Returns 0 with *run_id (the caller frees it),
 * 1 when the configuration has no such entry, 2 when a run of it is
 * under way (*run_id is that run's), 3 when the last run was in this
 * minute (its report's folder; *cause says when to run again), -1 with
 * *cause.
 */
int		 invsched_run_now(struct invsched *, const char *,
		     const char *, const struct store_actor *, char **,
		     char **);

/*
 * The Manifest a JobTemplate is completed with: the inventory report's
 * manifest.json at arn with etag, and the configuration's filter (NULL
 * for none). put-bucket-inventory-configuration checks a template with
 * the same Manifest as the job made on a run's report gets.
 */
struct json_object *invsched_manifest(const char *, const char *,
		     const char *);

/* Runs under way, for status and metrics. */
size_t		 invsched_running(const struct invsched *);

#endif /* INVSCHED_H */
