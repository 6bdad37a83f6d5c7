/* tests/unit/wire/test_icmp4.c: the ICMP message header (wire/icmp4.c,
 * RFC 792), checked against the kernel's echo request and reply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "helpers/frames.h"
#include "wire/csum.h"
#include "wire/icmp4.h"
#include "wire/wire.h"

#define GOLDEN_LEN 40 /* ICMP bytes in the golden echo frames */

static void golden_parse(void **state)
{
    (void)state;
    struct icmp4_hdr h;
    assert_int_equal(icmp4_parse(&h, fr_golden_echo_request + 34, GOLDEN_LEN), WIRE_OK);
    assert_int_equal(h.type, ICMP4_ECHO_REQUEST);
    assert_int_equal(h.code, 0);
    assert_int_equal(h.csum, 0xe191);
    assert_int_equal(h.rest, 0x34be0001u); /* id 0x34be, seq 1 */

    assert_int_equal(icmp4_parse(&h, fr_golden_echo_reply + 34, GOLDEN_LEN), WIRE_OK);
    assert_int_equal(h.type, ICMP4_ECHO_REPLY);
    assert_int_equal(h.csum, 0xe991);
    assert_int_equal(h.rest, 0x34be0001u);
}

/* Turning the request into a reply with icmp4_build gives the kernel's
 * reply byte for byte. */
static void build_golden_reply(void **state)
{
    (void)state;
    uint8_t b[GOLDEN_LEN];
    memcpy(b, fr_golden_echo_request + 34, GOLDEN_LEN);
    icmp4_build(b, sizeof(b), &(struct icmp4_hdr){.type = 0, .code = 0, .rest = 0x34be0001u});
    assert_memory_equal(b, fr_golden_echo_reply + 34, GOLDEN_LEN);
}

static void round_trip(void **state)
{
    (void)state;
    for (size_t body = 0; body < 70; body += 7) { /* odd lengths too */
        uint8_t b[8 + 70];
        fr_pattern(b + 8, body, (uint32_t)body);
        struct icmp4_hdr in = {.type = ICMP4_DEST_UNREACH, .code = 3, .rest = 0x000005dcu};
        icmp4_build(b, 8 + body, &in);
        assert_int_equal(csum_buf(b, 8 + body), 0);
        struct icmp4_hdr out;
        assert_int_equal(icmp4_parse(&out, b, 8 + body), WIRE_OK);
        assert_int_equal(out.type, in.type);
        assert_int_equal(out.code, in.code);
        assert_int_equal(out.rest, in.rest);
        assert_int_equal(out.csum, (uint16_t)(b[2] << 8 | b[3]));
    }
}

/* Below 8 bytes: truncated. From 8 bytes on the message has no length of
 * its own, so a cut is only seen through the checksum: each shorter length
 * is either rejected as a bad checksum or (when the cut-off bytes summed to
 * zero) accepted; never anything else. */
static void every_truncation(void **state)
{
    (void)state;
    const uint8_t *b = fr_golden_echo_request + 34;
    for (size_t len = 0; len < GOLDEN_LEN; len++) {
        struct icmp4_hdr h;
        memset(&h, 0x33, sizeof(h));
        struct icmp4_hdr before = h;
        int got = icmp4_parse(&h, b, len);
        int want = len < ICMP4_HDR_LEN ? WIRE_ETRUNC
                   : csum_buf(b, len) == 0 ? WIRE_OK
                                           : WIRE_EBADCSUM;
        assert_int_equal(got, want);
        if (got != WIRE_OK)
            assert_memory_equal(&h, &before, sizeof(h));
    }
}

static void bad_checksum(void **state)
{
    (void)state;
    uint8_t b[GOLDEN_LEN];
    for (size_t i = 0; i < GOLDEN_LEN * 8; i++) {
        memcpy(b, fr_golden_echo_request + 34, GOLDEN_LEN);
        b[i / 8] ^= (uint8_t)(1 << (i % 8));
        struct icmp4_hdr h;
        assert_int_equal(icmp4_parse(&h, b, sizeof(b)), WIRE_EBADCSUM);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_parse),     cmocka_unit_test(build_golden_reply),
        cmocka_unit_test(round_trip),       cmocka_unit_test(every_truncation),
        cmocka_unit_test(bad_checksum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
