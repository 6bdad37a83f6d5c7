/* tools/pktscript_parse.c: the packetdrill script language (google/packetdrill
 * parser.y and lexer.l) read into struct ps_script: a hand-written lexer and
 * a recursive-descent parser for the subset synack runs. Anything valid in
 * packetdrill that synack cannot run (UDP, ICMP, IPv6, TFO, MD5, ...) marks
 * the script skipped instead of failing it. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tools/pktscript.h"
#include "wire/tcp.h"

/* ---- verdicts (shared by every pktscript file) ------------------------- */

static void verdict(struct ps_result *r, enum ps_status st, int line, const char *fmt, va_list ap)
{
    if (r->status != PS_PASS)
        return; /* the first verdict wins */
    r->status = st;
    r->line = line;
    vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
}

void ps_fail(struct ps_result *r, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verdict(r, PS_FAIL, line, fmt, ap);
    va_end(ap);
}

void ps_skip(struct ps_result *r, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verdict(r, PS_SKIP, line, fmt, ap);
    va_end(ap);
}

void ps_detail(struct ps_result *r, const char *fmt, ...)
{
    size_t n = strlen(r->msg);
    if (n + 4 >= sizeof(r->msg))
        return;
    memcpy(r->msg + n, "\n  ", 3);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg + n + 3, sizeof(r->msg) - n - 3, fmt, ap);
    va_end(ap);
}

/* ---- lexer ------------------------------------------------------------------ */

enum tok_type {
    T_EOF,
    T_NUM,      /* 12, 0.25, .1, 0x1f */
    T_WORD,     /* [A-Za-z_][A-Za-z0-9_]* */
    T_STRING,   /* "..." */
    T_BACKTICK, /* `...` */
    T_CODE,     /* %{ ... }% */
    T_ELLIPSIS, /* ... */
    T_OPTION,   /* --name[=value] at the top of the script */
    T_PUNCT,    /* one character */
};

struct tok {
    enum tok_type type;
    int line;
    char punct;
    int64_t num;    /* integer value (T_NUM without a fraction) */
    bool is_float;
    int64_t usecs;  /* value * 10^6, exact (T_NUM) */
    char *text;     /* WORD, STRING, BACKTICK, CODE, OPTION (malloc'd) */
};

struct lex {
    const char *src;
    size_t len, pos;
    int line;
    struct tok peeked;
    bool have_peeked;
    struct ps_script *sc;
    struct ps_result *r;
    bool failed;
};

static void lex_error(struct lex *lx, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void lex_error(struct lex *lx, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!lx->failed)
        ps_fail(lx->r, line, "parse error: %s", msg);
    lx->failed = true;
}

static void set_skip(struct lex *lx, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_skip(struct lex *lx, int line, const char *fmt, ...)
{
    if (lx->sc->skip_line)
        return;
    lx->sc->skip_line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lx->sc->skip_reason, sizeof(lx->sc->skip_reason), fmt, ap);
    va_end(ap);
}

static char *dup_range(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p) {
        perror("synack pktscript");
        exit(1);
    }
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static void add_option(struct lex *lx, const char *text, size_t n, int line, bool native)
{
    struct ps_script *sc = lx->sc;
    char **o = realloc(sc->opts, (size_t)(sc->n_opts + 1) * sizeof(*o));
    if (o)
        sc->opts = o;
    int *l = realloc(sc->opt_lines, (size_t)(sc->n_opts + 1) * sizeof(*l));
    if (l)
        sc->opt_lines = l;
    bool *nat = realloc(sc->opt_native, (size_t)(sc->n_opts + 1) * sizeof(*nat));
    if (nat)
        sc->opt_native = nat;
    if (!o || !l || !nat) {
        perror("synack pktscript");
        exit(1);
    }
    nat[sc->n_opts] = native;
    while (n && isspace((unsigned char)text[n - 1]))
        n--;
    while (n && isspace((unsigned char)*text))
        text++, n--;
    o[sc->n_opts] = dup_range(text, n);
    l[sc->n_opts] = line;
    sc->n_opts++;
}

/* Skips blanks and comments: // and # to the end of the line, C comments.
 * A "// synack: ARGS" comment carries runner options. */
static void skip_space(struct lex *lx)
{
    const char *s = lx->src;
    while (lx->pos < lx->len) {
        char c = s[lx->pos];
        if (c == '\n') {
            lx->line++;
            lx->pos++;
        } else if (isspace((unsigned char)c)) {
            lx->pos++;
        } else if (c == '#' || (c == '/' && lx->pos + 1 < lx->len && s[lx->pos + 1] == '/')) {
            size_t start = lx->pos;
            while (lx->pos < lx->len && s[lx->pos] != '\n')
                lx->pos++;
            static const char tag[] = "// synack:";
            if (lx->pos - start >= sizeof(tag) - 1 && memcmp(s + start, tag, sizeof(tag) - 1) == 0)
                add_option(lx, s + start + sizeof(tag) - 1, lx->pos - start - (sizeof(tag) - 1),
                           lx->line, false);
        } else if (c == '/' && lx->pos + 1 < lx->len && s[lx->pos + 1] == '*') {
            int line = lx->line;
            lx->pos += 2;
            while (lx->pos + 1 < lx->len && !(s[lx->pos] == '*' && s[lx->pos + 1] == '/')) {
                if (s[lx->pos] == '\n')
                    lx->line++;
                lx->pos++;
            }
            if (lx->pos + 1 >= lx->len) {
                lex_error(lx, line, "unterminated /* comment");
                lx->pos = lx->len;
                return;
            }
            lx->pos += 2;
        } else {
            return;
        }
    }
}

