/* tests/unit/wire/test_ip4.c: IPv4 header parsing, validation and building
 * (wire/ip4.c, RFC 791), and address/prefix text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers/frames.h"
#include "wire/ip4.h"
#include "wire/wire.h"

/* Fragment headers of the kernel's `ping -s 1900` (id 0x8c44): the first
 * (MF, offset 0, 1500 bytes) and the last (offset 1480, 448 bytes). */
static const uint8_t golden_frag0_hdr[20] = {0x45, 0x00, 0x05, 0xdc, 0x8c, 0x44, 0x20,
                                             0x00, 0x40, 0x01, 0x44, 0xd9, 0xc0, 0x00,
                                             0x02, 0x01, 0xc0, 0x00, 0x02, 0x02};
static const uint8_t golden_frag1_hdr[20] = {0x45, 0x00, 0x01, 0xc0, 0x8c, 0x44, 0x00,
                                             0xb9, 0x40, 0x01, 0x68, 0x3c, 0xc0, 0x00,
                                             0x02, 0x01, 0xc0, 0x00, 0x02, 0x02};

static void golden_echo(void **state)
{
    (void)state;
    const uint8_t *b = fr_golden_echo_request + 14;
    struct ip4_hdr h;
    assert_int_equal(ip4_parse(&h, b, 60), WIRE_OK);
    assert_int_equal(h.hdr_len, 20);
    assert_int_equal(h.tos, 0);
    assert_int_equal(h.total_len, 60);
    assert_int_equal(h.id, 0x8c3e);
    assert_int_equal(h.frag, IP4_FLAG_DF);
    assert_true(ip4_df(&h));
    assert_false(ip4_mf(&h));
    assert_false(ip4_is_fragment(&h));
    assert_int_equal(h.ttl, 64);
    assert_int_equal(h.proto, IP4_PROTO_ICMP);
    assert_int_equal(h.csum, 0x2a7f);
    assert_int_equal(h.src, FR_PEER_IP);
    assert_int_equal(h.dst, FR_OUR_IP);
    assert_true(ip4_csum_ok(b, h.hdr_len));
}

static void golden_fragments(void **state)
{
    (void)state;
    uint8_t *b = calloc(1, 1500);
    assert_non_null(b);
    struct ip4_hdr h;
    memcpy(b, golden_frag0_hdr, 20);
    assert_int_equal(ip4_parse(&h, b, 1500), WIRE_OK);
    assert_true(ip4_csum_ok(b, 20));
    assert_true(ip4_mf(&h));
    assert_false(ip4_df(&h));
    assert_int_equal(ip4_frag_off(&h), 0);
    assert_true(ip4_is_fragment(&h));
    assert_int_equal(h.total_len, 1500);

    memcpy(b, golden_frag1_hdr, 20);
    assert_int_equal(ip4_parse(&h, b, 448), WIRE_OK);
    assert_true(ip4_csum_ok(b, 20));
    assert_false(ip4_mf(&h));
    assert_int_equal(ip4_frag_off(&h), 1480);
    assert_true(ip4_is_fragment(&h));
    assert_int_equal(h.total_len, 448);
    free(b);
}

/* ip4_build from the fields of the kernel's echo reply writes the kernel's
 * header byte for byte, checksum included. */
static void build_golden(void **state)
{
    (void)state;
    struct ip4_hdr h = {.tos = 0,
                        .total_len = 60,
                        .id = 0xdd2b,
                        .frag = 0,
                        .ttl = 64,
                        .proto = IP4_PROTO_ICMP,
                        .src = FR_OUR_IP,
                        .dst = FR_PEER_IP,
                        .hdr_len = 99, /* ignored */
                        .csum = 0x1111 /* ignored */};
    uint8_t b[20];
    memset(b, 0xee, sizeof(b));
    ip4_build(b, &h);
    assert_memory_equal(b, fr_golden_echo_reply + 14, 20);
}

static void round_trip(void **state)
{
    (void)state;
    uint8_t buf[2000];
    struct ip4_hdr in = {.tos = 0xb8,
                         .total_len = 1234,
                         .id = 0xfedc,
                         .frag = IP4_FLAG_MF | 0x0123,
                         .ttl = 1,
                         .proto = 253,
                         .src = 0x0a000001,
                         .dst = 0xc0a80101};
    ip4_build(buf, &in);
    struct ip4_hdr out;
    assert_int_equal(ip4_parse(&out, buf, in.total_len), WIRE_OK);
    assert_int_equal(out.hdr_len, 20);
    assert_int_equal(out.tos, in.tos);
    assert_int_equal(out.total_len, in.total_len);
    assert_int_equal(out.id, in.id);
    assert_int_equal(out.frag, in.frag);
    assert_int_equal(ip4_frag_off(&out), 0x123 * 8);
    assert_int_equal(out.ttl, in.ttl);
    assert_int_equal(out.proto, in.proto);
    assert_int_equal(out.src, in.src);
    assert_int_equal(out.dst, in.dst);
    assert_true(ip4_csum_ok(buf, 20));
    assert_int_equal(out.csum, (uint16_t)(buf[10] << 8 | buf[11]));
    /* Any flipped bit in the header breaks the checksum. */
    for (int i = 0; i < 20 * 8; i++) {
        buf[i / 8] ^= (uint8_t)(1 << (i % 8));
        assert_false(ip4_csum_ok(buf, 20));
        buf[i / 8] ^= (uint8_t)(1 << (i % 8));
    }
}

