/* The codec without sockets: client frames byte for byte, every server frame decoded, every
 * truncation and every kind of malformation rejected without reading past the end. */
#include "testkit.h"

#include <stdlib.h>
#include <string.h>

static pd_allocator plain_allocator(void)
{
    pd_allocator a;
    memset(&a, 0, sizeof a);
    pd_allocator_resolve(&a);
    return a;
}

/* ---- client frames ---- */
typedef int (*encode_fn)(const pd_frame_out *o);
static void expect_frame(encode_fn encode, const char *hex_body)
{
    pd_allocator a = plain_allocator();
    pd_buf buf = {0, 0, 0};
    pd_frame_out o;
    char hex[2048];
    o.buf = &buf;
    o.a = &a;
    o.max_frame = 65536;
    CHECK(encode(&o) == PD_OK);
    REQUIRE(buf.len >= 4);
    CHECK((size_t)((buf.data[0] << 24) | (buf.data[1] << 16) | (buf.data[2] << 8) | buf.data[3]) == buf.len - 4);
    tk_hex(buf.data + 4, buf.len - 4, hex, sizeof hex);
    if (strcmp(hex, hex_body) != 0) {
        fprintf(stderr, "  expected %s\n  got      %s\n", hex_body, hex);
        tk_failed = 1;
    }
    pd_buf_free(&buf, &a);
}

static int e_hello(const pd_frame_out *o) { return pd_encode_hello(o, 1, "alice", "game"); }
static int e_hello_noname(const pd_frame_out *o) { return pd_encode_hello(o, 1, "alice", NULL); }
static int e_join_plain(const pd_frame_out *o) { return pd_encode_join(o, 2, "lobby", 5, NULL, NULL, NULL); }
static int e_join_meta(const pd_frame_out *o)
{
    pd_bytes meta = {(const uint8_t *)"m", 1};
    return pd_encode_join(o, 2, "lobby", 5, &meta, NULL, NULL);
}
static int e_join_since(const pd_frame_out *o)
{
    pd_since since = {"ep", 2, 300};
    return pd_encode_join(o, 2, "lobby", 5, NULL, &since, NULL);
}
static int e_join_will(const pd_frame_out *o)
{
    pd_bytes will = {(const uint8_t *)"w", 1};
    return pd_encode_join(o, 2, "lobby", 5, NULL, NULL, &will);
}
static int e_leave(const pd_frame_out *o) { return pd_encode_room_op(o, PD_OP_LEAVE, 3, "r", 1); }
static int e_publish(const pd_frame_out *o)
{
    pd_bytes p = {(const uint8_t *)"\x00\xff", 2};
    return pd_encode_publish(o, 0, "r", 1, &p);
}
static int e_update_nil(const pd_frame_out *o) { return pd_encode_update(o, 5, "r", 1, NULL); }
static int e_presence(const pd_frame_out *o) { return pd_encode_presence(o, 6, "r", 1, 1000); }
static int e_presence_default(const pd_frame_out *o) { return pd_encode_presence(o, 6, "r", 1, -1); }
static int e_count(const pd_frame_out *o) { return pd_encode_room_op(o, PD_OP_COUNT, 7, "r", 1); }
static int e_ping(const pd_frame_out *o) { return pd_encode_ping(o, 70000); }
static int e_bye(const pd_frame_out *o) { return pd_encode_bye(o); }
static int e_online(const pd_frame_out *o)
{
    const char *users[] = {"a", "b"};
    return pd_encode_online(o, 10, users, 2);
}

static void client_frames(void)
{
    expect_frame(e_hello, "950101" "01" "a5616c696365" "a467616d65");
    expect_frame(e_hello_noname, "940101" "01" "a5616c696365");
    expect_frame(e_join_plain, "930202a56c6f626279");
    expect_frame(e_join_meta, "940202a56c6f626279c4016d");
    expect_frame(e_join_since, "950202a56c6f626279c092a26570cd012c");
    expect_frame(e_join_will, "960202a56c6f626279c0c0c40177");
    expect_frame(e_leave, "930303a172");
    expect_frame(e_publish, "940400a172c40200ff");
    expect_frame(e_update_nil, "940505a172c0");
    expect_frame(e_presence, "940606a172cd03e8");
    expect_frame(e_presence_default, "930606a172");
    expect_frame(e_count, "930707a172");
    expect_frame(e_ping, "9208ce00011170");
    expect_frame(e_bye, "9109");
    expect_frame(e_online, "930a0a92a161a162");
}

static void frame_over_max_frame_is_refused(void)
{
    pd_allocator a = plain_allocator();
    pd_buf buf = {0, 0, 0};
    pd_frame_out o;
    uint8_t big[100];
    pd_bytes p = {big, sizeof big};
    memset(big, 7, sizeof big);
    o.buf = &buf;
    o.a = &a;
    o.max_frame = 64;
    CHECK(pd_encode_ping(&o, 1) == PD_OK);
    CHECK(pd_encode_publish(&o, 2, "r", 1, &p) == PD_ERR_TOO_LARGE);
    CHECK(buf.len == 4 + 3); /* the refused frame left nothing behind */
    pd_buf_free(&buf, &a);
}

