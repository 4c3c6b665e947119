/* systemd glue: readiness, status, watchdog, socket activation; no-ops without libsystemd. */
#ifndef SDNOTIFY_H
#define SDNOTIFY_H

#include <stdint.h>

void		 sdnotify_ready(void);
void		 sdnotify_reloading(void);
void		 sdnotify_stopping(void);
void		 sdnotify_status(const char *, ...)
		     __attribute__((__format__(__printf__, 1, 2)));
void		 sdnotify_watchdog(void);
/* The watchdog interval systemd asked for, in ms (0: none). */
uint64_t	 sdnotify_watchdog_ms(void);
/* An activated socket passed by systemd, or -1. */
int		 sdnotify_listen_fd(void);
/* Whether stderr is connected to the journal (log there with fields). */
int		 sdnotify_journal(void);

#endif /* SDNOTIFY_H */
