/* http/http1_parse.h: an incremental HTTP/1.x message parser in the shape
 * of picohttpparser: no allocation, no state kept between calls except what
 * the caller passes in, and nothing read outside [buf, buf + len).
 *
 * A head parser returns the head's length (> 0, the bytes up to and
 * including the empty line), HTTP1_PARTIAL (feed more bytes and call again
 * with the whole buffer), or an HTTP1_E_* code, each of which maps to one
 * status (http1_err_status). Parsed strings point into the caller's buffer.
 *
 * Read first: RFC 9112 2 (message format), 3 (request line), 5 (field
 * syntax), 6 (message body length), 7.1 (chunked); RFC 9110 5.5-5.6 (field
 * values, tokens). */
#ifndef SYNACK_HTTP_HTTP1_PARSE_H
#define SYNACK_HTTP_HTTP1_PARSE_H

#include <stddef.h>
#include <stdint.h>

enum {
    HTTP1_PARTIAL = -1,            /* need more bytes */
    HTTP1_E_BAD = -2,              /* malformed: 400 */
    HTTP1_E_URI_TOO_LONG = -3,     /* request-target over the limit: 414 */
    HTTP1_E_FIELDS_TOO_LARGE = -4, /* too many or too large fields: 431 */
    HTTP1_E_VERSION = -5,          /* well-formed but not HTTP/1.x: 505 */
    HTTP1_E_METHOD = -6,           /* method longer than any we know: 501 */
    HTTP1_E_BODY_TOO_LARGE = -7,   /* body over the limit: 413 */
    HTTP1_E_CODING = -8,           /* transfer coding we do not implement: 501 */
};

/* The status code a server answers an HTTP1_E_* code with. */
int http1_err_status(int err);

/* Limits, in bytes unless named otherwise. Zero fields mean the defaults. */
struct http1_limits {
    uint32_t max_line;   /* request line or status line (default 8192) */
    uint32_t max_target; /* request-target (default 8000, RFC 9112 3: at least 8000) */
    uint32_t max_head;   /* start line + all field lines (default 65536) */
    uint32_t max_fields; /* field lines (default 100; also the caller's array) */
};

#define HTTP1_DEFAULT_MAX_LINE 8192
#define HTTP1_DEFAULT_MAX_TARGET 8000
#define HTTP1_DEFAULT_MAX_HEAD 65536
#define HTTP1_DEFAULT_MAX_FIELDS 100
#define HTTP1_MAX_METHOD 32

struct http1_field {
    const char *name;
    size_t name_len;
    const char *value; /* without leading and trailing whitespace */
    size_t value_len;
};

struct http1_request {
    const char *method;
    size_t method_len;
    const char *target;
    size_t target_len;
    int minor_version;          /* 0 or 1 (HTTP/1.0, HTTP/1.1) */
    struct http1_field *fields; /* caller's array */
    size_t n_fields;            /* in: the array's size; out: fields parsed */
};

struct http1_response {
    int minor_version;
    int status;                 /* 100..999 */
    const char *reason;
    size_t reason_len;
    struct http1_field *fields;
    size_t n_fields;            /* in: the array's size; out: fields parsed */
};

/* Parses a request head from buf[0..len). @prev_len is the length of the
 * buffer the previous call saw and answered HTTP1_PARTIAL for (0 on the
 * first call): the search for the end of the head resumes there, so bytes
 * arriving one at a time cost O(n) in all. @lim may be NULL (defaults).
 * Empty lines before the request line are skipped (RFC 9112 2.2). */
int http1_parse_request(const char *buf, size_t len, size_t prev_len,
                        const struct http1_limits *lim, struct http1_request *req);

/* Parses a response head; as http1_parse_request. */
int http1_parse_response(const char *buf, size_t len, size_t prev_len,
                         const struct http1_limits *lim, struct http1_response *resp);

/* ---- fields -------------------------------------------------------------- */

/* Case-insensitive comparison of a token with a NUL-terminated string. */
int http1_token_eq(const char *s, size_t len, const char *lit);

/* The first field named @name (case-insensitive), or NULL. */
const struct http1_field *http1_field_find(const struct http1_field *f, size_t n,
                                           const char *name);

/* How many fields are named @name. */
size_t http1_field_count(const struct http1_field *f, size_t n, const char *name);

/* Whether any field named @name holds, in its comma-separated list,
 * the element @token (case-insensitive; e.g. Connection: close). */
int http1_field_has_token(const struct http1_field *f, size_t n, const char *name,
                          const char *token);

/* ---- message body length (RFC 9112 6) ----------------------------------- */

enum http1_framing {
    HTTP1_BODY_NONE,    /* no body */
    HTTP1_BODY_LENGTH,  /* Content-Length bytes */
    HTTP1_BODY_CHUNKED, /* chunked transfer coding */
    HTTP1_BODY_CLOSE,   /* until the connection closes (responses only) */
};

struct http1_body {
    enum http1_framing framing;
    uint64_t length; /* HTTP1_BODY_LENGTH: the length (UINT64_MAX: too big to hold) */
};

/* How a request's body is delimited. Returns 0, or HTTP1_E_BAD (both
 * Transfer-Encoding and Content-Length, conflicting or invalid
 * Content-Length, chunked not last, Transfer-Encoding in HTTP/1.0) or
 * HTTP1_E_CODING (a transfer coding other than chunked). */
int http1_request_body(const struct http1_request *req, struct http1_body *out);

/* How a response's body is delimited, given the request method was HEAD
 * (@head) or not. Returns 0 or HTTP1_E_BAD. */
int http1_response_body(const struct http1_response *resp, int head, struct http1_body *out);

/* ---- chunked transfer coding (RFC 9112 7.1) ------------------------------ */

/* Decoder position. Zero it (or http1_chunked_init) before the body. */
struct http1_chunked {
    int state;
    uint64_t remaining;  /* bytes left in the current chunk's data */
    uint64_t total;      /* data bytes so far */
    uint64_t max_body;   /* 0: no limit */
    uint32_t trailer_bytes;
};

#define HTTP1_CHUNK_LINE_MAX 4096      /* a chunk-size line with extensions */
#define HTTP1_CHUNK_TRAILER_MAX 16384  /* the whole trailer section */

void http1_chunked_init(struct http1_chunked *d, uint64_t max_body);

enum {
    HTTP1_CHUNK_DONE = 0, /* last chunk and trailer section read */
    HTTP1_CHUNK_DATA = 1, /* buf[*data_off .. +*data_len) is body data */
};

/* One step of decoding buf[0..len). Sets *consumed to the bytes used
 * (always, also with HTTP1_PARTIAL, which may consume a line ending).
 * Returns HTTP1_CHUNK_DATA with a span of body data inside the consumed
 * bytes, HTTP1_CHUNK_DONE, HTTP1_PARTIAL, HTTP1_E_BAD (bad chunk size,
 * missing CRLF, bad trailer), HTTP1_E_BODY_TOO_LARGE or
 * HTTP1_E_FIELDS_TOO_LARGE (trailer section over its limit). */
int http1_chunked_decode(struct http1_chunked *d, const char *buf, size_t len, size_t *consumed,
                         size_t *data_off, size_t *data_len);

#endif
