/*
 * An inventory run: list a configuration's source bucket page by page
 * (current versions or all versions, Filter.Prefix), fetch per object
 * only the optional fields that the listing does not give, and deliver
 * Amazon's report to the destination: data/<uuid>.csv.gz files (split at
 * a bounded size, large ones uploaded in parts), then manifest.json,
 * manifest.checksum and hive/dt=.../symlink.txt, encrypted as
 * configured. manifest.json goes last but for its checksum and the
 * symlink: a run cut short never leaves a report that looks complete.
 * Every request goes through the shared S3 client, under the engine's
 * limits. See docs/INVENTORY.md.
 */
#ifndef STAGE_INVENTORY_H
#define STAGE_INVENTORY_H

#include <stdint.h>
#include <time.h>

#include "stage.h"

struct core;
struct inv_config;
struct inv_run;

struct inv_run_result {
	enum stage_status	 status;	/* DONE, FAILED or RETRY */
	const char		*code;		/* FAILED, RETRY */
	const char		*reason;	/* FAILED, RETRY */
	int64_t			 objects;	/* entries listed */
	int64_t			 rows;		/* rows written */
	int64_t			 bytes;		/* data files' bytes */
	/* DONE: where the report is, for a job's Manifest.Location. */
	const char		*manifest_key;
	const char		*manifest_etag;
	/*
	 * DONE with a JobFilter: its selection beside the report (a CSV
	 * manifest; key NULL when no row was selected), or why there is
	 * none (the filter failed).
	 */
	int			 selection;
	const char		*selection_key;
	const char		*selection_etag;
	int64_t			 selection_rows;
	const char		*selection_error;
};

typedef void	(*inv_run_cb)(const char *, const struct inv_run_result *,
		    void *);

/*
 * Start a run of CONFIG (copied: the caller may free it) named RUN_ID,
 * for the scheduled time WHEN (it names the report's
 * YYYY-MM-DDTHH-MMZ folder and the hive dt=). NULL when it ended at once
 * (done_cb has been called).
 */
struct inv_run	*stage_inventory_start(struct core *,
		     const struct inv_config *, const char *, time_t,
		     inv_run_cb, void *);
/*
 * Tests only, each logged with a warning when set: a row count that closes
 * each data file at that many rows (a small bucket makes a report of
 * several files), and a size above which a data file goes as a multipart
 * upload (0: every one).
 */
#define STAGE_INVENTORY_TEST_ROWS_ENV	"S3BATCHD_TEST_INVENTORY_FILE_ROWS"
#define STAGE_INVENTORY_TEST_PUT_ENV	"S3BATCHD_TEST_INVENTORY_PUT_MAX"

/* Stop the run (no callback); it leaves no manifest.json behind. */
void		 stage_inventory_stop(struct inv_run *);

#endif /* STAGE_INVENTORY_H */
