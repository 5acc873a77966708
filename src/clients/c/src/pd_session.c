/* The session: what each server frame means (handshake, replies matched to requests, room epochs
 * and offsets for recovery), the rooms to re-join, and the request functions of the public API. */
#include "pd_client.h"

#include <string.h>

static const uint8_t empty_bytes[1] = {0};

/* ---- pending requests ----------------------------------------------------------------------- */
static int reserve_pending(pd_client *c)
{
    size_t cap;
    pd_pending *grown;
    if (c->pending_len < c->pending_cap) return PD_OK;
    cap = c->pending_cap == 0 ? 16 : c->pending_cap * 2;
    grown = (pd_pending *)pd_mem_realloc(&c->a, c->pending, c->pending_cap * sizeof *grown, cap * sizeof *grown);
    if (grown == NULL) return PD_ERR_NOMEM;
    c->pending = grown;
    c->pending_cap = cap;
    return PD_OK;
}

int pd__add_pending(pd_client *c, uint32_t rid, pd_op op, uint32_t room_id, int internal)
{
    pd_pending *p;
    if (reserve_pending(c) != PD_OK) return PD_ERR_NOMEM;
    p = &c->pending[c->pending_len++];
    p->rid = rid;
    p->op = (uint8_t)op;
    p->internal = (uint8_t)(internal != 0);
    p->room_id = room_id;
    p->deadline = c->opt.request_timeout_ms > 0 ? pd__now(c) + c->opt.request_timeout_ms : 0;
    return PD_OK;
}

static void remove_pending(pd_client *c, size_t i)
{
    memmove(&c->pending[i], &c->pending[i + 1], (c->pending_len - i - 1) * sizeof *c->pending);
    c->pending_len--;
}

static void push_failure(pd_client *c, const pd_pending *p, int err)
{
    pd_sys_event e;
    memset(&e, 0, sizeof e);
    e.type = PD_EV_REQUEST_FAILED;
    e.rid = p->rid;
    e.op = p->op;
    e.internal = p->internal;
    e.err = err;
    (void)pd__push_sys(c, &e);
}

void pd__fail_pending(pd_client *c, int err)
{
    size_t i;
    for (i = 0; i < c->pending_len; i++) push_failure(c, &c->pending[i], err);
    c->pending_len = 0;
}

void pd__expire_pending(pd_client *c, uint64_t now)
{
    size_t i = 0;
    while (i < c->pending_len) {
        if (c->pending[i].deadline != 0 && now >= c->pending[i].deadline) {
            push_failure(c, &c->pending[i], PD_ERR_TIMEOUT);
            remove_pending(c, i);
        } else {
            i++;
        }
    }
}

uint64_t pd__next_deadline(const pd_client *c)
{
    uint64_t t = UINT64_MAX;
    size_t i;
    for (i = 0; i < c->pending_len; i++)
        if (c->pending[i].deadline != 0 && c->pending[i].deadline < t) t = c->pending[i].deadline;
    return t;
}

/* ---- rooms ---------------------------------------------------------------------------------- */
static void free_room(pd_client *c, pd_room *r)
{
    pd_mem_free(&c->a, r->name, r->name_len + 1);
    pd_mem_free(&c->a, r->meta, r->meta_len);
    pd_mem_free(&c->a, r->will, r->will_len);
    pd_mem_free(&c->a, r->epoch, r->epoch_len + 1);
}

void pd__free_rooms(pd_client *c)
{
    size_t i;
    for (i = 0; i < c->room_len; i++) free_room(c, &c->rooms[i]);
    pd_mem_free(&c->a, c->rooms, c->room_cap * sizeof *c->rooms);
    c->rooms = NULL;
    c->room_len = c->room_cap = 0;
}

static pd_room *find_room(pd_client *c, const char *name, size_t len)
{
    size_t i;
    for (i = 0; i < c->room_len; i++)
        if (c->rooms[i].name_len == len && memcmp(c->rooms[i].name, name, len) == 0) return &c->rooms[i];
    return NULL;
}

