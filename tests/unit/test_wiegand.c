/* The Wiegand decoder: 26- and 34-bit cards from falling edges alone and from
 * both edges, with jittered real-reader timing and the VM test's widened limits;
 * every kind of noise, frame boundaries at exactly the gap, the idle deadline,
 * and timestamps that no clock should produce. Pure: every time is an argument
 * (µs); the jitter comes from a seeded xorshift, so every run is the same. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "wiegand.h"

#define GAP 25000
#define ROOM 8 /* more frames than any test expects at once */

/* A 26-bit card number from its facility and card fields. */
#define H10301(facility, card) ((uint64_t)(facility) << 16 | (uint64_t)(card))

struct rx {
    struct wiegand w;
    struct wiegand_frame f[ROOM];
    int n;
};

/* How a simulated reader sends: width 0 feeds falling edges only. */
struct timing {
    int64_t interval_us, interval_jitter_us;
    int64_t width_us, width_jitter_us;
    uint32_t rng;
};

static const struct timing real_falling = {2000, 300, 0, 0, 0x2545f491u};
static const struct timing real_both = {2000, 300, 50, 20, 0x9e3779b9u};
static const struct timing vm_falling = {1000, 200, 0, 0, 0x1234567u};
static const struct timing vm_both = {1000, 200, 500, 100, 0x7654321u};

static const struct wiegand_limits vm_limits = {
    .pulse_min_us = 20, .pulse_max_us = 20000, .interval_min_us = 100, .frame_gap_us = 100000};

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Uniform in [-amount, amount]. */
static int64_t jitter(uint32_t *rng, int64_t amount)
{
    if (amount == 0)
        return 0;
    return (int64_t)(next_rand(rng) % (uint32_t)(2 * amount + 1)) - amount;
}

static void rx_init(struct rx *r, const struct wiegand_limits *lim)
{
    memset(r, 0, sizeof *r);
    if (lim) {
        wiegand_init(&r->w, lim);
        return;
    }
    struct wiegand_limits d;
    wiegand_default_limits(&d);
    wiegand_init(&r->w, &d);
}

static void keep(struct rx *r, const struct wiegand_frame *f)
{
    assert_true(r->n < ROOM);
    r->f[r->n++] = *f;
}

static void edge(struct rx *r, int line, enum wiegand_edge e, int64_t t)
{
    struct wiegand_frame f;
    int got = wiegand_edge(&r->w, line ? WIEGAND_D1 : WIEGAND_D0, e, t, &f);
    assert_in_range(got, 0, 1);
    if (got)
        keep(r, &f);
}

static void fall(struct rx *r, int line, int64_t t)
{
    edge(r, line, WIEGAND_FALLING, t);
}

static void rise(struct rx *r, int line, int64_t t)
{
    edge(r, line, WIEGAND_RISING, t);
}

/* Lets the frame in progress end: nothing just before its deadline, the frame
 * exactly at it, and nothing after. */
static void settle(struct rx *r)
{
    int64_t d = wiegand_deadline(&r->w);
    assert_true(d > 0);
    struct wiegand_frame f;
    assert_int_equal(wiegand_idle(&r->w, d - 1, &f), 0);
    assert_int_equal(wiegand_idle(&r->w, d, &f), 1);
    keep(r, &f);
    assert_int_equal(wiegand_idle(&r->w, d + 1, &f), 0);
    assert_int_equal(wiegand_deadline(&r->w), -1);
}

/* Sends n bits, the first falling at t; returns the time of the last edge. */
static int64_t send(struct rx *r, struct timing *tm, const uint8_t *bits, int n, int64_t t)
{
    int64_t last = t;
    for (int i = 0; i < n; i++) {
        if (i > 0)
            t += tm->interval_us + jitter(&tm->rng, tm->interval_jitter_us);
        fall(r, bits[i], t);
        last = t;
        if (tm->width_us > 0) {
            last = t + tm->width_us + jitter(&tm->rng, tm->width_jitter_us);
            rise(r, bits[i], last);
        }
    }
    return last;
}

static int64_t send_card(struct rx *r, struct timing *tm, int nbits, uint64_t number, int64_t t)
{
    uint8_t bits[WIEGAND_MAX_BITS];
    assert_int_equal(wiegand_encode(nbits, number, bits), 0);
    return send(r, tm, bits, nbits, t);
}

/* The one frame received since the last call. */
static struct wiegand_frame take(struct rx *r)
{
    assert_int_equal(r->n, 1);
    r->n = 0;
    return r->f[0];
}

static void assert_card(const struct wiegand_frame *f, int bits, uint64_t number, int facility)
{
    assert_true(f->card);
    assert_int_equal(f->noise, WIEGAND_NOISE_NONE);
    assert_int_equal(f->bits, bits);
    assert_int_equal(f->number, number);
    assert_int_equal(f->facility, facility);
}

static void assert_noise(const struct wiegand_frame *f, enum wiegand_noise n)
{
    assert_false(f->card);
    assert_int_equal(f->noise, n);
    assert_int_equal(f->number, 0);
    assert_int_equal(f->facility, -1);
}


/* ---- limits, names, encoding ----------------------------------------------------- */

