/*
 * The report stage. The bulk thread works on a private copy of the job (the
 * loop's copy may change meanwhile); a stop during the write only marks the
 * stage, which frees itself when the bulk item comes back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "s3batchd.h"
#include "bulk.h"
#include "cfg.h"
#include "core.h"
#include "job.h"
#include "report.h"
#include "spool.h"
#include "stage-report.h"
#include "store.h"

struct stage_report {
	struct core		*core;
	struct job		 job;
	char			*dir;
	struct report_files	 files;
	char			*cause;
	struct report_upload	*upload;
	int			 writing;	/* on the bulk thread */
	int			 stopped;
	stage_done_cb		 done_cb;
	void			*arg;
};

static void
stage_report_free(struct stage_report *rp)
{
	if (rp->upload != NULL)
		report_upload_cancel(rp->upload);
	report_files_free(&rp->files);
	job_clear(&rp->job);
	free(rp->dir);
	free(rp->cause);
	free(rp);
}

/* error: why the report is not up; local: it could not even be written. */
static void
stage_report_end(struct stage_report *rp, const char *error, int local)
{
	struct stage_result	 res;
	char			*reason = NULL;
	char			 id[sizeof rp->job.id];

	memset(&res, 0, sizeof res);
	memcpy(id, rp->job.id, sizeof id);
	if (error != NULL) {
		xasprintf(&reason, "The completion report could not be "
		    "written: %s", error);
		res.status = local ? STAGE_RETRY : STAGE_FAILED;
		res.code = local ? STAGE_CODE_LOCAL : "ReportFailed";
		res.reason = reason;
	} else
		res.status = STAGE_DONE;
	rp->done_cb(id, &res, rp->arg);
	free(reason);
}

static void
stage_report_uploaded_cb(const char *error, void *arg)
{
	struct stage_report	*rp = arg;

	rp->upload = NULL;
	if (error != NULL)
		log_job(LOG_WARNING, rp->job.id, "report: %s", error);
	else
		log_job(LOG_INFO, rp->job.id, "completion report written to "
		    "s3://%s/%s/", rp->files.bucket, rp->files.prefix);
	stage_report_end(rp, error, 0);
	stage_report_free(rp);
}

/* Bulk thread: the result files, from the thread's store connection. */
static void
stage_report_write(struct store *st, void *arg)
{
	struct stage_report	*rp = arg;

	if (report_write(st, &rp->job, rp->dir, &rp->files, &rp->cause) != 0 &&
	    rp->cause == NULL)
		rp->cause = xstrdup("writing the report failed");
}

static void
stage_report_written(void *arg)
{
	struct stage_report	*rp = arg;

	rp->writing = 0;
	if (rp->stopped) {
		stage_report_free(rp);
		return;
	}
	if (rp->cause != NULL) {
		/* The store or the spool's disk: not the report bucket. */
		stage_report_end(rp, rp->cause, 1);
		stage_report_free(rp);
		return;
	}
	rp->upload = report_upload(rp->core->s3, &rp->job, &rp->files,
	    stage_report_uploaded_cb, rp);
}

struct stage_report *
stage_report_start(struct core *core, const char *id, stage_done_cb done_cb,
    void *arg)
{
	struct stage_report	*rp;
	struct stage_result	 res = { STAGE_RETRY, STAGE_CODE_LOCAL, NULL,
				     NULL };
	char			*cause = NULL;

	rp = xcalloc(1, sizeof *rp);
	rp->core = core;
	rp->done_cb = done_cb;
	rp->arg = arg;
	if (store_job_get(core->store, id, &rp->job, &cause) != 0) {
		/* A store error is local: the lifecycle tries again. */
		if (cause != NULL) {
			res.reason = cause;
			done_cb(id, &res, arg);
		} else
			stage_fail(done_cb, id, arg, "ReportFailed",
			    "the job is gone");
		free(cause);
		free(rp);
		return (NULL);
	}
	if (!report_enabled(&rp->job)) {
		stage_report_end(rp, NULL, 0);
		stage_report_free(rp);
		return (NULL);
	}
	rp->dir = spool_dir((*core->cfg)->state_dir);
	rp->writing = 1;
	bulk_run(core->bulk, stage_report_write, stage_report_written, rp);
	return (rp);
}

void
stage_report_stop(struct stage_report *rp)
{
	if (rp == NULL)
		return;
	if (rp->writing) {
		rp->stopped = 1;
		return;
	}
	stage_report_free(rp);
}
