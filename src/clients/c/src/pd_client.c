/* The connection: create/free, connect and reconnect with back-off, the poll loop (I/O, heartbeats,
 * timeouts), and the event queue. What a frame means is pd_session.c's business. */
#include "pd_client.h"

#include <limits.h>
#include <string.h>

static void settle(pd_client *c);

/* ---- options and lifecycle ------------------------------------------------------------------ */
void pd_options_init(pd_options *o)
{
    if (o == NULL) return;
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 7400;
    o->client_name = "presenced-c";
    o->connect_timeout_ms = 10000;
    o->request_timeout_ms = 10000;
    o->auto_reconnect = 1;
    o->backoff_initial_ms = 250;
    o->backoff_max_ms = 30000;
    o->max_server_frame = PD_MAX_SERVER_FRAME;
    o->max_send_buffer = 4u * 1024u * 1024u;
}

static char *dup_or_null(const pd_allocator *a, const char *s, int *failed)
{
    char *copy;
    if (s == NULL) return NULL;
    copy = pd_mem_strndup(a, s, strlen(s));
    if (copy == NULL) *failed = 1;
    return copy;
}

static void free_str(const pd_allocator *a, char *s)
{
    if (s != NULL) pd_mem_free(a, s, strlen(s) + 1);
}

int pd_client_create(const pd_options *o, pd_client **out)
{
    pd_allocator a;
    pd_client *c;
    int failed = 0;
    if (out == NULL) return PD_ERR_INVALID;
    *out = NULL;
    if (o == NULL || o->credential == NULL) return PD_ERR_INVALID;
    a = o->allocator;
    pd_allocator_resolve(&a);
    c = (pd_client *)pd_mem_alloc(&a, sizeof *c);
    if (c == NULL) return PD_ERR_NOMEM;
    memset(c, 0, sizeof *c);
    c->a = a;
    c->opt = *o;
    c->opt.allocator = a;
    c->opt.host = dup_or_null(&c->a, o->host != NULL ? o->host : "127.0.0.1", &failed);
    c->opt.credential = dup_or_null(&c->a, o->credential, &failed);
    c->opt.client_name = dup_or_null(&c->a, o->client_name, &failed);
    if (c->opt.max_server_frame == 0 || c->opt.max_server_frame > PD_MAX_SERVER_FRAME) c->opt.max_server_frame = PD_MAX_SERVER_FRAME;
    if (c->opt.backoff_initial_ms == 0) c->opt.backoff_initial_ms = 1;
    if (c->opt.backoff_max_ms < c->opt.backoff_initial_ms) c->opt.backoff_max_ms = c->opt.backoff_initial_ms;
    if (c->opt.connect_timeout_ms == 0) c->opt.connect_timeout_ms = 10000;
    c->sock = PD_INVALID_SOCKET;
    c->state = PD_STATE_IDLE;
    c->next_rid = 1;
    c->next_room_id = 1;
    c->max_frame = PD_DEFAULT_MAX_FRAME;
    pd_arena_init(&c->arena, &c->a);
    c->rng = o->random_seed != 0 ? o->random_seed : (pd__now(c) * 0x9e3779b97f4a7c15ull) ^ (uint64_t)(uintptr_t)c;
    if (c->rng == 0) c->rng = 0x2545f4914f6cdd1dull;
    if (failed) {
        pd_client_free(c);
        return PD_ERR_NOMEM;
    }
    *out = c;
    return PD_OK;
}

void pd_client_free(pd_client *c)
{
    if (c == NULL) return;
    pd_sock_close(c->sock);
    pd_buf_free(&c->in, &c->a);
    pd_buf_free(&c->out, &c->a);
    pd_arena_free(&c->arena);
    pd__free_rooms(c);
    pd_mem_free(&c->a, c->pending, c->pending_cap * sizeof *c->pending);
    pd_mem_free(&c->a, c->sys, c->sys_cap * sizeof *c->sys);
    free_str(&c->a, c->user);
    free_str(&c->a, c->conn);
    free_str(&c->a, (char *)c->opt.host);
    free_str(&c->a, (char *)c->opt.credential);
    free_str(&c->a, (char *)c->opt.client_name);
    {
        pd_allocator a = c->a;
        pd_mem_free(&a, c, sizeof *c);
    }
}

