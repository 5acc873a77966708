/* Client-to-server frames (PROTOCOL.md "Ops, client to server"): each is a big-endian uint32 body
 * length, then one MessagePack array. A frame is written whole or not at all. */
#include "pd_internal.h"

#include <string.h>

typedef struct frame {
    pd_writer w;
    const pd_frame_out *o;
    size_t start;
} frame;

static void begin(frame *f, const pd_frame_out *o, uint32_t count, pd_op op)
{
    static const uint8_t placeholder[4] = {0, 0, 0, 0};
    f->o = o;
    f->start = o->buf->len;
    f->w.buf = o->buf;
    f->w.a = o->a;
    f->w.failed = 0;
    if (pd_buf_append(o->buf, o->a, placeholder, 4) != PD_OK) f->w.failed = 1;
    pd_mp_write_array(&f->w, count);
    pd_mp_write_uint(&f->w, (uint64_t)op);
}

static int end(frame *f)
{
    size_t body;
    uint8_t *p;
    if (f->w.failed) {
        f->o->buf->len = f->start;
        return PD_ERR_NOMEM;
    }
    body = f->o->buf->len - f->start - 4;
    if (body > f->o->max_frame) {
        f->o->buf->len = f->start;
        return PD_ERR_TOO_LARGE;
    }
    p = f->o->buf->data + f->start;
    p[0] = (uint8_t)(body >> 24);
    p[1] = (uint8_t)(body >> 16);
    p[2] = (uint8_t)(body >> 8);
    p[3] = (uint8_t)body;
    return PD_OK;
}

static void write_opt_bin(pd_writer *w, const pd_bytes *b)
{
    if (b == NULL || b->ptr == NULL) pd_mp_write_nil(w);
    else pd_mp_write_bin(w, b->ptr, b->len);
}

int pd_encode_hello(const pd_frame_out *o, uint32_t rid, const char *credential, const char *client_name)
{
    frame f;
    begin(&f, o, client_name != NULL ? 5 : 4, PD_OP_HELLO);
    pd_mp_write_uint(&f.w, rid);
    pd_mp_write_uint(&f.w, PD_PROTOCOL_VERSION);
    if (credential == NULL) pd_mp_write_nil(&f.w);
    else pd_mp_write_str(&f.w, credential, strlen(credential));
    if (client_name != NULL) pd_mp_write_str(&f.w, client_name, strlen(client_name));
    return end(&f);
}

int pd_encode_join(const pd_frame_out *o, uint32_t rid, const char *room, size_t room_len,
                   const pd_bytes *meta, const pd_since *since, const pd_bytes *will)
{
    frame f;
    int has_meta = meta != NULL && meta->ptr != NULL;
    int has_will = will != NULL && will->ptr != NULL;
    /* Trailing optional fields are left out; an inner one that is absent is nil. */
    uint32_t count = has_will ? 6 : since != NULL ? 5 : has_meta ? 4 : 3;
    begin(&f, o, count, PD_OP_JOIN);
    pd_mp_write_uint(&f.w, rid);
    pd_mp_write_str(&f.w, room, room_len);
    if (count > 3) write_opt_bin(&f.w, meta);
    if (count > 4) {
        if (since == NULL) {
            pd_mp_write_nil(&f.w);
        } else {
            pd_mp_write_array(&f.w, 2);
            pd_mp_write_str(&f.w, since->epoch, since->epoch_len);
            pd_mp_write_uint(&f.w, since->offset);
        }
    }
    if (count > 5) write_opt_bin(&f.w, will);
    return end(&f);
}

int pd_encode_room_op(const pd_frame_out *o, pd_op op, uint32_t rid, const char *room, size_t room_len)
{
    frame f;
    begin(&f, o, 3, op);
    pd_mp_write_uint(&f.w, rid);
    pd_mp_write_str(&f.w, room, room_len);
    return end(&f);
}

int pd_encode_publish(const pd_frame_out *o, uint32_t rid, const char *room, size_t room_len, const pd_bytes *payload)
{
    frame f;
    begin(&f, o, 4, PD_OP_PUBLISH);
    pd_mp_write_uint(&f.w, rid);
    pd_mp_write_str(&f.w, room, room_len);
    pd_mp_write_bin(&f.w, payload->ptr, payload->len);
    return end(&f);
}

int pd_encode_update(const pd_frame_out *o, uint32_t rid, const char *room, size_t room_len, const pd_bytes *meta)
{
    frame f;
    begin(&f, o, 4, PD_OP_UPDATE);
    pd_mp_write_uint(&f.w, rid);
    pd_mp_write_str(&f.w, room, room_len);
    write_opt_bin(&f.w, meta);
    return end(&f);
}

int pd_encode_presence(const pd_frame_out *o, uint32_t rid, const char *room, size_t room_len, long limit)
{
    frame f;
    begin(&f, o, limit < 0 ? 3 : 4, PD_OP_PRESENCE);
    pd_mp_write_uint(&f.w, rid);
    pd_mp_write_str(&f.w, room, room_len);
    /* The server reads limit as uint32 and caps it at presence_limit. */
    if (limit >= 0) pd_mp_write_uint(&f.w, (unsigned long)limit > 0xffffffffUL ? 0xffffffffu : (uint64_t)limit);
    return end(&f);
}

int pd_encode_online(const pd_frame_out *o, uint32_t rid, const char *const *users, size_t count)
{
    frame f;
    size_t i;
    if (count > 0xffffffffu) return PD_ERR_TOO_LARGE;
    begin(&f, o, 3, PD_OP_ONLINE);
    pd_mp_write_uint(&f.w, rid);
    pd_mp_write_array(&f.w, (uint32_t)count);
    for (i = 0; i < count; i++) pd_mp_write_str(&f.w, users[i], strlen(users[i]));
    return end(&f);
}

int pd_encode_ping(const pd_frame_out *o, uint32_t rid)
{
    frame f;
    begin(&f, o, 2, PD_OP_PING);
    pd_mp_write_uint(&f.w, rid);
    return end(&f);
}

int pd_encode_bye(const pd_frame_out *o)
{
    frame f;
    begin(&f, o, 1, PD_OP_BYE);
    return end(&f);
}
