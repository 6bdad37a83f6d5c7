/* tests/unit/core/test_config.c: the configuration table: defaults,
 * name=value parsing with bounds, profiles. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "synack/config.h"

static void test_defaults_and_set(void **state)
{
    (void)state;
    struct sn_config c;
    sn_config_defaults(&c);
    assert_int_equal(c.tcp_rto_init_ms, 1000); /* RFC 6298 2.1 */
    assert_int_equal(c.tcp_msl_ms, 30000);
    assert_int_equal(sn_config_set(&c, "tcp_msl_ms=500"), 0);
    assert_int_equal(c.tcp_msl_ms, 500);
    assert_int_equal(sn_config_set(&c, "tcp_wscale=0x3"), 0);
    assert_int_equal(c.tcp_wscale, 3);
}

static void test_errors(void **state)
{
    (void)state;
    struct sn_config c;
    sn_config_defaults(&c);
    assert_int_equal(sn_config_set(&c, "no_such=1"), -EINVAL);
    assert_int_equal(sn_config_set(&c, "tcp_msl_ms"), -EINVAL);
    assert_int_equal(sn_config_set(&c, "tcp_msl_ms=abc"), -EINVAL);
    assert_int_equal(sn_config_set(&c, "tcp_msl_ms=12x"), -EINVAL);
    assert_int_equal(sn_config_set(&c, "tcp_wscale=15"), -ERANGE); /* RFC 7323 2.3: max 14 */
    assert_int_equal(sn_config_set(&c, "tcp_msl_ms=0"), -ERANGE);
    assert_int_equal(c.tcp_msl_ms, 30000); /* untouched on error */
}

static void test_profiles(void **state)
{
    (void)state;
    struct sn_config c;
    sn_config_defaults(&c);
    assert_int_equal(sn_config_profile(&c, "linux"), 0);
    assert_int_equal(c.tcp_delack_ms, 40);
    assert_int_equal(c.tcp_wscale, 8);
    assert_int_equal(sn_config_profile(&c, "bsd"), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_set),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_profiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
