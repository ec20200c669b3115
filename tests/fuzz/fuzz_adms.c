/* libFuzzer target for the ZKTeco ADMS upload parser (drivers/adms.c): the first
 * byte picks the columns (temperature and mask columns, scale, unit), the rest is
 * an ATTLOG body cut into lines as the listener cuts it. Any bytes must give an
 * event or a refusal with a reason for each line, never a crash, a hang or a
 * leak; an event's texts are terminated, its temperature within what the parser
 * promises, its serial within 63 bits, and the same line gives the same serial. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const char *line, size_t n, const struct adms_columns *cols)
{
    struct terminal_event ev, again;
    char why[160];
    why[0] = '\0';
    if (adms_parse_line(line, n, cols, &ev, why, sizeof why) < 0) {
        if (why[0] == '\0')
            __builtin_trap(); /* a refusal always says why */
        return;
    }
    if (memchr(ev.employee, 0, sizeof ev.employee) == NULL ||
        memchr(ev.mask, 0, sizeof ev.mask) == NULL ||
        memchr(ev.device_time, 0, sizeof ev.device_time) == NULL || !ev.has_employee ||
        !ev.has_serial || ev.serial > (uint64_t)INT64_MAX ||
        (ev.has_temp && (ev.temp_centi < -10000 || ev.temp_centi > 20000)))
        __builtin_trap();
    if (adms_parse_line(line, n, cols, &again, why, sizeof why) < 0 || again.serial != ev.serial)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct adms_columns cols = {.temperature = data[0] % 12, .mask = (data[0] >> 4) % 12,
                                      .scale = data[0] & 0x80 ? 10 : 1,
                                      .fahrenheit = (data[0] & 0x40) != 0};
    /* A copy of exactly the body's size, so that reading past it is caught. */
    char *body = malloc(size - 1 ? size - 1 : 1);
    if (!body)
        return 0;
    memcpy(body, data + 1, size - 1);
    size_t pos = 0, n;
    const char *line;
    while (adms_next_line(body, size - 1, &pos, &line, &n)) {
        if (n == 0 || pos > size - 1)
            __builtin_trap();
        /* Each line parsed from a copy of exactly its length, too. */
        char *copy = malloc(n);
        if (!copy)
            break;
        memcpy(copy, line, n);
        check_line(copy, n, &cols);
        free(copy);
    }
    free(body);
    return 0;
}