static void test_default_limits(void **state)
{
    (void)state;
    struct wiegand_limits l;
    memset(&l, 0xff, sizeof l);
    wiegand_default_limits(&l);
    assert_int_equal(l.pulse_min_us, 20);
    assert_int_equal(l.pulse_max_us, 150);
    assert_int_equal(l.interval_min_us, 200);
    assert_int_equal(l.frame_gap_us, 25000);
    /* good pulses that far apart cannot overlap: falls alone see both lines low */
    assert_true(l.interval_min_us > l.pulse_max_us);
}

static void test_noise_names(void **state)
{
    (void)state;
    assert_string_equal(wiegand_noise_name(WIEGAND_NOISE_BOTH_LOW), "both lines low");
    assert_string_equal(wiegand_noise_name(WIEGAND_NOISE_TOO_CLOSE), "bits too close");
    assert_string_equal(wiegand_noise_name(WIEGAND_NOISE_PULSE_SHORT), "pulse too short");
    assert_string_equal(wiegand_noise_name(WIEGAND_NOISE_PULSE_LONG), "pulse too long");
    assert_string_equal(wiegand_noise_name(WIEGAND_NOISE_LENGTH), "wrong length");
    assert_string_equal(wiegand_noise_name(WIEGAND_NOISE_PARITY), "bad parity");
    assert_string_equal(wiegand_noise_name(WIEGAND_NOISE_LOST), "events lost");
    assert_string_equal(wiegand_noise_name(WIEGAND_NOISE_NONE), "none");
    assert_string_equal(wiegand_noise_name(WIEGAND_NOISE_COUNT), "unknown");
    assert_string_equal(wiegand_noise_name((enum wiegand_noise)-1), "unknown");
}

static uint64_t packed(const uint8_t *bits, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 1 | bits[i];
    return v;
}

static void test_encode_known_frames(void **state)
{
    (void)state;
    uint8_t b[WIEGAND_MAX_BITS];
    /* facility 1, card 1: the H10301 frame readers document as 0x2020002 */
    assert_int_equal(wiegand_encode(26, H10301(1, 1), b), 0);
    assert_int_equal(packed(b, 26), 0x2020002);
    assert_int_equal(wiegand_encode(26, 0, b), 0);
    assert_int_equal(packed(b, 26), 1); /* odd parity of nothing is 1 */
    assert_int_equal(wiegand_encode(26, 0xffffff, b), 0);
    assert_int_equal(packed(b, 26), 0x1ffffff);
    assert_int_equal(wiegand_encode(26, H10301(128, 0), b), 0);
    assert_int_equal(packed(b, 26), 0x3000001);
    assert_int_equal(wiegand_encode(34, 0, b), 0);
    assert_int_equal(packed(b, 34), 1);
    assert_int_equal(wiegand_encode(34, 1, b), 0);
    assert_int_equal(packed(b, 34), 2); /* one 1 in the odd half: parity bit 0 */
    assert_int_equal(wiegand_encode(34, 0x10000, b), 0);
    assert_int_equal(packed(b, 34), 0x200020001ull); /* bit 16 set: even parity bit 1 */
}

static void test_encode_rejects_bad_requests(void **state)
{
    (void)state;
    uint8_t b[WIEGAND_MAX_BITS];
    const int lengths[] = {-1, 0, 1, 25, 27, 33, 35, 64, 65};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++)
        assert_int_equal(wiegand_encode(lengths[i], 0, b), -1);
    assert_int_equal(wiegand_encode(26, 1u << 24, b), -1);
    assert_int_equal(wiegand_encode(34, 1ull << 32, b), -1);
    assert_int_equal(wiegand_encode(34, UINT64_MAX, b), -1);
}

static void test_decode_helper(void **state)
{
    (void)state;
    uint8_t b[WIEGAND_MAX_BITS] = {0};
    uint64_t number = 77;
    int facility = 77;
    assert_int_equal(wiegand_decode(0, b, &number, &facility), WIEGAND_NOISE_LENGTH);
    assert_int_equal(wiegand_decode(64, b, &number, &facility), WIEGAND_NOISE_LENGTH);
    assert_int_equal(wiegand_decode(26, b, &number, &facility), WIEGAND_NOISE_PARITY);
    assert_int_equal(number, 77); /* untouched on noise */
    assert_int_equal(facility, 77);
    assert_int_equal(wiegand_encode(26, H10301(200, 4321), b), 0);
    assert_int_equal(wiegand_decode(26, b, &number, &facility), WIEGAND_NOISE_NONE);
    assert_int_equal(number, H10301(200, 4321));
    assert_int_equal(facility, 200);
}

/* ---- good cards ------------------------------------------------------------------ */

static const uint64_t cards26[] = {0, 1, 0xffffff, H10301(0, 65535), H10301(255, 0),
                                   H10301(1, 1), H10301(128, 32768), H10301(42, 12345)};
static const uint64_t cards34[] = {0, 1, 0xffffffffu, 0x80000000u, 0xffffu, 0x10000u, 0x12345678u};

