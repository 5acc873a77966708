/* The client against a fake server in this process that sends hostile, truncated and oddly split
 * frames: each must end in an error event (or be decoded right), never a crash or an overread. */
#define _POSIX_C_SOURCE 200809L
#include "testkit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct fake {
    int listener, conn, port;
} fake;

static int fake_open(fake *f)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int one = 1;
    memset(f, 0, sizeof *f);
    f->conn = -1;
    f->listener = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(f->listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(f->listener, (struct sockaddr *)&a, sizeof a) != 0 || listen(f->listener, 4) != 0) return -1;
    getsockname(f->listener, (struct sockaddr *)&a, &len);
    f->port = ntohs(a.sin_port);
    fcntl(f->listener, F_SETFL, O_NONBLOCK);
    return 0;
}

static void fake_close(fake *f)
{
    if (f->conn >= 0) close(f->conn);
    close(f->listener);
}

/* Pumps the client until the fake has accepted and read a whole HELLO; checks the HELLO's bytes. */
static int fake_accept_hello(fake *f, tk_peer *p)
{
    uint8_t buf[512];
    size_t have = 0;
    uint64_t until = tk_now_ms() + 3000;
    while (tk_now_ms() < until) {
        pd_client_poll(p->c, 5);
        if (f->conn < 0) {
            f->conn = accept(f->listener, NULL, NULL);
            continue;
        }
        {
            ssize_t n = recv(f->conn, buf + have, sizeof buf - have, MSG_DONTWAIT);
            if (n > 0) have += (size_t)n;
        }
        if (have >= 4 && have >= 4 + (size_t)buf[3]) {
            /* [1, rid, 1, "hostile", "presenced-c"]; rid is 1 for the first HELLO, then counts up */
            static const uint8_t expected[] = {0x95, 0x01, 0x01, 0x01, 0xa7, 'h', 'o', 's', 't', 'i', 'l', 'e', 0xab,
                                               'p', 'r', 'e', 's', 'e', 'n', 'c', 'e', 'd', '-', 'c'};
            CHECK(buf[3] == sizeof expected);
            CHECK(buf[4] == expected[0] && buf[5] == expected[1] && buf[6] >= 1 && buf[6] <= 0x7f);
            if (memcmp(buf + 7, expected + 3, sizeof expected - 3) != 0) {
                char hex[1100];
                tk_hex(buf, have, hex, sizeof hex);
                fprintf(stderr, "  HELLO bytes: %s\n", hex);
                tk_failed = 1;
            }
            return 0;
        }
    }
    fprintf(stderr, "  the fake server got no HELLO\n");
    tk_failed = 1;
    return -1;
}

static void send_hex(fake *f, const char *hex)
{
    static uint8_t bytes[70000];
    size_t n = tk_unhex(hex, bytes, sizeof bytes);
    CHECK(send(f->conn, bytes, n, 0) == (ssize_t)n);
}

/* A frame: the length prefix is computed from the body. */
static void send_frame(fake *f, const char *body_hex)
{
    uint8_t body[4096], frame[4100];
    size_t n = tk_unhex(body_hex, body, sizeof body);
    frame[0] = (uint8_t)(n >> 24);
    frame[1] = (uint8_t)(n >> 16);
    frame[2] = (uint8_t)(n >> 8);
    frame[3] = (uint8_t)n;
    memcpy(frame + 4, body, n);
    CHECK(send(f->conn, frame, n + 4, 0) == (ssize_t)(n + 4));
}

#define WELCOME_BODY "9840" "01" "a7686f7374696c65" "a3632d31" "a26e31" "cd03e8" "cd0bb8" "ce00010000"

static void no_reconnect(pd_options *o) { o->auto_reconnect = 0; }

/* Runs one scenario: fake server, client, HELLO, then `script` sends; returns the peer for checks. */
static tk_peer *start(fake *f, tk_tweak tweak)
{
    tk_peer *p;
    if (fake_open(f) != 0) return NULL;
    p = tk_peer_new_unconnected("hostile", f->port, tweak ? tweak : no_reconnect);
    if (p == NULL) return NULL;
    pd_client_connect(p->c);
    if (fake_accept_hello(f, p) != 0) {
        tk_peer_free(p);
        return NULL;
    }
    return p;
}

