/* http/handler.c: what the server answers, the same over HTTP/1.x and
 * HTTP/2: method and request-target checks, the built-in page, the echo
 * endpoint (POST /echo), OPTIONS, and static files (static.c). Also the
 * response builder the protocols serialize. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/server_impl.h"

void http_resp_init(struct http_resp *r)
{
    memset(r, 0, offsetof(struct http_resp, name_off));
    r->fd = -1;
    r->status = 200;
}

void http_resp_clear(struct http_resp *r)
{
    free(r->mem_owned);
    if (r->cached)
        fc_release(r->cached);
    if (r->fd >= 0)
        close(r->fd);
    http_resp_init(r);
}

int http_resp_header(struct http_resp *r, const char *name, const char *fmt, ...)
{
    size_t nl = strlen(name);
    if (r->n_hdrs == HTTP_RESP_MAX_HDRS || r->arena_len + nl + 1 >= HTTP_RESP_ARENA)
        return -1;
    memcpy(r->arena + r->arena_len, name, nl);
    size_t voff = r->arena_len + nl;
    va_list ap;
    va_start(ap, fmt);
    int vl = vsnprintf(r->arena + voff, HTTP_RESP_ARENA - voff, fmt, ap);
    va_end(ap);
    if (vl < 0 || voff + (size_t)vl >= HTTP_RESP_ARENA)
        return -1;
    int i = r->n_hdrs++;
    r->name_off[i] = (uint16_t)r->arena_len;
    r->name_len[i] = (uint16_t)nl;
    r->value_off[i] = (uint16_t)voff;
    r->value_len[i] = (uint16_t)vl;
    r->arena_len = voff + (size_t)vl;
    return 0;
}

int http_resp_header_n(struct http_resp *r, const char *name, const char *value, size_t len)
{
    size_t nl = strlen(name);
    if (r->n_hdrs == HTTP_RESP_MAX_HDRS || r->arena_len + nl + len >= HTTP_RESP_ARENA)
        return -1;
    int i = r->n_hdrs++;
    r->name_off[i] = (uint16_t)r->arena_len;
    r->name_len[i] = (uint16_t)nl;
    memcpy(r->arena + r->arena_len, name, nl);
    r->arena_len += nl;
    r->value_off[i] = (uint16_t)r->arena_len;
    r->value_len[i] = (uint16_t)len;
    memcpy(r->arena + r->arena_len, value, len);
    r->arena_len += len;
    return 0;
}

void http_resp_body_take(struct http_resp *r, char *buf, size_t len)
{
    r->kind = HTTP_BODY_MEM;
    r->mem_owned = buf;
    r->mem = buf;
    r->len = len;
}

void http_resp_body_static(struct http_resp *r, const char *s, size_t len)
{
    r->kind = HTTP_BODY_MEM;
    r->mem = s;
    r->len = len;
}

const char *http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

void http_resp_error(struct http_resp *r, int status)
{
    http_resp_clear(r);
    r->status = status;
    char *body = malloc(256);
    if (!body)
        return;
    int n = snprintf(body, 256, "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
                                "<body><h1>%d %s</h1></body></html>\n",
                     status, http_reason(status), status, http_reason(status));
    http_resp_body_take(r, body, (size_t)n);
    http_resp_header(r, "Content-Type", "text/html; charset=utf-8");
}

/* ---- routing -------------------------------------------------------------- */

static const char builtin_page[] =
    "<!DOCTYPE html>\n"
    "<html><head><meta charset=\"utf-8\"><title>synack</title></head>\n"
    "<body>\n"
    "<h1>Served by synack</h1>\n"
    "<p>This page came over a TCP connection that synack, a TCP/IP stack running\n"
    "in user space, opened with a three-way handshake of its own: SYN, SYN+ACK,\n"
    "ACK. HTTP/1.0 pays that handshake for every request; HTTP/1.1 keeps the\n"
    "connection for the next one; HTTP/2 carries many requests at once on one.</p>\n"
    "<p>Serve a directory with <code>synack serve --http PORT --root DIR</code>.\n"
    "<code>POST /echo</code> sends the request body back.</p>\n"
    "</body></html>\n";

enum method { M_GET, M_HEAD, M_POST, M_OPTIONS, M_OTHER_KNOWN, M_CONNECT, M_UNKNOWN };

static enum method method_of(const char *m, size_t n)
{
    /* RFC 9110 9.1: methods are case-sensitive. */
    static const struct {
        const char *name;
        enum method m;
    } table[] = {{"GET", M_GET},         {"HEAD", M_HEAD},          {"POST", M_POST},
                 {"OPTIONS", M_OPTIONS}, {"PUT", M_OTHER_KNOWN},    {"DELETE", M_OTHER_KNOWN},
                 {"TRACE", M_OTHER_KNOWN}, {"PATCH", M_OTHER_KNOWN}, {"CONNECT", M_CONNECT}};
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strlen(table[i].name) == n && memcmp(table[i].name, m, n) == 0)
            return table[i].m;
    return M_UNKNOWN;
}

#define ALLOW_STATIC "GET, HEAD, OPTIONS"
#define ALLOW_ECHO "POST, OPTIONS"
#define ALLOW_ANY "GET, HEAD, POST, OPTIONS"

