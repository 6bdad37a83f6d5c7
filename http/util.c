/* http/util.c: small helpers the server and client share: HTTP-dates,
 * percent-decoding, base64url, HTML escaping (pure: no I/O, no locale),
 * and sending a connection's output buffer into its socket. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "http/util.h"

static const char *const wdays[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void http_date_format(int64_t t, char buf[HTTP_DATE_LEN])
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t secs = t - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int wd = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999;
    /* RFC 9110 5.6.7: IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT". */
    memcpy(buf, wdays[wd], 3);
    buf[3] = ',';
    buf[4] = ' ';
    buf[5] = (char)('0' + d / 10);
    buf[6] = (char)('0' + d % 10);
    buf[7] = ' ';
    memcpy(buf + 8, months[m - 1], 3);
    buf[11] = ' ';
    buf[12] = (char)('0' + y / 1000);
    buf[13] = (char)('0' + y / 100 % 10);
    buf[14] = (char)('0' + y / 10 % 10);
    buf[15] = (char)('0' + y % 10);
    buf[16] = ' ';
    int h = (int)(secs / 3600), mi = (int)(secs / 60 % 60), s = (int)(secs % 60);
    buf[17] = (char)('0' + h / 10);
    buf[18] = (char)('0' + h % 10);
    buf[19] = ':';
    buf[20] = (char)('0' + mi / 10);
    buf[21] = (char)('0' + mi % 10);
    buf[22] = ':';
    buf[23] = (char)('0' + s / 10);
    buf[24] = (char)('0' + s % 10);
    memcpy(buf + 25, " GMT", 5);
}

/* Reads exactly @n digits at *p. Returns the value or -1. */
static int digits(const char **p, const char *end, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || **p < '0' || **p > '9')
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    return v;
}

static int lit(const char **p, const char *end, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(end - *p) < n || memcmp(*p, s, n) != 0)
        return -1;
    *p += n;
    return 0;
}

static int month_of(const char **p, const char *end)
{
    for (int i = 0; i < 12; i++)
        if (lit(p, end, months[i]) == 0)
            return i + 1;
    return -1;
}

/* "HH:MM:SS" */
static int hms(const char **p, const char *end, int *secs)
{
    int h = digits(p, end, 2);
    if (h < 0 || lit(p, end, ":") < 0)
        return -1;
    int m = digits(p, end, 2);
    if (m < 0 || lit(p, end, ":") < 0)
        return -1;
    int s = digits(p, end, 2);
    if (s < 0 || h > 23 || m > 59 || s > 60)
        return -1;
    *secs = h * 3600 + m * 60 + s;
    return 0;
}

int http_date_parse(const char *s, size_t n, int64_t *t)
{
    /* RFC 9110 5.6.7: recipients MUST accept all three forms. */
    const char *p = s, *end = s + n;
    const char *comma = memchr(s, ',', n);
    int y, mon, d, secs;
    if (comma && comma - s == 3) { /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
        p = comma + 1;
        if (lit(&p, end, " ") < 0 || (d = digits(&p, end, 2)) < 0 || lit(&p, end, " ") < 0 ||
            (mon = month_of(&p, end)) < 0 || lit(&p, end, " ") < 0 ||
            (y = digits(&p, end, 4)) < 0 || lit(&p, end, " ") < 0 || hms(&p, end, &secs) < 0 ||
            lit(&p, end, " GMT") < 0)
            return -1;
    } else if (comma) { /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
        p = comma + 1;
        if (lit(&p, end, " ") < 0 || (d = digits(&p, end, 2)) < 0 || lit(&p, end, "-") < 0 ||
            (mon = month_of(&p, end)) < 0 || lit(&p, end, "-") < 0 ||
            (y = digits(&p, end, 2)) < 0 || lit(&p, end, " ") < 0 || hms(&p, end, &secs) < 0 ||
            lit(&p, end, " GMT") < 0)
            return -1;
        /* Two-digit years: the RFC's 50-years-in-the-future rule, taken
         * from a 2000s point of view. */
        y += y < 70 ? 2000 : 1900;
    } else { /* asctime: Sun Nov  6 08:49:37 1994 */
        if (n < 4)
            return -1;
        p = s + 3;
        if (lit(&p, end, " ") < 0 || (mon = month_of(&p, end)) < 0 || lit(&p, end, " ") < 0)
            return -1;
        if (p < end && *p == ' ')
            p++, d = digits(&p, end, 1);
        else
            d = digits(&p, end, 2);
        if (d < 0 || lit(&p, end, " ") < 0 || hms(&p, end, &secs) < 0 || lit(&p, end, " ") < 0 ||
            (y = digits(&p, end, 4)) < 0)
            return -1;
    }
    if (p != end || d < 1 || d > 31)
        return -1;
    *t = days_from_civil(y, (unsigned)mon, (unsigned)d) * 86400 + secs;
    return 0;
}


long http_pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi << 4 | lo);
            if (c == 0)
                return -1; /* %00 would cut the path short */
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    if (o >= cap)
        return -1;
    out[o] = 0;
    return (long)o;
}

static int b64url_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

long http_b64url_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
    while (n > 0 && s[n - 1] == '=')
        n--; /* tolerate padding */
    if (n % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_val(s[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap)
                return -1;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return (long)o;
}

size_t http_html_escape(char *buf, size_t len, size_t cap, const char *s)
{
    for (; *s; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        }
        size_t k = rep ? strlen(rep) : 1;
        if (len + k >= cap)
            break;
        if (rep)
            memcpy(buf + len, rep, k);
        else
            buf[len] = *s;
        len += k;
    }
    if (len < cap)
        buf[len] = 0;
    return len;
}

/* ---- connection buffers ------------------------------------------------------ */

int http_out_flush(struct sn_sock *so, struct http_out *o)
{
    while (o->off < o->len) {
        ssize_t n = sn_send(so, o->buf + o->off, o->len - o->off);
        if (n == -EAGAIN)
            return 1;
        if (n < 0)
            return (int)n;
        o->off += (size_t)n;
    }
    o->off = o->len = 0;
    return 0;
}

/* Grows *buf to at least @need bytes, doubling from *cap or @initial. */
static int buf_grow(char **buf, size_t *cap, size_t need, size_t initial)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : initial;
    while (c < need)
        c *= 2;
    char *b = realloc(*buf, c);
    if (!b)
        return -1;
    *buf = b;
    *cap = c;
    return 0;
}

int http_buf_append(char **buf, size_t *len, size_t *cap, const void *p, size_t n,
                    size_t initial)
{
    if (buf_grow(buf, cap, *len + n, initial) < 0)
        return -1;
    memcpy(*buf + *len, p, n);
    *len += n;
    return 0;
}

char *http_out_reserve(struct http_out *o, size_t n)
{
    if (o->off > 0 && o->len + n > o->cap) {
        memmove(o->buf, o->buf + o->off, o->len - o->off);
        o->len -= o->off;
        o->off = 0;
    }
    if (buf_grow(&o->buf, &o->cap, o->len + n, 1024) < 0)
        return NULL;
    return o->buf + o->len;
}

int http_out_append(struct http_out *o, const void *p, size_t n)
{
    char *dst = http_out_reserve(o, n);
    if (!dst)
        return -ENOMEM;
    memcpy(dst, p, n);
    o->len += n;
    return 0;
}

long http_in_recv(struct sn_sock *so, char *buf, size_t *len, size_t cap)
{
    if (*len == cap)
        return -ENOBUFS;
    ssize_t n = sn_recv(so, buf + *len, cap - *len);
    if (n > 0)
        *len += (size_t)n;
    return (long)n;
}