/* Text up to @close (a one- or two-character delimiter), counting lines. */
static bool lex_delimited(struct lex *lx, const char *close, struct tok *t)
{
    size_t cl = strlen(close), start = lx->pos;
    while (lx->pos + cl <= lx->len && memcmp(lx->src + lx->pos, close, cl) != 0) {
        if (lx->src[lx->pos] == '\n')
            lx->line++;
        lx->pos++;
    }
    if (lx->pos + cl > lx->len) {
        lex_error(lx, t->line, "missing closing %s", close);
        return false;
    }
    t->text = dup_range(lx->src + start, lx->pos - start);
    lx->pos += cl;
    return true;
}

static void lex_number(struct lex *lx, struct tok *t)
{
    const char *s = lx->src;
    t->type = T_NUM;
    if (s[lx->pos] == '0' && lx->pos + 1 < lx->len &&
        (s[lx->pos + 1] == 'x' || s[lx->pos + 1] == 'X')) {
        lx->pos += 2;
        uint64_t v = 0;
        while (lx->pos < lx->len && isxdigit((unsigned char)s[lx->pos])) {
            int c = tolower((unsigned char)s[lx->pos++]);
            v = v * 16 + (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
        }
        t->num = (int64_t)v;
        t->usecs = t->num * 1000000;
        return;
    }
    int64_t ip = 0, frac = 0, scale = 1000000;
    while (lx->pos < lx->len && isdigit((unsigned char)s[lx->pos]) && ip < (INT64_C(1) << 50))
        ip = ip * 10 + (s[lx->pos++] - '0');
    if (lx->pos + 1 < lx->len && s[lx->pos] == '.' && isdigit((unsigned char)s[lx->pos + 1])) {
        t->is_float = true;
        lx->pos++;
        while (lx->pos < lx->len && isdigit((unsigned char)s[lx->pos])) {
            if (scale > 1) {
                scale /= 10;
                frac += (s[lx->pos] - '0') * scale;
            }
            lx->pos++;
        }
    }
    t->num = ip;
    t->usecs = ip * 1000000 + frac;
}

static struct tok lex_next(struct lex *lx)
{
    struct tok t;
    memset(&t, 0, sizeof(t));
    skip_space(lx);
    t.line = lx->line;
    if (lx->pos >= lx->len || lx->failed) {
        t.type = T_EOF;
        return t;
    }
    const char *s = lx->src;
    char c = s[lx->pos];
    char c1 = lx->pos + 1 < lx->len ? s[lx->pos + 1] : 0;
    char c2 = lx->pos + 2 < lx->len ? s[lx->pos + 2] : 0;
    if (c == '.' && c1 == '.' && c2 == '.') {
        lx->pos += 3;
        t.type = T_ELLIPSIS;
    } else if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)c1))) {
        lex_number(lx, &t);
    } else if (isalpha((unsigned char)c) || c == '_') {
        size_t start = lx->pos;
        while (lx->pos < lx->len && (isalnum((unsigned char)s[lx->pos]) || s[lx->pos] == '_'))
            lx->pos++;
        t.type = T_WORD;
        t.text = dup_range(s + start, lx->pos - start);
    } else if (c == '"') {
        lx->pos++;
        size_t start = lx->pos;
        while (lx->pos < lx->len && s[lx->pos] != '"' && s[lx->pos] != '\n') {
            if (s[lx->pos] == '\\' && lx->pos + 1 < lx->len)
                lx->pos++;
            lx->pos++;
        }
        if (lx->pos >= lx->len || s[lx->pos] != '"') {
            lex_error(lx, t.line, "unterminated string");
            t.type = T_EOF;
            return t;
        }
        t.type = T_STRING;
        t.text = dup_range(s + start, lx->pos - start);
        lx->pos++;
    } else if (c == '`') {
        lx->pos++;
        t.type = T_BACKTICK;
        if (!lex_delimited(lx, "`", &t))
            t.type = T_EOF;
    } else if (c == '%' && c1 == '{') {
        lx->pos += 2;
        t.type = T_CODE;
        if (!lex_delimited(lx, "}%", &t))
            t.type = T_EOF;
    } else if (c == '-' && c1 == '-' && isalpha((unsigned char)c2)) {
        size_t start = lx->pos;
        while (lx->pos < lx->len && s[lx->pos] != '\n')
            lx->pos++;
        t.type = T_OPTION;
        t.text = dup_range(s + start, lx->pos - start);
    } else {
        lx->pos++;
        t.type = T_PUNCT;
        t.punct = c;
    }
    return t;
}