/* ---- small helpers -------------------------------------------------------------------------- */
uint64_t pd__now(pd_client *c) { return c->opt.clock_ms != NULL ? c->opt.clock_ms(c->opt.clock_ctx) : pd_sys_clock_ms(); }

uint32_t pd__next_rid(pd_client *c)
{
    uint32_t rid = c->next_rid;
    c->next_rid = rid >= 0x7fffffffu ? 1 : rid + 1;
    return rid;
}

pd_frame_out pd__frame_out(pd_client *c)
{
    pd_frame_out o;
    o.buf = &c->out;
    o.a = &c->a;
    o.max_frame = c->max_frame;
    return o;
}

int pd__push_sys(pd_client *c, const pd_sys_event *e)
{
    if (c->sys_head > 0 && c->sys_head == c->sys_len) c->sys_head = c->sys_len = 0;
    if (c->sys_len == c->sys_cap) {
        size_t cap = c->sys_cap == 0 ? 8 : c->sys_cap * 2;
        pd_sys_event *grown = (pd_sys_event *)pd_mem_realloc(&c->a, c->sys, c->sys_cap * sizeof *c->sys, cap * sizeof *c->sys);
        if (grown == NULL) return PD_ERR_NOMEM;
        c->sys = grown;
        c->sys_cap = cap;
    }
    c->sys[c->sys_len++] = *e;
    return PD_OK;
}

static uint64_t next_random(pd_client *c)
{
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return c->rng * 0x2545f4914f6cdd1dull;
}

/* Jittered exponential back-off: a random wait in [ceiling/2, ceiling], ceiling = initial * 2^n capped. */
static uint32_t backoff_ms(pd_client *c)
{
    uint64_t ceiling = c->opt.backoff_initial_ms;
    unsigned i;
    for (i = 0; i < c->backoff_attempt && ceiling < c->opt.backoff_max_ms; i++) ceiling *= 2;
    if (ceiling > c->opt.backoff_max_ms) ceiling = c->opt.backoff_max_ms;
    return (uint32_t)(ceiling - (ceiling / 2) * (next_random(c) % 1001) / 1000);
}

/* ---- connection start and end --------------------------------------------------------------- */
static void reset_buffers(pd_client *c)
{
    c->in.len = c->in_start = c->scan_pos = c->ready = 0;
    c->out.len = c->out_start = 0;
}

static int start_attempt(pd_client *c)
{
    pd_frame_out o;
    int rc;
    reset_buffers(c);
    c->goaway_code = 0;
    c->goaway_reconnect_ms = 0;
    c->refused_code = 0;
    c->loss_pending = 0;
    c->max_frame = PD_DEFAULT_MAX_FRAME;
    c->state = PD_STATE_CONNECTING;
    c->attempt_start = pd__now(c);
    c->tcp_pending = 1;
    c->hello_rid = pd__next_rid(c);
    o = pd__frame_out(c);
    rc = pd_encode_hello(&o, c->hello_rid, c->opt.credential, c->opt.client_name);
    if (rc != PD_OK) {
        pd__lose(c, rc, rc == PD_ERR_TOO_LARGE ? "HELLO exceeds max_frame (credential too long)" : "no memory for HELLO");
        return rc;
    }
    rc = pd_sock_connect(c->opt.host, c->opt.port, &c->sock, c->loss_detail, sizeof c->loss_detail);
    if (rc != PD_OK) {
        char detail[PD_TEXT];
        memcpy(detail, c->loss_detail, sizeof detail);
        c->sock = PD_INVALID_SOCKET;
        pd__lose(c, rc, detail);
    }
    return rc;
}

void pd__lose(pd_client *c, int err, const char *detail)
{
    if (c->loss_pending || (c->state != PD_STATE_CONNECTING && c->state != PD_STATE_CONNECTED)) return;
    c->loss_pending = 1;
    c->loss_err = err;
    pd_set_text(c->loss_detail, sizeof c->loss_detail, "%s", detail != NULL ? detail : pd_strerror(err));
    pd_set_text(c->last_error, sizeof c->last_error, "%s", c->loss_detail);
    pd_sock_close(c->sock);
    c->sock = PD_INVALID_SOCKET;
    c->tcp_pending = 0;
    c->in.len = c->scan_pos; /* complete frames are still delivered; a partial one is gone */
    c->out.len = c->out_start = 0;
}

static int stops_reconnecting(int code) { return code == PD_CODE_AUTH || code == PD_CODE_VERSION || code == PD_CODE_PROTOCOL; }

