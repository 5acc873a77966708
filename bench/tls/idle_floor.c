// What an idle TLS connection costs in OpenSSL itself, on the server side: N loopback connections, each with a full
// TLS 1.3 handshake (ECDSA P-256 certificate made at start), one small request and one small reply (as PresenceD's
// HELLO and WELCOME), then held idle while the server's heap is measured. The client runs in a forked child, so the
// figures are the server process's alone. Modes (the server side; the client is always the same):
//   plain      no TLS: the baseline of this program (a socket in user space costs nothing)
//   ctx        SSL on the socket, SSL_MODE_RELEASE_BUFFERS on the SSL_CTX before any handshake (nginx, HAProxy)
//   late       SSL on the socket, the mode set on each SSL after its handshake (what PresenceD can do through .NET)
//   none       SSL on the socket, buffers never released
//   mem        SSL over two memory BIOs with the server moving bytes between them and the socket (as .NET's
//              SslStream does on Linux), the mode set after the handshake
//   mem-ctx    memory BIOs, the mode on the SSL_CTX before any handshake
// Prints the in-use heap (mallinfo2) and RSS growth per connection.
// Build: gcc -O2 -Wall -o idle_floor idle_floor.c -lssl -lcrypto      Run: idle_floor MODE CONNECTIONS
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define REQUEST_BYTES 48
#define REPLY_BYTES 64

static void die(const char *what)
{
    fprintf(stderr, "idle_floor: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = strtol(line + 6, NULL, 10);
    if (f) fclose(f);
    return kb;
}

static size_t heap_in_use(void) { return mallinfo2().uordblks; }

// A self-signed ECDSA P-256 certificate for CN=localhost.
static void make_certificate(SSL_CTX *ctx)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    if (!key || !cert) die("key or certificate");
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
    X509_set_pubkey(cert, key);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(cert, name);
    if (!X509_sign(cert, key, EVP_sha256())) die("sign");
    if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1) die("use certificate");
    X509_free(cert);
    EVP_PKEY_free(key);
}

// The client: N connections in turn, each handshake, request, reply; then it holds them until killed.
static void run_client(int port, int n, int tls)
{
    SSL_CTX *ctx = tls ? SSL_CTX_new(TLS_client_method()) : NULL;
    if (tls && !ctx) die("client context");
    char request[REQUEST_BYTES], reply[REPLY_BYTES];
    memset(request, 'h', sizeof request);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) die("connect");
        if (!tls) {
            if (write(fd, request, sizeof request) != sizeof request) die("client write");
            if (read(fd, reply, sizeof reply) <= 0) die("client read");
            continue;
        }
        SSL *ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_connect(ssl) != 1) die("SSL_connect");
        if (SSL_write(ssl, request, sizeof request) != sizeof request) die("SSL_write (client)");
        if (SSL_read(ssl, reply, sizeof reply) <= 0) die("SSL_read (client)");
    }
    pause();
}

// Memory-BIO server side: drive one SSL call, moving bytes between the BIOs and the socket until it completes.
static int drive(SSL *ssl, int fd, int (*call)(SSL *, void *, int), void *buf, int len)
{
    char wire[16384 + 512];
    for (;;) {
        int r = call(ssl, buf, len);
        BIO *out = SSL_get_wbio(ssl), *in = SSL_get_rbio(ssl);
        int pending;
        while ((pending = BIO_read(out, wire, sizeof wire)) > 0)
            if (write(fd, wire, pending) != pending) die("server write");
        if (r > 0) return r;
        if (SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ) die("server TLS call");
        ssize_t got = read(fd, wire, sizeof wire);
        if (got <= 0) die("server read");
        BIO_write(in, wire, (int)got);
    }
}

static int accept_call(SSL *ssl, void *buf, int len) { (void)buf, (void)len; return SSL_accept(ssl); }
static int read_call(SSL *ssl, void *buf, int len) { return SSL_read(ssl, buf, len); }
static int write_call(SSL *ssl, void *buf, int len) { return SSL_write(ssl, buf, len); }

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: idle_floor plain|ctx|late|none|mem|mem-ctx CONNECTIONS\n");
        return 2;
    }
    const char *mode = argv[1];
    int n = atoi(argv[2]);
    int tls = strcmp(mode, "plain") != 0;
    int mem = strncmp(mode, "mem", 3) == 0;
    int release_on_ctx = strcmp(mode, "ctx") == 0 || strcmp(mode, "mem-ctx") == 0;
    int release_late = strcmp(mode, "late") == 0 || strcmp(mode, "mem") == 0;
    if (tls && !mem && !release_on_ctx && !release_late && strcmp(mode, "none") != 0) {
        fprintf(stderr, "idle_floor: unknown mode %s\n", mode);
        return 2;
    }

    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in at = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t at_len = sizeof at;
    if (bind(listener, (struct sockaddr *)&at, sizeof at) != 0 || listen(listener, 4096) != 0) die("listen");
    getsockname(listener, (struct sockaddr *)&at, &at_len);
    int port = ntohs(at.sin_port);

    pid_t client = fork();
    if (client == 0) {
        run_client(port, n + 1, tls);
        return 0;
    }

    SSL_CTX *ctx = NULL;
    if (tls) {
        ctx = SSL_CTX_new(TLS_server_method());
        if (!ctx) die("server context");
        make_certificate(ctx);
        if (release_on_ctx) SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
        // Knobs to see where the cost is: TICKETS (session tickets per handshake, OpenSSL's default 2), TLS12=1 (cap
        // the version at TLS 1.2).
        if (getenv("TICKETS")) SSL_CTX_set_num_tickets(ctx, (size_t)atoi(getenv("TICKETS")));
        if (getenv("TLS12")) SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    }

    char request[REQUEST_BYTES], reply[REPLY_BYTES];
    memset(reply, 'w', sizeof reply);
    size_t heap_before = 0;
    long rss_before = 0;
    // Connection 0 warms up (OpenSSL's lazily made tables and providers) and is not counted.
    for (int i = 0; i <= n; i++) {
        if (i == 1) {
            heap_before = heap_in_use();
            rss_before = rss_kb();
        }
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) die("accept");
        // Without it OpenSSL's separate record writes meet Nagle and the client's delayed ACK: 40 ms per handshake.
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (!tls) {
            if (read(fd, request, sizeof request) != sizeof request) die("server read");
            if (write(fd, reply, sizeof reply) != sizeof reply) die("server write");
            continue;
        }
        SSL *ssl = SSL_new(ctx);
        if (mem) SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
        else SSL_set_fd(ssl, fd);
        if (mem) drive(ssl, fd, accept_call, NULL, 0);
        else if (SSL_accept(ssl) != 1) die("SSL_accept");
        if (release_late) SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
        if (mem) {
            drive(ssl, fd, read_call, request, sizeof request);
            drive(ssl, fd, write_call, reply, sizeof reply);
        } else {
            if (SSL_read(ssl, request, sizeof request) <= 0) die("SSL_read (server)");
            if (SSL_write(ssl, reply, sizeof reply) != sizeof reply) die("SSL_write (server)");
        }
        // The SSL stays allocated with its connection, idle, as a server's would.
    }
    size_t heap_after = heap_in_use();
    long rss_after = rss_kb();
    printf("%-8s %6d connections: heap in use %.2f KB per connection, RSS %.2f KB per connection\n", mode, n,
           (double)(heap_after - heap_before) / n / 1024.0, (double)(rss_after - rss_before) / n);
    kill(client, SIGKILL);
    waitpid(client, NULL, 0);
    return 0;
}
