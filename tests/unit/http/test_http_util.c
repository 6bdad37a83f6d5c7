/* tests/unit/http/test_http_util.c: the small parsers and formatters the
 * HTTP server and client share (http/util.c): HTTP-dates in all three
 * forms (RFC 9110 5.6.7), percent-decoding, base64url (HTTP2-Settings),
 * HTML escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/server_impl.h"

static int64_t date(const char *s)
{
    int64_t t;
    return http_date_parse(s, strlen(s), &t) == 0 ? t : -1;
}

static void rfc9110_5_6_7_dates(void **state)
{
    (void)state;
    /* The RFC's own example, in its three forms. */
    assert_int_equal(date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
    assert_int_equal(date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
    assert_int_equal(date("Sun Nov  6 08:49:37 1994"), 784111777);
    assert_int_equal(date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
    assert_int_equal(date("Tue, 29 Feb 2000 12:00:00 GMT"), 951825600);
    /* Malformed. */
    assert_int_equal(date("Sun, 06 Nov 1994 08:49:37"), -1);
    assert_int_equal(date("Sun, 06 Nov 1994 08:49:37 UTC"), -1);
    assert_int_equal(date("Sun, 6 Nov 1994 08:49:37 GMT"), -1);
    assert_int_equal(date("Sun, 06 Foo 1994 08:49:37 GMT"), -1);
    assert_int_equal(date("Sun, 06 Nov 1994 25:49:37 GMT"), -1);
    assert_int_equal(date("Sun, 06 Nov 1994 08:49:37 GMT "), -1);
    assert_int_equal(date(""), -1);
    assert_int_equal(date("garbage"), -1);

    char buf[HTTP_DATE_LEN];
    http_date_format(784111777, buf);
    assert_string_equal(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
    http_date_format(0, buf);
    assert_string_equal(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
    /* Round trips over a few centuries, a day and a bit at a time. */
    for (int64_t t = 0; t < 253402300799ll; t += 86400 * 37 + 3671) {
        http_date_format(t, buf);
        assert_int_equal(date(buf), t);
    }
}

static void pct_decode(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(http_pct_decode("/a%20b%2Fc", 10, out, sizeof(out)), 6);
    assert_string_equal(out, "/a b/c");
    assert_int_equal(http_pct_decode("/%2e%2E", 7, out, sizeof(out)), 3);
    assert_string_equal(out, "/..");
    assert_int_equal(http_pct_decode("/%00", 4, out, sizeof(out)), -1);
    assert_int_equal(http_pct_decode("/%zz", 4, out, sizeof(out)), -1);
    assert_int_equal(http_pct_decode("/%2", 3, out, sizeof(out)), -1);
    assert_int_equal(http_pct_decode("/%", 2, out, sizeof(out)), -1);
    assert_int_equal(http_pct_decode("/abcdef", 7, out, 4), -1); /* no room */
    assert_int_equal(http_pct_decode("", 0, out, sizeof(out)), 0);
}

static void b64url(void **state)
{
    (void)state;
    uint8_t out[32];
    /* An HTTP2-Settings value: SETTINGS_MAX_CONCURRENT_STREAMS = 100,
     * SETTINGS_INITIAL_WINDOW_SIZE = 33554432 (curl's). */
    const char *s = "AAMAAABkAAQCAAAA";
    long n = http_b64url_decode(s, strlen(s), out, sizeof(out));
    assert_int_equal(n, 12);
    static const uint8_t want[] = {0, 3, 0, 0, 0, 100, 0, 4, 2, 0, 0, 0};
    assert_memory_equal(out, want, 12);
    assert_int_equal(http_b64url_decode("-_8", 3, out, sizeof(out)), 2);
    assert_int_equal(out[0], 0xfb);
    assert_int_equal(out[1], 0xff);
    assert_int_equal(http_b64url_decode("AAA=", 4, out, sizeof(out)), 2); /* padding tolerated */
    assert_int_equal(http_b64url_decode("A", 1, out, sizeof(out)), -1);
    assert_int_equal(http_b64url_decode("AA+A", 4, out, sizeof(out)), -1); /* not url-safe */
    assert_int_equal(http_b64url_decode("AAAAAAAA", 8, out, 5), -1);      /* no room */
}

static void html_escape(void **state)
{
    (void)state;
    char buf[64];
    size_t n = http_html_escape(buf, 0, sizeof(buf), "a<b>&\"c'");
    assert_string_equal(buf, "a&lt;b&gt;&amp;&quot;c&#39;");
    assert_int_equal(n, strlen(buf));
    n = http_html_escape(buf, 0, 6, "&&&&");
    assert_true(n < 6);
    assert_string_equal(buf, "&amp;");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc9110_5_6_7_dates),
        cmocka_unit_test(pct_decode),
        cmocka_unit_test(b64url),
        cmocka_unit_test(html_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
