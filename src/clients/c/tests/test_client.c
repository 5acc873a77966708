/* The C client against the real daemon (PRESENCED_BIN, started here on a free loopback port with
 * heartbeat 1 s / timeout 3 s and history for rooms h-*): every op, heartbeats, wills, recovery,
 * refusals, local errors, the pull and external-poller modes, failing allocators, and reconnects
 * after the daemon is killed and after it drains. */
#define _POSIX_C_SOURCE 200809L
#include "testkit.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define WAIT 5000
#define TAKE(p, ...) take_line(tk_wait((p), WAIT, __VA_ARGS__, NULL), #__VA_ARGS__)

/* Frees a matched line; a missing one fails the test. Returns whether it was there. */
static int take_line(char *line, const char *what)
{
    if (line == NULL) {
        fprintf(stderr, "  missing: %s\n", what);
        tk_failed = 1;
        return 0;
    }
    free(line);
    return 1;
}

static const char *rid_text(uint32_t rid)
{
    static char text[8][32];
    static int next;
    char *t = text[next++ & 7];
    snprintf(t, 32, "rid=%lu ", (unsigned long)rid);
    return t;
}

/* ---- the session ---- */
static void hello_gives_a_session(void)
{
    tk_peer *a = tk_peer_new("alice", 0, NULL);
    REQUIRE(a != NULL);
    CHECK(pd_client_state(a->c) == PD_STATE_CONNECTED);
    CHECK(strcmp(pd_client_user(a->c), "alice") == 0);
    CHECK(strlen(pd_client_conn(a->c)) > 0);
    CHECK(pd_client_socket(a->c) != PD_INVALID_SOCKET);
    tk_peer_free(a);
}

static void welcome_fields(void)
{
    tk_peer *a = tk_peer_new_unconnected("alice", 0, NULL);
    REQUIRE(a != NULL);
    CHECK(pd_client_connect(a->c) == PD_OK);
    TAKE(a, "WELCOME", "op=HELLO", "user=alice", "hb=1000 timeout=3000 max_frame=65536 reconnected=0");
    tk_peer_free(a);
}

