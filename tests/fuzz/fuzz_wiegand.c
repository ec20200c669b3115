/* libFuzzer target for the Wiegand decoder: any stream of edges (line, edge type,
 * time step, idle calls) must never crash, and whatever comes out as a card must be
 * a real card: 26 or 34 bits whose number re-encodes to a frame with good parity.
 * Input: 3 bytes per step: flags (bit0 line, bit1 rising, bit2 an idle call
 * instead of an edge, bit3 a step backwards), then a 16-bit time step in µs. */
#include <stdint.h>
#include <string.h>

#include "wiegand.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_frame(const struct wiegand_frame *f)
{
    uint8_t bits[WIEGAND_MAX_BITS];
    if (!f->card) {
        if (f->noise == WIEGAND_NOISE_NONE || f->noise >= WIEGAND_NOISE_COUNT)
            __builtin_trap();
        return;
    }
    if ((f->bits != 26 && f->bits != 34) || wiegand_encode(f->bits, f->number, bits) < 0)
        __builtin_trap();
    uint64_t number = 0;
    int facility = 0;
    if (wiegand_decode(f->bits, bits, &number, &facility) != WIEGAND_NOISE_NONE ||
        number != f->number)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wiegand_limits lim;
    wiegand_default_limits(&lim);
    lim.frame_gap_us = 5000; /* short frames: 16-bit steps can end them */
    struct wiegand w;
    wiegand_init(&w, &lim);
    struct wiegand_frame f;
    int64_t t = 1000000, latest = t;
    for (size_t i = 0; i + 3 <= size; i += 3) {
        uint8_t flags = data[i];
        int64_t step = (int64_t)(data[i + 1] | data[i + 2] << 8);
        t += flags & 8 ? -step : step;
        latest = t > latest ? t : latest;
        int got = flags & 4 ? wiegand_idle(&w, t, &f)
                            : wiegand_edge(&w, flags & 1 ? WIEGAND_D1 : WIEGAND_D0,
                                           flags & 2 ? WIEGAND_RISING : WIEGAND_FALLING, t, &f);
        if (got)
            check_frame(&f);
    }
    if (wiegand_idle(&w, latest + lim.frame_gap_us, &f))
        check_frame(&f);
    if (wiegand_deadline(&w) != -1) /* after the last frame's silence nothing is open */
        __builtin_trap();
    return 0;
}