static void decode_cards(const struct timing *how, const struct wiegand_limits *lim)
{
    struct rx r;
    rx_init(&r, lim);
    struct timing tm = *how;
    int64_t gap = lim ? lim->frame_gap_us : GAP;
    int64_t t = 1000;
    for (size_t i = 0; i < sizeof cards26 / sizeof cards26[0]; i++) {
        int64_t end = send_card(&r, &tm, 26, cards26[i], t);
        settle(&r);
        struct wiegand_frame f = take(&r);
        assert_card(&f, 26, cards26[i], (int)(cards26[i] >> 16));
        assert_int_equal(f.end_us, end);
        t = end + 3 * gap;
    }
    for (size_t i = 0; i < sizeof cards34 / sizeof cards34[0]; i++) {
        int64_t end = send_card(&r, &tm, 34, cards34[i], t);
        settle(&r);
        struct wiegand_frame f = take(&r);
        assert_card(&f, 34, cards34[i], -1);
        assert_int_equal(f.end_us, end);
        t = end + 3 * gap;
    }
}

static void test_cards_falling_edges_only(void **state)
{
    (void)state;
    decode_cards(&real_falling, NULL);
}

static void test_cards_both_edges(void **state)
{
    (void)state;
    decode_cards(&real_both, NULL);
}

/* The VM test makes pulses by sysfs writes: 0.5 ms pulses 1 ms apart. */
static void test_cards_vm_limits(void **state)
{
    (void)state;
    decode_cards(&vm_falling, &vm_limits);
    decode_cards(&vm_both, &vm_limits);
}

static void test_vm_pulses_too_long_for_real_limits(void **state)
{
    (void)state;
    struct rx r;
    rx_init(&r, NULL);
    struct timing tm = vm_both;
    send_card(&r, &tm, 26, H10301(7, 700), 0);
    settle(&r);
    struct wiegand_frame f = take(&r);
    assert_noise(&f, WIEGAND_NOISE_PULSE_LONG);
    assert_int_equal(f.bits, 26);
}

/* Pulses exactly at the limits and bits exactly interval_min apart are good. */
static void test_limits_are_inclusive(void **state)
{
    (void)state;
    const int64_t widths[] = {20, 150};
    for (size_t i = 0; i < 2; i++) {
        struct rx r;
        rx_init(&r, NULL);
        struct timing tm = {200, 0, widths[i], 0, 1};
        send_card(&r, &tm, 34, 0xa5a5a5a5u, 0);
        settle(&r);
        struct wiegand_frame f = take(&r);
        assert_card(&f, 34, 0xa5a5a5a5u, -1);
    }
}

static void test_round_trip_many_numbers(void **state)
{
    (void)state;
    enum { N = 2000 };
    static uint64_t sent[N];
    struct rx r;
    rx_init(&r, NULL);
    uint32_t rng = 0xc0ffee;
    struct timing modes[] = {real_falling, real_both};
    int64_t t = 0;
    int checked = 0;
    for (int i = 0; i < N; i++) {
        int nbits = i % 2 ? 34 : 26;
        sent[i] = next_rand(&rng) & (nbits == 26 ? 0xffffffu : 0xffffffffu);
        int64_t end = send_card(&r, &modes[(i / 2) % 2], nbits, sent[i], t);
        t = end + GAP + (int64_t)(next_rand(&rng) % 100000);
        if (i % 3 == 0 || i == N - 1) /* else the next card's first fall ends this one */
            settle(&r);
        for (int k = 0; k < r.n; k++, checked++) {
            int bits = checked % 2 ? 34 : 26;
            int facility = bits == 26 ? (int)(sent[checked] >> 16) : -1;
            assert_card(&r.f[k], bits, sent[checked], facility);
        }
        r.n = 0;
    }
    assert_int_equal(checked, N);
}

/* ---- wrong length, parity --------------------------------------------------------- */

static void test_wrong_lengths(void **state)
{
    (void)state;
    const int lengths[] = {1, 2, 25, 27, 33, 35, 63, 64, 65, 66, 200, 1000};
    uint32_t rng = 5;
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        uint8_t bits[1000];
        for (int b = 0; b < lengths[i]; b++)
            bits[b] = next_rand(&rng) & 1;
        struct rx r;
        rx_init(&r, NULL);
        struct timing tm = real_both;
        int64_t end = send(&r, &tm, bits, lengths[i], 0);
        settle(&r);
        struct wiegand_frame f = take(&r);
        assert_noise(&f, WIEGAND_NOISE_LENGTH);
        int kept = lengths[i] <= WIEGAND_MAX_BITS ? lengths[i] : WIEGAND_MAX_BITS + 1;
        assert_int_equal(f.bits, kept);
        assert_int_equal(f.end_us, end);
    }
}

/* A good frame one bit short or long is still the wrong length. */
static void test_card_minus_or_plus_one_bit(void **state)
{
    (void)state;
    const int formats[] = {26, 34};
    for (size_t i = 0; i < 2; i++) {
        uint8_t bits[WIEGAND_MAX_BITS];
        assert_int_equal(wiegand_encode(formats[i], 12345, bits), 0);
        bits[formats[i]] = 0;
        for (int n = formats[i] - 1; n <= formats[i] + 1; n += 2) {
            struct rx r;
            rx_init(&r, NULL);
            struct timing tm = real_falling;
            send(&r, &tm, bits, n, 0);
            settle(&r);
            struct wiegand_frame f = take(&r);
            assert_noise(&f, WIEGAND_NOISE_LENGTH);
            assert_int_equal(f.bits, n);
        }
    }
}

