/* libFuzzer target for the roster CSV parser: any bytes must give either a roster or
 * a count of problems, never a crash, a hang or a leak. */
#include <stdint.h>
#include <stdio.h>

#include "roster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull; /* opened once: the messages are formatted, then dropped */
    if (devnull == NULL)
        devnull = fopen("/dev/null", "w");
    struct roster *r = NULL;
    int problems = roster_parse("fuzz.csv", (const char *)data, size, &r, devnull);
    if ((problems == 0) != (r != NULL))
        __builtin_trap(); /* the interface's promise */
    roster_free(r);
    return 0;
}
