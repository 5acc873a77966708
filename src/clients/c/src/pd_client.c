/* The client's lifecycle: options, create/free, connection attempts and their end (back-off and the
 * DISCONNECTED event), close and drop, state. The pump is pd_poll.c; what a frame means, pd_session.c. */
#include "pd_client.h"

#include <limits.h>
#include <string.h>


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
void pd__reset_buffers(pd_client *c)
{
    c->in.len = c->in_start = c->scan_pos = c->ready = 0;
    c->out.len = c->out_start = 0;
}

int pd__start_attempt(pd_client *c)
{
    pd_frame_out o;
    int rc;
    pd__reset_buffers(c);
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
    pd__reset_buffers(c);
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

void pd__settle(pd_client *c)
{
    if (c->loss_pending && c->ready == 0) finish_loss(c);
}

int pd_client_connect(pd_client *c)
{
    if (c == NULL || c->state == PD_STATE_CLOSED) return PD_ERR_INVALID;
    if (c->state != PD_STATE_IDLE && c->state != PD_STATE_DISCONNECTED) return PD_OK;
    c->backoff_attempt = 0;
    return pd__start_attempt(c);
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
        pd__flush(c);
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
                pd__flush(c);
            }
        }
    }
    pd_sock_close(c->sock);
    c->sock = PD_INVALID_SOCKET;
    c->state = PD_STATE_CLOSED;
    c->loss_pending = 0;
    pd__reset_buffers(c);
    c->sys_head = c->sys_len = 0;
    c->pending_len = 0;
    return PD_OK;
}

/* ---- state ---------------------------------------------------------------------------------- */
pd_state pd_client_state(const pd_client *c) { return c == NULL ? PD_STATE_CLOSED : c->state; }

pd_socket_t pd_client_socket(const pd_client *c) { return c == NULL ? PD_INVALID_SOCKET : c->sock; }

const char *pd_client_last_error(const pd_client *c) { return c == NULL ? "" : c->last_error; }
const char *pd_client_user(const pd_client *c) { return c == NULL || c->user == NULL ? "" : c->user; }
const char *pd_client_conn(const pd_client *c) { return c == NULL || c->conn == NULL ? "" : c->conn; }
