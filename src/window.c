/*
 * Time windows: parsing their parts and telling whether a time is inside.
 * See window.h.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s3batchd.h"
#include "window.h"

static const char *const window_day_names[7] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};

static int
window_day(const char *s, size_t len)
{
	int	i;

	if (len != 3)
		return (-1);
	for (i = 0; i < 7; i++) {
		if (strncasecmp(s, window_day_names[i], 3) == 0)
			return (i);
	}
	return (-1);
}

int
window_parse_days(const char *s, uint8_t *days, char **cause)
{
	const char	*p = s, *comma, *dash;
	size_t		 len;
	int		 a, b, i;

	*days = 0;
	if (strcmp(s, "*") == 0) {
		*days = 0x7f;
		return (0);
	}
	for (;;) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		dash = memchr(p, '-', len);
		if (dash == NULL) {
			a = b = window_day(p, len);
		} else {
			a = window_day(p, (size_t)(dash - p));
			b = window_day(dash + 1, len - (size_t)(dash - p) - 1);
		}
		if (a < 0 || b < 0) {
			xasprintf(cause, "days \"%s\": \"%.*s\" is not a day or "
			    "a range of days (Mon, Mon-Fri, or * for every day)",
			    s, (int)len, p);
			return (-1);
		}
		for (i = a;; i = (i + 1) % 7) {
			*days |= (uint8_t)(1 << i);
			if (i == b)
				break;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return (0);
}

int
window_parse_time(const char *s, int end, int *minutes, char **cause)
{
	int	h, m;

	if (strlen(s) != 5 || !isdigit((u_char)s[0]) ||
	    !isdigit((u_char)s[1]) || s[2] != ':' || !isdigit((u_char)s[3]) ||
	    !isdigit((u_char)s[4]))
		goto bad;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && (m != 0 || !end)))
		goto bad;
	*minutes = h * 60 + m;
	return (0);
bad:
	xasprintf(cause, "\"%s\" is not a time of day (HH:MM, UTC%s)", s,
	    end ? ", up to 24:00" : "");
	return (-1);
}

int
window_parse_rate(const char *s, double *rate, char **cause)
{
	char	*end;
	double	 v;

	if (strcmp(s, "full") == 0) {
		*rate = WINDOW_FULL;
		return (0);
	}
	if (strcmp(s, "pause") == 0) {
		*rate = WINDOW_PAUSE;
		return (0);
	}
	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v <= 0 || v > 1e6) {
		xasprintf(cause, "rate \"%s\": full, pause, or requests a "
		    "second (more than 0, at most 1000000)", s);
		return (-1);
	}
	*rate = v;
	return (0);
}

int
window_contains(const struct window *w, time_t t)
{
	struct tm	tm;
	int		day, min;

	if (gmtime_r(&t, &tm) == NULL)
		return (0);
	day = tm.tm_wday;
	min = tm.tm_hour * 60 + tm.tm_min;
	if (w->end > w->start)
		return ((w->days & (1 << day)) && min >= w->start &&
		    min < w->end);
	/* Past midnight: the evening of its day, the morning after. */
	if ((w->days & (1 << day)) && min >= w->start)
		return (1);
	return ((w->days & (1 << ((day + 6) % 7))) && min < w->end);
}