/* ---- server frames ---- */
static int decode_hex(const char *hex, pd_event *ev, char *err)
{
    static uint8_t bytes[4096];
    static pd_allocator a;
    pd_arena arena;
    size_t n = tk_unhex(hex, bytes, sizeof bytes);
    uint8_t *exact = (uint8_t *)malloc(n ? n : 1);
    int rc;
    a = plain_allocator();
    memcpy(exact, bytes, n);
    pd_arena_init(&arena, &a);
    rc = pd_decode_frame(exact, n, &arena, ev, err, 256);
    /* the arena is freed by the caller's next call: keep it simple, leak-free */
    pd_arena_free(&arena);
    free(exact);
    return rc;
}

static void every_server_frame_decodes(void)
{
    tk_frames f;
    size_t i;
    pd_allocator a = plain_allocator();
    pd_arena arena;
    tk_frames_build(&f);
    pd_arena_init(&arena, &a);
    for (i = 0; i < f.count; i++) {
        pd_event ev;
        char err[256], text[2048];
        int rc = pd_decode_frame(f.bodies[i].data, f.bodies[i].len, &arena, &ev, err, sizeof err);
        if (rc != PD_OK) {
            fprintf(stderr, "  frame %lu: %s\n", (unsigned long)i, err);
            tk_failed = 1;
            continue;
        }
        tk_event_text(&ev, text, sizeof text);
        switch (i) {
        case 0: CHECK(strstr(text, "WELCOME rid=1 ") && strstr(text, "user=alice conn=n1-1 node=n1 hb=5000 timeout=15000 max_frame=65536")); break;
        case 1: CHECK(strstr(text, "OK rid=7") != NULL); break;
        case 2: CHECK(strstr(text, "ERROR rid=3") && strstr(text, "code=NOT_JOINED") && strstr(text, "msg=not joined to this room")); break;
        case 3: CHECK(strstr(text, "room=lobby epoch=ep1 offset=41 recovered=1 total=2 members=[alice/n1-1:6d,bob/n1-2:-]") != NULL); break;
        case 4: CHECK(strstr(text, "room=lobby total=5 members=[alice/n1-1:]") != NULL); break;
        case 5: CHECK(strstr(text, "leaves=[bob/n1-2:-] joins=[bob/n1-2:6e6577]") != NULL); break;
        case 6: CHECK(strstr(text, "MESSAGE") && strstr(text, "from=bob/n1-2 offset=42 payload=68656c6c6f00ff")); break;
        case 7: CHECK(strstr(text, "COUNT_STATE rid=5") && strstr(text, "connections=3 users=2")); break;
        case 8: CHECK(strstr(text, "PONG rid=9") != NULL); break;
        case 9: CHECK(strstr(text, "GOAWAY") && strstr(text, "code=SHUTDOWN reconnect_ms=700 msg=server shutting down")); break;
        case 10: CHECK(strstr(text, "ONLINE_STATE rid=6") && strstr(text, "users=[alice,bob]")); break;
        case 11: CHECK(strstr(text, "room=lobby from=bob/n1-2 offset=42 payload=68656c6c6f") != NULL); break;
        case 12: CHECK(strstr(text, "OK rid=8") != NULL); break;
        case 13: CHECK(strstr(text, "JOINED rid=2") && strstr(text, "room=roo epoch= offset=0 recovered=0 total=1 members=[u/c:6d]")); break;
        default: break;
        }
        if (tk_failed) fprintf(stderr, "  frame %lu: %s\n", (unsigned long)i, text);
        pd_arena_reset(&arena);
    }
    pd_arena_free(&arena);
    tk_frames_free(&f);
}

static void every_truncation_is_an_error(void)
{
    tk_frames f;
    size_t i, cut;
    pd_allocator a = plain_allocator();
    pd_arena arena;
    tk_frames_build(&f);
    pd_arena_init(&arena, &a);
    for (i = 0; i < f.count; i++) {
        for (cut = 0; cut < f.bodies[i].len; cut++) {
            pd_event ev;
            char err[256];
            /* an exact-size copy, so a read past the end is a sanitizer error */
            uint8_t *copy = (uint8_t *)malloc(cut ? cut : 1);
            int rc;
            memcpy(copy, f.bodies[i].data, cut);
            rc = pd_decode_frame(copy, cut, &arena, &ev, err, sizeof err);
            if (rc != PD_ERR_PROTOCOL) {
                fprintf(stderr, "  frame %lu cut at %lu: rc %d\n", (unsigned long)i, (unsigned long)cut, rc);
                tk_failed = 1;
            }
            free(copy);
            pd_arena_reset(&arena);
        }
    }
    pd_arena_free(&arena);
    tk_frames_free(&f);
}

