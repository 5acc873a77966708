/* Server-to-client frames (PROTOCOL.md "Ops, server to client") decoded into typed events, with the
 * strictness of the server's own decoder: wrong types, missing elements and trailing bytes are
 * errors; extra trailing array elements are skipped. No I/O; the fuzz test calls this directly. */
#include "pd_internal.h"

#include <string.h>

typedef struct dec {
    pd_reader r;
    pd_arena *arena;
    const char *field;  /* what was being read, for the error text */
    int nomem;
} dec;

#define TRY(x) do { if ((x) != 0) return -1; } while (0)

static int str(dec *d, const char *field, pd_str *out)
{
    const uint8_t *data;
    uint32_t len;
    char *copy;
    d->field = field;
    TRY(pd_mp_read_str(&d->r, &data, &len));
    copy = (char *)pd_arena_alloc(d->arena, (size_t)len + 1);
    if (copy == NULL) { d->nomem = 1; return -1; }
    if (len > 0) memcpy(copy, data, len);
    copy[len] = '\0';
    out->ptr = copy;
    out->len = len;
    return 0;
}

static int bin(dec *d, const char *field, pd_bytes *out)
{
    const uint8_t *data;
    uint32_t len;
    d->field = field;
    TRY(pd_mp_read_bin(&d->r, &data, &len));
    out->ptr = data;
    out->len = len;
    return 0;
}

static int rid(dec *d, uint32_t *out)
{
    uint64_t v;
    d->field = "rid";
    TRY(pd_mp_read_uint(&d->r, &v));
    if (v > 0xffffffffu) { d->r.err = "rid does not fit in uint32"; return -1; }
    *out = (uint32_t)v;
    return 0;
}

static int i64(dec *d, const char *field, int64_t *out)
{
    d->field = field;
    return pd_mp_read_int(&d->r, out);
}

static int u64(dec *d, const char *field, uint64_t *out)
{
    d->field = field;
    return pd_mp_read_uint(&d->r, out);
}

static int code(dec *d, int *out)
{
    int64_t v;
    TRY(i64(d, "code", &v));
    /* Unknown codes up to 255 pass through for newer servers. */
    if (v < 0 || v > 255) { d->r.err = "error code out of range 0..255"; return -1; }
    *out = (int)v;
    return 0;
}

static int members(dec *d, const char *field, const pd_member **out, size_t *count)
{
    uint32_t n, i, fields, f;
    pd_member *list;
    d->field = field;
    TRY(pd_mp_read_array(&d->r, &n));
    /* A member takes at least 4 bytes ([user, conn, meta] all empty), which bounds the array. */
    if (n > (size_t)(d->r.end - d->r.p) / 4) { d->r.err = "member count exceeds the bytes left"; return -1; }
    list = NULL;
    if (n > 0) {
        list = (pd_member *)pd_arena_alloc(d->arena, (size_t)n * sizeof(pd_member));
        if (list == NULL) { d->nomem = 1; return -1; }
    }
    for (i = 0; i < n; i++) {
        d->field = "member";
        TRY(pd_mp_read_array(&d->r, &fields));
        if (fields < 3) { d->r.err = "a member needs [user, conn, meta]"; return -1; }
        TRY(str(d, "member user", &list[i].user));
        TRY(str(d, "member conn", &list[i].conn));
        d->field = "member meta";
        if (pd_mp_try_nil(&d->r)) {
            list[i].meta.ptr = NULL;
            list[i].meta.len = 0;
        } else {
            TRY(bin(d, "member meta", &list[i].meta));
        }
        for (f = 3; f < fields; f++) TRY(pd_mp_skip(&d->r));
    }
    *out = list;
    *count = n;
    return 0;
}

static int online(dec *d, pd_online_state_event *e)
{
    uint32_t n, i;
    pd_str *users = NULL;
    d->field = "online";
    TRY(pd_mp_read_array(&d->r, &n));
    if (n > 0) {
        users = (pd_str *)pd_arena_alloc(d->arena, (size_t)n * sizeof(pd_str));
        if (users == NULL) { d->nomem = 1; return -1; }
    }
    for (i = 0; i < n; i++) TRY(str(d, "online user", &users[i]));
    e->users = users;
    e->user_count = n;
    return 0;
}

static int need(dec *d, uint32_t count, uint32_t needed)
{
    if (count >= needed) return 0;
    d->r.err = "too few elements";
    d->field = "frame";
    return -1;
}