static void every_room_op(void)
{
    tk_peer *a = tk_peer_new("alice", 0, NULL), *b = tk_peer_new("bob", 0, NULL);
    const char *users[] = {"alice", "bob", "nobody"};
    uint32_t rid = 0;
    char *line;
    REQUIRE(a != NULL && b != NULL);

    CHECK(pd_join(a->c, "r1", "m-a", 3, NULL, 0, &rid) == PD_OK);
    TAKE(a, "JOINED", rid_text(rid), "op=JOIN", "room=r1 epoch= offset=0 recovered=0 total=1 members=[alice/", ":6d2d61]");
    CHECK(pd_join(b->c, "r1", "m-b", 3, NULL, 0, &rid) == PD_OK);
    TAKE(b, "JOINED", rid_text(rid), "total=2", "alice/", ":6d2d61", "bob/", ":6d2d62");
    TAKE(a, "PRESENCE_DIFF", "room=r1 leaves=[] joins=[bob/", ":6d2d62]");

    /* PUBLISH, acknowledged and not; binary bytes arrive as they were sent */
    CHECK(pd_publish(a->c, "r1", "\x00\xff\xc1hi", 5, &rid) == PD_OK);
    TAKE(a, "OK", rid_text(rid), "op=PUBLISH");
    TAKE(b, "MESSAGE", "room=r1 from=alice/", "offset=0 payload=00ffc16869");
    CHECK(pd_publish(a->c, "r1", "x", 1, NULL) == PD_OK);
    TAKE(b, "MESSAGE", "payload=78");
    CHECK(pd_publish(a->c, "r1", NULL, 0, NULL) == PD_OK);
    line = tk_wait(b, WAIT, "MESSAGE", "from=alice/", NULL);
    CHECK(line != NULL && strcmp(line + strlen(line) - 8, "payload=") == 0); /* an empty payload */
    free(line);
    CHECK(pd_ping(a->c, &rid) == PD_OK);
    TAKE(a, "PONG", rid_text(rid), "op=PING");
    CHECK(!tk_seen(a, "MESSAGE")); /* the publisher does not get its own */

    /* UPDATE: a leave with the old meta and a join with the new, in one diff */
    CHECK(pd_update(b->c, "r1", "m-b2", 4, &rid) == PD_OK);
    TAKE(b, "OK", rid_text(rid), "op=UPDATE");
    TAKE(a, "PRESENCE_DIFF", "leaves=[bob/", ":6d2d62]", "joins=[bob/", ":6d2d6232]");
    CHECK(pd_update(b->c, "r1", NULL, 0, &rid) == PD_OK);
    TAKE(b, "OK", rid_text(rid));
    TAKE(a, "PRESENCE_DIFF", "leaves=[bob/", ":6d2d6232]", ":-]");
    CHECK(pd_update(b->c, "r1", "", 0, &rid) == PD_OK);
    TAKE(b, "OK", rid_text(rid));
    TAKE(a, "PRESENCE_DIFF", "leaves=[bob/", ":-] joins=[bob/", ":]");

    /* PRESENCE, COUNT, ONLINE */
    CHECK(pd_presence(a->c, "r1", -1, &rid) == PD_OK);
    TAKE(a, "PRESENCE_STATE", rid_text(rid), "op=PRESENCE", "room=r1 total=2", "alice/", "bob/");
    CHECK(pd_presence(a->c, "r1", 1, &rid) == PD_OK);
    line = tk_wait(a, WAIT, "PRESENCE_STATE", rid_text(rid), "total=2", NULL);
    CHECK(line != NULL && strchr(strstr(line, "members=["), ',') == NULL);
    free(line);
    CHECK(pd_presence(a->c, "r1", 0, &rid) == PD_OK);
    TAKE(a, "PRESENCE_STATE", rid_text(rid), "total=2 members=[]");
    CHECK(pd_presence(b->c, "nobody-here", -1, &rid) == PD_OK); /* a lobby may look without joining */
    TAKE(b, "PRESENCE_STATE", rid_text(rid), "room=nobody-here total=0 members=[]");
    CHECK(pd_count(a->c, "r1", &rid) == PD_OK);
    TAKE(a, "COUNT_STATE", rid_text(rid), "op=COUNT", "room=r1 connections=2 users=2");
    CHECK(pd_online(a->c, users, 3, &rid) == PD_OK);
    TAKE(a, "ONLINE_STATE", rid_text(rid), "op=ONLINE", "users=[alice,bob]");

    /* LEAVE, then what needs membership is refused */
    CHECK(pd_leave(b->c, "r1", &rid) == PD_OK);
    TAKE(b, "OK", rid_text(rid), "op=LEAVE");
    TAKE(a, "PRESENCE_DIFF", "room=r1 leaves=[bob/", "joins=[]");
    CHECK(pd_publish(b->c, "r1", "late", 4, &rid) == PD_OK);
    TAKE(b, "ERROR", rid_text(rid), "op=PUBLISH", "code=NOT_JOINED");
    CHECK(pd_join(b->c, "", NULL, 0, NULL, 0, &rid) == PD_OK);
    TAKE(b, "ERROR", rid_text(rid), "op=JOIN", "code=BAD_REQUEST");
    CHECK(pd_join(b->c, "bad\x01name", NULL, 0, NULL, 0, &rid) == PD_OK);
    TAKE(b, "ERROR", rid_text(rid), "op=JOIN", "code=BAD_REQUEST room=bad");
    tk_peer_free(a);
    tk_peer_free(b);
}