static struct tok *peek(struct lex *lx)
{
    if (!lx->have_peeked) {
        lx->peeked = lex_next(lx);
        lx->have_peeked = true;
    }
    return &lx->peeked;
}

/* Takes the next token; the caller owns t.text. */
static struct tok take(struct lex *lx)
{
    peek(lx);
    lx->have_peeked = false;
    return lx->peeked;
}

static void drop(struct lex *lx)
{
    struct tok t = take(lx);
    free(t.text);
}

static bool is_punct(struct lex *lx, char c)
{
    struct tok *t = peek(lx);
    return t->type == T_PUNCT && t->punct == c;
}

static bool is_word(struct lex *lx, const char *w)
{
    struct tok *t = peek(lx);
    return t->type == T_WORD && strcmp(t->text, w) == 0;
}

static const char *tok_desc(const struct tok *t, char *buf, size_t len)
{
    switch (t->type) {
    case T_EOF:
        return "end of file";
    case T_NUM:
        snprintf(buf, len, "number %lld", (long long)t->num);
        return buf;
    case T_WORD:
        snprintf(buf, len, "'%s'", t->text);
        return buf;
    case T_STRING:
        return "a string";
    case T_BACKTICK:
        return "a `command`";
    case T_CODE:
        return "a %{ }% block";
    case T_ELLIPSIS:
        return "'...'";
    case T_OPTION:
        return "an option line";
    case T_PUNCT:
        if (isprint((unsigned char)t->punct))
            snprintf(buf, len, "'%c'", t->punct);
        else
            snprintf(buf, len, "byte 0x%02x", (unsigned char)t->punct);
        return buf;
    }
    return "?";
}

static bool expect_punct(struct lex *lx, char c, const char *what)
{
    if (is_punct(lx, c)) {
        drop(lx);
        return true;
    }
    char buf[64];
    lex_error(lx, peek(lx)->line, "expected '%c' %s, got %s", c, what,
              tok_desc(peek(lx), buf, sizeof(buf)));
    return false;
}

static bool expect_num(struct lex *lx, const char *what, int64_t min, int64_t max, int64_t *out)
{
    struct tok *t = peek(lx);
    char buf[64];
    if (t->type != T_NUM || t->is_float) {
        lex_error(lx, t->line, "expected %s (an integer), got %s", what,
                  tok_desc(t, buf, sizeof(buf)));
        return false;
    }
    if (t->num < min || t->num > max) {
        lex_error(lx, t->line, "%s %lld out of range [%lld, %lld]", what, (long long)t->num,
                  (long long)min, (long long)max);
        return false;
    }
    *out = t->num;
    drop(lx);
    return true;
}

/* A parenthesised note after a result, "(Operation now in progress)", is
 * free text: skip it by characters, not tokens. */
static void skip_note(struct lex *lx)
{
    if (!is_punct(lx, '('))
        return;
    lx->have_peeked = false; /* the '(' is consumed; pos is just after it */
    int depth = 1, line = lx->line;
    while (lx->pos < lx->len && depth > 0) {
        char c = lx->src[lx->pos++];
        if (c == '(')
            depth++;
        else if (c == ')')
            depth--;
        else if (c == '\n')
            lx->line++;
    }
    if (depth > 0)
        lex_error(lx, line, "unterminated '(' note");
}

/* ---- expressions (socket call arguments and results) ------------------ */

static struct ps_expr *expr_new(enum ps_expr_type type)
{
    struct ps_expr *e = calloc(1, sizeof(*e));
    if (!e) {
        perror("synack pktscript");
        exit(1);
    }
    e->type = type;
    return e;
}

static void expr_free(struct ps_expr *e)
{
    if (!e)
        return;
    free(e->str);
    expr_free(e->lhs);
    expr_free(e->rhs);
    for (int i = 0; i < e->n_items; i++)
        expr_free(e->items[i]);
    free(e->items);
    free(e);
}

static void expr_push(struct ps_expr *list, struct ps_expr *item)
{
    struct ps_expr **n = realloc(list->items, (size_t)(list->n_items + 1) * sizeof(*n));
    if (!n) {
        perror("synack pktscript");
        exit(1);
    }
    list->items = n;
    list->items[list->n_items++] = item;
}

static struct ps_expr *parse_expr(struct lex *lx);

/* Items up to @close, separated by commas. */
static bool parse_items(struct lex *lx, struct ps_expr *list, char close)
{
    if (is_punct(lx, close)) {
        drop(lx);
        return true;
    }
    for (;;) {
        struct ps_expr *e = parse_expr(lx);
        if (!e)
            return false;
        expr_push(list, e);
        if (is_punct(lx, ',')) {
            drop(lx);
            continue;
        }
        char what[32];
        snprintf(what, sizeof(what), "or ',' in a list");
        return expect_punct(lx, close, what);
    }
}

