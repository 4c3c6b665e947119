/*
 * The control-socket wire protocol between s3batchctl and s3batchd.
 * docs/PROTOCOL.md describes it for people; bump PROTOCOL_VERSION on any
 * incompatible change.
 *
 * Every message is one JSON object on one line, at most PROTOCOL_MAX_LINE
 * bytes including the newline.
 *
 *   request:  {"v":1,"id":N,"cmd":"describe-job","args":{"JobId":"..."}}
 *   success:  {"v":1,"id":N,"ok":true,"result":{...}}
 *   failure:  {"v":1,"id":N,"ok":false,"error":{"code":"NoSuchJob",
 *             "message":"..."}}
 *
 * A create-job or clone-job request whose args carry "ManifestStream":true
 * is answered first with {"v":1,"id":N,"ok":true,"continue":true} (or a
 * failure, or the final reply when no manifest is needed: a repeated
 * ClientRequestToken names an existing job); the client then sends the manifest as frames, each a line
 * {"chunk":LEN} followed by exactly LEN raw bytes (LEN at most
 * PROTOCOL_MAX_CHUNK), ending with {"chunk":0}. The final reply follows.
 */
#ifndef PROTOCOL_H
#define PROTOCOL_H

#define PROTOCOL_VERSION	1
#define PROTOCOL_MAX_LINE	(1024 * 1024)
#define PROTOCOL_MAX_CHUNK	(1024 * 1024)
/* A streamed manifest may not exceed this (the job store is the limit). */
#define PROTOCOL_MAX_MANIFEST	(64ULL * 1024 * 1024 * 1024)

/* Where s3batchctl looks when neither -s nor $S3BATCHD_SOCKET says. */
#define CONTROL_SOCKET_DEFAULT	RUNSTATEDIR "/s3batchd/control.sock"

/* Error codes carried in "error":{"code":...}; Amazon's names where it has one. */
#define ERR_PROTOCOL		"ProtocolError"		/* bad frame or JSON */
#define ERR_TOO_LARGE		"MessageTooLarge"
#define ERR_VERSION		"UnsupportedVersion"
#define ERR_UNKNOWN_COMMAND	"UnknownCommand"
#define ERR_ACCESS_DENIED	"AccessDenied"		/* peer may not mutate */
#define ERR_BAD_REQUEST		"BadRequestException"
#define ERR_INVALID_REQUEST	"InvalidRequestException"
#define ERR_NO_SUCH_JOB		"NoSuchJob"
#define ERR_JOB_STATUS		"JobStatusException"
#define ERR_IDEMPOTENCY		"IdempotencyException"
#define ERR_TOO_MANY_TAGS	"TooManyTagsException"
#define ERR_INTERNAL		"InternalServiceException"
#define ERR_SHUTTING_DOWN	"ServiceUnavailable"
#define ERR_NO_SUCH_ENDPOINT	"NoSuchEndpoint"
#define ERR_NO_SUCH_CONFIGURATION "NoSuchConfiguration"	/* Amazon's */
#define ERR_INVENTORY_RUNNING	"InventoryRunInProgress"
#define ERR_INVENTORY_TOO_SOON	"InventoryRunTooSoon"

#endif /* PROTOCOL_H */
