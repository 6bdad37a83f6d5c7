/* http/static.c: files from the server's root: path resolution that cannot
 * leave the root, MIME types, directory index and listing, validators
 * (ETag, Last-Modified) with 304, single byte ranges with 206/416. This
 * is the one place the server touches the file system (with file_cache.c,
 * where files that passed the checks here are kept in memory; a request
 * the cache answers costs no file-system call).
 *
 * Read first: RFC 9110 8.8 (validators), 13 (conditional requests), 14
 * (range requests). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http/server_impl.h"

static const struct {
    const char *ext;
    const char *type;
} mime_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"xml", "application/xml"},
    {"csv", "text/csv; charset=utf-8"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"svg", "image/svg+xml"},
    {"webp", "image/webp"},
    {"ico", "image/vnd.microsoft.icon"},
    {"pdf", "application/pdf"},
    {"wasm", "application/wasm"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"pcap", "application/vnd.tcpdump.pcap"},
};

static const char *mime_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (!dot || (slash && dot < slash))
        return "application/octet-stream";
    for (size_t i = 0; i < sizeof(mime_types) / sizeof(mime_types[0]); i++)
        if (http1_token_eq(dot + 1, strlen(dot + 1), mime_types[i].ext))
            return mime_types[i].type;
    return "application/octet-stream";
}

/* Whether the resolved @real is the root or inside it. */
static int under_root(const struct http_server *srv, const char *real)
{
    size_t n = srv->root_len;
    if (strncmp(real, srv->root, n) != 0)
        return 0;
    return real[n] == 0 || real[n] == '/' || (n == 1 && srv->root[0] == '/');
}

/* Whether the file open on @fd lies under the root. O_NOFOLLOW covers only
 * the last component of a path resolve() checked: a directory above it
 * swapped for a symlink in between (a rename race by someone who can write
 * under the root) would open a file outside; the kernel's name for what was
 * opened tells. Once per file opened, not per cached answer. */
static int fd_under_root(const struct http_server *srv, int fd)
{
    char link[32], path[PATH_MAX];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof(path) - 1);
    if (n <= 0)
        return 0;
    path[n] = 0;
    return under_root(srv, path);
}

/* Resolves @rel (under the root) with every symlink followed, and checks
 * the result is still under the root. Returns 0, or -ENOENT for anything
 * that does not exist, cannot be reached, or lies outside. */
static int resolve(const struct http_server *srv, const char *rel, char real[PATH_MAX])
{
    char full[PATH_MAX];
    int n = snprintf(full, sizeof(full), "%s%s", srv->root, rel);
    if (n < 0 || (size_t)n >= sizeof(full))
        return -ENOENT;
    if (!realpath(full, real))
        return -ENOENT;
    if (!under_root(srv, real))
        return -ENOENT; /* a symlink out of the root: as if absent */
    return 0;
}

/* Percent-encodes a path for a Location or href: unreserved and '/' stay. */
static size_t pct_encode(char *out, size_t cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s && o + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~/", c)) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = 0;
    return o;
}

/* ---- validators ------------------------------------------------------------ */

/* One entity-tag at s[*i] (RFC 9110 8.8.3): [W/] DQUOTE *etagc DQUOTE.
 * Sets the opaque tag (with its quotes) and weakness. Returns 0 or -1. */
static int etag_next(const char *s, size_t n, size_t *i, const char **tag, size_t *tag_len,
                     int *weak)
{
    size_t k = *i;
    *weak = 0;
    if (k + 1 < n && s[k] == 'W' && s[k + 1] == '/') {
        *weak = 1;
        k += 2;
    }
    if (k >= n || s[k] != '"')
        return -1;
    size_t a = k++;
    while (k < n && s[k] != '"')
        k++;
    if (k >= n)
        return -1;
    *tag = s + a;
    *tag_len = k + 1 - a;
    *i = k + 1;
    return 0;
}

/* Whether a list of entity-tags (If-None-Match, If-Match) holds @etag;
 * @strong_only: the strong comparison (RFC 9110 8.8.3.2). */
static int etag_list_match(const char *s, size_t n, const char *etag, int strong_only)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
            i++;
        if (i == n)
            break;
        if (s[i] == '*')
            return 1;
        const char *tag;
        size_t tl;
        int weak;
        if (etag_next(s, n, &i, &tag, &tl, &weak) < 0)
            return 0;
        if ((!weak || !strong_only) && tl == strlen(etag) && memcmp(tag, etag, tl) == 0)
            return 1;
    }
    return 0;
}