static void test_truncated_frame(void **state)
{
    (void)state;
    uint8_t bits[WIEGAND_MAX_BITS];
    assert_int_equal(wiegand_encode(26, H10301(9, 999), bits), 0);
    struct rx r;
    rx_init(&r, NULL);
    struct timing tm = real_falling;
    int64_t end = send(&r, &tm, bits, 10, 0);
    settle(&r);
    struct wiegand_frame f = take(&r);
    assert_noise(&f, WIEGAND_NOISE_LENGTH);
    assert_int_equal(f.bits, 10);
    assert_int_equal(f.end_us, end);
}

static void flip_and_expect_parity(int nbits, int flip)
{
    uint8_t bits[WIEGAND_MAX_BITS];
    assert_int_equal(wiegand_encode(nbits, nbits == 26 ? H10301(17, 4242) : 0xdeadbeefu, bits), 0);
    bits[flip] ^= 1;
    struct rx r;
    rx_init(&r, NULL);
    struct timing tm = real_both;
    send(&r, &tm, bits, nbits, 0);
    settle(&r);
    struct wiegand_frame f = take(&r);
    assert_noise(&f, WIEGAND_NOISE_PARITY);
    assert_int_equal(f.bits, nbits);
}

static void test_parity_bit_flipped(void **state)
{
    (void)state;
    flip_and_expect_parity(26, 0);
    flip_and_expect_parity(26, 25);
    flip_and_expect_parity(34, 0);
    flip_and_expect_parity(34, 33);
}

/* A data bit flipped in either half breaks that half's parity. */
static void test_data_bit_flipped(void **state)
{
    (void)state;
    const int flips26[] = {1, 8, 12, 13, 24};
    for (size_t i = 0; i < sizeof flips26 / sizeof flips26[0]; i++)
        flip_and_expect_parity(26, flips26[i]);
    const int flips34[] = {1, 16, 17, 32};
    for (size_t i = 0; i < sizeof flips34 / sizeof flips34[0]; i++)
        flip_and_expect_parity(34, flips34[i]);
}

/* ---- timing noise -------------------------------------------------------------- */

/* A card whose pulse `at` is replaced by `width` µs (falling and rising edges). */
static struct wiegand_frame card_with_pulse(int at, int64_t width)
{
    uint8_t bits[WIEGAND_MAX_BITS];
    assert_int_equal(wiegand_encode(26, H10301(3, 3333), bits), 0);
    struct rx r;
    rx_init(&r, NULL);
    for (int i = 0; i < 26; i++) {
        fall(&r, bits[i], i * 2000);
        rise(&r, bits[i], i * 2000 + (i == at ? width : 50));
    }
    settle(&r);
    return take(&r);
}

static void test_pulse_too_short(void **state)
{
    (void)state;
    struct wiegand_frame f = card_with_pulse(5, 19);
    assert_noise(&f, WIEGAND_NOISE_PULSE_SHORT);
    assert_int_equal(f.bits, 26);
    f = card_with_pulse(0, 1);
    assert_noise(&f, WIEGAND_NOISE_PULSE_SHORT);
}

static void test_pulse_too_long(void **state)
{
    (void)state;
    struct wiegand_frame f = card_with_pulse(5, 151);
    assert_noise(&f, WIEGAND_NOISE_PULSE_LONG);
    f = card_with_pulse(25, 1000);
    assert_noise(&f, WIEGAND_NOISE_PULSE_LONG);
    assert_int_equal(f.end_us, 25 * 2000 + 1000);
}

/* With rising edges fed, a line still low when the frame's silence ends held its
 * pulse for the whole gap. */
static void test_line_stuck_low(void **state)
{
    (void)state;
    struct rx r;
    rx_init(&r, NULL);
    for (int i = 0; i < 25; i++) {
        fall(&r, i % 2, i * 2000);
        rise(&r, i % 2, i * 2000 + 50);
    }
    fall(&r, 1, 25 * 2000); /* never rises */
    settle(&r);
    struct wiegand_frame f = take(&r);
    assert_noise(&f, WIEGAND_NOISE_PULSE_LONG);
    assert_int_equal(f.bits, 26);
}

/* The late rise of a pulse held past the gap ends the frame (as pulse too long)
 * but starts none: a rise carries no bit. */
static void test_late_rise_ends_frame_without_starting_one(void **state)
{
    (void)state;
    struct rx r;
    rx_init(&r, NULL);
    struct timing tm = real_both;
    int64_t end = send_card(&r, &tm, 26, 5, 0);
    fall(&r, 0, end + 2000);
    rise(&r, 0, end + 2000 + GAP);
    struct wiegand_frame f = take(&r);
    assert_noise(&f, WIEGAND_NOISE_PULSE_LONG);
    assert_int_equal(f.bits, 27);
    assert_int_equal(f.end_us, end + 2000);
    assert_int_equal(wiegand_deadline(&r.w), -1);
}

