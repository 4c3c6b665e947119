/*
 * Time windows ([window NAME] in the configuration): when an endpoint, or
 * a job tagged s3batchd:window, may run at full rate, at a lower rate, or
 * not at all. Times are UTC, to the minute. A window whose end is not
 * after its start wraps past midnight and belongs to the day it starts on
 * ("Fri 22:00-06:00" holds from Friday 22:00 to Saturday 06:00).
 */
#ifndef WINDOW_H
#define WINDOW_H

#include <stdint.h>
#include <time.h>

#define WINDOW_FULL	(-1.0)		/* no limit inside the window */
#define WINDOW_PAUSE	0.0		/* nothing runs inside the window */

struct window {
	uint8_t		 days;		/* bit 0 Sunday .. bit 6 Saturday */
	int		 start;		/* minutes after midnight, 0..1439 */
	int		 end;		/* 1..1440; <= start: past midnight */
	double		 rate;		/* WINDOW_FULL, WINDOW_PAUSE or /s */
};

/*
 * "*", "Mon-Fri", "Sat,Sun", "Mon-Wed,Fri" (three-letter English names,
 * any case; a range may wrap, "Fri-Mon"). -1 with *cause.
 */
int	window_parse_days(const char *, uint8_t *, char **);
/* "HH:MM", 00:00 to 23:59; with end set, 24:00 too. -1 with *cause. */
int	window_parse_time(const char *, int, int *, char **);
/* "full", "pause", or requests a second (a positive number). */
int	window_parse_rate(const char *, double *, char **);
/* Whether the time falls inside the window. */
int	window_contains(const struct window *, time_t);

#endif /* WINDOW_H */
