/* Valid server frame bodies, every op and some unusual encodings: the codec tests' inputs and the
 * fuzz test's seeds. */
#include "testkit.h"

#include <stdlib.h>
#include <string.h>

static pd_allocator plain;

static pd_writer begin(tk_frames *f)
{
    pd_writer w;
    f->bodies = (pd_buf *)realloc(f->bodies, (f->count + 1) * sizeof *f->bodies);
    memset(&f->bodies[f->count], 0, sizeof f->bodies[0]);
    w.buf = &f->bodies[f->count++];
    w.a = &plain;
    w.failed = 0;
    return w;
}

static void s(pd_writer *w, const char *text) { pd_mp_write_str(w, text, strlen(text)); }
static void b(pd_writer *w, const char *text) { pd_mp_write_bin(w, text, strlen(text)); }
static void member(pd_writer *w, const char *user, const char *conn, const char *meta)
{
    pd_mp_write_array(w, 3);
    s(w, user);
    s(w, conn);
    if (meta) b(w, meta);
    else pd_mp_write_nil(w);
}
static void raw(pd_writer *w, const char *hex)
{
    uint8_t bytes[512];
    size_t n = tk_unhex(hex, bytes, sizeof bytes);
    pd_buf_append(w->buf, w->a, bytes, n);
}

void tk_frames_build(tk_frames *f)
{
    pd_writer w;
    pd_allocator_resolve(&plain);
    f->bodies = NULL;
    f->count = 0;

    w = begin(f); /* WELCOME */
    pd_mp_write_array(&w, 8); pd_mp_write_uint(&w, 64); pd_mp_write_uint(&w, 1);
    s(&w, "alice"); s(&w, "n1-1"); s(&w, "n1"); pd_mp_write_int(&w, 5000); pd_mp_write_int(&w, 15000); pd_mp_write_int(&w, 65536);

    w = begin(f); /* OK */
    pd_mp_write_array(&w, 2); pd_mp_write_uint(&w, 65); pd_mp_write_uint(&w, 7);

    w = begin(f); /* ERROR */
    pd_mp_write_array(&w, 4); pd_mp_write_uint(&w, 66); pd_mp_write_uint(&w, 3); pd_mp_write_uint(&w, 5);
    s(&w, "not joined to this room");

    w = begin(f); /* JOINED */
    pd_mp_write_array(&w, 8); pd_mp_write_uint(&w, 67); pd_mp_write_uint(&w, 2); s(&w, "lobby"); s(&w, "ep1");
    pd_mp_write_uint(&w, 41); pd_mp_write_array(&w, 2); member(&w, "alice", "n1-1", "m"); member(&w, "bob", "n1-2", NULL);
    pd_mp_write_bool(&w, 1); pd_mp_write_int(&w, 2);

    w = begin(f); /* PRESENCE_STATE */
    pd_mp_write_array(&w, 5); pd_mp_write_uint(&w, 68); pd_mp_write_uint(&w, 4); s(&w, "lobby");
    pd_mp_write_array(&w, 1); member(&w, "alice", "n1-1", ""); pd_mp_write_int(&w, 5);

    w = begin(f); /* PRESENCE_DIFF: an UPDATE (leave with the old meta, join with the new) */
    pd_mp_write_array(&w, 4); pd_mp_write_uint(&w, 69); s(&w, "lobby");
    pd_mp_write_array(&w, 1); member(&w, "bob", "n1-2", "new");
    pd_mp_write_array(&w, 1); member(&w, "bob", "n1-2", NULL);

    w = begin(f); /* MESSAGE */
    pd_mp_write_array(&w, 6); pd_mp_write_uint(&w, 70); s(&w, "lobby"); s(&w, "bob"); s(&w, "n1-2");
    pd_mp_write_bin(&w, "hello\0\xff", 7); pd_mp_write_uint(&w, 42);

    w = begin(f); /* COUNT_STATE */
    pd_mp_write_array(&w, 5); pd_mp_write_uint(&w, 71); pd_mp_write_uint(&w, 5); s(&w, "lobby");
    pd_mp_write_int(&w, 3); pd_mp_write_int(&w, 2);

    w = begin(f); /* PONG */
    pd_mp_write_array(&w, 2); pd_mp_write_uint(&w, 72); pd_mp_write_uint(&w, 9);

    w = begin(f); /* GOAWAY */
    pd_mp_write_array(&w, 4); pd_mp_write_uint(&w, 73); pd_mp_write_uint(&w, 12); s(&w, "server shutting down");
    pd_mp_write_int(&w, 700);

    w = begin(f); /* ONLINE_STATE */
    pd_mp_write_array(&w, 3); pd_mp_write_uint(&w, 74); pd_mp_write_uint(&w, 6);
    pd_mp_write_array(&w, 2); s(&w, "alice"); s(&w, "bob");

    /* MESSAGE in wide forms: array16, uint16 op, str8/str16/str32, bin32, uint64 offset */
    w = begin(f);
    raw(&w, "dc0006" "cd0046" "d9056c6f626279" "da0003626f62" "db000000046e312d32" "c60000000568656c6c6f"
            "cf000000000000002a");

    /* OK with extra trailing elements of every kind: map, float, ext, nested arrays */
    w = begin(f);
    raw(&w, "96" "41" "08" "81a16b01" "cb3ff8000000000000" "d40501" "929101c0");

    /* JOINED whose member has a fourth field; rid as int8, offset as int16, total as int32 */
    w = begin(f);
    raw(&w, "98" "43" "d002" "a3726f6f" "a0" "d10000" "91" "94a175a163c4016dc3" "c2" "d200000001");
}

void tk_frames_free(tk_frames *f)
{
    size_t i;
    for (i = 0; i < f->count; i++) pd_buf_free(&f->bodies[i], &plain);
    free(f->bodies);
    f->bodies = NULL;
    f->count = 0;
}
