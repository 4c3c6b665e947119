/*
 * The report stage: a Completing or Failing job's completion report
 * (Report_CSV_20180820, report.h). The result files are written on the bulk
 * thread from its store connection, then uploaded on the loop through the
 * shared S3 client. A job whose spec asks for no report is done at once.
 * It reports STAGE_DONE, or STAGE_FAILED with ReportFailed; the lifecycle
 * moves the job to Complete or Failed.
 */
#ifndef STAGE_REPORT_H
#define STAGE_REPORT_H

#include "stage.h"

struct core;
struct stage_report;

/* Always ends with done_cb (maybe before returning NULL). */
struct stage_report *stage_report_start(struct core *, const char *,
	    stage_done_cb, void *);
/* Stop it (no callback); its files are removed. */
void	stage_report_stop(struct stage_report *);

#endif /* STAGE_REPORT_H */