static struct ps_expr *parse_primary(struct lex *lx)
{
    struct tok *t = peek(lx);
    char buf[64];
    struct ps_expr *e;
    switch (t->type) {
    case T_ELLIPSIS:
        drop(lx);
        return expr_new(PX_ELLIPSIS);
    case T_NUM:
        if (t->is_float) {
            lex_error(lx, t->line, "expected an integer, got a fraction");
            return NULL;
        }
        e = expr_new(PX_INT);
        e->num = t->num;
        drop(lx);
        return e;
    case T_STRING: {
        struct tok s = take(lx);
        e = expr_new(PX_STRING);
        e->str = s.text;
        while (peek(lx)->type == T_STRING) { /* "a" "b" concatenates */
            struct tok more = take(lx);
            char *cat = malloc(strlen(e->str) + strlen(more.text) + 1);
            if (!cat) {
                perror("synack pktscript");
                exit(1);
            }
            strcpy(cat, e->str);
            strcat(cat, more.text);
            free(e->str);
            free(more.text);
            e->str = cat;
        }
        if (peek(lx)->type == T_ELLIPSIS)
            drop(lx);
        return e;
    }
    case T_WORD: {
        struct tok w = take(lx);
        if (is_punct(lx, '(')) {
            drop(lx);
            e = expr_new(PX_CALL);
            e->str = w.text;
            if (!parse_items(lx, e, ')')) {
                expr_free(e);
                return NULL;
            }
            return e;
        }
        if (is_punct(lx, '=')) {
            drop(lx);
            e = expr_new(PX_ASSIGN);
            e->str = w.text;
            e->rhs = parse_expr(lx);
            if (!e->rhs) {
                expr_free(e);
                return NULL;
            }
            return e;
        }
        e = expr_new(PX_WORD);
        e->str = w.text;
        return e;
    }
    case T_PUNCT:
        if (t->punct == '-') {
            drop(lx);
            t = peek(lx);
            if (t->type != T_NUM || t->is_float) {
                lex_error(lx, t->line, "expected a number after '-'");
                return NULL;
            }
            e = expr_new(PX_INT);
            e->num = -t->num;
            drop(lx);
            return e;
        }
        if (t->punct == '[' || t->punct == '{') {
            char close = t->punct == '[' ? ']' : '}';
            e = expr_new(t->punct == '[' ? PX_LIST : PX_BRACE);
            drop(lx);
            if (!parse_items(lx, e, close)) {
                expr_free(e);
                return NULL;
            }
            return e;
        }
        break;
    default:
        break;
    }
    lex_error(lx, t->line, "expected an expression, got %s", tok_desc(t, buf, sizeof(buf)));
    return NULL;
}

static struct ps_expr *parse_expr(struct lex *lx)
{
    struct ps_expr *e = parse_primary(lx);
    while (e && is_punct(lx, '|')) {
        drop(lx);
        struct ps_expr *rhs = parse_primary(lx);
        if (!rhs) {
            expr_free(e);
            return NULL;
        }
        struct ps_expr *o = expr_new(PX_OR);
        o->lhs = e;
        o->rhs = rhs;
        e = o;
    }
    return e;
}

/* ---- packets ------------------------------------------------------------- */

static bool opt_room(struct lex *lx, struct ps_packet *p, unsigned n, int line)
{
    if (p->opts_len + n > PS_MAX_OPT_BYTES) {
        lex_error(lx, line, "TCP options longer than %d bytes", PS_MAX_OPT_BYTES);
        return false;
    }
    return true;
}

static void put32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