/* The connection's last frame has been delivered: say so, fail its requests, schedule a retry. */
static void finish_loss(pd_client *c)
{
    pd_sys_event e;
    int err = c->loss_err, code = 0, stop;
    uint32_t delay = 0;
    c->loss_pending = 0;
    if (c->refused_code > 0) {
        err = PD_ERR_REFUSED;
        code = c->refused_code;
    } else if (c->goaway_code > 0 && (err == PD_ERR_CLOSED || err == PD_ERR_IO)) {
        err = PD_ERR_GOAWAY;
        code = c->goaway_code;
    }
    stop = !c->opt.auto_reconnect || c->refused_code > 0 || stops_reconnecting(c->goaway_code);
    reset_buffers(c);
    if (stop) {
        c->state = PD_STATE_DISCONNECTED;
    } else {
        delay = backoff_ms(c);
        if (c->goaway_reconnect_ms > (int64_t)delay) delay = c->goaway_reconnect_ms > 0x7fffffff ? 0x7fffffff : (uint32_t)c->goaway_reconnect_ms;
        c->backoff_attempt++;
        c->reconnect_at = pd__now(c) + delay;
        c->state = PD_STATE_WAITING;
    }
    memset(&e, 0, sizeof e);
    e.type = PD_EV_DISCONNECTED;
    e.err = err;
    e.code = code;
    e.will_reconnect = !stop;
    e.retry_ms = delay;
    pd_set_text(c->disc_detail, sizeof c->disc_detail, "%s", c->loss_detail);
    (void)pd__push_sys(c, &e);
    pd__fail_pending(c, PD_ERR_DISCONNECTED);
}

static void settle(pd_client *c)
{
    if (c->loss_pending && c->ready == 0) finish_loss(c);
}

int pd_client_connect(pd_client *c)
{
    if (c == NULL || c->state == PD_STATE_CLOSED) return PD_ERR_INVALID;
    if (c->state != PD_STATE_IDLE && c->state != PD_STATE_DISCONNECTED) return PD_OK;
    c->backoff_attempt = 0;
    return start_attempt(c);
}

/* ---- reading and writing -------------------------------------------------------------------- */
static uint32_t be32(const uint8_t *p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }

/* Counts the complete frames received; a bad declared length ends the connection unread. */
static void scan(pd_client *c)
{
    while (c->in.len - c->scan_pos >= 4) {
        uint32_t len = be32(c->in.data + c->scan_pos);
        if (len == 0 || len > c->opt.max_server_frame) {
            char detail[PD_TEXT];
            pd_set_text(detail, sizeof detail, "server frame declares %lu bytes (limit %lu)", (unsigned long)len,
                        (unsigned long)c->opt.max_server_frame);
            pd__lose(c, len == 0 ? PD_ERR_PROTOCOL : PD_ERR_FRAME_TOO_LARGE, detail);
            return;
        }
        if (c->in.len - c->scan_pos - 4 < len) return;
        c->scan_pos += 4 + (size_t)len;
        c->ready++;
    }
}

static void read_some(pd_client *c)
{
    size_t total = 0;
    if (c->in_start > 0) {
        memmove(c->in.data, c->in.data + c->in_start, c->in.len - c->in_start);
        c->in.len -= c->in_start;
        c->scan_pos -= c->in_start;
        c->in_start = 0;
    }
    while (c->sock != PD_INVALID_SOCKET && total < PD_READ_BACKLOG) {
        size_t want = PD_READ_CHUNK, space;
        long n;
        if (c->in.len - c->scan_pos >= 4) {
            size_t frame = 4 + (size_t)be32(c->in.data + c->scan_pos), have = c->in.len - c->scan_pos;
            if (frame > have && frame - have > want) want = frame - have;
        }
        if (pd_buf_reserve(&c->in, &c->a, want) != PD_OK) {
            pd__lose(c, PD_ERR_NOMEM, "no memory for the receive buffer");
            return;
        }
        space = c->in.cap - c->in.len;
        n = pd_sock_recv(c->sock, c->in.data + c->in.len, space, c->last_error, sizeof c->last_error);
        if (n == PD_SOCK_AGAIN) return;
        if (n < 0) {
            char detail[PD_TEXT];
            memcpy(detail, c->last_error, sizeof detail);
            pd__lose(c, PD_ERR_IO, detail);
            return;
        }
        if (n == 0) {
            pd__lose(c, PD_ERR_CLOSED, "the server closed the connection");
            return;
        }
        c->in.len += (size_t)n;
        c->last_recv = pd__now(c);
        total += (size_t)n;
        scan(c);
        if ((size_t)n < space) return;
    }
}