static void malformed_frames_are_errors(void)
{
    static const char *const bad[] = {
        "",                         /* nothing */
        "c0",                       /* not an array */
        "90",                       /* empty array */
        "9200",                     /* op 0 */
        "92ff01",                   /* op -1 */
        "92cd010001",               /* op 256 */
        "92a14101",                 /* op as str */
        "924101c0",                 /* trailing bytes */
        "9141",                     /* OK without rid */
        "9241ff",                   /* negative rid */
        "9241cf0000000100000000",   /* rid over uint32 */
        "944206ff" "a0",            /* negative error code */
        "944206cd0100" "a0",        /* error code 256 */
        "9446a0a0a0a0",             /* MESSAGE too short */
        "9646a0a0a0a000",           /* payload as str */
        "9646a0a0a0c40100",         /* payload longer than the bytes left (bin8 1, then 0: offset missing) */
        "9646a0a0a0c4ff",           /* bin length past the end */
        "9646a0a0a0c400ff",         /* negative offset */
        "9446a0dd7fffffff",         /* array count past the end */
        "9445a091939393",           /* members nested wrong */
        "9445a0dc7fff",             /* member count past the end */
        "9445a09192a0a0" "90",      /* member with two fields */
        "9445a09193a0a0a0" "90",    /* meta as str */
        "9241c1",                   /* 0xc1 */
        "9341" "01" "c1",           /* 0xc1 in an extra element */
        "9341" "01" "81a0",         /* map with a missing value */
        "9341" "01" "d9ff",         /* str8 past the end */
        "9341" "01" "c7ff05",       /* ext8 past the end */
        "9343" "01" "a0",           /* JOINED too short */
        "984301a0a0009093c0",       /* recovered missing and members wrong */
    };
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pd_event ev;
        char err[256];
        int rc = decode_hex(bad[i], &ev, err);
        if (rc != PD_ERR_PROTOCOL) {
            fprintf(stderr, "  accepted %s (rc %d)\n", bad[i], rc);
            tk_failed = 1;
        }
    }
}

static void deep_nesting_is_bounded(void)
{
    char hex[4096] = "9341" "01";
    size_t i;
    pd_event ev;
    char err[256];
    for (i = 0; i < 200; i++) strcat(hex, "91");
    strcat(hex, "c0");
    CHECK(decode_hex(hex, &ev, err) == PD_ERR_PROTOCOL);
    CHECK(strstr(err, "nesting") != NULL);
}

static void unknown_ops_are_ignored(void)
{
    pd_event ev;
    char err[256];
    CHECK(decode_hex("9363" "a178" "c0", &ev, err) == PD_OK); /* op 99 */
    CHECK(ev.type == PD_EV_NONE);
    CHECK(decode_hex("91" "05", &ev, err) == PD_OK); /* a client op from the server: not ours either */
}

static void names_are_never_null(void)
{
    int i;
    for (i = -30; i < 300; i++) {
        CHECK(pd_strerror(i) != NULL);
        CHECK(pd_code_name(i) != NULL);
        CHECK(pd_op_name(i) != NULL);
        CHECK(pd_state_name(i) != NULL);
    }
    CHECK(strcmp(pd_code_name(PD_CODE_NOT_JOINED), "NOT_JOINED") == 0);
    CHECK(strcmp(pd_code_name(99), "UNKNOWN") == 0);
    CHECK(strcmp(pd_op_name(PD_OP_PRESENCE_DIFF), "PRESENCE_DIFF") == 0);
    CHECK(strcmp(pd_strerror(PD_ERR_TIMEOUT), "timed out") == 0);
}

static void hostile_allocator_never_crashes_the_decoder(void)
{
    tk_frames f;
    size_t i;
    long n;
    tk_frames_build(&f);
    for (n = 1; n < 4; n++) {
        for (i = 0; i < f.count; i++) {
            tk_alloc state;
            pd_allocator a;
            pd_arena arena;
            pd_event ev;
            char err[256];
            int rc;
            memset(&state, 0, sizeof state);
            state.fail_at = n;
            a = tk_allocator(&state);
            pd_arena_init(&arena, &a);
            rc = pd_decode_frame(f.bodies[i].data, f.bodies[i].len, &arena, &ev, err, sizeof err);
            CHECK(rc == PD_OK || rc == PD_ERR_NOMEM);
            pd_arena_free(&arena);
            CHECK(state.live_bytes == 0);
        }
    }
    tk_frames_free(&f);
}

int main(int argc, char **argv)
{
    static const tk_test tests[] = {
        {"client_frames", client_frames},
        {"frame_over_max_frame_is_refused", frame_over_max_frame_is_refused},
        {"every_server_frame_decodes", every_server_frame_decodes},
        {"every_truncation_is_an_error", every_truncation_is_an_error},
        {"malformed_frames_are_errors", malformed_frames_are_errors},
        {"deep_nesting_is_bounded", deep_nesting_is_bounded},
        {"unknown_ops_are_ignored", unknown_ops_are_ignored},
        {"names_are_never_null", names_are_never_null},
        {"hostile_allocator_never_crashes_the_decoder", hostile_allocator_never_crashes_the_decoder},
    };
    return tk_run("codec", tests, sizeof tests / sizeof tests[0], argc, argv);
}