static const struct http1_field *field(const struct http_req *req, const char *name)
{
    return http1_field_find(req->fields, req->n_fields, name);
}

/* RFC 9110 13.2.2 steps 3-4: If-None-Match, else If-Modified-Since.
 * Returns 1 when the answer is 304. */
static int not_modified(const struct http_req *req, const char *etag, int64_t mtime)
{
    const struct http1_field *inm = field(req, "if-none-match");
    if (inm)
        return etag_list_match(inm->value, inm->value_len, etag, 0); /* weak comparison */
    const struct http1_field *ims = field(req, "if-modified-since");
    int64_t t;
    if (ims && http_date_parse(ims->value, ims->value_len, &t) == 0)
        return mtime <= t;
    return 0;
}

/* RFC 9110 13.1.5: If-Range holds our strong ETag or exactly our
 * Last-Modified date; otherwise the Range is ignored. */
static int if_range_ok(const struct http_req *req, const char *etag, int64_t mtime)
{
    const struct http1_field *ir = field(req, "if-range");
    if (!ir)
        return 1;
    if (ir->value_len > 0 && (ir->value[0] == '"' || ir->value[0] == 'W'))
        return etag_list_match(ir->value, ir->value_len, etag, 1);
    int64_t t;
    return http_date_parse(ir->value, ir->value_len, &t) == 0 && t == mtime;
}

static int parse_u64(const char *s, size_t n, uint64_t *v)
{
    if (n == 0 || n > 19)
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *v = x;
    return 0;
}

enum range_result { RANGE_NONE, RANGE_OK, RANGE_UNSATISFIABLE };

/* RFC 9110 14.1.2: one byte range, "bytes=a-b", "bytes=a-" or "bytes=-n".
 * Several ranges, other units or bad syntax: served whole (14.2: a server
 * MAY ignore Range). */
static enum range_result parse_range(const char *s, size_t n, uint64_t size, uint64_t *first,
                                     uint64_t *last)
{
    if (n < 6 || !http1_token_eq(s, 6, "bytes="))
        return RANGE_NONE;
    s += 6;
    n -= 6;
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (memchr(s, ',', n))
        return RANGE_NONE;
    const char *dash = memchr(s, '-', n);
    if (!dash)
        return RANGE_NONE;
    size_t an = (size_t)(dash - s), bn = n - an - 1;
    uint64_t a, b;
    if (an == 0) { /* suffix-range */
        if (parse_u64(dash + 1, bn, &b) < 0)
            return RANGE_NONE;
        if (b == 0 || size == 0)
            return RANGE_UNSATISFIABLE;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return RANGE_OK;
    }
    if (parse_u64(s, an, &a) < 0)
        return RANGE_NONE;
    if (bn == 0) {
        b = UINT64_MAX;
    } else if (parse_u64(dash + 1, bn, &b) < 0 || b < a) {
        return RANGE_NONE;
    }
    if (a >= size)
        return RANGE_UNSATISFIABLE;
    *first = a;
    *last = b >= size ? size - 1 : b;
    return RANGE_OK;
}

/* ---- files and directories --------------------------------------------------- */