static void flush(pd_client *c)
{
    while (c->sock != PD_INVALID_SOCKET && !c->tcp_pending && c->out_start < c->out.len) {
        long n = pd_sock_send(c->sock, c->out.data + c->out_start, c->out.len - c->out_start, c->last_error,
                              sizeof c->last_error);
        if (n == PD_SOCK_AGAIN) break;
        if (n < 0) {
            char detail[PD_TEXT];
            memcpy(detail, c->last_error, sizeof detail);
            pd__lose(c, PD_ERR_IO, detail);
            return;
        }
        c->out_start += (size_t)n;
        c->last_send = pd__now(c);
    }
    if (c->out_start == c->out.len) {
        c->out.len = c->out_start = 0;
    } else if (c->out_start > c->out.cap / 2) {
        memmove(c->out.data, c->out.data + c->out_start, c->out.len - c->out_start);
        c->out.len -= c->out_start;
        c->out_start = 0;
    }
}

static int want_read(const pd_client *c)
{
    return c->sock != PD_INVALID_SOCKET && !c->tcp_pending && (c->ready == 0 || c->in.len - c->in_start < PD_READ_BACKLOG);
}

static void do_io(pd_client *c, int wait_ms)
{
    int readable = 0, writable = 0;
    int wr = pd_client_want_write(c), rd = want_read(c);
    if (pd_sock_wait(c->sock, rd, wr, wait_ms, &readable, &writable) != 0) return;
    if (c->sock == PD_INVALID_SOCKET) return;
    if (c->tcp_pending && writable) {
        char detail[PD_TEXT];
        if (pd_sock_connect_result(c->sock, detail, sizeof detail) != PD_OK) {
            pd__lose(c, PD_ERR_CONNECT, detail);
            return;
        }
        c->tcp_pending = 0;
        c->last_recv = pd__now(c);
    }
    if (readable) read_some(c);
    if (writable || c->out_start < c->out.len) flush(c);
}

/* ---- timers --------------------------------------------------------------------------------- */
#define NO_TIME UINT64_MAX

static uint64_t next_timer(const pd_client *c)
{
    uint64_t t = NO_TIME, d;
    if (c->loss_pending) return NO_TIME;
    switch (c->state) {
    case PD_STATE_WAITING: t = c->reconnect_at; break;
    case PD_STATE_CONNECTING: t = c->attempt_start + c->opt.connect_timeout_ms; break;
    case PD_STATE_CONNECTED:
        t = c->last_send + (uint64_t)c->heartbeat_ms / 2;
        if (c->last_recv + (uint64_t)c->timeout_ms < t) t = c->last_recv + (uint64_t)c->timeout_ms;
        break;
    default: break;
    }
    d = pd__next_deadline(c);
    return d < t ? d : t;
}

static void run_timers(pd_client *c, uint64_t now)
{
    if (c->loss_pending) return;
    if (c->state == PD_STATE_WAITING) {
        /* The old connection's events go out before a new one starts. */
        if (now >= c->reconnect_at && c->ready == 0 && c->sys_head == c->sys_len) (void)start_attempt(c);
        return;
    }
    if (c->state == PD_STATE_CONNECTING && now - c->attempt_start >= c->opt.connect_timeout_ms) {
        char detail[PD_TEXT];
        pd_set_text(detail, sizeof detail, "%s within connect_timeout_ms (%lu ms)",
                    c->tcp_pending ? "no TCP connection" : "no WELCOME", (unsigned long)c->opt.connect_timeout_ms);
        pd__lose(c, c->tcp_pending ? PD_ERR_CONNECT : PD_ERR_TIMEOUT, detail);
        return;
    }
    if (c->state == PD_STATE_CONNECTED) {
        if (c->ready == 0 && now - c->last_recv >= (uint64_t)c->timeout_ms) {
            char detail[PD_TEXT];
            pd_set_text(detail, sizeof detail, "nothing heard from the server for %ld ms", (long)c->timeout_ms);
            pd__lose(c, PD_ERR_TIMEOUT, detail);
            return;
        }
        if (c->out_start == c->out.len && now - c->last_send >= (uint64_t)c->heartbeat_ms / 2) {
            pd_frame_out o = pd__frame_out(c);
            if (pd_encode_ping(&o, 0) == PD_OK) c->last_send = now; /* stamped again when it is written */
        }
    }
    pd__expire_pending(c, now);
}

