/* tests/unit/core/test_stats.c: counter and drop-reason tables, pkt_drop,
 * and the netstat -s / Prometheus printers (core/stats.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/stats.h"

/* Names are C identifiers (they become Prometheus metric names). */
static int is_ident(const char *s)
{
    if (!s || !*s)
        return 0;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || *c == '_'))
            return 0;
    return 1;
}

static void counter_names(void **state)
{
    (void)state;
    assert_string_equal(sn_counter_layer(SN_C_link_rx_frames), "link");
    assert_string_equal(sn_counter_name(SN_C_link_rx_frames), "rx_frames");
    assert_string_equal(sn_counter_desc(SN_C_link_rx_frames), "frames received from the device");
    assert_string_equal(sn_counter_layer(SN_C_icmp_rx_echo_requests), "icmp");
    assert_string_equal(sn_counter_desc(SN_C_icmp_rx_echo_requests),
                        "ICMP echo requests received");
    assert_string_equal(sn_counter_name(SN_C_tcp_challenge_acks), "challenge_acks");

    for (int i = 0; i < SN_C_COUNT; i++) {
        assert_true(is_ident(sn_counter_layer(i)));
        assert_true(is_ident(sn_counter_name(i)));
        assert_non_null(sn_counter_desc(i));
        assert_true(strlen(sn_counter_desc(i)) > 0);
        /* layer/name pairs are unique */
        for (int j = 0; j < i; j++)
            assert_false(strcmp(sn_counter_layer(i), sn_counter_layer(j)) == 0 &&
                         strcmp(sn_counter_name(i), sn_counter_name(j)) == 0);
    }
}

/* sn_stats_print groups counters by layer: all counters of a layer must be
 * adjacent in the list, or a layer heading would be printed twice. */
static void counter_layers_contiguous(void **state)
{
    (void)state;
    for (int i = 1; i < SN_C_COUNT; i++) {
        if (strcmp(sn_counter_layer(i), sn_counter_layer(i - 1)) == 0)
            continue;
        for (int j = 0; j < i; j++)
            assert_string_not_equal(sn_counter_layer(i), sn_counter_layer(j));
    }
}

static void drop_names(void **state)
{
    (void)state;
    assert_string_equal(sn_drop_name(SN_DROP_NOMEM), "NOMEM");
    assert_string_equal(sn_drop_desc(SN_DROP_NOMEM), "no packet buffer available");
    assert_string_equal(sn_drop_name(SN_DROP_TCP_NO_SOCKET), "TCP_NO_SOCKET");
    for (int i = 0; i < SN_DROP_COUNT; i++) {
        assert_true(is_ident(sn_drop_name(i)));
        assert_true(strlen(sn_drop_desc(i)) > 0);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(sn_drop_name(i), sn_drop_name(j));
    }
}

static void stat_macros(void **state)
{
    (void)state;
    struct sn_stats st;
    memset(&st, 0, sizeof(st));
    STAT_INC(&st, tcp, in_segs);
    STAT_INC(&st, tcp, in_segs);
    STAT_ADD(&st, link, rx_bytes, 1500);
    STAT_INC(&st, tcp, curr_estab);
    STAT_DEC(&st, tcp, curr_estab);
    assert_int_equal(STAT_GET(&st, tcp, in_segs), 2);
    assert_int_equal(st.c[SN_C_tcp_in_segs], 2);
    assert_int_equal(STAT_GET(&st, link, rx_bytes), 1500);
    assert_int_equal(STAT_GET(&st, tcp, curr_estab), 0);
    assert_int_equal(STAT_GET(&st, tcp, out_segs), 0);
}

