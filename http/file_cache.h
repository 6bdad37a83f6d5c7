/* http/file_cache.h: the server's open-file cache (nginx's open_file_cache,
 * with the bytes): request path -> a small regular file's contents and the
 * values of its response fields, so that a steady stream of requests for
 * the same file costs no file-system call at all. Private to http/.
 *
 * What goes in is decided by static.c, after its path checks passed: the
 * cache never resolves a path and never decides what may be served. It
 * only answers "is what was served for this key still what the file system
 * holds?" at most once per valid_ms: the request's path under the root
 * must still resolve (realpath) to the file that was read, and a stat of
 * it must show the same inode, device, size, mtime and ctime; else the
 * entry is dropped, and static.c takes its full path again (and may put
 * the file back). So a directory moved out of the root and replaced by a
 * symlink is noticed as static.c's own check would.
 *
 * Bounded: entry count, total bytes, bytes per file; least recently used
 * entries go first. A response holds a reference on the entry whose bytes
 * it sends (HTTP/2 sends them later, as the window allows). Held entries
 * are never evicted and still count, so clients that stall their streams
 * cannot pin more than the bounds: a file that would not fit beside them
 * is not taken (static.c then sends from the file). An entry dropped
 * because its file changed is freed when its last response is done. */
#ifndef SYNACK_HTTP_FILE_CACHE_H
#define SYNACK_HTTP_FILE_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/time.h"
#include "http/util.h"

#define FILE_ETAG_MAX 48

/* What a response about one regular file says of it besides its bytes:
 * computed once from a stat (static.c), then kept with the entry. */
struct file_meta {
    uint64_t size;
    int64_t mtime;                /* seconds since 1970 */
    const char *type;             /* Content-Type (static string) */
    size_t type_len;
    char etag[FILE_ETAG_MAX];     /* with its quotes */
    size_t etag_len;
    char lm[HTTP_DATE_LEN];       /* Last-Modified */
};

struct fc_entry {
    struct file_meta meta;
    char *data; /* meta.size bytes: filled between fc_prepare and fc_commit */
    /* private to file_cache.c */
    struct fc_entry *hnext;            /* hash chain */
    struct fc_entry *lru_prev, *lru_next;
    uint64_t hash;
    uint32_t refs;                     /* the table's own + one per response */
    int racy;                          /* changed too recently to trust a stat */
    sn_time checked;                   /* last time the stat agreed */
    dev_t dev;
    ino_t ino;
    off_t st_size;
    struct timespec st_mtim, st_ctim;
    size_t key_len;
    char *key;                         /* the normalized request path */
    char *stat_path;                   /* the request's path under the root */
    char *real;                        /* what it resolved to when read */
    struct file_cache *owner;          /* while in the table, else NULL */
};

struct fc_limits {
    uint32_t max_entries; /* 0: no cache */
    uint64_t max_bytes;   /* file bytes held at once */
    uint32_t max_file;    /* larger files are never cached */
    uint32_t valid_ms;    /* an entry is trusted this long between stats */
};

struct fc_stats {
    uint64_t hits;
    uint64_t misses;
    uint64_t revalidations; /* entries rechecked after valid_ms */
    uint64_t stale;         /* entries dropped because the file changed */
    uint64_t evictions;     /* entries dropped for room */
    uint32_t entries;       /* now */
    uint64_t bytes;         /* now */
};

struct file_cache {
    struct fc_limits lim;
    struct fc_entry **buckets;
    size_t n_buckets; /* a power of two */
    struct fc_entry *lru_head, *lru_tail; /* most recently used first */
    struct fc_stats st;
    uint32_t held_entries; /* in the table and held by a response */
    uint64_t held_bytes;
};

/* Sets up @fc (no allocation when lim->max_entries is 0). Returns 0 or
 * -ENOMEM. */
int fc_init(struct file_cache *fc, const struct fc_limits *lim);
/* Drops every entry (responses still holding one keep it until released)
 * and frees the table. */
void fc_free(struct file_cache *fc);

/* Writes the cache key of decoded path @path (repeated slashes collapsed,
 * as path resolution does) into @key (@cap bytes). Returns its length, or
 * -1 when it does not fit. */
long fc_key(const char *path, char *key, size_t cap);

/* The entry for @key, revalidated by one stat when its valid_ms ran out,
 * or NULL (absent, or dropped now because the file changed). The caller
 * borrows the entry until it returns to the loop; fc_hold to keep it. */
struct fc_entry *fc_lookup(struct file_cache *fc, const char *key, size_t key_len, sn_time now);

/* Whether a file of @size bytes would be taken: within the per-file
 * bound, and room for it once every entry not held is evicted. */
int fc_wants(const struct file_cache *fc, uint64_t size);

/* A new entry with room for @meta->size bytes at e->data, to fill and
 * then fc_commit; NULL when the file is not wanted or memory is short.
 * @stat_path: the request's path under the root, symlinks not resolved;
 * @real: what it resolves to, the file read (revalidation compares). */
struct fc_entry *fc_prepare(struct file_cache *fc, const char *key, size_t key_len,
                            const char *stat_path, const char *real,
                            const struct file_meta *meta);
/* Puts @e (filled) into the table as the current answer for its key,
 * replacing any older one and evicting least recently used entries to stay
 * within the bounds. @st: the stat the bytes were read under; @racy: the
 * file changed so recently that the same stat could hide a later change
 * (then the entry is trusted for valid_ms only, never renewed). Returns
 * @e. */
struct fc_entry *fc_commit(struct file_cache *fc, struct fc_entry *e, const struct stat *st,
                           int racy, sn_time now);
/* Frees an entry from fc_prepare that was not committed. */
void fc_discard(struct fc_entry *e);

void fc_hold(struct fc_entry *e);
void fc_release(struct fc_entry *e);

#endif
