/*
 * systemd integration in one place: Type=notify readiness, STATUS=, the
 * watchdog, socket activation and journald detection. Built with no-op
 * stubs when libsystemd is absent (--without-systemd).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#endif

#include "s3batchd.h"
#include "sdnotify.h"

#ifdef HAVE_SYSTEMD
void
sdnotify_ready(void)
{
	sd_notify(0, "READY=1");
}

void
sdnotify_reloading(void)
{
	sd_notify(0, "RELOADING=1");
}

void
sdnotify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void
sdnotify_status(const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", msg);
	free(msg);
}

void
sdnotify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

uint64_t
sdnotify_watchdog_ms(void)
{
	uint64_t	usec;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return (0);
	return (usec / 1000);
}

int
sdnotify_listen_fd(void)
{
	int	n;

	n = sd_listen_fds(1);
	if (n < 1)
		return (-1);
	if (n > 1)
		log_warnx("systemd passed %d sockets; using the first", n);
	return (SD_LISTEN_FDS_START);
}

int
sdnotify_journal(void)
{
	return (getenv("JOURNAL_STREAM") != NULL ||
	    getenv("INVOCATION_ID") != NULL);
}
#else
void
sdnotify_ready(void)
{
}

void
sdnotify_reloading(void)
{
}

void
sdnotify_stopping(void)
{
}

void
sdnotify_status(const char *fmt, ...)
{
}

void
sdnotify_watchdog(void)
{
}

uint64_t
sdnotify_watchdog_ms(void)
{
	return (0);
}

int
sdnotify_listen_fd(void)
{
	return (-1);
}

int
sdnotify_journal(void)
{
	return (0);
}
#endif
