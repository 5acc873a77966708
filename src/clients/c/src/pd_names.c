/* Names and texts: pd_strerror, server codes, ops, states. */
#include "pd_internal.h"

#include <stdarg.h>
#include <stdio.h>

const char *pd_strerror(int err)
{
    switch (err) {
    case PD_OK: return "no error";
    case PD_ERR_NOMEM: return "out of memory (the allocator returned NULL)";
    case PD_ERR_INVALID: return "invalid argument or call";
    case PD_ERR_NOT_CONNECTED: return "not connected (no session yet, or it was lost)";
    case PD_ERR_TOO_LARGE: return "frame larger than the server's max_frame";
    case PD_ERR_BUFFER_FULL: return "send buffer full (max_send_buffer)";
    case PD_ERR_RESOLVE: return "host name could not be resolved";
    case PD_ERR_CONNECT: return "could not connect to the server";
    case PD_ERR_IO: return "network error";
    case PD_ERR_CLOSED: return "the server closed the connection";
    case PD_ERR_PROTOCOL: return "malformed or unexpected frame from the server";
    case PD_ERR_FRAME_TOO_LARGE: return "server frame longer than max_server_frame";
    case PD_ERR_TIMEOUT: return "timed out";
    case PD_ERR_GOAWAY: return "the server sent GOAWAY and closed the connection";
    case PD_ERR_REFUSED: return "the server refused the session (HELLO)";
    case PD_ERR_DISCONNECTED: return "the connection was lost before the reply";
    case PD_ERR_DROPPED: return "the connection was dropped (pd_client_drop)";
    case PD_ERR_CLOSED_BY_USER: return "the client was closed";
    default: return "unknown error";
    }
}

const char *pd_code_name(int code)
{
    static const char *const names[] = {
        "NONE", "PROTOCOL", "VERSION", "AUTH", "FORBIDDEN", "NOT_JOINED", "TOO_LARGE", "LIMIT", "RATE",
        "DEGRADED", "INTERNAL", "BAD_REQUEST", "SHUTDOWN", "SLOW_CONSUMER", "TIMEOUT",
    };
    if (code < 0 || code >= (int)(sizeof names / sizeof names[0])) return "UNKNOWN";
    return names[code];
}

const char *pd_op_name(int op)
{
    static const char *const client[] = {
        "UNKNOWN", "HELLO", "JOIN", "LEAVE", "PUBLISH", "UPDATE", "PRESENCE", "COUNT", "PING", "BYE", "ONLINE",
    };
    static const char *const server[] = {
        "WELCOME", "OK", "ERROR", "JOINED", "PRESENCE_STATE", "PRESENCE_DIFF", "MESSAGE", "COUNT_STATE",
        "PONG", "GOAWAY", "ONLINE_STATE",
    };
    if (op >= 1 && op <= 10) return client[op];
    if (op >= 64 && op <= 74) return server[op - 64];
    return "UNKNOWN";
}

const char *pd_state_name(int state)
{
    switch (state) {
    case PD_STATE_IDLE: return "idle";
    case PD_STATE_CONNECTING: return "connecting";
    case PD_STATE_CONNECTED: return "connected";
    case PD_STATE_WAITING: return "waiting";
    case PD_STATE_DISCONNECTED: return "disconnected";
    case PD_STATE_CLOSED: return "closed";
    default: return "unknown";
    }
}

void pd_set_text(char *dst, size_t cap, const char *fmt, ...)
{
    va_list args;
    if (dst == NULL || cap == 0) return;
    va_start(args, fmt);
    (void)vsnprintf(dst, cap, fmt, args);
    va_end(args);
}