static void same_user_on_two_connections(void)
{
    tk_peer *a1 = tk_peer_new("carol", 0, NULL), *a2 = tk_peer_new("carol", 0, NULL);
    uint32_t rid;
    REQUIRE(a1 != NULL && a2 != NULL);
    CHECK(pd_join(a1->c, "r-two", NULL, 0, NULL, 0, &rid) == PD_OK);
    TAKE(a1, "JOINED", "total=1");
    CHECK(pd_join(a2->c, "r-two", NULL, 0, NULL, 0, &rid) == PD_OK);
    TAKE(a2, "JOINED", "total=2");
    CHECK(pd_publish(a1->c, "r-two", "hey", 3, NULL) == PD_OK);
    TAKE(a2, "MESSAGE", "from=carol/", "payload=686579"); /* the same user's other connection gets it */
    CHECK(pd_count(a1->c, "r-two", &rid) == PD_OK);
    TAKE(a1, "COUNT_STATE", "connections=2 users=1");
    tk_peer_free(a1);
    tk_peer_free(a2);
}

/* ---- leaving ---- */
static void drop_delivers_the_will_and_rejoins(void)
{
    tk_peer *a = tk_peer_new("alice", 0, NULL), *b = tk_peer_new("bob", 0, NULL);
    uint32_t rid;
    REQUIRE(a != NULL && b != NULL);
    CHECK(pd_join(a->c, "r-will", "ma", 2, "bye!", 4, &rid) == PD_OK);
    TAKE(a, "JOINED", "room=r-will");
    CHECK(pd_join(b->c, "r-will", NULL, 0, NULL, 0, &rid) == PD_OK);
    TAKE(b, "JOINED", "total=2");
    CHECK(pd_client_drop(a->c) == PD_OK);
    TAKE(a, "DISCONNECTED", "err=DROPPED", "will_reconnect=1");
    TAKE(b, "MESSAGE", "room=r-will from=alice/", "payload=62796521");
    TAKE(b, "PRESENCE_DIFF", "leaves=[alice/");
    /* back by itself, with its meta, in the room it had joined */
    TAKE(a, "WELCOME", "reconnected=1");
    TAKE(a, "JOINED", "op=JOIN internal=1", "room=r-will", "recovered=0");
    TAKE(b, "PRESENCE_DIFF", "joins=[alice/", ":6d61]");
    tk_peer_free(a);
    tk_peer_free(b);
}

static void close_says_bye_without_the_will(void)
{
    tk_peer *a = tk_peer_new("alice", 0, NULL), *b = tk_peer_new("bob", 0, NULL);
    uint32_t rid;
    REQUIRE(a != NULL && b != NULL);
    CHECK(pd_join(a->c, "r-bye", NULL, 0, "will", 4, &rid) == PD_OK);
    TAKE(a, "JOINED", "room=r-bye");
    CHECK(pd_join(b->c, "r-bye", NULL, 0, NULL, 0, &rid) == PD_OK);
    TAKE(b, "JOINED", "total=2");
    CHECK(pd_client_close(a->c, 1000) == PD_OK);
    CHECK(pd_client_state(a->c) == PD_STATE_CLOSED);
    CHECK(pd_client_poll(a->c, 0) == 0);
    CHECK(pd_publish(a->c, "r-bye", "x", 1, NULL) == PD_ERR_NOT_CONNECTED);
    TAKE(b, "PRESENCE_DIFF", "leaves=[alice/");
    CHECK(!tk_seen(b, "MESSAGE"));
    tk_peer_free(a);
    tk_peer_free(b);
}

