/* libFuzzer target for the configuration parser: any bytes must give either a
 * config or messages, never a crash, a hang or a leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull; /* opened once: the messages are formatted, then dropped */
    if (devnull == NULL)
        devnull = fopen("/dev/null", "w");
    /* A NUL-terminated copy, as from a file, so that reads past `size` are caught. */
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct config *cfg = config_parse("fuzz.conf", text, size, "/srv/gatescreen", devnull);
    config_free(cfg);
    free(text);
    return 0;
}