/* The fields after the op; returns how many elements of the array were read. */
static int body(dec *d, int64_t op, uint32_t count, pd_event *ev, uint32_t *read)
{
    switch (op) {
    case PD_OP_WELCOME: {
        pd_welcome_event *e = &ev->welcome;
        TRY(need(d, count, 8));
        TRY(rid(d, &e->rid));
        TRY(str(d, "user", &e->user));
        TRY(str(d, "conn", &e->conn));
        TRY(str(d, "node", &e->node));
        TRY(i64(d, "heartbeat_ms", &e->heartbeat_ms));
        TRY(i64(d, "timeout_ms", &e->timeout_ms));
        TRY(i64(d, "max_frame", &e->max_frame));
        *read = 8;
        return 0;
    }
    case PD_OP_OK:
    case PD_OP_PONG:
        TRY(need(d, count, 2));
        TRY(rid(d, &ev->any.rid));
        *read = 2;
        return 0;
    case PD_OP_ERROR: {
        pd_error_event *e = &ev->error;
        TRY(need(d, count, 4));
        TRY(rid(d, &e->rid));
        TRY(code(d, &e->code));
        TRY(str(d, "message", &e->message));
        e->room.ptr = "";
        e->room.len = 0;
        *read = 4;
        return 0;
    }
    case PD_OP_JOINED: {
        pd_joined_event *e = &ev->joined;
        TRY(need(d, count, 8));
        TRY(rid(d, &e->rid));
        TRY(str(d, "room", &e->room));
        TRY(str(d, "epoch", &e->epoch));
        TRY(u64(d, "offset", &e->offset));
        TRY(members(d, "members", &e->members, &e->member_count));
        d->field = "recovered";
        TRY(pd_mp_read_bool(&d->r, &e->recovered));
        TRY(i64(d, "total", &e->total));
        *read = 8;
        return 0;
    }
    case PD_OP_PRESENCE_STATE: {
        pd_presence_state_event *e = &ev->presence_state;
        TRY(need(d, count, 5));
        TRY(rid(d, &e->rid));
        TRY(str(d, "room", &e->room));
        TRY(members(d, "members", &e->members, &e->member_count));
        TRY(i64(d, "total", &e->total));
        *read = 5;
        return 0;
    }
    case PD_OP_PRESENCE_DIFF: {
        pd_presence_diff_event *e = &ev->presence_diff;
        TRY(need(d, count, 4));
        TRY(str(d, "room", &e->room));
        TRY(members(d, "joins", &e->joins, &e->join_count));
        TRY(members(d, "leaves", &e->leaves, &e->leave_count));
        *read = 4;
        return 0;
    }
    case PD_OP_MESSAGE: {
        pd_message_event *e = &ev->message;
        TRY(need(d, count, 6));
        TRY(str(d, "room", &e->room));
        TRY(str(d, "from_user", &e->from_user));
        TRY(str(d, "from_conn", &e->from_conn));
        TRY(bin(d, "payload", &e->payload));
        TRY(u64(d, "offset", &e->offset));
        *read = 6;
        return 0;
    }
    case PD_OP_COUNT_STATE: {
        pd_count_state_event *e = &ev->count_state;
        TRY(need(d, count, 5));
        TRY(rid(d, &e->rid));
        TRY(str(d, "room", &e->room));
        TRY(i64(d, "connections", &e->connections));
        TRY(i64(d, "users", &e->users));
        *read = 5;
        return 0;
    }
    case PD_OP_GOAWAY: {
        pd_goaway_event *e = &ev->goaway;
        TRY(need(d, count, 4));
        TRY(code(d, &e->code));
        TRY(str(d, "message", &e->message));
        TRY(i64(d, "reconnect_ms", &e->reconnect_ms));
        *read = 4;
        return 0;
    }
    case PD_OP_ONLINE_STATE:
        TRY(need(d, count, 3));
        TRY(rid(d, &ev->online_state.rid));
        TRY(online(d, &ev->online_state));
        *read = 3;
        return 0;
    default:
        /* An op this library does not know (a newer server): ignored once it proves well-formed. */
        ev->type = PD_EV_NONE;
        *read = 1;
        return 0;
    }
}

int pd_decode_frame(const uint8_t *data, size_t len, pd_arena *arena, pd_event *ev, char *err, size_t err_len)
{
    dec d;
    uint32_t count, read = 0;
    int64_t op;
    memset(ev, 0, sizeof *ev);
    d.r.p = data;
    d.r.end = data + len;
    d.r.err = NULL;
    d.arena = arena;
    d.field = "frame";
    d.nomem = 0;
    if (pd_mp_read_array(&d.r, &count) != 0) goto bad;
    if (count < 1) { d.r.err = "empty frame array"; goto bad; }
    d.field = "op";
    if (pd_mp_read_int(&d.r, &op) != 0) goto bad;
    if (op < 1 || op > 255) { d.r.err = "op is not in 1..255"; goto bad; }
    ev->type = (pd_event_type)op;
    if (body(&d, op, count, ev, &read) != 0) goto bad;
    d.field = "extra element";
    for (; read < count; read++)
        if (pd_mp_skip(&d.r) != 0) goto bad;
    if (d.r.p != d.r.end) { d.field = "frame"; d.r.err = "trailing bytes after the frame array"; goto bad; }
    return PD_OK;
bad:
    if (d.nomem) {
        pd_set_text(err, err_len, "out of memory decoding %s", d.field);
        return PD_ERR_NOMEM;
    }
    pd_set_text(err, err_len, "%s: %s (byte %lu of %lu)", d.field, d.r.err ? d.r.err : "malformed",
                (unsigned long)(d.r.p - data), (unsigned long)len);
    return PD_ERR_PROTOCOL;
}
