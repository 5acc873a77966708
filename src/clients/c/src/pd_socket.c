/* The platform layer: non-blocking TCP sockets, waiting, and a monotonic clock. POSIX, with
 * Winsock under _WIN32 (the application calls WSAStartup once before using the library). */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#  define _POSIX_C_SOURCE 200809L
#endif
#if defined(_WIN32) && (!defined(_WIN32_WINNT) || _WIN32_WINNT < 0x0600)
#  undef _WIN32_WINNT
#  define _WIN32_WINNT 0x0600 /* WSAPoll, GetTickCount64: Vista and later */
#endif
#if defined(__APPLE__) && !defined(_DARWIN_C_SOURCE)
#  define _DARWIN_C_SOURCE
#endif

#include "pd_internal.h"

#include <stdio.h>
#include <string.h>

#ifdef _WIN32
#  include <winsock2.h>
#  include <ws2tcpip.h>
#  include <windows.h>
#  define SOCK(s) ((SOCKET)(s))
#  define LAST_ERROR() WSAGetLastError()
#  define WOULD_BLOCK(e) ((e) == WSAEWOULDBLOCK)
#  define IN_PROGRESS(e) ((e) == WSAEWOULDBLOCK || (e) == WSAEINPROGRESS)
#  define INTERRUPTED(e) ((e) == WSAEINTR)
#else
#  include <errno.h>
#  include <fcntl.h>
#  include <netdb.h>
#  include <netinet/in.h>
#  include <netinet/tcp.h>
#  include <poll.h>
#  include <sys/socket.h>
#  include <sys/types.h>
#  include <time.h>
#  include <unistd.h>
#  define SOCK(s) (s)
#  define LAST_ERROR() errno
#  define WOULD_BLOCK(e) ((e) == EAGAIN || (e) == EWOULDBLOCK)
#  define IN_PROGRESS(e) ((e) == EINPROGRESS)
#  define INTERRUPTED(e) ((e) == EINTR)
#endif

#if defined(MSG_NOSIGNAL)
#  define PD_SEND_FLAGS MSG_NOSIGNAL
#else
#  define PD_SEND_FLAGS 0
#endif

static void describe(char *err, size_t err_len, const char *what, int code)
{
#ifdef _WIN32
    pd_set_text(err, err_len, "%s: winsock error %d", what, code);
#else
    pd_set_text(err, err_len, "%s: %s", what, strerror(code));
#endif
}

uint64_t pd_sys_clock_ms(void)
{
#ifdef _WIN32
    return (uint64_t)GetTickCount64();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
#endif
}

static int set_nonblocking(pd_socket_t s)
{
#ifdef _WIN32
    u_long on = 1;
    return ioctlsocket(SOCK(s), FIONBIO, &on) == 0 ? 0 : -1;
#else
    int flags = fcntl(s, F_GETFL, 0);
    if (flags < 0) return -1;
    return fcntl(s, F_SETFL, flags | O_NONBLOCK) == 0 ? 0 : -1;
#endif
}

int pd_sock_connect(const char *host, uint16_t port, pd_socket_t *out, char *err, size_t err_len)
{
    struct addrinfo hints, *list = NULL, *ai;
    char service[8];
    int rc, last = 0, one = 1;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    snprintf(service, sizeof service, "%u", (unsigned)port);
    rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0 || list == NULL) {
        pd_set_text(err, err_len, "cannot resolve %s: %s", host, rc != 0 ? gai_strerror(rc) : "no address");
        return PD_ERR_RESOLVE;
    }
    /* The first address whose connect starts wins; one that fails later is retried by the back-off. */
    for (ai = list; ai != NULL; ai = ai->ai_next) {
#ifdef _WIN32
        SOCKET s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (s == INVALID_SOCKET) { last = LAST_ERROR(); continue; }
#else
        int s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (s < 0) { last = LAST_ERROR(); continue; }
        (void)fcntl(s, F_SETFD, FD_CLOEXEC);
#endif
#ifdef SO_NOSIGPIPE
        (void)setsockopt(s, SOL_SOCKET, SO_NOSIGPIPE, (const char *)&one, sizeof one);
#endif
        (void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one);
        if (set_nonblocking((pd_socket_t)s) != 0) {
            last = LAST_ERROR();
            pd_sock_close((pd_socket_t)s);
            continue;
        }
        if (connect(s, ai->ai_addr, (int)ai->ai_addrlen) == 0 || IN_PROGRESS(LAST_ERROR())) {
            freeaddrinfo(list);
            *out = (pd_socket_t)s;
            return PD_OK;
        }
        last = LAST_ERROR();
        pd_sock_close((pd_socket_t)s);
    }
    freeaddrinfo(list);
    describe(err, err_len, "connect", last);
    return PD_ERR_CONNECT;
}