/* The validators and type of regular file @real, from its stat. */
static void meta_of(const struct stat *st, const char *real, struct file_meta *m)
{
    m->size = (uint64_t)st->st_size;
    m->mtime = (int64_t)st->st_mtim.tv_sec;
    m->type = mime_of(real);
    m->type_len = strlen(m->type);
    int n = snprintf(m->etag, sizeof(m->etag), "\"%llx-%llx\"", (unsigned long long)m->size,
                     (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
                         (unsigned long long)st->st_mtim.tv_nsec);
    m->etag_len = (size_t)n;
    http_date_format(m->mtime, m->lm);
}

enum { FILE_NO_BODY, FILE_BODY };

/* Status and fields of an answer about file @m: 304 (RFC 9110 13.2.2),
 * else 200, 206 or 416 (RFC 9110 14). Returns FILE_BODY when the answer
 * carries bytes [r->off, r->off + r->len) of the file; the caller says
 * where they come from. */
static int file_respond(const struct http_req *req, const struct file_meta *m,
                        struct http_resp *r)
{
    if (not_modified(req, m->etag, m->mtime)) {
        r->status = 304;
        r->no_length = 1;
        r->omit_body = 1;
        http_resp_header_n(r, "ETag", m->etag, m->etag_len);
        http_resp_header_n(r, "Last-Modified", m->lm, HTTP_DATE_LEN - 1);
        return FILE_NO_BODY;
    }

    r->status = 200;
    r->off = 0;
    r->len = m->size;
    http_resp_header_n(r, "Content-Type", m->type, m->type_len);
    http_resp_header_n(r, "ETag", m->etag, m->etag_len);
    http_resp_header_n(r, "Last-Modified", m->lm, HTTP_DATE_LEN - 1);
    http_resp_header_n(r, "Accept-Ranges", "bytes", 5);

    const struct http1_field *range = field(req, "range");
    int is_get = req->method_len == 3 && memcmp(req->method, "GET", 3) == 0;
    if (!range || !is_get || !if_range_ok(req, m->etag, m->mtime))
        return FILE_BODY;
    uint64_t first, last, size = m->size;
    switch (parse_range(range->value, range->value_len, size, &first, &last)) {
    case RANGE_NONE:
        return FILE_BODY;
    case RANGE_UNSATISFIABLE:
        http_resp_error(r, 416);
        http_resp_header(r, "Content-Range", "bytes */%llu", (unsigned long long)size);
        return FILE_NO_BODY;
    case RANGE_OK:
        r->status = 206;
        r->off = first;
        r->len = last - first + 1;
        http_resp_header(r, "Content-Range", "bytes %llu-%llu/%llu", (unsigned long long)first,
                         (unsigned long long)last, (unsigned long long)size);
        return FILE_BODY;
    }
    return FILE_BODY;
}

/* An answer from a cache entry: its bytes are the body, and the response
 * holds the entry until it is sent. */
static void serve_cached(const struct http_req *req, struct fc_entry *e, struct http_resp *r)
{
    if (file_respond(req, &e->meta, r) != FILE_BODY)
        return;
    r->kind = HTTP_BODY_MEM;
    r->mem = e->data + r->off;
    fc_hold(e);
    r->cached = e;
}

/* Reads exactly @n bytes of @fd. Returns 0, or -1 (error, or the file is
 * shorter than its stat said). */
static int read_all(int fd, char *buf, uint64_t n)
{
    uint64_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, buf + got, (size_t)(n - got), (off_t)got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        got += (uint64_t)k;
    }
    return 0;
}

/* Whether a file with stat @st changed so recently that a later change
 * could leave its stat as it is (timestamps are coarse: a jiffy on most
 * file systems, a second or two on some). Such an entry is not trusted
 * past its first valid_ms. */
