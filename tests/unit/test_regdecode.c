/* Register decoding: every type in every word order, exact. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "config_load.h"
#include "regdecode.h"

/* 0x11223344 as it appears on the wire in each order. */
static void test_int32_word_orders(void **state)
{
    (void)state;
    struct { enum cfg_word_order o; uint16_t w[2]; } cases[] = {
        {CFG_WO_ABCD, {0x1122, 0x3344}},
        {CFG_WO_CDAB, {0x3344, 0x1122}},
        {CFG_WO_BADC, {0x2211, 0x4433}},
        {CFG_WO_DCBA, {0x4433, 0x2211}},
    };
    for (size_t i = 0; i < 4; i++) {
        assert_true(regdecode_raw(CFG_T_UINT32, cases[i].o, cases[i].w) == (double)0x11223344);
        uint16_t back[2];
        regencode_raw(CFG_T_UINT32, cases[i].o, (double)0x11223344, back);
        assert_memory_equal(back, cases[i].w, sizeof back);
    }
}

static void test_signed_and_float(void **state)
{
    (void)state;
    uint16_t r[2] = {0xFFFF, 0xFFFE};
    assert_true(regdecode_raw(CFG_T_INT16, CFG_WO_ABCD, r) == -1.0);
    assert_true(regdecode_raw(CFG_T_UINT16, CFG_WO_ABCD, r) == 65535.0);
    assert_true(regdecode_raw(CFG_T_INT32, CFG_WO_ABCD, r) == -2.0);
    assert_true(regdecode_raw(CFG_T_INT32, CFG_WO_CDAB, r) == (double)(int32_t)0xFFFEFFFF);
    /* 36.75f = 0x42130000: exact in binary, so equality is the right test. */
    const float vals[] = {36.75f, -12.5f, 0.0f, 1e-3f, 42.0f};
    const enum cfg_word_order orders[] = {CFG_WO_ABCD, CFG_WO_CDAB, CFG_WO_BADC, CFG_WO_DCBA};
    for (size_t v = 0; v < 5; v++) {
        for (size_t o = 0; o < 4; o++) {
            uint16_t w[2];
            regencode_raw(CFG_T_FLOAT32, orders[o], vals[v], w);
            assert_true((float)regdecode_raw(CFG_T_FLOAT32, orders[o], w) == vals[v]);
        }
    }
    uint16_t abcd[2] = {0x4213, 0x0000}, cdab[2] = {0x0000, 0x4213}, badc[2] = {0x1342, 0x0000},
             dcba[2] = {0x0000, 0x1342};
    assert_true(regdecode_raw(CFG_T_FLOAT32, CFG_WO_ABCD, abcd) == 36.75);
    assert_true(regdecode_raw(CFG_T_FLOAT32, CFG_WO_CDAB, cdab) == 36.75);
    assert_true(regdecode_raw(CFG_T_FLOAT32, CFG_WO_BADC, badc) == 36.75);
    assert_true(regdecode_raw(CFG_T_FLOAT32, CFG_WO_DCBA, dcba) == 36.75);
}

static const struct cfg_profile *builtin(const char *name)
{
    int n;
    const struct cfg_profile *p = config_builtin_profiles(&n);
    for (int i = 0; i < n; i++)
        if (strcmp(p[i].name, name) == 0)
            return &p[i];
    fail_msg("no built-in profile %s", name);
    return NULL;
}

static void test_builtin_profiles(void **state)
{
    (void)state;
    struct regmap m;
    regmap_init(&m, builtin("gatescreen-ir"));
    assert_int_equal(m.nregs, 6);
    uint16_t regs[6] = {3672, 2450, 0x0005, 17, 0xE240, 0x0001}; /* card 123456 */
    double v;
    assert_int_equal(regdecode_field(&m, regs, CFG_F_BODY_TEMP, &v), 0);
    assert_true(fabs(v - 36.72) < 1e-9);
    assert_int_equal(regdecode_field(&m, regs, CFG_F_AMBIENT_TEMP, &v), 0);
    assert_true(fabs(v - 24.50) < 1e-9);
    assert_int_equal(regdecode_field(&m, regs, CFG_F_SEQUENCE, &v), 0);
    assert_true(v == 17);

    regmap_init(&m, builtin("pyrometer")); /* one block, 0x0F..0x15 */
    assert_int_equal(regmap_index(&m, 3, 0x15), 6);
    assert_int_equal(regmap_index(&m, 3, 0x0E), -1);
    assert_int_equal(regmap_index(&m, 4, 0x15), -1);
    uint16_t py[7] = {0, 0, 0, 0, (uint16_t)374, (uint16_t)(int16_t)-50, 0x0004};
    assert_int_equal(regdecode_field(&m, py, CFG_F_BODY_TEMP, &v), 0);
    assert_true(fabs(v - 37.4) < 1e-9);
    assert_int_equal(regdecode_field(&m, py, CFG_F_AMBIENT_TEMP, &v), 0);
    assert_true(fabs(v + 5.0) < 1e-9);
    assert_int_equal(regdecode_field(&m, py, CFG_F_STATUS, &v), 0);
    assert_true(v == 4);
    assert_int_equal(regdecode_field(&m, py, CFG_F_SEQUENCE, &v), -1); /* none */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int32_word_orders),
        cmocka_unit_test(test_signed_and_float),
        cmocka_unit_test(test_builtin_profiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
