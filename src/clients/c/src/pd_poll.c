/* The pump: reading and framing, writing, timers (heartbeats, timeouts, reconnects), the event queue,
 * and pd_client_poll, which runs them all. */
#include "pd_client.h"

#include <limits.h>
#include <string.h>

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

void pd__flush(pd_client *c)
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
    if (pd_sock_wait(c->sock, rd, wr, wait_ms, &readable, &writable) != 0) {
        pd__lose(c, PD_ERR_IO, "poll failed on the socket");
        return;
    }
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
    if (writable || c->out_start < c->out.len) pd__flush(c);
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
        /* While bytes wait for writability no PING is queued: the socket wakes us, not the clock. */
        if (c->out_start == c->out.len) t = c->last_send + (uint64_t)c->heartbeat_ms / 2;
        if (c->last_recv + (uint64_t)c->timeout_ms < t) t = c->last_recv + (uint64_t)c->timeout_ms;
        break;
    default: break;
    }
    d = pd__next_deadline(c);
    return d < t ? d : t;
}

/* A clock hook that steps back must not look like a long silence. */
static uint64_t elapsed(uint64_t now, uint64_t since) { return now > since ? now - since : 0; }

static void run_timers(pd_client *c, uint64_t now)
{
    if (c->loss_pending) return;
    if (c->state == PD_STATE_WAITING) {
        /* The old connection's events go out before a new one starts. */
        if (now >= c->reconnect_at && c->ready == 0 && c->sys_head == c->sys_len) (void)pd__start_attempt(c);
        return;
    }
    if (c->state == PD_STATE_CONNECTING && elapsed(now, c->attempt_start) >= c->opt.connect_timeout_ms) {
        char detail[PD_TEXT];
        pd_set_text(detail, sizeof detail, "%s within connect_timeout_ms (%lu ms)",
                    c->tcp_pending ? "no TCP connection" : "no WELCOME", (unsigned long)c->opt.connect_timeout_ms);
        pd__lose(c, c->tcp_pending ? PD_ERR_CONNECT : PD_ERR_TIMEOUT, detail);
        return;
    }
    if (c->state == PD_STATE_CONNECTED) {
        if (c->ready == 0 && elapsed(now, c->last_recv) >= (uint64_t)c->timeout_ms) {
            char detail[PD_TEXT];
            pd_set_text(detail, sizeof detail, "nothing heard from the server for %ld ms", (long)c->timeout_ms);
            pd__lose(c, PD_ERR_TIMEOUT, detail);
            return;
        }
        if (c->out_start == c->out.len && elapsed(now, c->last_send) >= (uint64_t)c->heartbeat_ms / 2) {
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
        pd__settle(c);
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
        pd__flush(c);
        pd__settle(c);
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
    pd__flush(c);
    return PD_OK;
}

int pd__test_feed(pd_client *c, const uint8_t *data, size_t len)
{
    if (c->state != PD_STATE_CONNECTING && c->state != PD_STATE_CONNECTED) {
        pd__reset_buffers(c);
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