static pd_room *find_room_id(pd_client *c, uint32_t id)
{
    size_t i;
    for (i = 0; i < c->room_len; i++)
        if (c->rooms[i].id == id) return &c->rooms[i];
    return NULL;
}

static void remove_room(pd_client *c, pd_room *r)
{
    size_t i = (size_t)(r - c->rooms);
    free_room(c, r);
    memmove(&c->rooms[i], &c->rooms[i + 1], (c->room_len - i - 1) * sizeof *c->rooms);
    c->room_len--;
}

/* Replaces *dst (len *dst_len) by a copy of src; has says whether there is a value at all. */
static int set_bytes(pd_client *c, uint8_t **dst, size_t *dst_len, int *has, const void *src, size_t len)
{
    uint8_t *copy = NULL;
    if (src != NULL && len > 0) {
        copy = (uint8_t *)pd_mem_alloc(&c->a, len);
        if (copy == NULL) return PD_ERR_NOMEM;
        memcpy(copy, src, len);
    }
    pd_mem_free(&c->a, *dst, *dst_len);
    *dst = copy;
    *dst_len = copy != NULL ? len : 0;
    *has = src != NULL;
    return PD_OK;
}

static pd_bytes room_bytes(const uint8_t *data, size_t len, int has)
{
    pd_bytes b;
    b.ptr = has ? (data != NULL ? data : empty_bytes) : NULL;
    b.len = has ? len : 0;
    return b;
}

static pd_room *add_room(pd_client *c, const char *name, size_t len)
{
    pd_room *r;
    if (c->room_len == c->room_cap) {
        size_t cap = c->room_cap == 0 ? 4 : c->room_cap * 2;
        pd_room *grown = (pd_room *)pd_mem_realloc(&c->a, c->rooms, c->room_cap * sizeof *grown, cap * sizeof *grown);
        if (grown == NULL) return NULL;
        c->rooms = grown;
        c->room_cap = cap;
    }
    r = &c->rooms[c->room_len];
    memset(r, 0, sizeof *r);
    r->name = pd_mem_strndup(&c->a, name, len);
    if (r->name == NULL) return NULL;
    r->name_len = len;
    r->id = c->next_room_id++;
    if (c->next_room_id == 0) c->next_room_id = 1;
    c->room_len++;
    return r;
}

static int send_join(pd_client *c, pd_room *r, int with_since, int internal, uint32_t *rid_out)
{
    pd_frame_out o = pd__frame_out(c);
    pd_bytes meta = room_bytes(r->meta, r->meta_len, r->has_meta);
    pd_bytes will = room_bytes(r->will, r->will_len, r->has_will);
    pd_since since;
    uint32_t rid;
    int rc;
    if (reserve_pending(c) != PD_OK) return PD_ERR_NOMEM;
    since.epoch = r->epoch;
    since.epoch_len = r->epoch_len;
    since.offset = r->offset;
    rid = pd__next_rid(c);
    /* Without an epoch (no JOINED yet, or a room without history) there is nothing to recover. */
    rc = pd_encode_join(&o, rid, r->name, r->name_len, &meta, with_since && r->epoch_len > 0 ? &since : NULL, &will);
    if (rc != PD_OK) return rc;
    (void)pd__add_pending(c, rid, PD_OP_JOIN, r->id, internal);
    if (rid_out != NULL) *rid_out = rid;
    return PD_OK;
}

void pd__rejoin_rooms(pd_client *c)
{
    size_t i;
    for (i = 0; i < c->room_len; i++) {
        int rc = send_join(c, &c->rooms[i], 1, 1, NULL);
        if (rc != PD_OK)
            pd_set_text(c->last_error, sizeof c->last_error, "re-join of %s not sent: %s", c->rooms[i].name, pd_strerror(rc));
    }
}