/* One option of "<mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>". */
static bool parse_tcp_option(struct lex *lx, struct ps_packet *p)
{
    struct tok *t = peek(lx);
    int line = t->line;
    char buf[64];
    if (t->type != T_WORD) {
        lex_error(lx, line, "expected a TCP option, got %s", tok_desc(t, buf, sizeof(buf)));
        return false;
    }
    struct tok w = take(lx);
    const char *n = w.text;
    int64_t v, v2;
    bool ok = true;
    uint8_t *o = p->opts + p->opts_len;
    if (strcmp(n, "nop") == 0 || strcmp(n, "eol") == 0) {
        if ((ok = opt_room(lx, p, 1, line))) {
            o[0] = n[0] == 'n' ? TCPOPT_NOP : TCPOPT_EOL;
            p->opts_len += 1;
        }
    } else if (strcmp(n, "mss") == 0) {
        if ((ok = expect_num(lx, "mss", 0, 65535, &v) && opt_room(lx, p, 4, line))) {
            o[0] = TCPOPT_MSS, o[1] = 4, o[2] = (uint8_t)(v >> 8), o[3] = (uint8_t)v;
            p->opts_len += 4;
        }
    } else if (strcmp(n, "wscale") == 0) {
        if ((ok = expect_num(lx, "wscale", 0, 255, &v) && opt_room(lx, p, 3, line))) {
            o[0] = TCPOPT_WS, o[1] = 3, o[2] = (uint8_t)v;
            p->opts_len += 3;
        }
    } else if (strcmp(n, "sackOK") == 0) {
        if ((ok = opt_room(lx, p, 2, line))) {
            o[0] = TCPOPT_SACK_OK, o[1] = 2;
            p->opts_len += 2;
        }
    } else if (strcmp(n, "TS") == 0) {
        ok = is_word(lx, "val");
        if (ok)
            drop(lx);
        ok = ok && expect_num(lx, "TS val", 0, UINT32_MAX, &v) && is_word(lx, "ecr");
        if (ok)
            drop(lx);
        ok = ok && expect_num(lx, "TS ecr", 0, UINT32_MAX, &v2) && opt_room(lx, p, 10, line);
        if (ok) {
            o[0] = TCPOPT_TS, o[1] = 10;
            put32(o + 2, (uint32_t)v);
            put32(o + 6, (uint32_t)v2);
            p->opts_len += 10;
        } else if (!lx->failed) {
            lex_error(lx, line, "expected 'TS val N ecr N'");
        }
    } else if (strcmp(n, "sack") == 0) {
        unsigned start = p->opts_len;
        if ((ok = opt_room(lx, p, 2, line))) {
            o[0] = TCPOPT_SACK, o[1] = 2;
            p->opts_len += 2;
        }
        while (ok && peek(lx)->type == T_NUM) {
            ok = expect_num(lx, "SACK left edge", 0, UINT32_MAX, &v) &&
                 expect_punct(lx, ':', "in a SACK block") &&
                 expect_num(lx, "SACK right edge", 0, UINT32_MAX, &v2) && opt_room(lx, p, 8, line);
            if (ok) {
                put32(p->opts + p->opts_len, (uint32_t)v);
                put32(p->opts + p->opts_len + 4, (uint32_t)v2);
                p->opts_len += 8;
                p->opts[start + 1] += 8;
            }
        }
        if (ok && p->opts[start + 1] == 2) {
            lex_error(lx, line, "sack needs at least one block L:R");
            ok = false;
        }
    } else if (strcmp(n, "FO") == 0 || strcmp(n, "FOEXP") == 0 || strcmp(n, "md5") == 0 ||
               strcmp(n, "mptcp") == 0 || strcmp(n, "exp") == 0) {
        set_skip(lx, line, "TCP option '%s' is not supported by synack", n);
        ok = false;
    } else {
        lex_error(lx, line, "unknown TCP option '%s'", n);
        ok = false;
    }
    free(w.text);
    return ok;
}

static bool parse_tcp_options(struct lex *lx, struct ps_packet *p, int line)
{
    drop(lx); /* '<' */
    if (peek(lx)->type == T_ELLIPSIS) {
        drop(lx);
        if (p->inbound) {
            lex_error(lx, line, "<...> for TCP options can only be used with outbound packets");
            return false;
        }
        p->opts_nocheck = true;
        return expect_punct(lx, '>', "after <...");
    }
    for (;;) {
        if (!parse_tcp_option(lx, p))
            return false;
        if (is_punct(lx, ',')) {
            drop(lx);
            continue;
        }
        if (!expect_punct(lx, '>', "or ',' in TCP options"))
            return false;
        break;
    }
    if (p->opts_len % 4) {
        lex_error(lx, line,
                  "TCP options are not padded correctly to ensure TCP header is a multiple of 4 "
                  "bytes: %d excess bytes",
                  p->opts_len % 4);
        return false;
    }
    return true;
}

/* Flags as tcpdump writes them: "S", "S.", "P.", "F.", "R", ".", "-". */
static bool parse_flags(struct lex *lx, struct ps_packet *p)
{
    struct tok *t = peek(lx);
    char buf[64];
    if (t->type == T_PUNCT && (t->punct == '.' || t->punct == '-')) {
        p->flags = t->punct == '.' ? TCP_F_ACK : 0;
        drop(lx);
        return true;
    }
    if (t->type != T_WORD) {
        lex_error(lx, t->line, "expected TCP flags, got %s", tok_desc(t, buf, sizeof(buf)));
        return false;
    }
    int line = t->line;
    struct tok w = take(lx);
    static const struct {
        char c;
        uint8_t bit;
    } map[] = {{'F', TCP_F_FIN}, {'S', TCP_F_SYN}, {'R', TCP_F_RST}, {'P', TCP_F_PSH},
               {'U', TCP_F_URG}, {'E', TCP_F_ECE}, {'W', TCP_F_CWR}};
    bool ok = true;
    for (const char *c = w.text; *c && ok; c++) {
        size_t i = 0;
        while (i < sizeof(map) / sizeof(map[0]) && map[i].c != *c)
            i++;
        if (i < sizeof(map) / sizeof(map[0])) {
            p->flags |= map[i].bit;
        } else if (*c == 'A' || isdigit((unsigned char)*c)) {
            set_skip(lx, line, "AccECN flags ('%s') are not supported by synack", w.text);
            ok = false;
        } else {
            lex_error(lx, line, "invalid TCP flag '%c' in '%s'", *c, w.text);
            ok = false;
        }
    }
    free(w.text);
    if (ok && is_punct(lx, '.')) {
        drop(lx);
        p->flags |= TCP_F_ACK;
    }
    return ok;
}