/* Same idea with falling edges only: the decoder does not expect rises, so it
 * takes no line for stuck, and a rise after the gap still ends the frame. */
static void test_first_rise_after_gap_ends_falling_only_card(void **state)
{
    (void)state;
    struct rx r;
    rx_init(&r, NULL);
    struct timing tm = real_falling;
    int64_t end = send_card(&r, &tm, 34, 99, 0);
    rise(&r, 1, end + GAP);
    struct wiegand_frame f = take(&r);
    assert_card(&f, 34, 99, -1);
    assert_int_equal(wiegand_deadline(&r.w), -1);
}

static void test_stray_rise_is_ignored(void **state)
{
    (void)state;
    struct rx r;
    rx_init(&r, NULL);
    rise(&r, 0, 100);
    rise(&r, 1, 200);
    assert_int_equal(r.n, 0);
    assert_int_equal(wiegand_deadline(&r.w), -1);
    /* and a card right after still decodes */
    struct timing tm = real_both;
    send_card(&r, &tm, 26, 77, 300);
    settle(&r);
    struct wiegand_frame f = take(&r);
    assert_card(&f, 26, 77, 0);
}

/* A card with an extra fall `dt` µs after bit 3's fall, on `line` (dt beyond the
 * pulse width when rising edges are fed, so that edges come in time order). */
static struct wiegand_frame card_with_extra_fall(const struct timing *how, int line, int64_t dt)
{
    uint8_t bits[WIEGAND_MAX_BITS];
    assert_int_equal(wiegand_encode(26, H10301(10, 1010), bits), 0);
    struct rx r;
    rx_init(&r, NULL);
    struct timing tm = *how;
    tm.interval_jitter_us = tm.width_jitter_us = 0;
    assert_true(tm.width_us < dt || tm.width_us == 0);
    send(&r, &tm, bits, 4, 0);
    fall(&r, line, 3 * tm.interval_us + dt);
    send(&r, &tm, bits + 4, 22, 4 * tm.interval_us);
    settle(&r);
    return take(&r);
}

static void test_bits_too_close(void **state)
{
    (void)state;
    /* bit 3 of H10301(10, 1010) is 0 (on D0): a second fall on either line */
    struct wiegand_frame f = card_with_extra_fall(&real_falling, 0, 199);
    assert_noise(&f, WIEGAND_NOISE_TOO_CLOSE);
    assert_int_equal(f.bits, 27);
    f = card_with_extra_fall(&real_falling, 1, 199);
    assert_noise(&f, WIEGAND_NOISE_TOO_CLOSE);
    f = card_with_extra_fall(&real_falling, 0, 5); /* a bounce on the same line */
    assert_noise(&f, WIEGAND_NOISE_TOO_CLOSE);
    f = card_with_extra_fall(&real_both, 1, 100); /* the other line had risen */
    assert_noise(&f, WIEGAND_NOISE_TOO_CLOSE);
}

static void test_interval_min_boundary(void **state)
{
    (void)state;
    const int64_t intervals[] = {200, 199};
    for (size_t i = 0; i < 2; i++) {
        struct rx r;
        rx_init(&r, NULL);
        struct timing tm = {intervals[i], 0, 0, 0, 1};
        send_card(&r, &tm, 26, H10301(1, 2), 0);
        settle(&r);
        struct wiegand_frame f = take(&r);
        if (i == 0)
            assert_card(&f, 26, H10301(1, 2), 1);
        else
            assert_noise(&f, WIEGAND_NOISE_TOO_CLOSE);
    }
}

/* Falling edges only: the other line falling within pulse_min of a fall means
 * both were low at once (a good pulse is that long at least). */
static void test_both_low_falling_only(void **state)
{
    (void)state;
    struct wiegand_frame f = card_with_extra_fall(&real_falling, 1, 5);
    assert_noise(&f, WIEGAND_NOISE_BOTH_LOW);
    assert_int_equal(f.bits, 27);
    f = card_with_extra_fall(&real_falling, 1, 0);
    assert_noise(&f, WIEGAND_NOISE_BOTH_LOW);
    f = card_with_extra_fall(&real_falling, 1, 20); /* no longer certain: too close */
    assert_noise(&f, WIEGAND_NOISE_TOO_CLOSE);
}

/* With rising edges fed: the other line falls while the first is still low. */
static void test_both_low_overlapping_pulses(void **state)
{
    (void)state;
    uint8_t bits[WIEGAND_MAX_BITS];
    assert_int_equal(wiegand_encode(26, H10301(10, 1010), bits), 0);
    struct rx r;
    rx_init(&r, NULL);
    for (int i = 0; i < 26; i++) {
        int64_t t = i * 2000;
        fall(&r, bits[i], t);
        if (i == 3) {
            fall(&r, !bits[i], t + 30); /* past pulse_min: only the levels tell */
            rise(&r, bits[i], t + 50);
            rise(&r, !bits[i], t + 80);
        } else {
            rise(&r, bits[i], t + 50);
        }
    }
    settle(&r);
    struct wiegand_frame f = take(&r);
    assert_noise(&f, WIEGAND_NOISE_BOTH_LOW);
    assert_int_equal(f.bits, 27);
    /* under the VM limits the interval check cannot see it: only the levels can */
    rx_init(&r, &vm_limits);
    struct timing tm = vm_both;
    int64_t t = send_card(&r, &tm, 26, 1, 0) + 2 * vm_limits.frame_gap_us;
    settle(&r);
    assert_card(&r.f[0], 26, 1, 0);
    r.n = 0;
    fall(&r, 0, t);
    rise(&r, 0, t + 500); /* from here on the levels are known */
    fall(&r, 1, t + 1000);
    fall(&r, 0, t + 1500); /* D1 is low: both lines low, seen at once */
    rise(&r, 0, t + 2000);
    settle(&r); /* D1 never rose: too long too, but both low came first */
    f = take(&r);
    assert_noise(&f, WIEGAND_NOISE_BOTH_LOW);
    assert_int_equal(f.bits, 3);
}