static int racy(const struct http_server *srv, const struct stat *st)
{
    int64_t now;
    if (srv->o.wall.now) {
        now = sn_clock_read(&srv->o.wall) / 1000000;
    } else {
        /* File times are real time; without the wall clock, ask for it. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        now = (int64_t)ts.tv_sec;
    }
    int64_t changed = st->st_mtim.tv_sec > st->st_ctim.tv_sec ? st->st_mtim.tv_sec
                                                               : st->st_ctim.tv_sec;
    return changed + 2 >= now;
}

/* Serves regular file @real. @key (or NULL): the cache key of the request;
 * @stat_path: the request's path under the root, for revalidation. */
static void serve_file(struct http_server *srv, const struct http_req *req, const char *real,
                       const char *key, size_t key_len, const char *stat_path,
                       struct http_resp *r)
{
    /* O_NOFOLLOW: @real has no symlinks left; if one appears there between
     * the check and the open, refuse it. O_NONBLOCK: a FIFO must not block
     * the loop (it is refused below). */
    int fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !fd_under_root(srv, fd)) {
        if (fd >= 0)
            close(fd);
        http_resp_error(r, 404);
        return;
    }
    struct file_meta m;
    meta_of(&st, real, &m);

    /* Small enough: read it whole into the cache and answer from there. */
    struct fc_entry *e = key ? fc_prepare(&srv->fcache, key, key_len, stat_path, real, &m) : NULL;
    if (e) {
        if (read_all(fd, e->data, m.size) == 0) {
            close(fd);
            fc_commit(&srv->fcache, e, &st, racy(srv, &st), srv->now);
            serve_cached(req, e, r);
            return;
        }
        fc_discard(e);
    }

    if (file_respond(req, &m, r) != FILE_BODY) {
        close(fd);
        return;
    }
    r->kind = HTTP_BODY_FILE;
    r->fd = fd;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

#define LIST_MAX_ENTRIES 10000

/* An HTML listing of a directory (no index.html in it). */
static void serve_listing(const char *real, const char *path, struct http_resp *r)
{
    DIR *d = opendir(real);
    if (!d) {
        http_resp_error(r, 404);
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < LIST_MAX_ENTRIES) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof(*names));
            if (!nn)
                break;
            names = nn;
        }
        size_t len = strlen(e->d_name);
        char *s = malloc(len + 2);
        if (!s)
            break;
        memcpy(s, e->d_name, len + 1);
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode)) {
            s[len] = '/';
            s[len + 1] = 0;
        }
        names[n++] = s;
    }
    closedir(d);
    qsort(names, n, sizeof(*names), name_cmp);

    /* Room for the worst case: every byte of a name escaped to 6 bytes
     * ("&quot;"), every byte of an href percent-encoded to 3. */
    size_t bcap = 512 + 12 * strlen(path) + n * (6 * 257 + 3 * 257 + 64), len = 0;
    char *b = malloc(bcap);
    if (!b) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        http_resp_error(r, 500);
        return;
    }
    len += (size_t)snprintf(b + len, bcap - len,
                            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                            "<title>Index of ");
    len = http_html_escape(b, len, bcap, path);
    len += (size_t)snprintf(b + len, bcap - len, "</title></head>\n<body><h1>Index of ");
    len = http_html_escape(b, len, bcap, path);
    len += (size_t)snprintf(b + len, bcap - len, "</h1>\n<ul>\n");
    for (size_t i = 0; i < n; i++) {
        char href[3 * 256 + 8];
        pct_encode(href, sizeof(href), names[i]);
        len += (size_t)snprintf(b + len, bcap - len, "<li><a href=\"");
        len = http_html_escape(b, len, bcap, href);
        len += (size_t)snprintf(b + len, bcap - len, "\">");
        len = http_html_escape(b, len, bcap, names[i]);
        len += (size_t)snprintf(b + len, bcap - len, "</a></li>\n");
        free(names[i]);
    }
    free(names);
    len += (size_t)snprintf(b + len, bcap - len, "</ul>\n</body></html>\n");
    r->status = 200;
    http_resp_header(r, "Content-Type", "text/html; charset=utf-8");
    http_resp_body_take(r, b, len);
}

void http_static_serve(struct http_server *srv, const struct http_req *req, const char *path,
                       const char *query, struct http_resp *r)
{
    /* The cache holds only what the checks below let through, under the
     * key of the path that passed them. */
    char key[HTTP1_DEFAULT_MAX_TARGET + 1];
    long kl = fc_key(path, key, sizeof(key));
    if (kl >= 0) {
        struct fc_entry *e = fc_lookup(&srv->fcache, key, (size_t)kl, srv->now);
        if (e) {
            serve_cached(req, e, r);
            return;
        }
    }
    const char *k = kl >= 0 ? key : NULL;

    char real[PATH_MAX], full[PATH_MAX];
    struct stat st;
    if (resolve(srv, path, real) < 0 || stat(real, &st) < 0) {
        http_resp_error(r, 404);
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        size_t pl = strlen(path);
        if (path[pl - 1] != '/') {
            /* RFC 9110 15.4.2: the directory's URL ends in '/'. */
            char loc[3 * PATH_MAX / 2];
            size_t n = pct_encode(loc, sizeof(loc) - 2, path);
            loc[n++] = '/';
            loc[n] = 0;
            http_resp_error(r, 301);
            http_resp_header(r, "Location", "%s%s", loc, query);
            return;
        }
        char index[PATH_MAX];
        int n = snprintf(index, sizeof(index), "%sindex.html", path);
        char ireal[PATH_MAX];
        if (n > 0 && (size_t)n < sizeof(index) && resolve(srv, index, ireal) == 0 &&
            stat(ireal, &st) == 0 && S_ISREG(st.st_mode)) {
            if (snprintf(full, sizeof(full), "%s%s", srv->root, index) >= (int)sizeof(full))
                k = NULL;
            serve_file(srv, req, ireal, k, (size_t)kl, full, r);
            return;
        }
        serve_listing(real, path, r);
        return;
    }
    if (snprintf(full, sizeof(full), "%s%s", srv->root, path) >= (int)sizeof(full))
        k = NULL;
    serve_file(srv, req, real, k, (size_t)kl, full, r);
}