static bool parse_packet(struct lex *lx, struct ps_event *ev)
{
    struct ps_packet *p = &ev->pkt;
    struct tok d = take(lx);
    int line = d.line;
    p->inbound = d.punct == '<';
    p->win = -1;
    if (is_punct(lx, '(') || is_punct(lx, '[')) {
        set_skip(lx, line,
                 "IP header fields (tos, ECN, TTL, flow label) are not supported by synack");
        return false;
    }
    if (peek(lx)->type == T_WORD) {
        const char *w = peek(lx)->text;
        if (!strcmp(w, "udp") || !strcmp(w, "icmp") || !strcmp(w, "ipv4") || !strcmp(w, "ipv6") ||
            !strcmp(w, "gre") || !strcmp(w, "mpls")) {
            set_skip(lx, line, "'%s' packets are not supported by synack (TCP over IPv4 only)", w);
            return false;
        }
    }
    int64_t v, v2, n;
    if (peek(lx)->type == T_NUM) { /* "sport>dport" */
        if (!expect_num(lx, "source port", 1, 65535, &v) ||
            !expect_punct(lx, '>', "between ports") ||
            !expect_num(lx, "destination port", 1, 65535, &v2))
            return false;
        p->sport = (uint16_t)v;
        p->dport = (uint16_t)v2;
    }
    if (!parse_flags(lx, p))
        return false;
    if (!expect_num(lx, "start sequence number", 0, UINT32_MAX, &v) ||
        !expect_punct(lx, ':', "in start:end(length)") ||
        !expect_num(lx, "end sequence number", 0, UINT32_MAX, &v2) ||
        !expect_punct(lx, '(', "in start:end(length)") ||
        !expect_num(lx, "payload length", 0, 65535, &n) ||
        !expect_punct(lx, ')', "in start:end(length)"))
        return false;
    if ((uint32_t)(v + n) != (uint32_t)v2) {
        lex_error(lx, line, "inconsistent TCP sequence numbers and payload size");
        return false;
    }
    p->seq = (uint32_t)v;
    p->len = (uint32_t)n;
    for (;;) {
        if (is_word(lx, "ack")) {
            drop(lx);
            if (!expect_num(lx, "ack", 0, UINT32_MAX, &v))
                return false;
            p->ack = (uint32_t)v;
        } else if (is_word(lx, "win")) {
            drop(lx);
            if (!expect_num(lx, "window", 0, 65535, &v))
                return false;
            p->win = (int32_t)v;
        } else if (is_word(lx, "urg")) {
            drop(lx);
            if (!expect_num(lx, "urgent pointer", 0, 65535, &v))
                return false;
            p->urg = (uint16_t)v;
        } else {
            break;
        }
    }
    if (is_punct(lx, '<') && !parse_tcp_options(lx, p, line))
        return false;
    if (is_punct(lx, '{')) {
        set_skip(lx, line, "packet fuzzing ({...}) is not supported by synack");
        return false;
    }
    if (p->inbound && p->win < 0) {
        lex_error(lx, line, "window must be specified for inbound packets");
        return false;
    }
    return true;
}

/* ---- socket calls ------------------------------------------------------ */

static bool parse_syscall(struct lex *lx, struct ps_event *ev)
{
    struct ps_syscall *sc = &ev->sc;
    sc->end_us = -1;
    if (peek(lx)->type == T_ELLIPSIS) { /* "...0.2 accept(...)": blocks until 0.2 */
        drop(lx);
        struct tok *t = peek(lx);
        if (t->type != T_NUM) {
            lex_error(lx, t->line, "expected an end time after '...'");
            return false;
        }
        sc->end_us = t->usecs;
        drop(lx);
    }
    struct tok *t = peek(lx);
    char buf[64];
    if (t->type != T_WORD) {
        lex_error(lx, t->line, "expected a system call, got %s", tok_desc(t, buf, sizeof(buf)));
        return false;
    }
    ev->line = t->line;
    struct tok name = take(lx);
    sc->name = name.text;
    if (!expect_punct(lx, '(', "after the system call name"))
        return false;
    struct ps_expr args = {.type = PX_LIST};
    if (!parse_items(lx, &args, ')')) {
        for (int i = 0; i < args.n_items; i++)
            expr_free(args.items[i]);
        free(args.items);
        return false;
    }
    sc->args = args.items;
    sc->n_args = args.n_items;
    if (!expect_punct(lx, '=', "before the expected result"))
        return false;
    sc->result = parse_expr(lx);
    if (!sc->result)
        return false;
    t = peek(lx);
    if (t->type == T_WORD && t->text[0] == 'E') {
        struct tok e = take(lx);
        sc->errno_name = e.text;
    }
    skip_note(lx);
    return !lx->failed;
}

