/* libFuzzer target for the Hikvision ISAPI body parser (drivers/isapi.c): the first
 * byte picks the Content-Type (JSON, multipart with one of two boundaries, quoted or
 * not, or a broken one), the rest is the body. Any bytes must give an event, an
 * "ignored" or a refusal with a reason, never a crash, a hang or a leak; an event's
 * texts are terminated and its temperature within what the parser promises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const ctypes[] = {
    "application/json",
    "multipart/form-data; boundary=MIME_boundary",
    "multipart/form-data; boundary=\"b\"",
    "multipart/form-data",
    NULL,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *ctype = ctypes[data[0] % (sizeof ctypes / sizeof ctypes[0])];
    /* A copy of exactly the body's size, so that reading past it is caught. */
    char *body = malloc(size - 1 ? size - 1 : 1);
    if (!body)
        return 0;
    memcpy(body, data + 1, size - 1);
    struct terminal_event ev;
    char why[160];
    why[0] = '\0';
    enum isapi_result r = isapi_parse(ctype, body, size - 1, &ev, why, sizeof why);
    if (r == ISAPI_BAD && why[0] == '\0')
        __builtin_trap(); /* a refusal always says why */
    if (r == ISAPI_EVENT &&
        (memchr(ev.employee, 0, sizeof ev.employee) == NULL ||
         memchr(ev.mask, 0, sizeof ev.mask) == NULL ||
         memchr(ev.device_time, 0, sizeof ev.device_time) == NULL ||
         (ev.has_temp && (ev.temp_centi < -10000 || ev.temp_centi > 20000)) ||
         (!ev.has_employee && !ev.has_card && !ev.has_temp)))
        __builtin_trap();
    free(body);
    return 0;
}
