/* http/util.h: small helpers the server and the client share (util.c):
 * HTTP-dates, percent-decoding, base64url, HTML escaping, and sending a
 * connection's output buffer. Private to http/. */
#ifndef SYNACK_HTTP_UTIL_H
#define SYNACK_HTTP_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "synack/synack.h"

/* IMF-fixdate (RFC 9110 5.6.7) of @t into @buf (30 bytes with the NUL). */
#define HTTP_DATE_LEN 30
void http_date_format(int64_t t, char buf[HTTP_DATE_LEN]);
/* Parses any of the three HTTP-date forms; returns 0 and *t or -1. */
int http_date_parse(const char *s, size_t n, int64_t *t);
/* Percent-decodes [s, s+n) into @out (cap bytes, NUL-terminated).
 * Returns the length, or -1 (bad escape, %00, no room). */
long http_pct_decode(const char *s, size_t n, char *out, size_t cap);
/* base64url (RFC 4648 5) without padding, as HTTP2-Settings uses. Returns
 * the decoded length or -1. */
long http_b64url_decode(const char *s, size_t n, uint8_t *out, size_t cap);
/* Appends @s HTML-escaped to @buf; returns the new length (stops at cap). */
size_t http_html_escape(char *buf, size_t len, size_t cap, const char *s);

/* ---- connection buffers (the server's and the client's) ---------------- */

/* Output waiting for the socket: buf[off .. len) of cap bytes. */
struct http_out {
    char *buf;
    size_t off, len, cap;
};

/* Sends what @o holds on @so, as much as the socket takes; once all of it
 * is gone, off = len = 0. Returns 0 (all gone), 1 (the socket is full) or
 * sn_send's negative errno. */
int http_out_flush(struct sn_sock *so, struct http_out *o);
/* Appends @n bytes at *buf + *len, growing *buf (of *cap bytes) by
 * doubling from @initial as needed. Returns 0 or -1 (no memory). */
int http_buf_append(char **buf, size_t *len, size_t *cap, const void *p, size_t n,
                    size_t initial);
/* Makes room for @n more bytes at buf + len: moves the unsent bytes to the
 * front, else doubles cap until they fit. Returns where to write (the
 * caller then adds what it wrote to len), or NULL (no memory). */
char *http_out_reserve(struct http_out *o, size_t n);
/* Appends @n bytes. Returns 0 or -ENOMEM. */
int http_out_append(struct http_out *o, const void *p, size_t n);
/* Receives from @so into buf[*len .. cap). Returns the bytes added to *len
 * (> 0), 0 at EOF, -ENOBUFS when buf is full, or sn_recv's negative errno
 * (-EAGAIN: nothing now). */
long http_in_recv(struct sn_sock *so, char *buf, size_t *len, size_t cap);

#endif