#define TAKE(p, ...)                                                     \
    do {                                                                 \
        char *line_ = tk_wait((p), 3000, __VA_ARGS__, NULL);             \
        if (line_ == NULL) tk_failed = 1;                                \
        free(line_);                                                     \
    } while (0)

static void garbage_after_welcome(void)
{
    fake f;
    tk_peer *p = start(&f, NULL);
    REQUIRE(p != NULL);
    send_frame(&f, WELCOME_BODY);
    send_frame(&f, "c1c1c1");
    TAKE(p, "WELCOME", "user=hostile conn=c-1 node=n1 hb=1000 timeout=3000 max_frame=65536");
    TAKE(p, "DISCONNECTED", "err=PROTOCOL", "will_reconnect=0");
    CHECK(pd_client_state(p->c) == PD_STATE_DISCONNECTED);
    tk_peer_free(p);
    fake_close(&f);
}

static void huge_declared_length_is_not_allocated(void)
{
    fake f;
    tk_peer *p = start(&f, NULL);
    REQUIRE(p != NULL);
    send_frame(&f, WELCOME_BODY);
    send_hex(&f, "7fffffff" "9241");
    TAKE(p, "DISCONNECTED", "err=FRAME_TOO_LARGE");
    CHECK(p->alloc.peak_bytes < 1024 * 1024);
    tk_peer_free(p);
    fake_close(&f);
}

static void zero_length_frame(void)
{
    fake f;
    tk_peer *p = start(&f, NULL);
    REQUIRE(p != NULL);
    send_hex(&f, "00000000");
    TAKE(p, "DISCONNECTED", "err=PROTOCOL");
    tk_peer_free(p);
    fake_close(&f);
}

static void truncated_frame_then_close(void)
{
    fake f;
    tk_peer *p = start(&f, NULL);
    REQUIRE(p != NULL);
    send_frame(&f, WELCOME_BODY);
    send_hex(&f, "00000020" "9646a1" "72a162"); /* 7 of the 32 bytes declared */
    close(f.conn);
    f.conn = -1;
    TAKE(p, "DISCONNECTED", "err=CLOSED");
    CHECK(!tk_seen(p, "MESSAGE"));
    tk_peer_free(p);
    fake_close(&f);
}

static void frames_before_welcome(void)
{
    fake f;
    tk_peer *p = start(&f, NULL);
    REQUIRE(p != NULL);
    send_frame(&f, "9646a172a162a163c40100" "00");
    TAKE(p, "DISCONNECTED", "err=PROTOCOL", "MESSAGE before WELCOME");
    tk_peer_free(p);
    fake_close(&f);
}

static void lying_counts(void)
{
    static const char *const bodies[] = {
        "dd7fffffff4101",                    /* array32 count far past the end */
        "9845" "a0" "dd00ffffff",            /* members count far past the end */
        "984301a0a000dc7fff",                /* JOINED members array16 past the end */
        "9446a0a0a0c6ffffffff",              /* bin32 length past the end */
        "934a01dd0000ffff",                  /* ONLINE_STATE users past the end */
    };
    size_t i;
    for (i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        fake f;
        tk_peer *p = start(&f, NULL);
        REQUIRE(p != NULL);
        send_frame(&f, WELCOME_BODY);
        send_frame(&f, bodies[i]);
        TAKE(p, "DISCONNECTED", "err=PROTOCOL");
        tk_peer_free(p);
        fake_close(&f);
    }
}

static void odd_but_valid_frames(void)
{
    fake f;
    tk_peer *p = start(&f, NULL);
    REQUIRE(p != NULL);
    send_frame(&f, WELCOME_BODY);
    send_frame(&f, "9363a178c0");                    /* an op this library does not know: ignored */
    send_frame(&f, "9441" "05" "81a0c0" "c0");        /* OK with extra elements */
    send_frame(&f, "9248" "00");                      /* PONG for rid 0: a heartbeat, swallowed */
    send_frame(&f, "dc0006" "46" "a172" "a162" "a163" "c4026869" "00"); /* MESSAGE with an array16 header */
    TAKE(p, "OK rid=5");
    TAKE(p, "MESSAGE", "room=r from=b/c offset=0 payload=6869");
    CHECK(!tk_seen(p, "PONG"));
    CHECK(!tk_seen(p, "DISCONNECTED"));
    CHECK(pd_client_state(p->c) == PD_STATE_CONNECTED);
    tk_peer_free(p);
    fake_close(&f);
}