/* In the very first frame the decoder does not yet know rises come; the overlap
 * is seen when the first line rises after the other fell. */
static void test_both_low_in_first_frame(void **state)
{
    (void)state;
    struct rx r;
    rx_init(&r, &vm_limits);
    fall(&r, 0, 0);
    fall(&r, 1, 1000);
    rise(&r, 1, 1500); /* nested inside D0's pulse */
    rise(&r, 0, 1600);
    settle(&r);
    struct wiegand_frame f = take(&r);
    assert_noise(&f, WIEGAND_NOISE_BOTH_LOW);
    rx_init(&r, &vm_limits);
    fall(&r, 1, 0);
    fall(&r, 0, 1000);
    rise(&r, 1, 1200); /* staggered */
    rise(&r, 0, 1700);
    settle(&r);
    f = take(&r);
    assert_noise(&f, WIEGAND_NOISE_BOTH_LOW);
}

/* What the levels are is learnt per frame: a reader fed with both edges and then
 * with falling edges only (lines never seen rising) still decodes. */
static void test_falling_only_after_both_edges(void **state)
{
    (void)state;
    struct rx r;
    rx_init(&r, NULL);
    struct timing both = real_both, falling = real_falling;
    int64_t t = send_card(&r, &both, 26, H10301(5, 55), 0) + GAP;
    t = send_card(&r, &falling, 26, H10301(6, 66), t) + GAP;
    send_card(&r, &both, 34, 0x66666666u, t);
    settle(&r);
    assert_int_equal(r.n, 3);
    assert_card(&r.f[0], 26, H10301(5, 55), 5);
    assert_card(&r.f[1], 26, H10301(6, 66), 6);
    assert_card(&r.f[2], 34, 0x66666666u, -1);
}

/* Noise swallows the rest of its frame: one noise frame, the first cause kept. */
static void test_noisy_frame_comes_out_once(void **state)
{
    (void)state;
    uint8_t bits[WIEGAND_MAX_BITS];
    assert_int_equal(wiegand_encode(34, 0x0badf00d, bits), 0);
    struct rx r;
    rx_init(&r, NULL);
    int64_t t = 0;
    for (int i = 0; i < 34; i++, t += 2000) {
        fall(&r, bits[i], t);
        if (i % 5 == 2)
            fall(&r, !bits[i], t + 100); /* too close, again and again */
        if (i == 20)
            fall(&r, !bits[i], t + 3); /* both low, after the first noise */
    }
    assert_int_equal(r.n, 0);
    settle(&r);
    struct wiegand_frame f = take(&r);
    assert_noise(&f, WIEGAND_NOISE_TOO_CLOSE);
    assert_int_equal(f.bits, 34 + 7 + 1);
}

static void test_noise_burst_then_card(void **state)
{
    (void)state;
    struct rx r;
    rx_init(&r, NULL);
    uint32_t rng = 77;
    int64_t t = 0;
    fall(&r, 0, t);
    for (int i = 0; i < 40; i++) {
        t += next_rand(&rng) % 300;
        edge(&r, next_rand(&rng) & 1, next_rand(&rng) & 1 ? WIEGAND_RISING : WIEGAND_FALLING, t);
    }
    assert_int_equal(r.n, 0);
    struct timing tm = real_both;
    send_card(&r, &tm, 26, H10301(255, 65535), wiegand_deadline(&r.w));
    assert_int_equal(r.n, 1); /* the card's first fall ended the burst */
    assert_false(r.f[0].card);
    assert_int_not_equal(r.f[0].noise, WIEGAND_NOISE_NONE);
    settle(&r);
    assert_int_equal(r.n, 2);
    assert_card(&r.f[1], 26, H10301(255, 65535), 255);
}

/* Edges the kernel dropped: a 34-bit frame whose last 8 bits are gone has 26 bits
 * left, which may parse as a card; once the loss is known, the frame is noise. */
