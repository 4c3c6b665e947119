/*
 * The prepare stage of a Preparing job, on the bulk thread: its manifest,
 * read from the spool (a streamed or downloaded CSV, or an inventory
 * report's manifest.json and data files), becomes its tasks; or, for a
 * clone-job, the source job's tasks are copied. Batches are committed as
 * they go, re-reading the job's status each time so that a cancel wins; the
 * last commit stores the task count and is durable. It starts from an empty
 * task list, so a restart simply runs it again. It leaves the spool alone
 * (the lifecycle removes it once the job has left Preparing) and the job in
 * Preparing: STAGE_DONE, STAGE_FAILED (InvalidManifest, CloneFailed; the
 * tasks stored so far are deleted), or STAGE_STOPPED when the job left
 * Preparing under it (its tasks deleted too).
 */
#ifndef STAGE_PREPARE_H
#define STAGE_PREPARE_H

#include "stage.h"

struct core;
struct stage_prepare;

struct stage_prepare *stage_prepare_start(struct core *, const char *,
	    stage_done_cb, void *);
struct stage_prepare *stage_clone_start(struct core *, const char *,
	    stage_done_cb, void *);
/* Stop either (no callback); a restart prepares again. */
void	stage_prepare_stop(struct stage_prepare *);

#endif /* STAGE_PREPARE_H */
