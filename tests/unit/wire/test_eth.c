/* tests/unit/wire/test_eth.c: Ethernet II views and builders, MAC address
 * text (wire/eth.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "helpers/frames.h"
#include "wire/eth.h"
#include "wire/wire.h"

static void golden_parse(void **state)
{
    (void)state;
    struct eth_view v;
    assert_int_equal(eth_view_parse(&v, fr_golden_arp_request, 42), WIRE_OK);
    assert_true(eth_is_broadcast(eth_v_dst(v)));
    assert_memory_equal(eth_v_src(v), fr_peer_mac, 6);
    assert_int_equal(eth_v_type(v), ETHERTYPE_ARP);

    assert_int_equal(eth_view_parse(&v, fr_golden_echo_request, 74), WIRE_OK);
    assert_memory_equal(eth_v_dst(v), fr_our_mac, 6);
    assert_memory_equal(eth_v_src(v), fr_peer_mac, 6);
    assert_false(eth_is_broadcast(eth_v_dst(v)));
    assert_int_equal(eth_v_type(v), ETHERTYPE_IPV4);
}

/* Every length below the header is rejected, and the view is untouched. */
static void every_truncation(void **state)
{
    (void)state;
    for (size_t len = 0; len < ETH_HDR_LEN; len++) {
        struct eth_view v = {.h = (const uint8_t *)&v};
        assert_int_equal(eth_view_parse(&v, fr_golden_echo_request, len), WIRE_ETRUNC);
        assert_ptr_equal(v.h, (const uint8_t *)&v);
    }
    struct eth_view v;
    assert_int_equal(eth_view_parse(&v, fr_golden_echo_request, ETH_HDR_LEN), WIRE_OK);
}

static void build_round_trip(void **state)
{
    (void)state;
    uint8_t h[ETH_HDR_LEN];
    eth_build(h, fr_peer_mac, fr_our_mac, ETHERTYPE_IPV4);
    /* Byte for byte the header of the kernel's echo reply. */
    assert_memory_equal(h, fr_golden_echo_reply, ETH_HDR_LEN);
    struct eth_view v;
    assert_int_equal(eth_view_parse(&v, h, sizeof(h)), WIRE_OK);
    assert_memory_equal(eth_v_dst(v), fr_peer_mac, 6);
    assert_memory_equal(eth_v_src(v), fr_our_mac, 6);
    assert_int_equal(eth_v_type(v), ETHERTYPE_IPV4);

    eth_build(h, eth_broadcast, fr_peer_mac, ETHERTYPE_ARP);
    assert_memory_equal(h, fr_golden_arp_request, ETH_HDR_LEN);
    eth_build(h, fr_our_mac, fr_our_mac, 0x86dd);
    assert_int_equal(h[12], 0x86);
    assert_int_equal(h[13], 0xdd);
}

static void broadcast(void **state)
{
    (void)state;
    static const uint8_t almost[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
    static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
    assert_true(eth_is_broadcast(eth_broadcast));
    assert_false(eth_is_broadcast(almost));
    assert_false(eth_is_broadcast(mcast));
    assert_false(eth_is_broadcast(fr_our_mac));
}

static void mac_text_good(void **state)
{
    (void)state;
    uint8_t mac[6];
    static const uint8_t want[6] = {0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc};
    assert_int_equal(eth_parse_mac("02:00:00:aa:bb:cc", mac), 0);
    assert_memory_equal(mac, want, 6);
    memset(mac, 0, 6);
    assert_int_equal(eth_parse_mac("02:00:00:AA:BB:CC", mac), 0);
    assert_memory_equal(mac, want, 6);
    assert_int_equal(eth_parse_mac("ff:ff:ff:ff:ff:ff", mac), 0);
    assert_memory_equal(mac, eth_broadcast, 6);
    /* One digit per octet is how `ip link` may be typed by hand. */
    assert_int_equal(eth_parse_mac("2:0:0:aa:bb:cc", mac), 0);
    assert_memory_equal(mac, want, 6);
}

static void mac_text_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        ":",
        "02:00:00:aa:bb",          /* five octets */
        "02:00:00:aa:bb:",         /* empty last octet */
        "02:00:00:aa:bb:cc:",      /* trailing colon */
        "02:00:00:aa:bb:cc:dd",    /* seven */
        "02:00:00:aa:bb:ccc",      /* three digits */
        "02:00:00:aa:bb:c g",
        "02:00:00:aa:bb:cg",       /* not hex */
        "02-00-00-aa-bb-cc",       /* other separators */
        "0200.00aa.bbcc",
        "02:00:00:aa:bb:cc ",      /* trailing space */
        " 02:00:00:aa:bb:cc",      /* leading space */
        "02: 0:00:aa:bb:cc",       /* space inside */
        "-1:00:00:aa:bb:cc",       /* a sign is not a digit */
        "+2:00:00:aa:bb:cc",
        "0x2:00:00:aa:bb:cc",
        "02::00:aa:bb:cc",
        "002:00:00:aa:bb:cc",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t mac[6] = {1, 2, 3, 4, 5, 6};
        static const uint8_t orig[6] = {1, 2, 3, 4, 5, 6};
        if (eth_parse_mac(bad[i], mac) != -1)
            fail_msg("eth_parse_mac accepted \"%s\"", bad[i]);
        assert_memory_equal(mac, orig, 6); /* untouched on error */
    }
}

static void strerror_names(void **state)
{
    (void)state;
    assert_string_equal(wire_strerror(WIRE_OK), "ok");
    assert_string_equal(wire_strerror(WIRE_ETRUNC), "truncated");
    assert_string_equal(wire_strerror(WIRE_EBADCSUM), "bad checksum");
    assert_string_equal(wire_strerror(12345), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_parse),   cmocka_unit_test(every_truncation),
        cmocka_unit_test(build_round_trip), cmocka_unit_test(broadcast),
        cmocka_unit_test(mac_text_good),  cmocka_unit_test(mac_text_bad),
        cmocka_unit_test(strerror_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
