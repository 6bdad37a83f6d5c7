/* tests/unit/wire/test_csum.c: the Internet checksum (wire/csum.c) against
 * RFC 1071's worked example, a plain reference implementation for every
 * length (odd ones included), incremental sums against one-shot sums, and
 * the IPv4 pseudo-header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers/frames.h"
#include "wire/csum.h"

/* The textbook definition: 16-bit big-endian words, an odd last byte is the
 * high half of a word, end-around carry, complement. */
static uint16_t ref(const uint8_t *p, size_t len)
{
    uint64_t s = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* RFC 1071 3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (after the
 * end-around carry); the checksum is its complement, 220d. */
static void rfc1071_example(void **state)
{
    (void)state;
    static const uint8_t b[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(csum_buf(b, sizeof(b)), 0x220d);
    assert_int_equal(csum_fold(csum_add(0, b, sizeof(b))), 0x220d);
    /* The sum is the same whatever the order of the 16-bit words (RFC 1071
     * 2(B), commutative and associative). */
    static const uint8_t swapped[8] = {0xf6, 0xf7, 0xf4, 0xf5, 0xf2, 0x03, 0x00, 0x01};
    assert_int_equal(csum_buf(swapped, sizeof(swapped)), 0x220d);
}

static void empty_and_zero(void **state)
{
    (void)state;
    static const uint8_t z[4];
    assert_int_equal(csum_buf(z, 0), 0xffff);
    assert_int_equal(csum_buf(z, sizeof(z)), 0xffff);
    assert_int_equal(csum_fold(0), 0xffff);
}

/* A buffer that carries its own checksum verifies to 0. */
static void verify_yields_zero(void **state)
{
    (void)state;
    const uint8_t *ip = fr_golden_echo_request + 14;
    assert_int_equal(csum_buf(ip, 20), 0);
    uint8_t copy[20];
    memcpy(copy, ip, 20);
    copy[10] = copy[11] = 0;
    assert_int_equal(csum_buf(copy, 20), 0x2a7f); /* what the kernel wrote */
    const uint8_t *icmp = fr_golden_echo_request + 34;
    assert_int_equal(csum_buf(icmp, 40), 0);
}

static void odd_lengths(void **state)
{
    (void)state;
    static const uint8_t one = 0xab;
    assert_int_equal(csum_buf(&one, 1), (uint16_t)~0xab00);
    static const uint8_t three[3] = {0x12, 0x34, 0x56};
    assert_int_equal(csum_buf(three, 3), (uint16_t)~(0x1234 + 0x5600));
    uint8_t b[301];
    fr_pattern(b, sizeof(b), 7);
    for (size_t len = 0; len <= sizeof(b); len++)
        assert_int_equal(csum_buf(b, len), ref(b, len));
    /* Same bytes at an odd address: alignment must not matter. */
    uint8_t shifted[302];
    memcpy(shifted + 1, b, sizeof(b));
    for (size_t len = 0; len <= sizeof(b); len++)
        assert_int_equal(csum_buf(shifted + 1, len), ref(b, len));
}

/* Sums that carry a lot: all-ones data, large buffers, a start value near
 * the top of 32 bits. */
static void carries(void **state)
{
    (void)state;
    size_t n = 65535;
    uint8_t *b = malloc(n);
    assert_non_null(b);
    memset(b, 0xff, n);
    assert_int_equal(csum_buf(b, n), ref(b, n));
    assert_int_equal(csum_buf(b, n - 1), ref(b, n - 1));
    fr_pattern(b, n, 99);
    assert_int_equal(csum_buf(b, n), ref(b, n));
    free(b);

    static const uint8_t ff[2] = {0xff, 0xff};
    /* 0xffffffff is 0xffff + 0xffff = 0x1fffe -> 0xffff in ones' complement;
     * adding 0xffff keeps it there; the complement is 0. */
    assert_int_equal(csum_fold(csum_add(0xffffffffu, ff, 2)), 0);
    assert_int_equal(csum_fold(0xffffffffu), 0);
    assert_int_equal(csum_fold(0x0001fffeu), 0);
    assert_int_equal(csum_fold(0x00010000u), (uint16_t)~1);
}

/* Adding a buffer in pieces (every piece but the last even) gives the same
 * result as adding it at once. */
static void incremental_equals_one_shot(void **state)
{
    (void)state;
    uint8_t b[1001];
    fr_pattern(b, sizeof(b), 3);
    for (size_t len = 0; len <= sizeof(b); len += 37) {
        uint16_t whole = csum_buf(b, len);
        for (size_t cut = 0; cut <= len; cut += 2) {
            uint32_t s = csum_add(0, b, cut);
            s = csum_add(s, b + cut, len - cut);
            assert_int_equal(csum_fold(s), whole);
        }
        /* Three pieces, the first two even. */
        if (len >= 10) {
            uint32_t s = csum_add(0, b, 4);
            s = csum_add(s, b + 4, 6);
            s = csum_add(s, b + 10, len - 10);
            assert_int_equal(csum_fold(s), whole);
        }
    }
    /* Many small even chunks. */
    uint32_t s = 0;
    for (size_t i = 0; i + 2 <= 1000; i += 2)
        s = csum_add(s, b + i, 2);
    assert_int_equal(csum_fold(s), csum_buf(b, 1000));
}

/* RFC 9293 3.1 / RFC 768: the pseudo-header is src, dst, zero, protocol,
 * length; csum_pseudo4 must equal summing those 12 bytes. */
static void pseudo_header(void **state)
{
    (void)state;
    struct {
        uint32_t src, dst;
        uint8_t proto;
        uint16_t len;
    } cases[] = {
        {0xc0000201u, 0xc0000202u, 6, 40},   {0xffffffffu, 0xffffffffu, 17, 0xffff},
        {0, 0, 6, 0},                        {0x0a000001u, 0xc0a80101u, 17, 1},
        {0xfffefdfcu, 0x01020304u, 255, 0xfff0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t ph[12] = {
            (uint8_t)(cases[i].src >> 24), (uint8_t)(cases[i].src >> 16),
            (uint8_t)(cases[i].src >> 8),  (uint8_t)cases[i].src,
            (uint8_t)(cases[i].dst >> 24), (uint8_t)(cases[i].dst >> 16),
            (uint8_t)(cases[i].dst >> 8),  (uint8_t)cases[i].dst,
            0,                             cases[i].proto,
            (uint8_t)(cases[i].len >> 8),  (uint8_t)cases[i].len,
        };
        uint32_t ps = csum_pseudo4(cases[i].src, cases[i].dst, cases[i].proto, cases[i].len);
        assert_int_equal(csum_fold(ps), ref(ph, sizeof(ph)));
        /* Followed by an odd-length segment, as a TCP checksum is made. */
        uint8_t seg[33];
        fr_pattern(seg, sizeof(seg), (uint32_t)i);
        uint8_t all[12 + 33];
        memcpy(all, ph, 12);
        memcpy(all + 12, seg, sizeof(seg));
        assert_int_equal(csum_fold(csum_add(ps, seg, sizeof(seg))), ref(all, sizeof(all)));
    }
}

/* A segment whose checksum Linux computed: the RST a kernel at 192.0.2.2
 * sent to a SYN for closed port 7 (captured with tcpdump on a veth pair):
 * 192.0.2.2:7 > 192.0.2.1:45679 R. seq 0 ack 1633506774 win 0, cksum c222. */
static void pseudo_header_real_tcp(void **state)
{
    (void)state;
    uint8_t tcp[20] = {0x00, 0x07, 0xb2, 0x6f, 0x00, 0x00, 0x00, 0x00, 0x61, 0x5d,
                       0x55, 0xd6, 0x50, 0x14, 0x00, 0x00, 0xc2, 0x22, 0x00, 0x00};
    uint32_t ps = csum_pseudo4(0xc0000202u, 0xc0000201u, 6, 20);
    assert_int_equal(csum_fold(csum_add(ps, tcp, sizeof(tcp))), 0);
    tcp[16] = tcp[17] = 0;
    assert_int_equal(csum_fold(csum_add(ps, tcp, sizeof(tcp))), 0xc222);
    /* Another destination, protocol or length changes the sum. */
    assert_int_not_equal(
        csum_fold(csum_add(csum_pseudo4(0xc0000202u, 0xc0000203u, 6, 20), tcp, 20)), 0xc222);
    assert_int_not_equal(
        csum_fold(csum_add(csum_pseudo4(0xc0000202u, 0xc0000201u, 17, 20), tcp, 20)), 0xc222);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc1071_example),
        cmocka_unit_test(empty_and_zero),
        cmocka_unit_test(verify_yields_zero),
        cmocka_unit_test(odd_lengths),
        cmocka_unit_test(carries),
        cmocka_unit_test(incremental_equals_one_shot),
        cmocka_unit_test(pseudo_header),
        cmocka_unit_test(pseudo_header_real_tcp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