/* A 24-byte header (one option word) and 36 bytes of payload: every
 * shorter buffer is rejected with the code that names what is missing, and
 * the summary is left untouched. */
static void every_truncation(void **state)
{
    (void)state;
    static const uint8_t opts[4] = {1, 1, 1, 0}; /* NOP NOP NOP EOL */
    uint8_t payload[36];
    fr_pattern(payload, sizeof(payload), 1);
    uint8_t b[80];
    size_t total = fr_ip4(b, &(struct fr_ip){.proto = 17, .opts = opts, .opts_len = 4}, payload,
                          sizeof(payload));
    assert_int_equal(total, 60);
    for (size_t len = 0; len <= sizeof(b); len++) {
        struct ip4_hdr h;
        memset(&h, 0x77, sizeof(h));
        struct ip4_hdr before = h;
        int want = len < 20 ? WIRE_ETRUNC : len < 24 ? WIRE_EBADHDR : len < total ? WIRE_EBADLEN : WIRE_OK;
        int got = ip4_parse(&h, b, len);
        if (got != want)
            fail_msg("len %zu: got %s, want %s", len, wire_strerror(got), wire_strerror(want));
        if (want != WIRE_OK)
            assert_memory_equal(&h, &before, sizeof(h));
        else
            assert_int_equal(h.hdr_len, 24);
    }
}

static void bad_version(void **state)
{
    (void)state;
    uint8_t b[60];
    memcpy(b, fr_golden_echo_request + 14, 60);
    for (int v = 0; v < 16; v++) {
        if (v == 4)
            continue;
        b[0] = (uint8_t)(v << 4 | 5);
        struct ip4_hdr h;
        assert_int_equal(ip4_parse(&h, b, sizeof(b)), WIRE_EBADVER);
    }
    /* Version is checked before anything else in the header. */
    b[0] = 0x60;
    struct ip4_hdr h;
    assert_int_equal(ip4_parse(&h, b, sizeof(b)), WIRE_EBADVER);
}

static void bad_ihl(void **state)
{
    (void)state;
    uint8_t b[60];
    memcpy(b, fr_golden_echo_request + 14, 60);
    struct ip4_hdr h;
    for (int ihl = 0; ihl < 5; ihl++) {
        b[0] = (uint8_t)(0x40 | ihl);
        assert_int_equal(ip4_parse(&h, b, sizeof(b)), WIRE_EBADHDR);
    }
    /* IHL 15 = 60 bytes fits this 60-byte buffer and total length... */
    b[0] = 0x4f;
    assert_int_equal(ip4_parse(&h, b, 60), WIRE_OK);
    assert_int_equal(h.hdr_len, 60);
    /* ...but not a shorter buffer: the header runs past it. */
    assert_int_equal(ip4_parse(&h, b, 59), WIRE_EBADHDR);
    assert_int_equal(ip4_parse(&h, b, 20), WIRE_EBADHDR);
    b[0] = 0x46;
    assert_int_equal(ip4_parse(&h, b, 23), WIRE_EBADHDR);
}

static void bad_total_length(void **state)
{
    (void)state;
    uint8_t b[80];
    memset(b, 0, sizeof(b));
    memcpy(b, fr_golden_echo_request + 14, 60);
    struct ip4_hdr h;
    /* Total length beyond the buffer. */
    assert_int_equal(ip4_parse(&h, b, 59), WIRE_EBADLEN);
    b[2] = 0xff, b[3] = 0xff;
    assert_int_equal(ip4_parse(&h, b, sizeof(b)), WIRE_EBADLEN);
    /* Total length below the header length. */
    for (uint16_t total = 0; total < 20; total++) {
        b[2] = 0, b[3] = (uint8_t)total;
        assert_int_equal(ip4_parse(&h, b, sizeof(b)), WIRE_EBADLEN);
    }
    b[0] = 0x46; /* 24-byte header, total 20..23 */
    for (uint16_t total = 20; total < 24; total++) {
        b[3] = (uint8_t)total;
        assert_int_equal(ip4_parse(&h, b, sizeof(b)), WIRE_EBADLEN);
    }
    /* Exactly the header, no payload: fine. */
    b[3] = 24;
    assert_int_equal(ip4_parse(&h, b, sizeof(b)), WIRE_OK);
    assert_int_equal(h.total_len, 24);
    /* Shorter than the buffer (Ethernet padding): fine, total_len says. */
    b[0] = 0x45, b[3] = 28;
    assert_int_equal(ip4_parse(&h, b, sizeof(b)), WIRE_OK);
    assert_int_equal(h.total_len, 28);
}

