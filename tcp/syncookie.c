/* tcp/syncookie.c: initial sequence numbers (RFC 6528), timestamp offsets,
 * and SYN cookies (RFC 4987 3.6). All are keyed SipHash over the 4-tuple,
 * with keys from getrandom at stack creation. */
#include <string.h>

#include "tcp/tcp.h"

struct tuple_msg {
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    uint32_t extra, count;
};

static uint64_t tuple_hash(const struct sip_key *k, uint32_t laddr, uint16_t lport, uint32_t raddr,
                           uint16_t rport, uint32_t extra, uint32_t count)
{
    struct tuple_msg m;
    memset(&m, 0, sizeof(m));
    m.laddr = laddr;
    m.raddr = raddr;
    m.lport = lport;
    m.rport = rport;
    m.extra = extra;
    m.count = count;
    return siphash24(k, &m, sizeof(m));
}

/* RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), M a 4-microsecond timer. */
uint32_t tcp_isn(struct tcp *t, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
                 sn_time now)
{
    return (uint32_t)(now / 4) + (uint32_t)tuple_hash(&t->isn_key, laddr, lport, raddr, rport, 0, 0);
}

/* RFC 7323 5.4: a per-connection random offset keeps TSval from leaking
 * the host clock and from repeating across connections. */
uint32_t tcp_ts_offset(struct tcp *t, uint32_t laddr, uint16_t lport, uint32_t raddr,
                       uint16_t rport)
{
    return (uint32_t)(tuple_hash(&t->isn_key, laddr, lport, raddr, rport, 1, 0) >> 32);
}

/* The cookie: 5 bits of a 64-second counter, 3 bits of MSS index, 24 bits
 * of keyed hash over the 4-tuple, the peer's ISN and the counter. */
static const uint16_t mss_table[8] = {536, 1200, 1300, 1400, 1440, 1460, 4312, 8960};
#define COOKIE_PERIOD_S 64
#define COOKIE_MAX_AGE 2 /* periods: a cookie lives 64 to 128 s */

static uint32_t cookie_count(sn_time now) { return (uint32_t)(now / SN_SEC(COOKIE_PERIOD_S)); }

uint32_t syncookie_make(struct tcp *t, uint32_t laddr, uint16_t lport, uint32_t raddr,
                        uint16_t rport, uint32_t peer_isn, uint16_t mss, sn_time now)
{
    uint32_t idx = 0;
    for (uint32_t i = 0; i < 8; i++)
        if (mss_table[i] <= mss)
            idx = i;
    uint32_t count = cookie_count(now);
    uint32_t h = (uint32_t)tuple_hash(&t->cookie_key, laddr, lport, raddr, rport, peer_isn, count);
    return (count & 31) << 27 | idx << 24 | (h & 0xffffff);
}

uint16_t syncookie_check(struct tcp *t, uint32_t laddr, uint16_t lport, uint32_t raddr,
                         uint16_t rport, uint32_t peer_isn, uint32_t cookie, sn_time now)
{
    uint32_t cur = cookie_count(now);
    uint32_t age = (cur - (cookie >> 27)) & 31;
    if (age >= COOKIE_MAX_AGE)
        return 0;
    uint32_t count = cur - age;
    uint32_t h = (uint32_t)tuple_hash(&t->cookie_key, laddr, lport, raddr, rport, peer_isn, count);
    if ((h & 0xffffff) != (cookie & 0xffffff))
        return 0;
    return mss_table[cookie >> 24 & 7];
}