static void heartbeats_keep_an_idle_session(void)
{
    tk_peer *a = tk_peer_new("alice", 0, NULL), *b = tk_peer_new("bob", 0, NULL);
    uint32_t rid;
    REQUIRE(a != NULL && b != NULL);
    CHECK(pd_join(a->c, "r-idle", NULL, 0, NULL, 0, &rid) == PD_OK);
    CHECK(pd_join(b->c, "r-idle", NULL, 0, NULL, 0, &rid) == PD_OK);
    TAKE(b, "JOINED", "total=2");
    tk_pump(4500); /* longer than heartbeat_timeout (3 s): only the library's PINGs keep it alive */
    CHECK(!tk_seen(a, "DISCONNECTED"));
    CHECK(!tk_seen(b, "PRESENCE_DIFF"));
    CHECK(!tk_seen(a, "PONG")); /* heartbeat replies are the library's, not events */
    CHECK(pd_client_state(a->c) == PD_STATE_CONNECTED);
    tk_peer_free(a);
    tk_peer_free(b);
}

/* ---- recovery ---- */
static void slow_backoff(pd_options *o)
{
    o->backoff_initial_ms = 800;
}

static void rejoin_recovers_missed_messages(void)
{
    tk_peer *a = tk_peer_new("alice", 0, slow_backoff), *b = tk_peer_new("bob", 0, NULL);
    uint32_t rid, r2, r3;
    char *line;
    REQUIRE(a != NULL && b != NULL);
    CHECK(pd_join(a->c, "h-1", NULL, 0, NULL, 0, &rid) == PD_OK);
    line = tk_wait(a, WAIT, "JOINED", "room=h-1", "offset=0", NULL);
    CHECK(line != NULL && strstr(line, "epoch= ") == NULL); /* a history room has an epoch */
    free(line);
    CHECK(pd_join(b->c, "h-1", NULL, 0, NULL, 0, &rid) == PD_OK);
    TAKE(b, "JOINED", "total=2");
    CHECK(pd_publish(b->c, "h-1", "m1", 2, &rid) == PD_OK);
    TAKE(a, "MESSAGE", "offset=1 payload=6d31");
    CHECK(pd_client_drop(a->c) == PD_OK);
    TAKE(a, "DISCONNECTED", "will_reconnect=1");
    CHECK(pd_publish(b->c, "h-1", "m2", 2, &r2) == PD_OK);
    CHECK(pd_publish(b->c, "h-1", "m3", 2, &r3) == PD_OK);
    TAKE(b, "OK", rid_text(r3));
    TAKE(a, "WELCOME", "reconnected=1");
    TAKE(a, "JOINED", "internal=1", "room=h-1", "offset=3 recovered=1");
    TAKE(a, "MESSAGE", "offset=2 payload=6d32");
    TAKE(a, "MESSAGE", "offset=3 payload=6d33");
    CHECK(!tk_seen(a, "payload=6d31")); /* nothing twice */
    tk_peer_free(a);
    tk_peer_free(b);
}

/* ---- refusals and local errors ---- */
static void refused_hello_stops(void)
{
    tk_peer *a = tk_peer_new_unconnected("", 0, NULL), *b = tk_peer_new_unconnected("x\x01y", 0, NULL);
    REQUIRE(a != NULL && b != NULL);
    CHECK(pd_client_connect(a->c) == PD_OK);
    TAKE(a, "ERROR", "op=HELLO", "code=BAD_REQUEST");
    TAKE(a, "GOAWAY", "code=BAD_REQUEST");
    TAKE(a, "DISCONNECTED", "err=REFUSED code=BAD_REQUEST will_reconnect=0");
    CHECK(pd_client_state(a->c) == PD_STATE_DISCONNECTED);
    CHECK(pd_client_connect(b->c) == PD_OK);
    TAKE(b, "DISCONNECTED", "err=REFUSED", "will_reconnect=0");
    tk_peer_free(a);
    tk_peer_free(b);
}

