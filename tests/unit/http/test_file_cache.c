/* tests/unit/http/test_file_cache.c: the open-file cache (http/file_cache.c)
 * on its own, over files in a temporary directory: hits, the one stat
 * that revalidates an entry once valid_ms ran out (size, mtime, inode,
 * removal, a racy entry), the bounds (entries, bytes, bytes per file) with
 * least-recently-used eviction, responses holding entries past their
 * eviction, and the key's normalization. The server-level behaviour
 * (traversal, conditionals and ranges from the cache) is in
 * test_http_pair.c. */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/file_cache.h"

#define VALID_MS 1000

struct fx {
    char dir[64];
    struct file_cache fc;
    sn_time now;
};

static void path_of(const struct fx *f, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", f->dir, name);
}

/* Writes @len bytes of @fill to @name. */
static void put_file(const struct fx *f, const char *name, char fill, size_t len)
{
    char p[128];
    path_of(f, name, p, sizeof(p));
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    for (size_t i = 0; i < len; i++)
        fputc(fill, fp);
    assert_int_equal(fclose(fp), 0);
}

/* Sets @name's mtime to @sec (and nanoseconds 0). */
static void set_mtime(const struct fx *f, const char *name, time_t sec)
{
    char p[128];
    path_of(f, name, p, sizeof(p));
    struct timespec ts[2] = {{sec, 0}, {sec, 0}};
    assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
}

/* What static.c does on a miss, minus the HTTP: stat, read, commit. */
static struct fc_entry *load(struct fx *f, const char *key, const char *name, int racy)
{
    char p[128];
    path_of(f, name, p, sizeof(p));
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    struct file_meta m = {.size = (uint64_t)st.st_size, .mtime = st.st_mtim.tv_sec};
    char real[PATH_MAX];
    assert_non_null(realpath(p, real));
    struct fc_entry *e = fc_prepare(&f->fc, key, strlen(key), p, real, &m);
    if (!e)
        return NULL;
    int fd = open(p, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, e->data, m.size), (ssize_t)m.size);
    close(fd);
    return fc_commit(&f->fc, e, &st, racy, f->now);
}

static struct fc_entry *lookup(struct fx *f, const char *key)
{
    return fc_lookup(&f->fc, key, strlen(key), f->now);
}

static int setup_with(void **state, uint32_t entries, uint64_t bytes, uint32_t max_file)
{
    struct fx *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/synack-fcache.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    struct fc_limits l = {entries, bytes, max_file, VALID_MS};
    if (fc_init(&f->fc, &l) < 0)
        return -1;
    f->now = SN_SEC(100);
    *state = f;
    return 0;
}

static int setup(void **state) { return setup_with(state, 4, 1000, 400); }