static void byte_by_byte_and_coalesced(void)
{
    fake f;
    uint8_t frame[256];
    size_t n, i;
    tk_peer *p = start(&f, NULL);
    REQUIRE(p != NULL);
    n = tk_unhex("00000000" WELCOME_BODY, frame, sizeof frame);
    frame[3] = (uint8_t)(n - 4);
    for (i = 0; i < n; i++) {
        CHECK(send(f.conn, frame + i, 1, 0) == 1);
        pd_client_poll(p->c, 1);
    }
    TAKE(p, "WELCOME");
    /* three frames in one write */
    send_hex(&f, "00000003" "924107" "00000003" "924108" "00000003" "924109");
    TAKE(p, "OK rid=7");
    TAKE(p, "OK rid=8");
    TAKE(p, "OK rid=9");
    tk_peer_free(p);
    fake_close(&f);
}

static void refused_hello(void)
{
    fake f;
    tk_peer *p = start(&f, NULL);
    REQUIRE(p != NULL);
    send_frame(&f, "944201" "03" "a3626164");
    send_frame(&f, "9449" "03" "a3626164" "00");
    close(f.conn);
    f.conn = -1;
    TAKE(p, "ERROR", "op=HELLO", "code=AUTH");
    TAKE(p, "GOAWAY", "code=AUTH");
    TAKE(p, "DISCONNECTED", "err=REFUSED code=AUTH will_reconnect=0");
    tk_peer_free(p);
    fake_close(&f);
}

static void keep_reconnecting(pd_options *o) { o->backoff_initial_ms = 50; }

static void reconnects_after_a_hostile_frame_run(void)
{
    fake f;
    tk_peer *p = start(&f, keep_reconnecting);
    REQUIRE(p != NULL);
    send_frame(&f, WELCOME_BODY);
    send_frame(&f, "9241c1");
    TAKE(p, "DISCONNECTED", "err=PROTOCOL", "will_reconnect=1");
    close(f.conn);
    f.conn = -1;
    REQUIRE(fake_accept_hello(&f, p) == 0); /* it came back */
    send_frame(&f, WELCOME_BODY);
    TAKE(p, "WELCOME", "reconnected=1");
    tk_peer_free(p);
    fake_close(&f);
}

static void small_send_buffer(pd_options *o)
{
    o->auto_reconnect = 0;
    o->max_send_buffer = 256 * 1024;
}

static void a_server_that_stops_reading(void)
{
    fake f;
    static uint8_t payload[60000];
    int i, full = 0;
    uint64_t began;
    tk_peer *p = start(&f, small_send_buffer);
    REQUIRE(p != NULL);
    send_frame(&f, WELCOME_BODY);
    TAKE(p, "WELCOME");
    /* the fake never reads again: the kernel's buffers fill, then the client's own queue */
    for (i = 0; i < 2000 && !full; i++) {
        int rc = pd_publish(p->c, "r", payload, sizeof payload, NULL);
        if (rc == PD_ERR_BUFFER_FULL) full = 1;
        else CHECK(rc == PD_OK);
        pd_client_poll(p->c, 0);
    }
    CHECK(full);
    CHECK(pd_client_want_write(p->c));
    began = tk_now_ms();
    CHECK(pd_client_poll(p->c, 100) == 0); /* waits for writability, no busy loop, no event */
    CHECK(tk_now_ms() - began >= 90);
    CHECK(pd_client_state(p->c) == PD_STATE_CONNECTED);
    tk_peer_free(p);
    fake_close(&f);
}

int main(int argc, char **argv)
{
    static const tk_test tests[] = {
        {"garbage_after_welcome", garbage_after_welcome},
        {"huge_declared_length_is_not_allocated", huge_declared_length_is_not_allocated},
        {"zero_length_frame", zero_length_frame},
        {"truncated_frame_then_close", truncated_frame_then_close},
        {"frames_before_welcome", frames_before_welcome},
        {"lying_counts", lying_counts},
        {"odd_but_valid_frames", odd_but_valid_frames},
        {"byte_by_byte_and_coalesced", byte_by_byte_and_coalesced},
        {"refused_hello", refused_hello},
        {"reconnects_after_a_hostile_frame", reconnects_after_a_hostile_frame_run},
        {"a_server_that_stops_reading", a_server_that_stops_reading},
    };
    return tk_run("hostile", tests, sizeof tests / sizeof tests[0], argc, argv);
}
