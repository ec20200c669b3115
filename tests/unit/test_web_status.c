/* The one table from a ledger call's status to the web's HTTP status (web_api_values.c):
 * every status has its row, and an out-of-range value is answered as a database
 * failure rather than read past the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ledger.h"
#include "web_api.h"

static void test_ledger_status_to_http(void **state)
{
    (void)state;
    assert_int_equal(wa_http_status(LEDGER_OK), 200);
    assert_int_equal(wa_http_status(LEDGER_NOT_FOUND), 404);
    assert_int_equal(wa_http_status(LEDGER_CONFLICT), 409);
    assert_int_equal(wa_http_status(LEDGER_INVALID), 400);
    assert_int_equal(wa_http_status(LEDGER_BUSY), 503);
    assert_int_equal(wa_http_status(LEDGER_IO), 500);
    assert_int_equal(wa_http_status((enum ledger_status)42), 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ledger_status_to_http),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
