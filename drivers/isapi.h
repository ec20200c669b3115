/* Hikvision ISAPI event bodies, as face/thermal terminals push them (README
 * "HTTP terminals"): a JSON EventNotificationAlert, or multipart/form-data whose
 * JSON part is named AccessControllerEvent or event_log, followed by pictures
 * (ignored, never stored). Pure parsing over a buffered, bounded body: no I/O. */
#ifndef GS_ISAPI_H
#define GS_ISAPI_H

#include <stddef.h>

#include "events.h"

/* Parts and header bytes one multipart body may have before it is refused. */
#define ISAPI_MAX_PARTS 16
#define ISAPI_MAX_PART_HEADERS 2048

enum isapi_result {
    ISAPI_BAD = -1,    /* malformed: answer 400, log `why` */
    ISAPI_IGNORED = 0, /* well formed but not a person passing (heartbeat, door event) */
    ISAPI_EVENT = 1,   /* `out` holds a person's event (terminal/lane/wall_ms not set) */
};

/* `ctype`: the request's Content-Type (NULL: JSON). */
enum isapi_result isapi_parse(const char *ctype, const char *body, size_t len,
                              struct terminal_event *out, char *why, size_t why_len);
enum isapi_result isapi_parse_json(const char *body, size_t len, struct terminal_event *out,
                                   char *why, size_t why_len);
/* An XML EventNotificationAlert (alertStream parts): the same fields as the JSON's,
 * read from their elements, then the same checks. */
enum isapi_result isapi_parse_xml(const char *body, size_t len, struct terminal_event *out,
                                  char *why, size_t why_len);
/* "--" and the boundary parameter of a multipart Content-Type (quoted or not, at
 * most 70 characters), into out[n]; -1 without a usable one. */
int isapi_boundary(const char *ctype, char *out, size_t n);
/* The JSON part of a multipart body; 0 found, -1 with `why`. */
int isapi_multipart_json(const char *ctype, const char *body, size_t len, const char **part,
                         size_t *part_len, char *why, size_t why_len);

#endif
