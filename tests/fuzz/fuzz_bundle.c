/* libFuzzer target for the enrolment bundle's reader (daemon/runtime/bundle.c): any
 * bytes give either a bundle that passes every check, with every part set, or NULL;
 * never a crash, a hang or a leak. "Now" is fixed inside the validity of the corpus's
 * good bundle (made with bureau_enrol_tool --now 1767225600 --days 3650), so that
 * the certificate checks are reached. */
#include <stdint.h>
#include <stdio.h>

#include "bundle.h"

#define FUZZ_NOW (1767225600 + 86400)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull; /* opened once: the messages are formatted, then dropped */
    if (devnull == NULL)
        devnull = fopen("/dev/null", "w");
    struct bundle *b = bundle_parse("fuzz.bundle", (const char *)data, size, FUZZ_NOW, devnull);
    for (int i = 0; b && i < BUNDLE_PARTS; i++)
        if (!bundle_get(b, (enum bundle_part)i))
            __builtin_trap(); /* the interface's promise */
    if (b && bundle_check(b, "fuzz.bundle", FUZZ_NOW, devnull) != 0)
        __builtin_trap();
    bundle_free(b);
    return 0;
}