static void local_errors(void)
{
    pd_options o;
    pd_client *c = NULL;
    tk_peer *a;
    static uint8_t big[70000];
    uint32_t rid;
    pd_options_init(&o);
    CHECK(pd_client_create(&o, &c) == PD_ERR_INVALID); /* no credential */
    CHECK(pd_client_create(NULL, &c) == PD_ERR_INVALID);
    CHECK(pd_client_poll(NULL, 0) == PD_ERR_INVALID);
    a = tk_peer_new_unconnected("alice", 0, NULL);
    REQUIRE(a != NULL);
    CHECK(pd_join(a->c, "r", NULL, 0, NULL, 0, &rid) == PD_ERR_NOT_CONNECTED);
    CHECK(pd_client_drop(a->c) == PD_ERR_NOT_CONNECTED);
    CHECK(pd_client_connect(a->c) == PD_OK);
    TAKE(a, "WELCOME");
    CHECK(pd_join(a->c, NULL, NULL, 0, NULL, 0, &rid) == PD_ERR_INVALID);
    CHECK(pd_publish(a->c, "r", NULL, 5, NULL) == PD_ERR_INVALID);
    CHECK(pd_join(a->c, "r-big", NULL, 0, NULL, 0, &rid) == PD_OK);
    TAKE(a, "JOINED", "room=r-big");
    CHECK(pd_publish(a->c, "r-big", big, sizeof big, &rid) == PD_ERR_TOO_LARGE); /* over WELCOME's max_frame */
    CHECK(pd_publish(a->c, "r-big", big, 60000, &rid) == PD_OK);
    TAKE(a, "OK", rid_text(rid));
    CHECK(pd_client_state(a->c) == PD_STATE_CONNECTED);
    tk_peer_free(a);
}

/* A clock the test moves by hand. */
static uint64_t fake_now;
static uint64_t fake_clock(void *ctx) { (void)ctx; return fake_now; }
static void with_fake_clock(pd_options *o)
{
    o->clock_ms = fake_clock;
    o->request_timeout_ms = 1000;
}

static void timeouts_on_a_fake_clock(void)
{
    tk_peer *a;
    uint32_t rid;
    fake_now = 1000000;
    a = tk_peer_new("alice", 0, with_fake_clock);
    REQUIRE(a != NULL);
    CHECK(pd_ping(a->c, &rid) == PD_OK);
    CHECK(pd_client_timeout_ms(a->c) >= 0 && pd_client_timeout_ms(a->c) <= 1000);
    fake_now += 1500; /* past request_timeout_ms, before timeout_ms */
    TAKE(a, "REQUEST_FAILED", rid_text(rid), "op=PING", "err=TIMEOUT");
    TAKE(a, "PONG", rid_text(rid), "op=-"); /* the late reply no longer matches a request */
    fake_now += 10000; /* nothing "heard" for longer than timeout_ms */
    TAKE(a, "DISCONNECTED", "err=TIMEOUT", "will_reconnect=1", "nothing heard");
    tk_peer_free(a);
}