/* ---- incoming frames ------------------------------------------------------------------------ */
static void set_owned_str(pd_client *c, char **dst, const pd_str *src)
{
    /* Kept as a C string: cut at an embedded NUL so strlen gives back the allocated size. */
    char *copy = pd_mem_strndup(&c->a, src->ptr, strlen(src->ptr));
    if (*dst != NULL) pd_mem_free(&c->a, *dst, strlen(*dst) + 1);
    *dst = copy;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Finds the request a reply answers, tags the event with it, and forgets the request. */
static pd_pending *match_reply(pd_client *c, pd_event *ev, pd_pending *out)
{
    size_t i;
    if (ev->any.rid == 0) return NULL;
    for (i = 0; i < c->pending_len; i++) {
        if (c->pending[i].rid != ev->any.rid) continue;
        *out = c->pending[i];
        remove_pending(c, i);
        ev->any.request_op = (pd_op)out->op;
        ev->any.internal = out->internal;
        return out;
    }
    return NULL;
}

static int on_welcome(pd_client *c, pd_event *ev)
{
    pd_welcome_event *w = &ev->welcome;
    uint64_t now = pd__now(c);
    set_owned_str(c, &c->user, &w->user);
    set_owned_str(c, &c->conn, &w->conn);
    c->heartbeat_ms = clamp(w->heartbeat_ms, 100, 3600000);
    c->timeout_ms = clamp(w->timeout_ms, c->heartbeat_ms, 3600000 * 2);
    c->max_frame = w->max_frame > 0 ? (size_t)clamp(w->max_frame, 1, 0x7fffffff) : PD_DEFAULT_MAX_FRAME;
    c->state = PD_STATE_CONNECTED;
    c->last_recv = now;
    c->last_send = now;
    c->backoff_attempt = 0;
    w->request_op = PD_OP_HELLO;
    w->reconnected = c->ever_welcomed;
    c->ever_welcomed = 1;
    if (w->reconnected) pd__rejoin_rooms(c);
    return 1;
}

static void on_error(pd_client *c, pd_event *ev)
{
    pd_pending p;
    pd_room *room;
    if (match_reply(c, ev, &p) == NULL || p.op != PD_OP_JOIN) return;
    room = find_room_id(c, p.room_id);
    if (room == NULL) return;
    {
        char *copy = (char *)pd_arena_alloc(&c->arena, room->name_len + 1);
        if (copy != NULL) {
            memcpy(copy, room->name, room->name_len + 1);
            ev->error.room.ptr = copy;
            ev->error.room.len = room->name_len;
        }
    }
    /* A first join that failed, or a re-join the server refused, leaves the room out of the set. */
    if (!room->confirmed || p.internal) remove_room(c, room);
}

static void on_joined(pd_client *c, pd_event *ev)
{
    pd_joined_event *j = &ev->joined;
    pd_pending p;
    pd_room *room = find_room(c, j->room.ptr, j->room.len);
    (void)match_reply(c, ev, &p);
    if (room == NULL) return;
    /* A recovered JOINED is followed by the missed messages, which advance the offset themselves. */
    if (!j->recovered || room->epoch_len != j->epoch.len || memcmp(room->epoch, j->epoch.ptr, j->epoch.len) != 0)
        room->offset = j->offset;
    if (room->epoch == NULL || room->epoch_len != j->epoch.len || memcmp(room->epoch, j->epoch.ptr, j->epoch.len) != 0) {
        char *epoch = pd_mem_strndup(&c->a, j->epoch.ptr, j->epoch.len);
        if (epoch != NULL) {
            pd_mem_free(&c->a, room->epoch, room->epoch_len + 1);
            room->epoch = epoch;
            room->epoch_len = j->epoch.len;
        }
    }
    room->confirmed = 1;
}

int pd__on_frame(pd_client *c, pd_event *ev)
{
    pd_pending p;
    if (ev->type == PD_EV_NONE) return 0;
    if (c->state == PD_STATE_CONNECTING) {
        switch (ev->type) {
        case PD_EV_WELCOME: return on_welcome(c, ev);
        case PD_EV_ERROR:
            /* HELLO refused: ERROR, then GOAWAY with the same code, then the server closes. */
            ev->any.request_op = PD_OP_HELLO;
            c->refused_code = ev->error.code > 0 ? ev->error.code : PD_CODE_PROTOCOL;
            return 1;
        case PD_EV_GOAWAY: break;
        default: {
            char detail[PD_TEXT];
            pd_set_text(detail, sizeof detail, "%s before WELCOME", pd_op_name(ev->type));
            pd__lose(c, PD_ERR_PROTOCOL, detail);
            return -1;
        }
        }
    }
    switch (ev->type) {
    case PD_EV_WELCOME:
        pd__lose(c, PD_ERR_PROTOCOL, "a second WELCOME");
        return -1;
    case PD_EV_GOAWAY:
        c->goaway_code = ev->goaway.code;
        c->goaway_reconnect_ms = ev->goaway.reconnect_ms > 0 ? ev->goaway.reconnect_ms : 0;
        return 1;
    case PD_EV_ERROR: on_error(c, ev); return 1;
    case PD_EV_JOINED: on_joined(c, ev); return 1;
    case PD_EV_PONG:
        if (ev->any.rid == 0) return 0; /* the library's own heartbeat */
        (void)match_reply(c, ev, &p);
        return 1;
    case PD_EV_OK:
    case PD_EV_PRESENCE_STATE:
    case PD_EV_COUNT_STATE:
    case PD_EV_ONLINE_STATE:
        (void)match_reply(c, ev, &p);
        return 1;
    case PD_EV_MESSAGE: {
        pd_room *room = find_room(c, ev->message.room.ptr, ev->message.room.len);
        if (room != NULL && ev->message.offset > 0) room->offset = ev->message.offset;
        return 1;
    }
    default: return 1;
    }
}

/* ---- requests ------------------------------------------------------------------------------- */
static int check(pd_client *c, const char *room, int needs_room)
{
    if (c == NULL) return PD_ERR_INVALID;
    if (needs_room && room == NULL) {
        pd_set_text(c->last_error, sizeof c->last_error, "room is NULL");
        return PD_ERR_INVALID;
    }
    if (c->state != PD_STATE_CONNECTED || c->loss_pending) return PD_ERR_NOT_CONNECTED;
    if (c->out.len - c->out_start >= c->opt.max_send_buffer) return PD_ERR_BUFFER_FULL;
    return PD_OK;
}

/* Queues a frame made by encode() and registers its reply. */
#define REQUEST(c, op, room_id, rid_out, encode_call)            \
    do {                                                          \
        pd_frame_out o_ = pd__frame_out(c);                       \
        uint32_t rid_ = pd__next_rid(c);                          \
        int rc_;                                                  \
        if (reserve_pending(c) != PD_OK) return PD_ERR_NOMEM;     \
        rc_ = encode_call;                                        \
        if (rc_ != PD_OK) return rc_;                             \
        (void)pd__add_pending(c, rid_, op, room_id, 0);           \
        if ((rid_out) != NULL) *(rid_out) = rid_;                 \
    } while (0)

int pd_join(pd_client *c, const char *room, const void *meta, size_t meta_len, const void *will, size_t will_len, uint32_t *rid)
{
    size_t len;
    pd_room *r;
    int rc = check(c, room, 1), added = 0;
    if (rc != PD_OK) return rc;
    len = strlen(room);
    r = find_room(c, room, len);
    if (r == NULL) {
        r = add_room(c, room, len);
        if (r == NULL) return PD_ERR_NOMEM;
        added = 1;
    }
    if (set_bytes(c, &r->meta, &r->meta_len, &r->has_meta, meta, meta_len) != PD_OK ||
        set_bytes(c, &r->will, &r->will_len, &r->has_will, will, will_len) != PD_OK) {
        if (added) remove_room(c, r);
        return PD_ERR_NOMEM;
    }
    rc = send_join(c, r, 0, 0, rid);
    if (rc != PD_OK && added) remove_room(c, r);
    return rc;
}

int pd_leave(pd_client *c, const char *room, uint32_t *rid)
{
    pd_room *r;
    int rc = check(c, room, 1);
    if (rc != PD_OK) return rc;
    REQUEST(c, PD_OP_LEAVE, 0, rid, pd_encode_room_op(&o_, PD_OP_LEAVE, rid_, room, strlen(room)));
    r = find_room(c, room, strlen(room));
    if (r != NULL) remove_room(c, r);
    return PD_OK;
}

int pd_publish(pd_client *c, const char *room, const void *payload, size_t len, uint32_t *rid)
{
    pd_bytes b;
    int rc = check(c, room, 1);
    if (rc != PD_OK) return rc;
    if (payload == NULL && len > 0) return PD_ERR_INVALID;
    b.ptr = payload != NULL ? (const uint8_t *)payload : empty_bytes;
    b.len = len;
    if (rid == NULL) {
        pd_frame_out o = pd__frame_out(c);
        return pd_encode_publish(&o, 0, room, strlen(room), &b);
    }
    REQUEST(c, PD_OP_PUBLISH, 0, rid, pd_encode_publish(&o_, rid_, room, strlen(room), &b));
    return PD_OK;
}

int pd_update(pd_client *c, const char *room, const void *meta, size_t meta_len, uint32_t *rid)
{
    pd_bytes b;
    pd_room *r;
    int rc = check(c, room, 1);
    if (rc != PD_OK) return rc;
    b.ptr = (const uint8_t *)meta;
    b.len = meta != NULL ? meta_len : 0;
    if (meta != NULL && meta_len == 0) b.ptr = empty_bytes;
    REQUEST(c, PD_OP_UPDATE, 0, rid, pd_encode_update(&o_, rid_, room, strlen(room), &b));
    r = find_room(c, room, strlen(room));
    if (r != NULL && set_bytes(c, &r->meta, &r->meta_len, &r->has_meta, meta, meta_len) != PD_OK)
        pd_set_text(c->last_error, sizeof c->last_error, "no memory to keep the meta of %s for re-joins", room);
    return PD_OK;
}

int pd_presence(pd_client *c, const char *room, long limit, uint32_t *rid)
{
    int rc = check(c, room, 1);
    if (rc != PD_OK) return rc;
    REQUEST(c, PD_OP_PRESENCE, 0, rid, pd_encode_presence(&o_, rid_, room, strlen(room), limit));
    return PD_OK;
}

int pd_count(pd_client *c, const char *room, uint32_t *rid)
{
    int rc = check(c, room, 1);
    if (rc != PD_OK) return rc;
    REQUEST(c, PD_OP_COUNT, 0, rid, pd_encode_room_op(&o_, PD_OP_COUNT, rid_, room, strlen(room)));
    return PD_OK;
}

int pd_online(pd_client *c, const char *const *users, size_t count, uint32_t *rid)
{
    size_t i;
    int rc = check(c, NULL, 0);
    if (rc != PD_OK) return rc;
    if (users == NULL && count > 0) return PD_ERR_INVALID;
    for (i = 0; i < count; i++)
        if (users[i] == NULL) return PD_ERR_INVALID;
    REQUEST(c, PD_OP_ONLINE, 0, rid, pd_encode_online(&o_, rid_, users, count));
    return PD_OK;
}

int pd_ping(pd_client *c, uint32_t *rid)
{
    int rc = check(c, NULL, 0);
    if (rc != PD_OK) return rc;
    REQUEST(c, PD_OP_PING, 0, rid, pd_encode_ping(&o_, rid_));
    return PD_OK;
}