/* ---- events --------------------------------------------------------------------------------- */
static void fill_sys(pd_client *c, const pd_sys_event *s, pd_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->type = s->type;
    ev->any.rid = s->rid;
    ev->any.request_op = (pd_op)s->op;
    ev->any.internal = s->internal;
    if (s->type == PD_EV_DISCONNECTED) {
        ev->disconnected.err = s->err;
        ev->disconnected.code = s->code;
        ev->disconnected.will_reconnect = s->will_reconnect;
        ev->disconnected.retry_in_ms = s->retry_ms;
        ev->disconnected.detail = c->disc_detail;
    } else {
        ev->request_failed.err = s->err;
    }
}

static int next_event(pd_client *c, pd_event *ev)
{
    for (;;) {
        pd_arena_reset(&c->arena);
        if (c->ready > 0) {
            const uint8_t *frame = c->in.data + c->in_start;
            size_t len = be32(frame);
            char detail[PD_TEXT];
            int rc;
            c->in_start += 4 + len;
            c->ready--;
            rc = pd_decode_frame(frame + 4, len, &c->arena, ev, detail, sizeof detail);
            if (rc != PD_OK) {
                /* The stream cannot be trusted past a malformed frame. */
                c->ready = 0;
                c->scan_pos = c->in.len = c->in_start;
                if (c->loss_pending) {
                    c->loss_err = rc;
                    pd_set_text(c->loss_detail, sizeof c->loss_detail, "%s", detail);
                }
                pd__lose(c, rc, detail);
                continue;
            }
            if (pd__on_frame(c, ev) == 1) return 1;
            continue;
        }
        settle(c);
        if (c->sys_head < c->sys_len) {
            fill_sys(c, &c->sys[c->sys_head++], ev);
            if (c->sys_head == c->sys_len) c->sys_head = c->sys_len = 0;
            return 1;
        }
        return 0;
    }
}

static int deliver(pd_client *c)
{
    pd_event ev;
    int n = 0;
    if (c->opt.on_event == NULL) return (int)(c->ready + (c->sys_len - c->sys_head));
    while (c->state != PD_STATE_CLOSED && next_event(c, &ev)) {
        c->in_callback = 1;
        c->opt.on_event(c, &ev, c->opt.user_data);
        c->in_callback = 0;
        if (n < INT_MAX) n++;
    }
    return n;
}

int pd_client_next_event(pd_client *c, pd_event *ev)
{
    if (c == NULL || ev == NULL || c->in_callback) return PD_ERR_INVALID;
    if (c->state == PD_STATE_CLOSED) return 0;
    return next_event(c, ev);
}

/* ---- the pump ------------------------------------------------------------------------------- */
int pd_client_poll(pd_client *c, int timeout_ms)
{
    uint64_t deadline;
    int did_io = 0;
    if (c == NULL) return PD_ERR_INVALID;
    if (c->in_callback) {
        pd_set_text(c->last_error, sizeof c->last_error, "pd_client_poll called from on_event");
        return PD_ERR_INVALID;
    }
    deadline = pd__now(c) + (timeout_ms > 0 ? (uint64_t)timeout_ms : 0);
    for (;;) {
        uint64_t now, t;
        int n, wait;
        if (c->state == PD_STATE_CLOSED) return 0;
        run_timers(c, pd__now(c));
        flush(c);
        settle(c);
        n = deliver(c);
        if (n > 0) return n;
        if (c->state == PD_STATE_CLOSED) return 0;
        now = pd__now(c);
        if (did_io && timeout_ms >= 0 && now >= deadline) return 0;
        wait = timeout_ms < 0 ? -1 : (int)(deadline > now ? deadline - now : 0);
        t = next_timer(c);
        if (t != NO_TIME) {
            uint64_t until = t > now ? t - now : 0;
            if (until > INT_MAX) until = INT_MAX;
            if (wait < 0 || (int)until < wait) wait = (int)until;
        }
        if (wait < 0 && c->sock == PD_INVALID_SOCKET) return 0; /* nothing will ever happen */
        do_io(c, wait);
        did_io = 1;
    }
}

int pd_client_flush(pd_client *c)
{
    if (c == NULL) return PD_ERR_INVALID;
    flush(c);
    return PD_OK;
}

