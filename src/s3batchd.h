/*
 * s3batchd: common declarations shared by every subsystem, the daemon, the
 * client, the unit tests and the fuzzers.
 */
#ifndef S3BATCHD_H
#define S3BATCHD_H

#include <sys/types.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifndef __dead
#define __dead __attribute__((__noreturn__))
#endif
#define printflike(a, b) __attribute__((__format__(__printf__, a, b)))

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/* glibc's sys/queue.h lacks the _SAFE iterators. */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

/* xmalloc.c: allocation that cannot fail (out of memory is fatal). */
void		*xmalloc(size_t);
void		*xcalloc(size_t, size_t);
void		*xrealloc(void *, size_t);
void		*xreallocarray(void *, size_t, size_t);
char		*xstrdup(const char *);
char		*xstrndup(const char *, size_t);
int		 xasprintf(char **, const char *, ...) printflike(2, 3);
int		 xvasprintf(char **, const char *, va_list) printflike(2, 0);
/* Zero then free: for anything that held a secret. */
void		 freezero_str(char *);
void		 explicit_wipe(void *, size_t);
/*
 * A copy of a secret in pages excluded from core dumps (MADV_DONTDUMP);
 * secret_free wipes and unmaps it. Only secret_free may free it.
 */
char		*secret_strdup(const char *);
void		 secret_free(char *);

/* log.c: OpenBSD-style logging; journald fields under systemd. */
#define LOG_TO_STDERR	0x1	/* -d: everything to stderr */
#define LOG_TO_JOURNAL	0x2	/* structured fields via sd_journal_send */
void		 log_init(int flags, int verbose);
void		 log_setverbose(int);
int		 log_getverbose(void);
void		 log_warn(const char *, ...) printflike(1, 2);
void		 log_warnx(const char *, ...) printflike(1, 2);
void		 log_info(const char *, ...) printflike(1, 2);
void		 log_debug(const char *, ...) printflike(1, 2);
/* Like log_info/log_warnx but tagged with JOB_ID= for journald. */
void		 log_job(int, const char *, const char *, ...) printflike(3, 4);
/*
 * Rate-limited logging for conditions that can repeat in a loop (a full
 * disk, a failing accept): at most one line per `every` seconds per
 * limiter; the next line emitted says how many were suppressed since.
 * A limiter is a zeroed struct log_limit owned by the caller.
 */
struct log_limit {
	int64_t		 last;		/* CLOCK_MONOTONIC seconds; 0: never */
	unsigned long	 suppressed;
};
void		 log_limited(struct log_limit *, int every, int pri,
		    const char *job_id, const char *, ...) printflike(5, 6);
__dead void	 fatal(const char *, ...) printflike(1, 2);
__dead void	 fatalx(const char *, ...) printflike(1, 2);

/* buf.c: a growable byte buffer, always NUL-terminated. */
struct buf {
	char		*data;
	size_t		 len;
	size_t		 size;
};
void		 buf_init(struct buf *);
void		 buf_free(struct buf *);
void		 buf_reset(struct buf *);
void		 buf_add(struct buf *, const void *, size_t);
void		 buf_adds(struct buf *, const char *);
void		 buf_addc(struct buf *, char);
void		 buf_addf(struct buf *, const char *, ...) printflike(2, 3);
void		 buf_consume(struct buf *, size_t);
char		*buf_detach(struct buf *);

/* util.c: time, durations, identifiers, hex. */
uint64_t	 time_now_ms(void);		/* wall clock, ms since epoch */
uint64_t	 time_mono_ms(void);		/* monotonic, ms */
/* "2026-11-22T02:13:03.123000+00:00", as the aws cli prints times. */
void		 time_format_iso(uint64_t, char *, size_t);
/* "30d", "2s", "500ms", "1h30m": milliseconds. */
int		 parse_duration(const char *, uint64_t *, char **);
void		 format_duration(uint64_t, char *, size_t);
/* "64", "64k", "5G", "5GiB": bytes. */
int		 parse_size(const char *, uint64_t *, char **);
int		 parse_bool(const char *, int *);
/* "2019-04-05T17:48:39.725Z": S3's times and Amazon's report manifests. */
void		 time_format_utc(uint64_t, char *, size_t);
/* Days from 1970-01-01 to a proleptic Gregorian date (negative before). */
int64_t		 time_days_from_civil(int64_t, int, int);
/*
 * ISO 8601 times, ms since the epoch (negative before 1970). By default the
 * grammar Amazon accepts in JSON: "2026-11-22" (midnight UTC), "T", "t" or
 * " " before "HH:MM[:SS[.frac]]", "," or "." before up to 9 digits of
 * fraction, then "Z", "+HH", "+HHMM", "+HH:MM" or nothing (UTC). With
 * TIME_ISO_RFC3339, only what S3 sends: "YYYY-MM-DDTHH:MM:SS[.frac]" and
 * "Z" or "+HH:MM". Returns -1 on anything else, impossible dates included.
 */
#define TIME_ISO_RFC3339	0x1
int		 time_parse_iso(const char *, size_t, int, int64_t *);
/* "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 7231 IMF-fixdate): 0 or -1. */
int		 time_parse_http(const char *, uint64_t *);
/* A random version-4 UUID, 36 characters plus NUL. */
void		 uuid_generate_v4(char [37]);
int		 utf8_valid(const char *, size_t);
/* Lower-case hex of len bytes into out, which holds 2 * len + 1 bytes. */
void		 hex_encode(const void *, size_t, char *);

/*
 * util.c: whole reads and writes on blocking descriptors, EINTR retried.
 * io_write_all writes everything (0) or fails (-1, errno set; EIO if the
 * kernel took nothing). io_read_full reads until len bytes or end of file
 * and returns the count, or -1 with errno. io_read_buf appends to b until
 * end of file: 0, or -1 with errno (EFBIG once more than max bytes came).
 */
int		 io_write_all(int, const void *, size_t);
ssize_t		 io_read_full(int, void *, size_t);
int		 io_read_buf(int, struct buf *, size_t);

/* urlenc.c: percent-encoding. */
#define URLENC_KEEP_SLASH	0x1	/* S3 object keys in a path */
#define URLENC_PLUS_SPACE	0x2	/* decode '+' as a space (form encoding) */
void		 url_encode(struct buf *, const char *, size_t, int);
/* Returns -1 with *cause set on a bad escape. Output may contain NUL bytes. */
int		 url_decode(struct buf *, const char *, size_t, int, char **);

#endif /* S3BATCHD_H */