/* ---- the other ways to drive it ---- */
static void pull_mode_with_own_poller(void)
{
    tk_alloc state;
    pd_options o;
    pd_client *c;
    pd_event ev;
    tk_peer *b = tk_peer_new("bob", 0, NULL);
    int joined = 0, got = 0, welcomed = 0;
    uint64_t until = tk_now_ms() + WAIT;
    uint32_t rid;
    REQUIRE(b != NULL);
    memset(&state, 0, sizeof state);
    pd_options_init(&o);
    o.port = (uint16_t)tk_the_daemon.port;
    o.credential = "puller";
    o.allocator = tk_allocator(&state);
    REQUIRE(pd_client_create(&o, &c) == PD_OK);
    CHECK(pd_client_connect(c) == PD_OK);
    while (tk_now_ms() < until && !got) {
        struct pollfd p;
        int timeout = pd_client_timeout_ms(c);
        p.fd = pd_client_socket(c);
        p.events = (short)(POLLIN | (pd_client_want_write(c) ? POLLOUT : 0));
        p.revents = 0;
        if (timeout < 0 || timeout > 20) timeout = 20;
        (void)poll(&p, p.fd >= 0 ? 1 : 0, timeout);
        CHECK(pd_client_poll(c, 0) >= 0);
        while (pd_client_next_event(c, &ev) == 1) {
            if (ev.type == PD_EV_WELCOME) {
                welcomed = 1;
                CHECK(pd_join(c, "r-pull", NULL, 0, NULL, 0, &rid) == PD_OK);
            }
            if (ev.type == PD_EV_JOINED) {
                joined = 1;
                CHECK(pd_join(b->c, "r-pull", NULL, 0, NULL, 0, &rid) == PD_OK);
            }
            if (ev.type == PD_EV_PRESENCE_DIFF && ev.presence_diff.join_count == 1)
                CHECK(pd_publish(b->c, "r-pull", "pulled", 6, NULL) == PD_OK);
            if (ev.type == PD_EV_MESSAGE) {
                got = ev.message.payload.len == 6 && memcmp(ev.message.payload.ptr, "pulled", 6) == 0;
                CHECK(strcmp(ev.message.from_user.ptr, "bob") == 0);
            }
        }
        tk_pump(0);
    }
    CHECK(welcomed && joined && got);
    pd_client_close(c, 500);
    pd_client_free(c);
    CHECK(state.live_bytes == 0 && state.live_blocks == 0);
    tk_peer_free(b);
}

static void failing_allocator_never_crashes(void)
{
    long n;
    for (n = 1; n <= 60; n++) {
        tk_alloc state;
        pd_options o;
        pd_client *c = NULL;
        pd_event ev;
        uint32_t rid;
        uint64_t until = tk_now_ms() + 1500;
        int rc, done = 0;
        memset(&state, 0, sizeof state);
        state.fail_at = n;
        pd_options_init(&o);
        o.port = (uint16_t)tk_the_daemon.port;
        o.credential = "frail";
        o.auto_reconnect = 0;
        o.allocator = tk_allocator(&state);
        rc = pd_client_create(&o, &c);
        if (rc != PD_OK) {
            CHECK(rc == PD_ERR_NOMEM && c == NULL);
            CHECK(state.live_bytes == 0);
            continue;
        }
        (void)pd_client_connect(c);
        while (!done && tk_now_ms() < until && pd_client_state(c) != PD_STATE_DISCONNECTED) {
            pd_client_poll(c, 10);
            while (pd_client_next_event(c, &ev) == 1) {
                if (ev.type == PD_EV_WELCOME && pd_join(c, "r-frail", "m", 1, NULL, 0, &rid) != PD_OK) done = 1;
                if (ev.type == PD_EV_JOINED && pd_publish(c, "r-frail", "p", 1, &rid) != PD_OK) done = 1;
                if (ev.type == PD_EV_OK || ev.type == PD_EV_REQUEST_FAILED || ev.type == PD_EV_DISCONNECTED) done = 1;
            }
        }
        pd_client_close(c, 200);
        pd_client_free(c);
        CHECK(state.live_bytes == 0 && state.live_blocks == 0 && !state.size_mismatch);
    }
}

/* ---- the daemon goes away ---- */
static void quick_backoff(pd_options *o)
{
    o->backoff_initial_ms = 100;
    o->backoff_max_ms = 500;
}

