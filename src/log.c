/*
 * Logging in the OpenBSD daemons' shape. Under systemd, lines go to journald
 * with structured fields (JOB_ID=, like Knot's ZONE=); with -d, to stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>


#ifdef HAVE_SYSTEMD
#include <systemd/sd-journal.h>
#endif

#include "s3batchd.h"

static int	 log_flags = LOG_TO_STDERR;
static int	 log_verbose;

void
log_init(int flags, int verbose)
{
	log_flags = flags;
	log_verbose = verbose;
	if ((log_flags & (LOG_TO_STDERR|LOG_TO_JOURNAL)) == 0)
		openlog("s3batchd", LOG_PID|LOG_NDELAY, LOG_DAEMON);
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return (log_verbose);
}

static void
log_emit(int pri, const char *job_id, const char *msg)
{
	char		 ts[32];
	struct timespec	 tv;
	struct tm	 tm;

#ifdef HAVE_SYSTEMD
	if (log_flags & LOG_TO_JOURNAL) {
		if (job_id != NULL)
			sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", pri,
			    "JOB_ID=%s", job_id, "SYSLOG_IDENTIFIER=s3batchd",
			    NULL);
		else
			sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", pri,
			    "SYSLOG_IDENTIFIER=s3batchd", NULL);
		return;
	}
#endif
	if (log_flags & LOG_TO_STDERR) {
		clock_gettime(CLOCK_REALTIME, &tv);
		gmtime_r(&tv.tv_sec, &tm);
		strftime(ts, sizeof ts, "%H:%M:%S", &tm);
		if (job_id != NULL)
			fprintf(stderr, "%s.%03ld [job %s] %s\n", ts,
			    tv.tv_nsec / 1000000, job_id, msg);
		else
			fprintf(stderr, "%s.%03ld %s\n", ts,
			    tv.tv_nsec / 1000000, msg);
		fflush(stderr);
		return;
	}
	if (job_id != NULL)
		syslog(pri, "[job %s] %s", job_id, msg);
	else
		syslog(pri, "%s", msg);
}

static void log_vlog(int, const char *, int, const char *, va_list)
    printflike(4, 0);

static void
log_vlog(int pri, const char *job_id, int with_errno, const char *fmt,
    va_list ap)
{
	char	*msg, *full;
	int	 saved = errno;

	if (pri == LOG_DEBUG && !log_verbose)
		return;
	if (vasprintf(&msg, fmt, ap) == -1)
		return;
	if (with_errno) {
		if (asprintf(&full, "%s: %s", msg, strerror(saved)) == -1) {
			free(msg);
			return;
		}
		free(msg);
		msg = full;
	}
	log_emit(pri, job_id, msg);
	free(msg);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(LOG_WARNING, NULL, 1, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(LOG_WARNING, NULL, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(LOG_INFO, NULL, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(LOG_DEBUG, NULL, 0, fmt, ap);
	va_end(ap);
}

void
log_job(int pri, const char *job_id, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(pri, job_id, 0, fmt, ap);
	va_end(ap);
}

void
log_limited(struct log_limit *ll, int every, int pri, const char *job_id,
    const char *fmt, ...)
{
	struct timespec	 ts;
	va_list		 ap;
	char		*msg;
	unsigned long	 n;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ll->last != 0 && ts.tv_sec - ll->last < every) {
		ll->suppressed++;
		return;
	}
	ll->last = ts.tv_sec != 0 ? ts.tv_sec : 1;
	n = ll->suppressed;
	ll->suppressed = 0;
	va_start(ap, fmt);
	if (n == 0) {
		log_vlog(pri, job_id, 0, fmt, ap);
		va_end(ap);
		return;
	}
	if (vasprintf(&msg, fmt, ap) == -1) {
		va_end(ap);
		return;
	}
	va_end(ap);
	log_job(pri, job_id, "%s (%lu similar lines suppressed)", msg, n);
	free(msg);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(LOG_CRIT, NULL, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(LOG_CRIT, NULL, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
