/* tests/unit/wire/test_arp.c: the ARP packet format (wire/arp.c, RFC 826),
 * checked against packets the Linux kernel sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "helpers/frames.h"
#include "wire/arp.h"
#include "wire/wire.h"

static void golden_request(void **state)
{
    (void)state;
    struct arp_msg m;
    assert_int_equal(arp_parse(&m, fr_golden_arp_request + 14, ARP_LEN), WIRE_OK);
    assert_int_equal(m.op, ARP_OP_REQUEST);
    assert_memory_equal(m.sha, fr_peer_mac, 6);
    assert_int_equal(m.spa, FR_PEER_IP);
    static const uint8_t zero[6];
    assert_memory_equal(m.tha, zero, 6);
    assert_int_equal(m.tpa, FR_OUR_IP);
}

static void golden_reply(void **state)
{
    (void)state;
    struct arp_msg m;
    assert_int_equal(arp_parse(&m, fr_golden_arp_reply + 14, ARP_LEN), WIRE_OK);
    assert_int_equal(m.op, ARP_OP_REPLY);
    assert_memory_equal(m.sha, fr_our_mac, 6);
    assert_int_equal(m.spa, FR_OUR_IP);
    assert_memory_equal(m.tha, fr_peer_mac, 6);
    assert_int_equal(m.tpa, FR_PEER_IP);
}

/* Building what we parsed gives back the kernel's bytes exactly. */
static void round_trip(void **state)
{
    (void)state;
    const uint8_t *golden[] = {fr_golden_arp_request + 14, fr_golden_arp_reply + 14};
    for (int i = 0; i < 2; i++) {
        struct arp_msg m;
        uint8_t b[ARP_LEN];
        assert_int_equal(arp_parse(&m, golden[i], ARP_LEN), WIRE_OK);
        memset(b, 0xee, sizeof(b));
        arp_build(b, &m);
        assert_memory_equal(b, golden[i], ARP_LEN);
    }
    struct arp_msg m = {.op = 0xbeef, .spa = 0x01020304, .tpa = 0xfffefdfc};
    memcpy(m.sha, fr_other_mac, 6);
    memcpy(m.tha, fr_peer_mac, 6);
    uint8_t b[ARP_LEN];
    arp_build(b, &m);
    struct arp_msg back;
    assert_int_equal(arp_parse(&back, b, sizeof(b)), WIRE_OK);
    assert_int_equal(back.op, m.op);
    assert_int_equal(back.spa, m.spa);
    assert_int_equal(back.tpa, m.tpa);
    assert_memory_equal(back.sha, m.sha, 6);
    assert_memory_equal(back.tha, m.tha, 6);
}

static void every_truncation(void **state)
{
    (void)state;
    for (size_t len = 0; len < ARP_LEN; len++) {
        struct arp_msg m;
        memset(&m, 0x5a, sizeof(m));
        struct arp_msg before = m;
        assert_int_equal(arp_parse(&m, fr_golden_arp_request + 14, len), WIRE_ETRUNC);
        assert_memory_equal(&m, &before, sizeof(m));
    }
    /* Longer (Ethernet padding) is fine. */
    uint8_t padded[46] = {0};
    memcpy(padded, fr_golden_arp_request + 14, ARP_LEN);
    struct arp_msg m;
    assert_int_equal(arp_parse(&m, padded, sizeof(padded)), WIRE_OK);
}

/* Only Ethernet (1) / IPv4 (0x0800) with 6- and 4-byte addresses. */
static void unsupported(void **state)
{
    (void)state;
    struct {
        size_t at;
        uint8_t v;
    } muts[] = {{1, 6}, {0, 1}, {2, 0x86}, {3, 0x01}, {4, 8}, {5, 16}, {4, 0}, {5, 0}};
    for (size_t i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
        uint8_t b[ARP_LEN];
        memcpy(b, fr_golden_arp_request + 14, ARP_LEN);
        b[muts[i].at] = muts[i].v;
        struct arp_msg m;
        assert_int_equal(arp_parse(&m, b, sizeof(b)), WIRE_EUNSUPP);
    }
    /* An unknown operation is the caller's business, not the parser's. */
    uint8_t b[ARP_LEN];
    memcpy(b, fr_golden_arp_request + 14, ARP_LEN);
    b[7] = 3;
    struct arp_msg m;
    assert_int_equal(arp_parse(&m, b, sizeof(b)), WIRE_OK);
    assert_int_equal(m.op, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_request),   cmocka_unit_test(golden_reply),
        cmocka_unit_test(round_trip),       cmocka_unit_test(every_truncation),
        cmocka_unit_test(unsupported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