static void reconnect_after_daemon_restart(void)
{
    tk_peer *a = tk_peer_new("alice", 0, quick_backoff), *b = tk_peer_new("bob", 0, quick_backoff);
    uint32_t rid;
    REQUIRE(a != NULL && b != NULL);
    CHECK(pd_join(a->c, "r-restart", "ma", 2, NULL, 0, &rid) == PD_OK);
    CHECK(pd_join(a->c, "h-restart", NULL, 0, NULL, 0, &rid) == PD_OK);
    TAKE(a, "JOINED", "room=h-restart");
    CHECK(pd_join(b->c, "r-restart", NULL, 0, NULL, 0, &rid) == PD_OK);
    TAKE(b, "JOINED", "room=r-restart", "total=2");
    tk_daemon_kill(&tk_the_daemon);
    TAKE(a, "DISCONNECTED", "will_reconnect=1");
    TAKE(b, "DISCONNECTED", "will_reconnect=1");
    REQUIRE(tk_daemon_start(&tk_the_daemon, tk_the_daemon.port) == 0);
    TAKE(a, "WELCOME", "reconnected=1");
    TAKE(a, "JOINED", "internal=1", "room=r-restart");
    TAKE(a, "JOINED", "internal=1", "room=h-restart", "recovered=0"); /* a new epoch: history was lost */
    TAKE(b, "WELCOME", "reconnected=1");
    TAKE(b, "JOINED", "internal=1", "room=r-restart");
    CHECK(pd_publish(a->c, "r-restart", "again", 5, &rid) == PD_OK);
    TAKE(b, "MESSAGE", "room=r-restart from=alice/", "payload=616761696e");
    tk_peer_free(a);
    tk_peer_free(b);
}

static void goaway_on_drain_is_honoured(void)
{
    tk_peer *a = tk_peer_new("alice", 0, quick_backoff);
    char *line;
    long reconnect_ms = -1, retry_ms = -1;
    uint32_t rid;
    REQUIRE(a != NULL);
    CHECK(pd_join(a->c, "r-drain", NULL, 0, NULL, 0, &rid) == PD_OK);
    TAKE(a, "JOINED", "room=r-drain");
    tk_daemon_terminate(&tk_the_daemon);
    line = tk_wait(a, WAIT, "GOAWAY", "code=SHUTDOWN", NULL);
    if (line) sscanf(strstr(line, "reconnect_ms=") + 13, "%ld", &reconnect_ms);
    free(line);
    line = tk_wait(a, WAIT, "DISCONNECTED", "err=GOAWAY code=SHUTDOWN will_reconnect=1", NULL);
    if (line) sscanf(strstr(line, "retry_ms=") + 9, "%ld", &retry_ms);
    free(line);
    CHECK(reconnect_ms > 0);
    CHECK(retry_ms >= reconnect_ms); /* the server's hint beats the shorter back-off */
    REQUIRE(tk_daemon_start(&tk_the_daemon, tk_the_daemon.port) == 0);
    TAKE(a, "WELCOME", "reconnected=1");
    TAKE(a, "JOINED", "internal=1", "room=r-drain");
    tk_peer_free(a);
}

int main(int argc, char **argv)
{
    static const tk_test tests[] = {
        {"hello_gives_a_session", hello_gives_a_session},
        {"welcome_fields", welcome_fields},
        {"every_room_op", every_room_op},
        {"same_user_on_two_connections", same_user_on_two_connections},
        {"drop_delivers_the_will_and_rejoins", drop_delivers_the_will_and_rejoins},
        {"close_says_bye_without_the_will", close_says_bye_without_the_will},
        {"heartbeats_keep_an_idle_session", heartbeats_keep_an_idle_session},
        {"rejoin_recovers_missed_messages", rejoin_recovers_missed_messages},
        {"refused_hello_stops", refused_hello_stops},
        {"local_errors", local_errors},
        {"timeouts_on_a_fake_clock", timeouts_on_a_fake_clock},
        {"pull_mode_with_own_poller", pull_mode_with_own_poller},
        {"failing_allocator_never_crashes", failing_allocator_never_crashes},
        {"reconnect_after_daemon_restart", reconnect_after_daemon_restart},
        {"goaway_on_drain_is_honoured", goaway_on_drain_is_honoured},
    };
    int rc;
    if (tk_daemon_start(&tk_the_daemon, 0) != 0) {
        printf("client: 0 passed, 1 failed\n");
        return 1;
    }
    rc = tk_run("client", tests, sizeof tests / sizeof tests[0], argc, argv);
    tk_daemon_kill(&tk_the_daemon);
    return rc;
}
