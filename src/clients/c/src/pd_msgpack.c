/* MessagePack: a strict reader over a complete body and a writer of the smallest forms. Only the
 * types the protocol uses are read as values (nil, bool, int, str, bin, array); anything may be
 * skipped (maps, floats, ext included). Every length is checked against the bytes left before it is
 * used, so a hostile length costs nothing and nothing is read past the end. */
#include "pd_internal.h"

#include <string.h>

/* ---- reader --------------------------------------------------------------------------------- */
static int fail(pd_reader *r, const char *why)
{
    if (r->err == NULL) r->err = why;
    return -1;
}

static size_t left(const pd_reader *r) { return (size_t)(r->end - r->p); }

static int take(pd_reader *r, size_t n, const uint8_t **out)
{
    if (left(r) < n) return fail(r, "truncated value");
    *out = r->p;
    r->p += n;
    return 0;
}

static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    size_t i;
    for (i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

/* Reads a big-endian unsigned of n bytes. */
static int read_be(pd_reader *r, size_t n, uint64_t *v)
{
    const uint8_t *p;
    if (take(r, n, &p) != 0) return -1;
    *v = be(p, n);
    return 0;
}

int pd_mp_peek(const pd_reader *r) { return r->p < r->end ? *r->p : -1; }

int pd_mp_try_nil(pd_reader *r)
{
    if (r->p < r->end && *r->p == 0xc0) {
        r->p++;
        return 1;
    }
    return 0;
}

int pd_mp_read_array(pd_reader *r, uint32_t *count)
{
    uint64_t n;
    int code = pd_mp_peek(r);
    if (code < 0) return fail(r, "truncated value");
    if (code >= 0x90 && code <= 0x9f) {
        r->p++;
        n = (uint64_t)(code & 0x0f);
    } else if (code == 0xdc || code == 0xdd) {
        r->p++;
        if (read_be(r, code == 0xdc ? 2 : 4, &n) != 0) return -1;
    } else {
        return fail(r, "expected an array");
    }
    /* Every element takes at least one byte: a larger count is a lie. */
    if (n > left(r)) return fail(r, "array count exceeds the bytes left");
    *count = (uint32_t)n;
    return 0;
}

/* Any int encoding: *neg set when the value is negative (then *mag holds it as int64 bits). */
static int read_integer(pd_reader *r, uint64_t *bits, int *neg)
{
    uint64_t v;
    int code = pd_mp_peek(r);
    if (code < 0) return fail(r, "truncated value");
    *neg = 0;
    if (code <= 0x7f) { r->p++; *bits = (uint64_t)code; return 0; }
    if (code >= 0xe0) { r->p++; *bits = (uint64_t)(int64_t)(int8_t)(uint8_t)code; *neg = 1; return 0; }
    switch (code) {
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
        r->p++;
        if (read_be(r, (size_t)1 << (code - 0xcc), &v) != 0) return -1;
        *bits = v;
        return 0;
    case 0xd0: r->p++; if (read_be(r, 1, &v) != 0) return -1; *bits = (uint64_t)(int64_t)(int8_t)(uint8_t)v; break;
    case 0xd1: r->p++; if (read_be(r, 2, &v) != 0) return -1; *bits = (uint64_t)(int64_t)(int16_t)(uint16_t)v; break;
    case 0xd2: r->p++; if (read_be(r, 4, &v) != 0) return -1; *bits = (uint64_t)(int64_t)(int32_t)(uint32_t)v; break;
    case 0xd3: r->p++; if (read_be(r, 8, &v) != 0) return -1; *bits = v; break;
    default: return fail(r, "expected an integer");
    }
    *neg = (int64_t)*bits < 0;
    return 0;
}

int pd_mp_read_uint(pd_reader *r, uint64_t *value)
{
    uint64_t bits;
    int neg;
    if (read_integer(r, &bits, &neg) != 0) return -1;
    if (neg) return fail(r, "expected an unsigned integer, got a negative one");
    *value = bits;
    return 0;
}

int pd_mp_read_int(pd_reader *r, int64_t *value)
{
    uint64_t bits;
    int neg;
    if (read_integer(r, &bits, &neg) != 0) return -1;
    if (!neg && bits > (uint64_t)INT64_MAX) return fail(r, "integer out of the int64 range");
    *value = (int64_t)bits;
    return 0;
}

int pd_mp_read_bool(pd_reader *r, int *value)
{
    int code = pd_mp_peek(r);
    if (code == 0xc2 || code == 0xc3) {
        r->p++;
        *value = code == 0xc3;
        return 0;
    }
    return fail(r, code < 0 ? "truncated value" : "expected a bool");
}

static int read_sized(pd_reader *r, uint64_t n, const uint8_t **data, uint32_t *len)
{
    if (n > left(r)) return fail(r, "length exceeds the bytes left");
    *data = r->p;
    *len = (uint32_t)n;
    r->p += n;
    return 0;
}

int pd_mp_read_str(pd_reader *r, const uint8_t **data, uint32_t *len)
{
    uint64_t n;
    int code = pd_mp_peek(r);
    if (code < 0) return fail(r, "truncated value");
    if (code >= 0xa0 && code <= 0xbf) {
        r->p++;
        n = (uint64_t)(code & 0x1f);
    } else if (code >= 0xd9 && code <= 0xdb) {
        r->p++;
        if (read_be(r, (size_t)1 << (code - 0xd9), &n) != 0) return -1;
    } else {
        return fail(r, "expected a str");
    }
    return read_sized(r, n, data, len);
}

int pd_mp_read_bin(pd_reader *r, const uint8_t **data, uint32_t *len)
{
    uint64_t n;
    int code = pd_mp_peek(r);
    if (code < 0) return fail(r, "truncated value");
    if (code < 0xc4 || code > 0xc6) return fail(r, "expected a bin");
    r->p++;
    if (read_be(r, (size_t)1 << (code - 0xc4), &n) != 0) return -1;
    return read_sized(r, n, data, len);
}

static int skip_bytes(pd_reader *r, uint64_t n)
{
    if (n > left(r)) return fail(r, "length exceeds the bytes left");
    r->p += n;
    return 0;
}

static int skip(pd_reader *r, int depth)
{
    uint64_t n, i;
    uint32_t count;
    const uint8_t *data;
    uint32_t len;
    int code = pd_mp_peek(r);
    if (depth >= PD_MAX_SKIP_DEPTH) return fail(r, "nesting too deep");
    if (code < 0) return fail(r, "truncated value");
    if (code <= 0x7f || code >= 0xe0 || (code >= 0xcc && code <= 0xd3)) {
        uint64_t bits;
        int neg;
        return read_integer(r, &bits, &neg);
    }
    if ((code >= 0xa0 && code <= 0xbf) || (code >= 0xd9 && code <= 0xdb)) return pd_mp_read_str(r, &data, &len);
    if (code >= 0xc4 && code <= 0xc6) return pd_mp_read_bin(r, &data, &len);
    if ((code >= 0x90 && code <= 0x9f) || code == 0xdc || code == 0xdd) {
        if (pd_mp_read_array(r, &count) != 0) return -1;
        for (i = 0; i < count; i++)
            if (skip(r, depth + 1) != 0) return -1;
        return 0;
    }
    if ((code >= 0x80 && code <= 0x8f) || code == 0xde || code == 0xdf) {
        r->p++;
        if (code <= 0x8f) n = (uint64_t)(code & 0x0f);
        else if (read_be(r, code == 0xde ? 2 : 4, &n) != 0) return -1;
        if (n > left(r) / 2) return fail(r, "map count exceeds the bytes left");
        for (i = 0; i < n * 2; i++)
            if (skip(r, depth + 1) != 0) return -1;
        return 0;
    }
    r->p++;
    switch (code) {
    case 0xc0: case 0xc2: case 0xc3: return 0;
    case 0xca: return skip_bytes(r, 4);
    case 0xcb: return skip_bytes(r, 8);
    case 0xd4: return skip_bytes(r, 2);  /* fixext: type byte + data */
    case 0xd5: return skip_bytes(r, 3);
    case 0xd6: return skip_bytes(r, 5);
    case 0xd7: return skip_bytes(r, 9);
    case 0xd8: return skip_bytes(r, 17);
    case 0xc7: case 0xc8: case 0xc9:
        if (read_be(r, (size_t)1 << (code - 0xc7), &n) != 0) return -1;
        return skip_bytes(r, n + 1);
    default: return fail(r, "invalid format byte 0xc1");
    }
}

int pd_mp_skip(pd_reader *r) { return skip(r, 0); }

/* ---- writer --------------------------------------------------------------------------------- */
static void put(pd_writer *w, const void *data, size_t n)
{
    if (w->failed) return;
    if (pd_buf_append(w->buf, w->a, data, n) != PD_OK) w->failed = 1;
}

static void put_be(pd_writer *w, uint8_t code, uint64_t v, size_t n)
{
    uint8_t bytes[9];
    size_t i;
    bytes[0] = code;
    for (i = 0; i < n; i++) bytes[1 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    put(w, bytes, 1 + n);
}

void pd_mp_write_array(pd_writer *w, uint32_t count)
{
    if (count <= 15) put_be(w, (uint8_t)(0x90 | count), 0, 0);
    else if (count <= 0xffff) put_be(w, 0xdc, count, 2);
    else put_be(w, 0xdd, count, 4);
}

void pd_mp_write_uint(pd_writer *w, uint64_t v)
{
    if (v <= 0x7f) put_be(w, (uint8_t)v, 0, 0);
    else if (v <= 0xff) put_be(w, 0xcc, v, 1);
    else if (v <= 0xffff) put_be(w, 0xcd, v, 2);
    else if (v <= 0xffffffffu) put_be(w, 0xce, v, 4);
    else put_be(w, 0xcf, v, 8);
}

void pd_mp_write_int(pd_writer *w, int64_t v)
{
    if (v >= 0) pd_mp_write_uint(w, (uint64_t)v);
    else if (v >= -32) put_be(w, (uint8_t)(int8_t)v, 0, 0);
    else if (v >= INT8_MIN) put_be(w, 0xd0, (uint64_t)v & 0xff, 1);
    else if (v >= INT16_MIN) put_be(w, 0xd1, (uint64_t)v & 0xffff, 2);
    else if (v >= INT32_MIN) put_be(w, 0xd2, (uint64_t)v & 0xffffffffu, 4);
    else put_be(w, 0xd3, (uint64_t)v, 8);
}

void pd_mp_write_bool(pd_writer *w, int value) { put_be(w, value ? 0xc3 : 0xc2, 0, 0); }

void pd_mp_write_nil(pd_writer *w) { put_be(w, 0xc0, 0, 0); }

void pd_mp_write_str(pd_writer *w, const char *data, size_t len)
{
    if (len > 0xffffffffu) { w->failed = 1; return; }
    if (len <= 31) put_be(w, (uint8_t)(0xa0 | len), 0, 0);
    else if (len <= 0xff) put_be(w, 0xd9, len, 1);
    else if (len <= 0xffff) put_be(w, 0xda, len, 2);
    else put_be(w, 0xdb, len, 4);
    put(w, data, len);
}

void pd_mp_write_bin(pd_writer *w, const void *data, size_t len)
{
    if (len > 0xffffffffu) { w->failed = 1; return; }
    if (len <= 0xff) put_be(w, 0xc4, len, 1);
    else if (len <= 0xffff) put_be(w, 0xc5, len, 2);
    else put_be(w, 0xc6, len, 4);
    put(w, data, len);
}
