/* Picks the backend for a lane's `indicator =` setting. */
#include "indicator.h"

#include <stddef.h>

const struct indicator_ops *indicator_backend(enum cfg_indicator kind)
{
    switch (kind) {
    case CFG_IND_CONSOLE:
        return &indicator_console;
    case CFG_IND_TEST:
        return &indicator_test;
    case CFG_IND_GPIO:
        return &indicator_gpio;
    }
    return NULL;
}