static void not_allowed(struct http_resp *r, const char *allow)
{
    http_resp_error(r, 405);
    http_resp_header(r, "Allow", "%s", allow); /* RFC 9110 15.5.6: MUST */
}

static void options(struct http_resp *r, const char *allow)
{
    r->status = 200;
    http_resp_header(r, "Allow", "%s", allow);
    r->kind = HTTP_BODY_NONE;
    r->len = 0;
}

static void echo(struct http_req *req, struct http_resp *r)
{
    const struct http1_field *ct = http1_field_find(req->fields, req->n_fields, "content-type");
    r->status = 200;
    if (ct)
        http_resp_header(r, "Content-Type", "%.*s", (int)ct->value_len, ct->value);
    else
        http_resp_header(r, "Content-Type", "application/octet-stream");
    /* The body moves to the response; its owner sees body == NULL. */
    http_resp_body_take(r, req->body, req->body_len);
    req->body = NULL;
    req->body_len = 0;
    r->chunked = req->body_chunked;
}

/* Every counter of the stack, in the Prometheus text exposition format. */
static void metrics(struct http_server *srv, struct http_resp *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        http_resp_error(r, 500);
        return;
    }
    sn_stack_print_prometheus(srv->stack, f);
    if (fclose(f) != 0) {
        free(buf);
        http_resp_error(r, 500);
        return;
    }
    r->status = 200;
    http_resp_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    http_resp_header(r, "Cache-Control", "no-store");
    http_resp_body_take(r, buf, len);
}

/* The path part of an absolute-form target (RFC 9112 3.2.2), or NULL. */
static const char *absolute_path(const char *t, size_t n, size_t *len)
{
    if (n < 7 || !http1_token_eq(t, 7, "http://"))
        return NULL;
    const char *p = memchr(t + 7, '/', n - 7);
    if (!p) {
        *len = 1;
        return "/";
    }
    *len = n - (size_t)(p - t);
    return p;
}

/* RFC 3986 3.3: "." and ".." segments are refused rather than resolved,
 * so no request can name anything outside the root. Returns 0 or -1. */
static int path_safe(const char *p)
{
    for (const char *s = p; *s;) {
        while (*s == '/')
            s++;
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return -1;
        s += n;
    }
    return 0;
}

void http_handle(struct http_server *srv, struct http_req *req, struct http_resp *r)
{
    enum method m = method_of(req->method, req->method_len);
    if (m == M_UNKNOWN) {
        http_resp_error(r, 501); /* RFC 9110 9.1: an unknown method */
        return;
    }
    if (m == M_CONNECT) {
        not_allowed(r, ALLOW_ANY);
        return;
    }
    const char *t = req->target;
    size_t tn = req->target_len;
    if (tn == 1 && t[0] == '*') {
        /* RFC 9112 3.2.4: asterisk-form is only for OPTIONS. */
        if (m == M_OPTIONS)
            options(r, ALLOW_ANY);
        else
            http_resp_error(r, 400);
        return;
    }
    size_t an;
    const char *abs = req->version < 20 ? absolute_path(t, tn, &an) : NULL;
    if (abs) {
        t = abs;
        tn = an;
    }
    if (tn > HTTP1_DEFAULT_MAX_TARGET) {
        http_resp_error(r, 414); /* an HTTP/2 :path has no parser limit before here */
        return;
    }
    if (tn == 0 || t[0] != '/' || memchr(t, '#', tn)) {
        http_resp_error(r, 400);
        return;
    }
    const char *q = memchr(t, '?', tn);
    size_t pn = q ? (size_t)(q - t) : tn;
    char path[HTTP1_DEFAULT_MAX_TARGET + 1];
    if (http_pct_decode(t, pn, path, sizeof(path)) < 0 || path_safe(path) < 0) {
        http_resp_error(r, 400);
        return;
    }
    char query[HTTP1_DEFAULT_MAX_TARGET + 1];
    query[0] = 0; /* an initializer would clear all 8 KB on every request */
    if (q) {
        size_t qn = tn - pn;
        if (qn >= sizeof(query))
            qn = sizeof(query) - 1;
        memcpy(query, q, qn);
        query[qn] = 0;
    }

    if (strcmp(path, "/echo") == 0) {
        if (m == M_POST)
            echo(req, r);
        else if (m == M_OPTIONS)
            options(r, ALLOW_ECHO);
        else
            not_allowed(r, ALLOW_ECHO);
        return;
    }
    if (srv->o.metrics_path && strcmp(path, srv->o.metrics_path) == 0) {
        if (m == M_GET || m == M_HEAD)
            metrics(srv, r);
        else
            not_allowed(r, ALLOW_STATIC);
        return;
    }
    if (m == M_OPTIONS) {
        options(r, ALLOW_STATIC);
        return;
    }
    if (m != M_GET && m != M_HEAD) {
        not_allowed(r, ALLOW_STATIC);
        return;
    }
    if (srv->root) {
        http_static_serve(srv, req, path, query, r);
    } else if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
        r->status = 200;
        http_resp_header(r, "Content-Type", "text/html; charset=utf-8");
        http_resp_body_static(r, builtin_page, sizeof(builtin_page) - 1);
    } else {
        http_resp_error(r, 404);
    }
    if (m == M_HEAD)
        r->omit_body = 1;
}
