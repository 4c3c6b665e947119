/* Typed members of json-c objects by dotted path. */
#include <string.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "json.h"

struct json_object *
json_path(struct json_object *o, const char *path)
{
	const char	*dot;
	char		 name[128];
	size_t		 len;

	while (o != NULL) {
		if (!json_object_is_type(o, json_type_object))
			return (NULL);
		dot = strchr(path, '.');
		len = dot != NULL ? (size_t)(dot - path) : strlen(path);
		if (len >= sizeof name)
			return (NULL);
		memcpy(name, path, len);
		name[len] = '\0';
		if (!json_object_object_get_ex(o, name, &o))
			return (NULL);
		if (dot == NULL)
			return (o);
		path = dot + 1;
	}
	return (NULL);
}

const char *
json_path_string(struct json_object *o, const char *path)
{
	if ((o = json_path(o, path)) == NULL ||
	    !json_object_is_type(o, json_type_string))
		return (NULL);
	return (json_object_get_string(o));
}

int
json_path_int64(struct json_object *o, const char *path, int64_t *v)
{
	double	 d;

	if ((o = json_path(o, path)) == NULL)
		return (-1);
	switch (json_object_get_type(o)) {
	case json_type_int:
		*v = json_object_get_int64(o);
		return (0);
	case json_type_double:
		/* The bounds are exact doubles: 2^63 is not an int64_t. */
		d = json_object_get_double(o);
		if (!(d > -9223372036854775808.0 && d < 9223372036854775808.0))
			return (-1);
		*v = (int64_t)d;
		return (0);
	default:
		return (-1);
	}
}

int
json_path_bool(struct json_object *o, const char *path)
{
	if ((o = json_path(o, path)) == NULL ||
	    !json_object_is_type(o, json_type_boolean))
		return (-1);
	return (json_object_get_boolean(o) ? 1 : 0);
}