int pd_sock_connect_result(pd_socket_t s, char *err, size_t err_len)
{
    int code = 0;
#ifdef _WIN32
    int len = (int)sizeof code;
#else
    socklen_t len = (socklen_t)sizeof code;
#endif
    if (getsockopt(SOCK(s), SOL_SOCKET, SO_ERROR, (char *)&code, &len) != 0) code = LAST_ERROR();
    if (code == 0) return PD_OK;
    describe(err, err_len, "connect", code);
    return PD_ERR_CONNECT;
}

long pd_sock_send(pd_socket_t s, const uint8_t *data, size_t len, char *err, size_t err_len)
{
    for (;;) {
#ifdef _WIN32
        int n = send(SOCK(s), (const char *)data, len > 0x7fffffff ? 0x7fffffff : (int)len, 0);
#else
        ssize_t n = send(s, data, len, PD_SEND_FLAGS);
#endif
        if (n >= 0) return (long)n;
        if (INTERRUPTED(LAST_ERROR())) continue;
        if (WOULD_BLOCK(LAST_ERROR())) return PD_SOCK_AGAIN;
        describe(err, err_len, "send", LAST_ERROR());
        return -1;
    }
}

long pd_sock_recv(pd_socket_t s, uint8_t *data, size_t len, char *err, size_t err_len)
{
    for (;;) {
#ifdef _WIN32
        int n = recv(SOCK(s), (char *)data, len > 0x7fffffff ? 0x7fffffff : (int)len, 0);
#else
        ssize_t n = recv(s, data, len, 0);
#endif
        if (n >= 0) return (long)n;
        if (INTERRUPTED(LAST_ERROR())) continue;
        if (WOULD_BLOCK(LAST_ERROR())) return PD_SOCK_AGAIN;
        describe(err, err_len, "recv", LAST_ERROR());
        return -1;
    }
}

int pd_sock_wait(pd_socket_t s, int want_read, int want_write, int timeout_ms, int *readable, int *writable)
{
    *readable = *writable = 0;
    if (s == PD_INVALID_SOCKET || (!want_read && !want_write)) {
        if (timeout_ms <= 0) return 0;
#ifdef _WIN32
        Sleep((DWORD)timeout_ms);
#else
        {
            struct timespec ts;
            ts.tv_sec = timeout_ms / 1000;
            ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
            }
        }
#endif
        return 0;
    }
    {
#ifdef _WIN32
        WSAPOLLFD p;
        int rc;
        p.fd = SOCK(s);
        p.events = (short)((want_read ? POLLRDNORM : 0) | (want_write ? POLLWRNORM : 0));
        p.revents = 0;
        rc = WSAPoll(&p, 1, timeout_ms);
#else
        struct pollfd p;
        int rc;
        p.fd = s;
        p.events = (short)((want_read ? POLLIN : 0) | (want_write ? POLLOUT : 0));
        p.revents = 0;
        do {
            rc = poll(&p, 1, timeout_ms);
        } while (rc < 0 && errno == EINTR);
#endif
        if (rc < 0) return -1;
        if (rc == 0) return 0;
        /* An error or hang-up shows up as readable (recv reports it) and writable (connect result). */
        if (p.revents & (POLLERR | POLLHUP)) {
            *readable = want_read;
            *writable = want_write;
        }
#ifdef _WIN32
        if (p.revents & POLLRDNORM) *readable = 1;
        if (p.revents & POLLWRNORM) *writable = 1;
#else
        if (p.revents & POLLIN) *readable = 1;
        if (p.revents & POLLOUT) *writable = 1;
#endif
        return 0;
    }
}

void pd_sock_shutdown_write(pd_socket_t s)
{
    if (s == PD_INVALID_SOCKET) return;
#ifdef _WIN32
    (void)shutdown(SOCK(s), SD_SEND);
#else
    (void)shutdown(s, SHUT_WR);
#endif
}

void pd_sock_close(pd_socket_t s)
{
    if (s == PD_INVALID_SOCKET) return;
#ifdef _WIN32
    closesocket(SOCK(s));
#else
    close(s);
#endif
}