static void addr_text(void **state)
{
    (void)state;
    struct {
        const char *s;
        uint32_t a;
    } good[] = {{"192.0.2.1", 0xc0000201u}, {"0.0.0.0", 0},       {"255.255.255.255", 0xffffffffu},
                {"10.0.0.1", 0x0a000001u},  {"1.2.3.4", 0x01020304u}, {"0.10.100.200", 0x000a64c8u}};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint32_t a = 0x5a5a5a5a;
        if (ip4_parse_addr(good[i].s, &a) != 0)
            fail_msg("rejected \"%s\"", good[i].s);
        assert_int_equal(a, good[i].a);
        char buf[16];
        assert_string_equal(ip4_fmt(good[i].a, buf), good[i].s);
    }
    static const char *const bad[] = {
        "",          "1",          "1.2.3",      "1.2.3.4.5",   "256.0.0.1",  "1.2.3.256",
        "1.2.3.4 ",  " 1.2.3.4",   "1.2.3. 4",   "+1.2.3.4",    "1.2.3.-0",   "1.2.3.-1",
        "1..2.3",    "1.2.3.",     ".1.2.3",     "a.b.c.d",     "1.2.3.4/24", "1234.1.1.1",
        "1.2.3.0x4", "01.2.3.4",   "1.2.3.004",  "4294967297.0.0.0",        "1.2.3.4\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint32_t a = 0x5a5a5a5a;
        if (ip4_parse_addr(bad[i], &a) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(a, 0x5a5a5a5a);
    }
    char buf[16];
    assert_string_equal(ip4_fmt(0xffffffffu, buf), "255.255.255.255");
}

static void cidr_text(void **state)
{
    (void)state;
    uint32_t a;
    uint8_t p;
    assert_int_equal(ip4_parse_cidr("192.0.2.2/24", &a, &p), 0);
    assert_int_equal(a, FR_OUR_IP);
    assert_int_equal(p, 24);
    assert_int_equal(ip4_parse_cidr("10.1.2.3/0", &a, &p), 0);
    assert_int_equal(p, 0);
    assert_int_equal(ip4_parse_cidr("10.1.2.3/32", &a, &p), 0);
    assert_int_equal(p, 32);
    assert_int_equal(ip4_parse_cidr("10.1.2.3/8", &a, &p), 0);
    assert_int_equal(a, 0x0a010203u);
    assert_int_equal(p, 8);
    static const char *const bad[] = {
        "192.0.2.2",     "192.0.2.2/",    "192.0.2.2/33",  "192.0.2.2/100", "192.0.2.2/-1",
        "192.0.2.2/+8",  "192.0.2.2/ 8",  "192.0.2.2/24 ", "192.0.2.2/24/8", "/24",
        "192.0.2/24",    "192.0.2.256/24", "192.0.2.2/x",  "192.0.2.2/024", "192.0.2.2//24",
        "1111111111111111111111111111111111111111.0.0.0/8",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        a = 0x5a5a5a5a;
        p = 77;
        if (ip4_parse_cidr(bad[i], &a, &p) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(p, 77);
    }
}

static void prefix_mask(void **state)
{
    (void)state;
    assert_int_equal(ip4_prefix_mask(0), 0);
    assert_int_equal(ip4_prefix_mask(1), 0x80000000u);
    assert_int_equal(ip4_prefix_mask(8), 0xff000000u);
    assert_int_equal(ip4_prefix_mask(24), 0xffffff00u);
    assert_int_equal(ip4_prefix_mask(31), 0xfffffffeu);
    assert_int_equal(ip4_prefix_mask(32), 0xffffffffu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_echo),     cmocka_unit_test(golden_fragments),
        cmocka_unit_test(build_golden),    cmocka_unit_test(round_trip),
        cmocka_unit_test(every_truncation), cmocka_unit_test(bad_version),
        cmocka_unit_test(bad_ihl),         cmocka_unit_test(bad_total_length),
        cmocka_unit_test(addr_text),       cmocka_unit_test(cidr_text),
        cmocka_unit_test(prefix_mask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
