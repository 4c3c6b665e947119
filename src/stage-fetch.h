/*
 * The fetch stage of a New job whose manifest is on S3 (Manifest.Location):
 * it downloads the manifest object — or an inventory report's manifest.json
 * and every data file it lists — into the spool through the shared S3
 * client, checking the ETag the job names before anything else. It reports
 * STAGE_DONE (the spool holds the manifest) or STAGE_FAILED (InvalidManifest,
 * ManifestUnreadable, ManifestETagMismatch); the lifecycle moves the job out
 * of New.
 */
#ifndef STAGE_FETCH_H
#define STAGE_FETCH_H

#include "stage.h"

struct core;
struct stage_fetch;

/* NULL when it ended at once (done_cb has been called). */
struct stage_fetch *stage_fetch_start(struct core *, const char *,
	    stage_done_cb, void *);
/* Cancel the download (no callback); partial files are removed. */
void	stage_fetch_stop(struct stage_fetch *);

#endif /* STAGE_FETCH_H */