static void drop_counts_and_frees(void **state)
{
    (void)state;
    struct pkt_pool *pool = pkt_pool_new("stats", 4, 256);
    assert_non_null(pool);
    struct sn_stats st;
    memset(&st, 0, sizeof(st));

    for (int i = 0; i < 3; i++) {
        struct pkt *p = pkt_alloc(pool, 0);
        assert_non_null(p);
        pkt_drop(&st, p, SN_DROP_IP4_BAD_CSUM);
    }
    assert_int_equal(pkt_pool_stats(pool)->in_use, 0);
    pkt_drop(&st, pkt_alloc(pool, 0), SN_DROP_TCP_OUT_OF_WINDOW);
    pkt_drop(&st, NULL, SN_DROP_NOMEM); /* a drop before a buffer existed */

    assert_int_equal(st.drop[SN_DROP_IP4_BAD_CSUM], 3);
    assert_int_equal(st.drop[SN_DROP_TCP_OUT_OF_WINDOW], 1);
    assert_int_equal(st.drop[SN_DROP_NOMEM], 1);
    uint64_t total = 0;
    for (int i = 0; i < SN_DROP_COUNT; i++)
        total += st.drop[i];
    assert_int_equal(total, 5);
    for (int i = 0; i < SN_C_COUNT; i++)
        assert_int_equal(st.c[i], 0);
    assert_int_equal(pkt_pool_stats(pool)->in_use, 0);
    assert_int_equal(pkt_pool_destroy(pool), 0);
}

/* Runs @print into a memory buffer and returns the text (caller frees). */
static char *capture(const struct sn_stats *st, int mode)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    assert_non_null(f);
    if (mode == 2)
        sn_stats_print_prometheus(st, f);
    else
        sn_stats_print(st, f, mode);
    assert_int_equal(fclose(f), 0);
    return text;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void print_netstat_style(void **state)
{
    (void)state;
    struct sn_stats st;
    memset(&st, 0, sizeof(st));

    char *text = capture(&st, 0);
    assert_string_equal(text, ""); /* all zero: nothing printed */
    free(text);

    STAT_ADD(&st, icmp, rx_echo_requests, 12);
    STAT_ADD(&st, icmp, tx_echo_replies, 12);
    STAT_INC(&st, tcp, passive_opens);
    st.drop[SN_DROP_TCP_NO_SOCKET] = 2;
    text = capture(&st, 0);
    assert_string_equal(text, "icmp:\n"
                              "    12 ICMP echo requests received\n"
                              "    12 ICMP echo replies sent\n"
                              "tcp:\n"
                              "    1 passive connection openings\n"
                              "drops:\n"
                              "    2 no connection or listener (answered with RST) "
                              "(TCP_NO_SOCKET)\n");
    free(text);

    /* all: every counter and every drop reason, one heading per layer */
    text = capture(&st, 1);
    int layers = 1;
    for (int i = 1; i < SN_C_COUNT; i++)
        layers += strcmp(sn_counter_layer(i), sn_counter_layer(i - 1)) != 0;
    assert_int_equal(count_lines(text), SN_C_COUNT + layers + 1 + SN_DROP_COUNT);
    assert_non_null(strstr(text, "    0 UDP datagrams sent\n"));
    assert_non_null(strstr(text, "    12 ICMP echo requests received\n"));
    free(text);
}

static void print_prometheus(void **state)
{
    (void)state;
    struct sn_stats st;
    memset(&st, 0, sizeof(st));
    STAT_ADD(&st, tcp, out_segs, 99);
    st.drop[SN_DROP_IP4_BAD_CSUM] = 7;

    char *text = capture(&st, 2);
    assert_non_null(strstr(text, "# TYPE synack_tcp_out_segs counter\nsynack_tcp_out_segs 99\n"));
    assert_non_null(strstr(text, "synack_link_rx_frames 0\n"));
    assert_non_null(strstr(text, "synack_drops_total{reason=\"IP4_BAD_CSUM\"} 7\n"));
    assert_non_null(strstr(text, "synack_drops_total{reason=\"NOMEM\"} 0\n"));
    assert_int_equal(count_lines(text), 3 * SN_C_COUNT + 2 + SN_DROP_COUNT);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counter_names),
        cmocka_unit_test(counter_layers_contiguous),
        cmocka_unit_test(drop_names),
        cmocka_unit_test(stat_macros),
        cmocka_unit_test(drop_counts_and_frees),
        cmocka_unit_test(print_netstat_style),
        cmocka_unit_test(print_prometheus),
    };
    return cmocka_run_group_tests_name("core/stats", tests, NULL, NULL);
}