static void test_lost_events_poison_the_frame(void **state)
{
    (void)state;
    uint8_t bits[WIEGAND_MAX_BITS];
    struct timing tm = real_falling;
    struct rx r;
    rx_init(&r, NULL);
    /* Find a 34-bit card whose first 26 bits happen to be a valid 26-bit frame. */
    uint64_t n = 1;
    uint64_t num;
    int fac;
    for (; n < 100000; n++) {
        assert_int_equal(wiegand_encode(34, n * 7919, bits), 0);
        if (wiegand_decode(26, bits, &num, &fac) == WIEGAND_NOISE_NONE)
            break;
    }
    assert_true(n < 100000);
    int64_t last = send(&r, &tm, bits, 26, 0);
    struct wiegand_frame f;
    assert_int_equal(wiegand_lost(&r.w, last + 500, &f), 0); /* the rest never came */
    settle(&r);
    assert_int_equal(r.n, 1);
    assert_noise(&r.f[0], WIEGAND_NOISE_LOST);
    /* Without the loss known, the same 26 bits would have been a (wrong) card. */
    rx_init(&r, NULL);
    send(&r, &tm, bits, 26, 0);
    settle(&r);
    assert_true(r.f[0].card);
    /* A loss after a frame's silence: that frame is finished as it was, and the
     * loss starts a frame of its own, noise, that later edges join. */
    rx_init(&r, NULL);
    assert_int_equal(wiegand_encode(26, H10301(1, 2), bits), 0);
    last = send(&r, &tm, bits, 26, 0);
    int64_t at = last + 25000;
    assert_int_equal(wiegand_lost(&r.w, at, &f), 1);
    assert_card(&f, 26, H10301(1, 2), 1);
    fall(&r, 1, at + 2000);
    settle(&r);
    assert_int_equal(r.n, 1);
    assert_noise(&r.f[0], WIEGAND_NOISE_LOST);
    assert_int_equal(r.f[0].bits, 1);
}

/* ---- frame boundaries, idle, deadline ---------------------------------------------- */

/* Two cards, the second's first fall `sep` µs after the first card's last edge. */
static void back_to_back(const struct timing *how, int64_t sep)
{
    uint8_t second[WIEGAND_MAX_BITS];
    assert_int_equal(wiegand_encode(26, H10301(2, 200), second), 0);
    struct rx r;
    rx_init(&r, NULL);
    struct timing tm = *how;
    int64_t end = send_card(&r, &tm, 26, H10301(1, 100), 0);
    send(&r, &tm, second, 1, end + sep);
    if (sep < GAP) {
        assert_int_equal(r.n, 0);
        send(&r, &tm, second + 1, 25, end + sep + tm.interval_us);
        settle(&r);
        struct wiegand_frame f = take(&r);
        assert_noise(&f, WIEGAND_NOISE_LENGTH);
        assert_int_equal(f.bits, 52);
        return;
    }
    assert_int_equal(r.n, 1); /* the second card's first fall proved the first over */
    assert_card(&r.f[0], 26, H10301(1, 100), 1);
    assert_int_equal(r.f[0].end_us, end);
    send(&r, &tm, second + 1, 25, end + sep + tm.interval_us);
    settle(&r);
    assert_int_equal(r.n, 2);
    assert_card(&r.f[1], 26, H10301(2, 200), 2);
}

static void test_frames_exactly_gap_apart(void **state)
{
    (void)state;
    back_to_back(&real_falling, GAP);
    back_to_back(&real_both, GAP);
}

static void test_frames_gap_plus_one_apart(void **state)
{
    (void)state;
    back_to_back(&real_falling, GAP + 1);
    back_to_back(&real_both, GAP + 1);
}

static void test_frames_gap_minus_one_apart_are_one(void **state)
{
    (void)state;
    back_to_back(&real_falling, GAP - 1);
    back_to_back(&real_both, GAP - 1);
}

static void test_idle_and_deadline(void **state)
{
    (void)state;
    struct rx r;
    rx_init(&r, NULL);
    struct wiegand_frame f;
    assert_int_equal(wiegand_deadline(&r.w), -1);
    assert_int_equal(wiegand_idle(&r.w, 0, &f), 0);
    assert_int_equal(wiegand_idle(&r.w, INT64_MAX, &f), 0);
    fall(&r, 1, 1000);
    assert_int_equal(wiegand_deadline(&r.w), 1000 + GAP);
    rise(&r, 1, 1050); /* silence counts from the last edge of either kind */
    assert_int_equal(wiegand_deadline(&r.w), 1050 + GAP);
    assert_int_equal(wiegand_idle(&r.w, 1050 + GAP - 1, &f), 0);
    assert_int_equal(wiegand_deadline(&r.w), 1050 + GAP);
    assert_int_equal(wiegand_idle(&r.w, 1050 + GAP + 500, &f), 1);
    assert_noise(&f, WIEGAND_NOISE_LENGTH);
    assert_int_equal(f.bits, 1);
    assert_int_equal(f.end_us, 1050);
    assert_int_equal(wiegand_idle(&r.w, 1050 + GAP + 501, &f), 0);
    assert_int_equal(wiegand_deadline(&r.w), -1);
    /* the frame already came out: the next fall starts a new one and returns nothing */
    fall(&r, 0, 1050 + GAP + 600);
    assert_int_equal(r.n, 0);
    assert_int_equal(wiegand_deadline(&r.w), 1050 + GAP + 600 + GAP);
}

/* ---- clocks that should not happen -------------------------------------------------- */