int pd_client_drop(pd_client *c)
{
    if (c == NULL) return PD_ERR_INVALID;
    if (c->state != PD_STATE_CONNECTING && c->state != PD_STATE_CONNECTED) return PD_ERR_NOT_CONNECTED;
    pd__lose(c, PD_ERR_DROPPED, "dropped by the application");
    return PD_OK;
}

int pd_client_close(pd_client *c, int linger_ms)
{
    if (c == NULL) return PD_ERR_INVALID;
    if (c->state == PD_STATE_CLOSED) return PD_OK;
    if (c->state == PD_STATE_CONNECTED && !c->loss_pending && c->sock != PD_INVALID_SOCKET) {
        pd_frame_out o = pd__frame_out(c);
        uint64_t until = pd__now(c) + (linger_ms > 0 ? (uint64_t)linger_ms : 0);
        int done = 0;
        (void)pd_encode_bye(&o);
        flush(c);
        /* BYE, then FIN; wait for the server's close so unread input cannot turn our close into a
         * reset that loses the BYE. */
        while (c->sock != PD_INVALID_SOCKET && !done) {
            int readable, writable;
            uint64_t now = pd__now(c);
            if (now >= until) break;
            if (c->out_start == c->out.len) {
                pd_sock_shutdown_write(c->sock);
                if (pd_sock_wait(c->sock, 1, 0, (int)(until - now), &readable, &writable) != 0 || !readable) break;
                for (;;) {
                    uint8_t scratch[4096];
                    long n = pd_sock_recv(c->sock, scratch, sizeof scratch, NULL, 0);
                    if (n == PD_SOCK_AGAIN) break;
                    if (n <= 0) { done = 1; break; }
                }
            } else {
                if (pd_sock_wait(c->sock, 0, 1, (int)(until - now), &readable, &writable) != 0) break;
                flush(c);
            }
        }
    }
    pd_sock_close(c->sock);
    c->sock = PD_INVALID_SOCKET;
    c->state = PD_STATE_CLOSED;
    c->loss_pending = 0;
    reset_buffers(c);
    c->sys_head = c->sys_len = 0;
    c->pending_len = 0;
    return PD_OK;
}

int pd__test_feed(pd_client *c, const uint8_t *data, size_t len)
{
    if (c->state != PD_STATE_CONNECTING && c->state != PD_STATE_CONNECTED) {
        reset_buffers(c);
        c->state = PD_STATE_CONNECTING;
        c->loss_pending = 0;
        c->refused_code = c->goaway_code = 0;
    }
    c->tcp_pending = 0;
    if (c->loss_pending) return PD_OK;
    if (c->in_start > 0) {
        memmove(c->in.data, c->in.data + c->in_start, c->in.len - c->in_start);
        c->in.len -= c->in_start;
        c->scan_pos -= c->in_start;
        c->in_start = 0;
    }
    if (pd_buf_append(&c->in, &c->a, data, len) != PD_OK) return PD_ERR_NOMEM;
    scan(c);
    return PD_OK;
}

/* ---- state ---------------------------------------------------------------------------------- */
pd_state pd_client_state(const pd_client *c) { return c == NULL ? PD_STATE_CLOSED : c->state; }

pd_socket_t pd_client_socket(const pd_client *c) { return c == NULL ? PD_INVALID_SOCKET : c->sock; }

int pd_client_want_write(const pd_client *c)
{
    return c != NULL && c->sock != PD_INVALID_SOCKET && (c->tcp_pending || c->out_start < c->out.len);
}

int pd_client_timeout_ms(const pd_client *c)
{
    uint64_t t, now;
    if (c == NULL || c->state == PD_STATE_CLOSED) return -1;
    if (c->ready > 0 || c->sys_head < c->sys_len || c->loss_pending) return 0;
    t = next_timer(c);
    if (t == NO_TIME) return -1;
    now = pd__now((pd_client *)c);
    if (t <= now) return 0;
    return t - now > INT_MAX ? INT_MAX : (int)(t - now);
}

const char *pd_client_last_error(const pd_client *c) { return c == NULL ? "" : c->last_error; }
const char *pd_client_user(const pd_client *c) { return c == NULL || c->user == NULL ? "" : c->user; }
const char *pd_client_conn(const pd_client *c) { return c == NULL || c->conn == NULL ? "" : c->conn; }