/* ---- events --------------------------------------------------------------- */

static bool parse_time(struct lex *lx, struct ps_event *ev)
{
    struct tok *t = peek(lx);
    char buf[64];
    ev->line = t->line;
    if (t->type == T_PUNCT && t->punct == '*') {
        drop(lx);
        ev->ttype = PS_T_ANY;
        return true;
    }
    bool rel = false;
    if (t->type == T_PUNCT && t->punct == '+') {
        drop(lx);
        rel = true;
        t = peek(lx);
    }
    if (t->type != T_NUM) {
        lex_error(lx, t->line, "expected an event time, got %s", tok_desc(t, buf, sizeof(buf)));
        return false;
    }
    ev->t_us = t->usecs;
    ev->ttype = rel ? PS_T_REL : PS_T_ABS;
    drop(lx);
    if (!is_punct(lx, '~'))
        return true;
    drop(lx);
    if (rel && !expect_punct(lx, '+', "in a relative time range +a~+b"))
        return false;
    t = peek(lx);
    if (t->type != T_NUM) {
        lex_error(lx, t->line, "expected the end of the time range");
        return false;
    }
    ev->t_end_us = t->usecs;
    drop(lx);
    if (ev->t_end_us < ev->t_us) {
        lex_error(lx, ev->line, "time range is backwards");
        return false;
    }
    ev->ttype = rel ? PS_T_REL_RANGE : PS_T_ABS_RANGE;
    return true;
}

static struct ps_event *new_event(struct ps_script *sc)
{
    struct ps_event *n = realloc(sc->ev, (size_t)(sc->n_ev + 1) * sizeof(*n));
    if (!n) {
        perror("synack pktscript");
        exit(1);
    }
    sc->ev = n;
    struct ps_event *ev = &sc->ev[sc->n_ev++];
    memset(ev, 0, sizeof(*ev));
    return ev;
}

static bool parse_event(struct lex *lx)
{
    struct ps_event *ev = new_event(lx->sc);
    if (!parse_time(lx, ev))
        return false;
    struct tok *t = peek(lx);
    char buf[64];
    int time_line = ev->line;
    if (t->type == T_PUNCT && (t->punct == '<' || t->punct == '>')) {
        ev->type = PS_EV_PACKET;
        if (!parse_packet(lx, ev))
            return false;
    } else if (t->type == T_BACKTICK || t->type == T_CODE) {
        ev->type = t->type == T_BACKTICK ? PS_EV_COMMAND : PS_EV_CODE;
        struct tok x = take(lx);
        ev->text = x.text;
        if (ev->type == PS_EV_CODE && !lx->sc->skip_line) {
            char why[200];
            const char *no = ps_code_unsupported(ev->text, why, sizeof(why));
            if (no)
                set_skip(lx, time_line, "%s", no);
        }
    } else if (t->type == T_WORD || t->type == T_ELLIPSIS) {
        ev->type = PS_EV_SYSCALL;
        if (!parse_syscall(lx, ev))
            return false;
        ev->line = time_line;
        const char *no = ps_syscall_unsupported(&ev->sc);
        if (no)
            set_skip(lx, time_line, "%s", no);
    } else {
        lex_error(lx, t->line, "expected a packet, system call, `command` or %%{ code }%%, got %s",
                  tok_desc(t, buf, sizeof(buf)));
        return false;
    }
    if ((ev->ttype == PS_T_ANY || ev->ttype == PS_T_ABS_RANGE || ev->ttype == PS_T_REL_RANGE) &&
        !(ev->type == PS_EV_PACKET && !ev->pkt.inbound)) {
        lex_error(lx, time_line,
                  "event time '*' or a range can only be used with outbound packets");
        return false;
    }
    return true;
}

