/* Events as one canonical text line each: what the tests match on, and what the interop test reads
 * from interop_peer. Bytes (meta, payload) are hex; a nil meta is "-". */
#include "testkit.h"

#include <stdarg.h>
#include <string.h>

typedef struct out { char *p; size_t cap, len; } out;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(out *o, const char *fmt, ...)
{
    va_list args;
    int n;
    if (o->len >= o->cap) return;
    va_start(args, fmt);
    n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, args);
    va_end(args);
    if (n > 0) o->len += (size_t)n;
    if (o->len >= o->cap) o->len = o->cap - 1;
}

static void put_hex(out *o, const uint8_t *data, size_t len)
{
    char hex[4096];
    tk_hex(data, len, hex, sizeof hex);
    put(o, "%s", hex);
}

static void put_members(out *o, const char *name, const pd_member *m, size_t n)
{
    size_t i;
    put(o, " %s=[", name);
    for (i = 0; i < n; i++) {
        put(o, "%s%s/%s:", i ? "," : "", m[i].user.ptr, m[i].conn.ptr);
        if (m[i].meta.ptr == NULL) put(o, "-");
        else put_hex(o, m[i].meta.ptr, m[i].meta.len);
    }
    put(o, "]");
}

void tk_event_text(const pd_event *ev, char *buf, size_t cap)
{
    out o;
    size_t i;
    o.p = buf;
    o.cap = cap;
    o.len = 0;
    buf[0] = '\0';
    put(&o, "%s rid=%lu op=%s internal=%d", ev->type == PD_EV_DISCONNECTED ? "DISCONNECTED"
                                            : ev->type == PD_EV_REQUEST_FAILED ? "REQUEST_FAILED"
                                                                                : pd_op_name(ev->type),
        (unsigned long)ev->any.rid, ev->any.request_op ? pd_op_name(ev->any.request_op) : "-", ev->any.internal);
    switch (ev->type) {
    case PD_EV_WELCOME:
        put(&o, " user=%s conn=%s node=%s hb=%ld timeout=%ld max_frame=%ld reconnected=%d", ev->welcome.user.ptr,
            ev->welcome.conn.ptr, ev->welcome.node.ptr, (long)ev->welcome.heartbeat_ms, (long)ev->welcome.timeout_ms,
            (long)ev->welcome.max_frame, ev->welcome.reconnected);
        break;
    case PD_EV_ERROR:
        put(&o, " code=%s room=%s msg=%s", pd_code_name(ev->error.code), ev->error.room.ptr, ev->error.message.ptr);
        break;
    case PD_EV_JOINED:
        put(&o, " room=%s epoch=%s offset=%lu recovered=%d total=%ld", ev->joined.room.ptr, ev->joined.epoch.ptr,
            (unsigned long)ev->joined.offset, ev->joined.recovered, (long)ev->joined.total);
        put_members(&o, "members", ev->joined.members, ev->joined.member_count);
        break;
    case PD_EV_PRESENCE_STATE:
        put(&o, " room=%s total=%ld", ev->presence_state.room.ptr, (long)ev->presence_state.total);
        put_members(&o, "members", ev->presence_state.members, ev->presence_state.member_count);
        break;
    case PD_EV_PRESENCE_DIFF:
        put(&o, " room=%s", ev->presence_diff.room.ptr);
        put_members(&o, "leaves", ev->presence_diff.leaves, ev->presence_diff.leave_count);
        put_members(&o, "joins", ev->presence_diff.joins, ev->presence_diff.join_count);
        break;
    case PD_EV_MESSAGE:
        put(&o, " room=%s from=%s/%s offset=%lu payload=", ev->message.room.ptr, ev->message.from_user.ptr,
            ev->message.from_conn.ptr, (unsigned long)ev->message.offset);
        put_hex(&o, ev->message.payload.ptr, ev->message.payload.len);
        break;
    case PD_EV_COUNT_STATE:
        put(&o, " room=%s connections=%ld users=%ld", ev->count_state.room.ptr, (long)ev->count_state.connections,
            (long)ev->count_state.users);
        break;
    case PD_EV_GOAWAY:
        put(&o, " code=%s reconnect_ms=%ld msg=%s", pd_code_name(ev->goaway.code), (long)ev->goaway.reconnect_ms,
            ev->goaway.message.ptr);
        break;
    case PD_EV_ONLINE_STATE:
        put(&o, " users=[");
        for (i = 0; i < ev->online_state.user_count; i++) put(&o, "%s%s", i ? "," : "", ev->online_state.users[i].ptr);
        put(&o, "]");
        break;
    case PD_EV_DISCONNECTED:
        put(&o, " err=%s code=%s will_reconnect=%d retry_ms=%lu detail=%s", tk_err_name(ev->disconnected.err),
            pd_code_name(ev->disconnected.code), ev->disconnected.will_reconnect,
            (unsigned long)ev->disconnected.retry_in_ms, ev->disconnected.detail);
        break;
    case PD_EV_REQUEST_FAILED:
        put(&o, " err=%s", tk_err_name(ev->request_failed.err));
        break;
    default: break;
    }
}