static int teardown(void **state)
{
    struct fx *f = *state;
    fc_free(&f->fc);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void hit_until_valid_ms_then_one_stat(void **state)
{
    struct fx *f = *state;
    put_file(f, "a.txt", 'a', 100);
    set_mtime(f, "a.txt", 1000000);
    assert_null(lookup(f, "/a.txt"));
    assert_int_equal(f->fc.st.misses, 1);
    assert_non_null(load(f, "/a.txt", "a.txt", 0));
    for (int i = 0; i < 10; i++) {
        f->now += SN_MSEC(99);
        struct fc_entry *e = lookup(f, "/a.txt");
        assert_non_null(e);
        assert_int_equal(e->meta.size, 100);
        assert_int_equal(e->data[0], 'a');
        assert_int_equal(e->data[99], 'a');
    }
    assert_int_equal(f->fc.st.hits, 10);
    assert_int_equal(f->fc.st.revalidations, 0); /* 990 ms: no stat yet */
    f->now += SN_MSEC(10);
    assert_non_null(lookup(f, "/a.txt")); /* a stat, and the file is the same */
    assert_int_equal(f->fc.st.revalidations, 1);
    f->now += SN_MSEC(999);
    assert_non_null(lookup(f, "/a.txt")); /* trusted again for valid_ms */
    assert_int_equal(f->fc.st.revalidations, 1);
    assert_int_equal(f->fc.st.stale, 0);
    assert_int_equal(f->fc.st.entries, 1);
    assert_int_equal(f->fc.st.bytes, 100);
}

static void size_change_drops_after_valid_ms(void **state)
{
    struct fx *f = *state;
    put_file(f, "a.txt", 'a', 100);
    set_mtime(f, "a.txt", 1000000);
    assert_non_null(load(f, "/a.txt", "a.txt", 0));
    put_file(f, "a.txt", 'b', 101);
    set_mtime(f, "a.txt", 1000000); /* only the size tells */
    f->now += SN_MSEC(500);
    assert_non_null(lookup(f, "/a.txt")); /* within valid_ms: the old bytes */
    f->now += SN_MSEC(500);
    assert_null(lookup(f, "/a.txt"));
    assert_int_equal(f->fc.st.stale, 1);
    assert_int_equal(f->fc.st.entries, 0);
    assert_int_equal(f->fc.st.bytes, 0);
    struct fc_entry *e = load(f, "/a.txt", "a.txt", 0);
    assert_int_equal(e->meta.size, 101);
    assert_int_equal(e->data[0], 'b');
}

static void mtime_change_drops(void **state)
{
    struct fx *f = *state;
    put_file(f, "a.txt", 'a', 100);
    set_mtime(f, "a.txt", 1000000);
    assert_non_null(load(f, "/a.txt", "a.txt", 0));
    set_mtime(f, "a.txt", 1000001); /* same size, same inode */
    f->now += SN_SEC(1);
    assert_null(lookup(f, "/a.txt"));
    assert_int_equal(f->fc.st.stale, 1);
}

static void replaced_or_removed_drops(void **state)
{
    struct fx *f = *state;
    char a[128], tmp[128];
    path_of(f, "a.txt", a, sizeof(a));
    path_of(f, "new.txt", tmp, sizeof(tmp));
    put_file(f, "a.txt", 'a', 100);
    set_mtime(f, "a.txt", 1000000);
    assert_non_null(load(f, "/a.txt", "a.txt", 0));
    /* Renamed over: same size and mtime, another inode. */
    put_file(f, "new.txt", 'n', 100);
    set_mtime(f, "new.txt", 1000000);
    assert_int_equal(rename(tmp, a), 0);
    f->now += SN_SEC(1);
    assert_null(lookup(f, "/a.txt"));
    assert_non_null(load(f, "/a.txt", "a.txt", 0));
    assert_int_equal(unlink(a), 0);
    f->now += SN_SEC(1);
    assert_null(lookup(f, "/a.txt"));
    assert_int_equal(f->fc.st.stale, 2);
    assert_int_equal(f->fc.st.entries, 0);
}

/* The same file (same inode, size and times) reached through a new path:
 * its directory moved away and a symlink put in its place. The request's
 * path no longer resolves to what was read, so the entry goes (static.c
 * then refuses a path that leaves the root). */
static void path_resolving_elsewhere_drops(void **state)
{
    struct fx *f = *state;
    char sub[128], away[128];
    path_of(f, "sub", sub, sizeof(sub));
    path_of(f, "away", away, sizeof(away));
    assert_int_equal(mkdir(sub, 0755), 0);
    put_file(f, "sub/a", 'a', 100);
    set_mtime(f, "sub/a", 1000000);
    assert_non_null(load(f, "/sub/a", "sub/a", 0));
    assert_int_equal(rename(sub, away), 0);
    assert_int_equal(symlink("away", sub), 0);
    f->now += SN_SEC(1);
    assert_null(lookup(f, "/sub/a"));
    assert_int_equal(f->fc.st.stale, 1);
}

static void racy_entry_is_not_renewed(void **state)
{
    struct fx *f = *state;
    put_file(f, "a.txt", 'a', 100);
    assert_non_null(load(f, "/a.txt", "a.txt", 1));
    f->now += SN_MSEC(999);
    assert_non_null(lookup(f, "/a.txt"));
    f->now += SN_MSEC(1);
    assert_null(lookup(f, "/a.txt")); /* unchanged stat, but not trusted */
    assert_int_equal(f->fc.st.stale, 1);
}

static void evicts_least_recently_used_at_entry_bound(void **state)
{
    struct fx *f = *state; /* 4 entries */
    const char *names[5] = {"f0", "f1", "f2", "f3", "f4"};
    char keys[5][8];
    for (int i = 0; i < 5; i++) {
        put_file(f, names[i], (char)('0' + i), 10);
        snprintf(keys[i], sizeof(keys[i]), "/%s", names[i]);
    }
    for (int i = 0; i < 4; i++)
        assert_non_null(load(f, keys[i], names[i], 0));
    assert_non_null(lookup(f, keys[0])); /* f1 is now the least recent */
    assert_non_null(load(f, keys[4], names[4], 0));
    assert_int_equal(f->fc.st.entries, 4);
    assert_int_equal(f->fc.st.evictions, 1);
    assert_null(lookup(f, keys[1]));
    for (int i = 0; i < 5; i++)
        if (i != 1)
            assert_non_null(lookup(f, keys[i]));
}

static void evicts_at_byte_bound_and_skips_big_files(void **state)
{
    struct fx *f = *state; /* 1000 bytes, 400 per file */
    put_file(f, "a", 'a', 400);
    put_file(f, "b", 'b', 400);
    put_file(f, "c", 'c', 300);
    put_file(f, "big", 'x', 401);
    assert_non_null(load(f, "/a", "a", 0));
    assert_non_null(load(f, "/b", "b", 0));
    assert_non_null(load(f, "/c", "c", 0)); /* 1100 > 1000: "/a" goes */
    assert_int_equal(f->fc.st.bytes, 700);
    assert_int_equal(f->fc.st.evictions, 1);
    assert_null(lookup(f, "/a"));
    assert_false(fc_wants(&f->fc, 401));
    assert_true(fc_wants(&f->fc, 400));
    assert_null(load(f, "/big", "big", 0));
    assert_int_equal(f->fc.st.entries, 2);
}

/* What a response holds is never evicted and still counts: clients that
 * stall their streams cannot pin more than the bounds (a file that does not
 * fit beside the held ones is not taken). An entry dropped because its file
 * changed stays readable until its last response lets go. */
static void held_entries_stay_and_count(void **state)
{
    struct fx *f = *state;
    put_file(f, "a", 'a', 400);
    put_file(f, "b", 'b', 400);
    put_file(f, "c", 'c', 400);
    put_file(f, "d", 'd', 400);
    struct fc_entry *a = load(f, "/a", "a", 0);
    fc_hold(a); /* a response sending it */
    assert_non_null(load(f, "/b", "b", 0));
    struct fc_entry *c = load(f, "/c", "c", 0); /* 1200 > 1000: "/b" goes, not "/a" */
    assert_non_null(c);
    assert_ptr_equal(lookup(f, "/a"), a);
    assert_null(lookup(f, "/b"));
    fc_hold(c);
    assert_int_equal(f->fc.held_bytes, 800);
    assert_false(fc_wants(&f->fc, 400)); /* 800 held + 400 > 1000 */
    assert_null(load(f, "/d", "d", 0));
    assert_true(fc_wants(&f->fc, 200));
    fc_release(c);
    assert_int_equal(f->fc.held_bytes, 400);
    assert_non_null(load(f, "/d", "d", 0)); /* now "/c" can go */
    assert_null(lookup(f, "/c"));
    assert_ptr_equal(lookup(f, "/a"), a);
    /* "/a" changes on disk while held: dropped at its next check, its
     * bytes readable until released (ASan checks the free). */
    put_file(f, "a", 'A', 10);
    f->now += SN_SEC(1);
    assert_null(lookup(f, "/a"));
    assert_int_equal(f->fc.held_bytes, 0);
    for (int i = 0; i < 400; i++)
        assert_int_equal(a->data[i], 'a');
    fc_release(a);
    assert_int_equal(f->fc.st.entries, 1);
    assert_int_equal(f->fc.st.bytes, 400);
}

static void key_collapses_slashes(void **state)
{
    (void)state;
    char k[16];
    assert_int_equal(fc_key("//a///b/", k, sizeof(k)), 5);
    assert_string_equal(k, "/a/b/");
    assert_int_equal(fc_key("/x.html", k, sizeof(k)), 7);
    assert_string_equal(k, "/x.html");
    assert_int_equal(fc_key("/0123456789abcde", k, sizeof(k)), -1); /* 16 + NUL */
    assert_int_equal(fc_key("/0123456789abcd", k, sizeof(k)), 15);
}

static void no_cache_when_disabled(void **state)
{
    (void)state;
    struct file_cache fc;
    struct fc_limits l = {0, 1000, 400, VALID_MS};
    assert_int_equal(fc_init(&fc, &l), 0);
    assert_false(fc_wants(&fc, 1));
    assert_null(fc_lookup(&fc, "/a", 2, 0));
    struct file_meta m = {.size = 1};
    assert_null(fc_prepare(&fc, "/a", 2, "/tmp/a", "/tmp/a", &m));
    fc_free(&fc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hit_until_valid_ms_then_one_stat, setup, teardown),
        cmocka_unit_test_setup_teardown(size_change_drops_after_valid_ms, setup, teardown),
        cmocka_unit_test_setup_teardown(mtime_change_drops, setup, teardown),
        cmocka_unit_test_setup_teardown(replaced_or_removed_drops, setup, teardown),
        cmocka_unit_test_setup_teardown(racy_entry_is_not_renewed, setup, teardown),
        cmocka_unit_test_setup_teardown(evicts_least_recently_used_at_entry_bound, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(evicts_at_byte_bound_and_skips_big_files, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(held_entries_stay_and_count, setup, teardown),
        cmocka_unit_test_setup_teardown(path_resolving_elsewhere_drops, setup, teardown),
        cmocka_unit_test(key_collapses_slashes),
        cmocka_unit_test(no_cache_when_disabled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