int ps_parse_file(const char *path, struct ps_script *sc, struct ps_result *r)
{
    memset(sc, 0, sizeof(*sc));
    sc->path = dup_range(path, strlen(path));
    FILE *f = fopen(path, "rb");
    if (!f) {
        ps_fail(r, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 16384;
            char *nb = realloc(buf, cap);
            if (!nb) {
                perror("synack pktscript");
                exit(1);
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    bool read_err = ferror(f);
    fclose(f);
    if (read_err) {
        free(buf);
        ps_fail(r, 0, "cannot read: %s", strerror(errno));
        return -1;
    }
    struct lex lx = {.src = buf, .len = len, .line = 1, .sc = sc, .r = r};
    /* packetdrill's options: "--name=value" lines before the first event. */
    while (peek(&lx)->type == T_OPTION) {
        struct tok o = take(&lx);
        add_option(&lx, o.text, strlen(o.text), o.line, true);
        free(o.text);
    }
    while (!lx.failed && peek(&lx)->type != T_EOF) {
        if (peek(&lx)->type == T_BACKTICK) { /* init or cleanup command: no time */
            drop(&lx);
            sc->n_commands++;
            continue;
        }
        if (!parse_event(&lx)) {
            if (!lx.failed && !sc->skip_line)
                lex_error(&lx, peek(&lx)->line, "cannot parse this event");
            break; /* an unsupported construct: the rest need not parse */
        }
    }
    if (lx.have_peeked)
        free(lx.peeked.text);
    free(buf);
    if (lx.failed)
        return -1;
    if (sc->n_ev == 0 && !sc->skip_line) {
        ps_fail(r, 0, "parse error: the script has no events");
        return -1;
    }
    return 0;
}

void ps_script_free(struct ps_script *sc)
{
    for (int i = 0; i < sc->n_ev; i++) {
        struct ps_event *ev = &sc->ev[i];
        free(ev->text);
        free(ev->sc.name);
        free(ev->sc.errno_name);
        expr_free(ev->sc.result);
        for (int j = 0; j < ev->sc.n_args; j++)
            expr_free(ev->sc.args[j]);
        free(ev->sc.args);
    }
    free(sc->ev);
    for (int i = 0; i < sc->n_opts; i++)
        free(sc->opts[i]);
    free(sc->opts);
    free(sc->opt_lines);
    free(sc->opt_native);
    free(sc->path);
    memset(sc, 0, sizeof(*sc));
}

/* ---- formatting ------------------------------------------------------------ */

static uint32_t get32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void opts_str(const uint8_t *o, unsigned len, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
#define APPEND(...)                                                   \
    do {                                                              \
        int w_ = snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__); \
        if (w_ > 0)                                                   \
            n += (size_t)w_;                                          \
    } while (0)
    for (unsigned i = 0; i < len;) {
        if (i)
            APPEND(",");
        uint8_t kind = o[i];
        if (kind == TCPOPT_EOL || kind == TCPOPT_NOP) {
            APPEND(kind == TCPOPT_NOP ? "nop" : "eol");
            i++;
            continue;
        }
        uint8_t olen = i + 1 < len ? o[i + 1] : 0;
        if (olen < 2 || i + olen > len) {
            APPEND("<bad option %u>", kind);
            break;
        }
        const uint8_t *v = o + i + 2;
        if (kind == TCPOPT_MSS && olen == 4)
            APPEND("mss %u", (unsigned)(v[0] << 8 | v[1]));
        else if (kind == TCPOPT_WS && olen == 3)
            APPEND("wscale %u", v[0]);
        else if (kind == TCPOPT_SACK_OK && olen == 2)
            APPEND("sackOK");
        else if (kind == TCPOPT_TS && olen == 10)
            APPEND("TS val %u ecr %u", get32(v), get32(v + 4));
        else if (kind == TCPOPT_SACK && olen >= 10 && (olen - 2) % 8 == 0) {
            APPEND("sack");
            for (unsigned b = 0; b < (unsigned)(olen - 2) / 8; b++)
                APPEND(" %u:%u", get32(v + 8 * b), get32(v + 8 * b + 4));
        } else
            APPEND("opt%u len %u", kind, olen);
        i += olen;
    }
#undef APPEND
}

void ps_packet_str(const struct ps_packet *p, char *buf, size_t len)
{
    char flags[16], *f = flags;
    static const struct {
        uint8_t bit;
        char c;
    } names[] = {{TCP_F_FIN, 'F'}, {TCP_F_SYN, 'S'}, {TCP_F_RST, 'R'}, {TCP_F_PSH, 'P'},
                 {TCP_F_URG, 'U'}, {TCP_F_ECE, 'E'}, {TCP_F_CWR, 'W'}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (p->flags & names[i].bit)
            *f++ = names[i].c;
    if (p->flags & TCP_F_ACK)
        *f++ = '.';
    if (f == flags)
        *f++ = '-';
    *f = 0;
    char ports[24] = "", ack[24] = "", win[24] = "", urg[24] = "", opts[400] = "";
    if (p->sport)
        snprintf(ports, sizeof(ports), "%u>%u ", p->sport, p->dport);
    if (p->flags & TCP_F_ACK || p->ack)
        snprintf(ack, sizeof(ack), " ack %u", p->ack);
    if (p->win >= 0)
        snprintf(win, sizeof(win), " win %d", p->win);
    if (p->urg)
        snprintf(urg, sizeof(urg), " urg %u", p->urg);
    if (p->opts_nocheck) {
        snprintf(opts, sizeof(opts), " <...>");
    } else if (p->opts_len) {
        char o[380];
        opts_str(p->opts, p->opts_len, o, sizeof(o));
        snprintf(opts, sizeof(opts), " <%s>", o);
    }
    snprintf(buf, len, "%c %s%s %u:%u(%u)%s%s%s%s", p->inbound ? '<' : '>', ports, flags, p->seq,
             p->seq + p->len, p->len, ack, win, urg, opts);
}
