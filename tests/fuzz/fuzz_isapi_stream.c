/* libFuzzer target for the alertStream parser (drivers/isapi_stream.c) and the
 * ISAPI part parsers it feeds (isapi_parse_json, isapi_parse_xml). The first byte
 * picks the boundary and how the bytes are cut (1 to 64 bytes a feed, or all at
 * once: the network cuts anywhere), the rest is the stream. Never a crash, a hang
 * or a leak; no part handed over longer than the parser keeps; a refusal says why;
 * the same parts whatever the cuts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isapi.h"
#include "isapi_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PART 512

struct seen {
    unsigned parts;
    size_t bytes;
    uint32_t sum; /* of every part's bytes, so cuts cannot change what comes out */
};

static void on_part(void *arg, enum isapi_part kind, const char *d, size_t n)
{
    struct seen *s = arg;
    struct terminal_event ev;
    char why[160] = "";
    if (n > MAX_PART)
        __builtin_trap();
    enum isapi_result r = kind == ISAPI_PART_JSON ? isapi_parse_json(d, n, &ev, why, sizeof why)
                                                  : isapi_parse_xml(d, n, &ev, why, sizeof why);
    if (r == ISAPI_BAD && why[0] == '\0')
        __builtin_trap();
    if (r == ISAPI_EVENT && (memchr(ev.employee, 0, sizeof ev.employee) == NULL ||
                             (ev.has_temp && (ev.temp_centi < -10000 || ev.temp_centi > 20000))))
        __builtin_trap();
    s->parts++;
    s->bytes += n;
    for (size_t i = 0; i < n; i++)
        s->sum = s->sum * 31 + (unsigned char)d[i];
}

static struct seen run(const char *ctype, const char *body, size_t len, size_t cut)
{
    struct seen s = {0};
    char why[160];
    struct isapi_stream *st = isapi_stream_new(ctype, MAX_PART, why, sizeof why);
    if (!st)
        __builtin_trap();
    for (size_t i = 0; i < len; i += cut)
        isapi_stream_feed(st, body + i, len - i < cut ? len - i : cut, on_part, &s, why,
                          sizeof why);
    isapi_stream_free(st);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ctypes[] = {"multipart/mixed; boundary=boundary",
                                         "multipart/mixed; boundary=\"MIME_boundary\""};
    if (size < 1)
        return 0;
    const char *ctype = ctypes[data[0] & 1];
    size_t cut = (size_t)(data[0] >> 1) % 64 + 1;
    char *body = malloc(size - 1 ? size - 1 : 1); /* exactly its size: overreads are caught */
    if (!body)
        return 0;
    memcpy(body, data + 1, size - 1);
    struct seen a = run(ctype, body, size - 1, cut), b = run(ctype, body, size - 1, size);
    if (a.parts != b.parts || a.bytes != b.bytes || a.sum != b.sum)
        __builtin_trap();
    free(body);
    return 0;
}
