/* Hikvision's alertStream (GET /ISAPI/Event/notification/alertStream): one
 * endless multipart/mixed body, read as it arrives. Its parts, as open-source
 * alertStream clients and the ISAPI examples show them:
 *     --boundary\r\n
 *     Content-Type: application/xml; charset="UTF-8"\r\n   (or application/json,
 *     Content-Length: 478\r\n                                image/jpeg, none)
 *     \r\n
 *     <EventNotificationAlert ...>...</EventNotificationAlert>\r\n
 * Content-Length is optional (without it the part ends at the next delimiter).
 * XML and JSON parts are handed over whole; pictures and other parts are skipped
 * as they pass, never kept. Memory is bounded: one part of at most `max_part`
 * bytes plus its headers; a bigger XML/JSON part is skipped and counted. Framing
 * that makes no sense is skipped up to the next delimiter: the stream goes on.
 * Pure: no I/O. */
#ifndef GS_ISAPI_STREAM_H
#define GS_ISAPI_STREAM_H

#include <stddef.h>

enum isapi_part { ISAPI_PART_JSON, ISAPI_PART_XML };

typedef void (*isapi_part_fn)(void *arg, enum isapi_part kind, const char *data, size_t len);

struct isapi_stream;

/* NULL when `ctype` names no usable boundary (`why` says so) or out of memory. */
struct isapi_stream *isapi_stream_new(const char *ctype, size_t max_part, char *why,
                                      size_t why_len);
void isapi_stream_free(struct isapi_stream *s);

/* Takes the next `len` bytes; calls `fn` for each XML or JSON part completed.
 * Returns how many parts were skipped as too big or malformed in these bytes (the
 * last one's reason in `why`), 0 when none. */
int isapi_stream_feed(struct isapi_stream *s, const char *data, size_t len, isapi_part_fn fn,
                      void *arg, char *why, size_t why_len);

/* Pictures and other parts skipped so far, and bytes of them. */
unsigned long isapi_stream_skipped(const struct isapi_stream *s, unsigned long long *bytes);

#endif