static void test_time_going_backwards_is_noise(void **state)
{
    (void)state;
    struct rx r;
    rx_init(&r, NULL);
    fall(&r, 0, 10000);
    fall(&r, 1, 12000);
    fall(&r, 0, 5000);
    assert_int_equal(wiegand_deadline(&r.w), 12000 + GAP); /* the latest edge still counts */
    settle(&r);
    struct wiegand_frame f = take(&r);
    assert_noise(&f, WIEGAND_NOISE_TOO_CLOSE);
    assert_int_equal(f.end_us, 12000);
    /* a rise from the past too */
    fall(&r, 0, 100000);
    rise(&r, 0, 90000);
    settle(&r);
    f = take(&r);
    assert_noise(&f, WIEGAND_NOISE_TOO_CLOSE);
}

/* Timestamps at the ends of int64: nothing may overflow (UBSan aborts if it does). */
static void test_extreme_timestamps(void **state)
{
    (void)state;
    struct rx r;
    rx_init(&r, NULL);
    fall(&r, 0, INT64_MIN);
    assert_int_equal(wiegand_deadline(&r.w), INT64_MIN + GAP);
    fall(&r, 1, INT64_MAX); /* the longest silence there is */
    assert_int_equal(r.n, 1);
    assert_noise(&r.f[0], WIEGAND_NOISE_LENGTH);
    assert_int_equal(wiegand_deadline(&r.w), INT64_MAX);
    fall(&r, 0, INT64_MIN);
    rise(&r, 1, INT64_MIN);
    struct wiegand_frame f;
    assert_int_equal(wiegand_idle(&r.w, INT64_MIN, &f), 0);
    assert_int_equal(wiegand_idle(&r.w, INT64_MAX, &f), 0);
    assert_int_equal(r.n, 1);
}

static void test_endless_frame_does_not_overflow(void **state)
{
    (void)state;
    struct rx r;
    rx_init(&r, NULL);
    for (int i = 0; i < 100000; i++)
        fall(&r, i % 2, (int64_t)i * 1000);
    assert_int_equal(r.n, 0);
    settle(&r);
    struct wiegand_frame f = take(&r);
    assert_noise(&f, WIEGAND_NOISE_LENGTH);
    assert_int_equal(f.bits, WIEGAND_MAX_BITS + 1);
}

/* Limits that make no sense are clamped, not trusted into the arithmetic. */
static void test_negative_limits_are_clamped(void **state)
{
    (void)state;
    struct wiegand_limits l = {-5, -5, -5, -5};
    struct rx r;
    rx_init(&r, &l);
    fall(&r, 0, 0);
    assert_int_equal(wiegand_deadline(&r.w), 1);
    fall(&r, 1, 1); /* one µs of silence ends a frame now */
    assert_int_equal(r.n, 1);
    assert_noise(&r.f[0], WIEGAND_NOISE_LENGTH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_limits),
        cmocka_unit_test(test_noise_names), cmocka_unit_test(test_lost_events_poison_the_frame),
        cmocka_unit_test(test_encode_known_frames),
        cmocka_unit_test(test_encode_rejects_bad_requests),
        cmocka_unit_test(test_decode_helper),
        cmocka_unit_test(test_cards_falling_edges_only),
        cmocka_unit_test(test_cards_both_edges),
        cmocka_unit_test(test_cards_vm_limits),
        cmocka_unit_test(test_vm_pulses_too_long_for_real_limits),
        cmocka_unit_test(test_limits_are_inclusive),
        cmocka_unit_test(test_round_trip_many_numbers),
        cmocka_unit_test(test_wrong_lengths),
        cmocka_unit_test(test_card_minus_or_plus_one_bit),
        cmocka_unit_test(test_truncated_frame),
        cmocka_unit_test(test_parity_bit_flipped),
        cmocka_unit_test(test_data_bit_flipped),
        cmocka_unit_test(test_pulse_too_short),
        cmocka_unit_test(test_pulse_too_long),
        cmocka_unit_test(test_line_stuck_low),
        cmocka_unit_test(test_late_rise_ends_frame_without_starting_one),
        cmocka_unit_test(test_first_rise_after_gap_ends_falling_only_card),
        cmocka_unit_test(test_stray_rise_is_ignored),
        cmocka_unit_test(test_bits_too_close),
        cmocka_unit_test(test_interval_min_boundary),
        cmocka_unit_test(test_both_low_falling_only),
        cmocka_unit_test(test_both_low_overlapping_pulses),
        cmocka_unit_test(test_both_low_in_first_frame),
        cmocka_unit_test(test_falling_only_after_both_edges),
        cmocka_unit_test(test_noisy_frame_comes_out_once),
        cmocka_unit_test(test_noise_burst_then_card),
        cmocka_unit_test(test_frames_exactly_gap_apart),
        cmocka_unit_test(test_frames_gap_plus_one_apart),
        cmocka_unit_test(test_frames_gap_minus_one_apart_are_one),
        cmocka_unit_test(test_idle_and_deadline),
        cmocka_unit_test(test_time_going_backwards_is_noise),
        cmocka_unit_test(test_extreme_timestamps),
        cmocka_unit_test(test_endless_frame_does_not_overflow),
        cmocka_unit_test(test_negative_limits_are_clamped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
