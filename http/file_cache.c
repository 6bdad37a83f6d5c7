/* http/file_cache.c: the open-file cache (see file_cache.h): a chained hash
 * table on the request path, an LRU list, reference counts, and the one
 * stat that revalidates an entry. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "http/file_cache.h"

/* FNV-1a. The keys are attacker-chosen, but only paths of files that exist
 * under the root get in, at most max_entries of them, so a chain is never
 * longer than the files the operator put there. */
static uint64_t key_hash(const char *k, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

int fc_init(struct file_cache *fc, const struct fc_limits *lim)
{
    memset(fc, 0, sizeof(*fc));
    fc->lim = *lim;
    if (!lim->max_entries)
        return 0;
    size_t n = 16;
    while (n < 2 * (size_t)lim->max_entries && n < ((size_t)1 << 24))
        n *= 2;
    fc->buckets = calloc(n, sizeof(*fc->buckets));
    if (!fc->buckets)
        return -ENOMEM;
    fc->n_buckets = n;
    return 0;
}

long fc_key(const char *path, char *key, size_t cap)
{
    size_t o = 0;
    for (const char *s = path; *s; s++) {
        if (*s == '/' && o > 0 && key[o - 1] == '/')
            continue;
        if (o + 1 >= cap)
            return -1;
        key[o++] = *s;
    }
    if (o >= cap)
        return -1;
    key[o] = 0;
    return (long)o;
}

/* The table's reference plus one: the first response holds the entry. */
static void held_add(struct fc_entry *e, int sign)
{
    if (e->owner && e->refs == 2) {
        e->owner->held_entries += (uint32_t)sign;
        e->owner->held_bytes += (uint64_t)(int64_t)sign * e->meta.size;
    }
}

void fc_hold(struct fc_entry *e)
{
    e->refs++;
    held_add(e, 1);
}

void fc_release(struct fc_entry *e)
{
    held_add(e, -1);
    if (--e->refs == 0)
        free(e);
}

void fc_discard(struct fc_entry *e) { free(e); }

static void lru_unlink(struct file_cache *fc, struct fc_entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        fc->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        fc->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct file_cache *fc, struct fc_entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = fc->lru_head;
    if (fc->lru_head)
        fc->lru_head->lru_prev = e;
    fc->lru_head = e;
    if (!fc->lru_tail)
        fc->lru_tail = e;
}

/* Takes @e out of the table and drops the table's reference. */
static void drop(struct file_cache *fc, struct fc_entry *e)
{
    struct fc_entry **pp = &fc->buckets[e->hash & (fc->n_buckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(fc, e);
    fc->st.entries--;
    fc->st.bytes -= e->meta.size;
    held_add(e, -1);
    e->owner = NULL;
    fc_release(e);
}

void fc_free(struct file_cache *fc)
{
    while (fc->lru_head)
        drop(fc, fc->lru_head);
    free(fc->buckets);
    fc->buckets = NULL;
    fc->n_buckets = 0;
}

static struct fc_entry *find(const struct file_cache *fc, const char *key, size_t key_len,
                             uint64_t h)
{
    for (struct fc_entry *e = fc->buckets[h & (fc->n_buckets - 1)]; e; e = e->hnext)
        if (e->hash == h && e->key_len == key_len && memcmp(e->key, key, key_len) == 0)
            return e;
    return NULL;
}

/* Whether the file at e->stat_path is still the one whose bytes we hold. */
static int still_same(const struct fc_entry *e, const struct stat *st)
{
    return S_ISREG(st->st_mode) && st->st_dev == e->dev && st->st_ino == e->ino &&
           st->st_size == e->st_size && st->st_mtim.tv_sec == e->st_mtim.tv_sec &&
           st->st_mtim.tv_nsec == e->st_mtim.tv_nsec && st->st_ctim.tv_sec == e->st_ctim.tv_sec &&
           st->st_ctim.tv_nsec == e->st_ctim.tv_nsec;
}

struct fc_entry *fc_lookup(struct file_cache *fc, const char *key, size_t key_len, sn_time now)
{
    if (!fc->n_buckets)
        return NULL;
    struct fc_entry *e = find(fc, key, key_len, key_hash(key, key_len));
    if (!e) {
        fc->st.misses++;
        return NULL;
    }
    if (now - e->checked >= SN_MSEC(fc->lim.valid_ms)) {
        /* One stat, following symlinks as the request's path would: a
         * file replaced, rewritten, or a link pointed elsewhere all show. */
        struct stat st;
        char real[PATH_MAX];
        fc->st.revalidations++;
        if (e->racy || !realpath(e->stat_path, real) || strcmp(real, e->real) != 0 ||
            stat(real, &st) < 0 || !still_same(e, &st)) {
            fc->st.stale++;
            fc->st.misses++;
            drop(fc, e);
            return NULL;
        }
        e->checked = now;
    }
    fc->st.hits++;
    if (fc->lru_head != e) {
        lru_unlink(fc, e);
        lru_push_front(fc, e);
    }
    return e;
}

int fc_wants(const struct file_cache *fc, uint64_t size)
{
    return fc->n_buckets && size <= fc->lim.max_file && fc->held_bytes <= fc->lim.max_bytes &&
           size <= fc->lim.max_bytes - fc->held_bytes && fc->held_entries < fc->lim.max_entries;
}

struct fc_entry *fc_prepare(struct file_cache *fc, const char *key, size_t key_len,
                            const char *stat_path, const char *real,
                            const struct file_meta *meta)
{
    if (!fc_wants(fc, meta->size))
        return NULL;
    size_t sp_len = strlen(stat_path), rl_len = strlen(real);
    /* One allocation: the entry, its three strings, then the bytes. */
    struct fc_entry *e =
        malloc(sizeof(*e) + key_len + 1 + sp_len + 1 + rl_len + 1 + (size_t)meta->size);
    if (!e)
        return NULL;
    memset(e, 0, sizeof(*e));
    e->meta = *meta;
    e->key = (char *)(e + 1);
    memcpy(e->key, key, key_len);
    e->key[key_len] = 0;
    e->key_len = key_len;
    e->stat_path = e->key + key_len + 1;
    memcpy(e->stat_path, stat_path, sp_len + 1);
    e->real = e->stat_path + sp_len + 1;
    memcpy(e->real, real, rl_len + 1);
    e->data = e->real + rl_len + 1;
    e->hash = key_hash(key, key_len);
    return e;
}

struct fc_entry *fc_commit(struct file_cache *fc, struct fc_entry *e, const struct stat *st,
                           int racy, sn_time now)
{
    struct fc_entry *old = find(fc, e->key, e->key_len, e->hash);
    if (old)
        drop(fc, old);
    /* Least recently used first, but not what a response holds (fc_wants
     * made sure the rest makes room). */
    struct fc_entry *v = fc->lru_tail;
    while (v && (fc->st.entries + 1 > fc->lim.max_entries ||
                 fc->st.bytes + e->meta.size > fc->lim.max_bytes)) {
        struct fc_entry *prev = v->lru_prev;
        if (v->refs == 1) {
            fc->st.evictions++;
            drop(fc, v);
        }
        v = prev;
    }
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->st_size = st->st_size;
    e->st_mtim = st->st_mtim;
    e->st_ctim = st->st_ctim;
    e->racy = racy;
    e->checked = now;
    e->refs = 1;
    e->owner = fc;
    struct fc_entry **b = &fc->buckets[e->hash & (fc->n_buckets - 1)];
    e->hnext = *b;
    *b = e;
    lru_push_front(fc, e);
    fc->st.entries++;
    fc->st.bytes += e->meta.size;
    return e;
}
