/*
 * json.c: members of json-c objects by dotted path ("Report.Bucket"), typed.
 * Every getter takes a NULL or non-object o and answers "absent", so that a
 * caller can walk optional parts of a document without checks at each step.
 * Paths are split at dots: Amazon's member names never contain one; keys
 * that may (user metadata, tags) are looked up with json-c directly.
 */
#ifndef JSON_H
#define JSON_H

#include <stdint.h>

struct json_object;

/* The member at path, or NULL if absent or a step is not an object. */
struct json_object	*json_path(struct json_object *, const char *);
/* The string at path, or NULL if absent or not a string. */
const char		*json_path_string(struct json_object *, const char *);
/*
 * The integer at path: 0 with *v set, or -1 if absent or not a number. A
 * double is truncated toward zero (botocore writes some times as doubles);
 * one outside int64_t's range is refused.
 */
int			 json_path_int64(struct json_object *, const char *,
			    int64_t *);
/* 1 if the member at path is true, 0 if false, -1 if absent or no bool. */
int			 json_path_bool(struct json_object *, const char *);

#endif /* JSON_H */
