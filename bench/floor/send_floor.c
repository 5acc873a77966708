// send_floor: what one delivery costs at minimum when every recipient gets its own send.
//
// N connected loopback TCP sockets (TCP_NODELAY); each round sends one SIZE-byte message on every socket in
// turn, as a broadcast to N members does; a second thread drains the receiving ends with epoll. Two ways to
// send a round:
//   send   one send(2) per socket (what Redis and PresenceD do today);
//   uring  one io_uring SQE per socket (io_uring_prep_send), the whole round submitted with one
//          io_uring_submit_and_wait: the batching only our own engine could do.
// Printed per send: the sender thread's CPU, the whole process's CPU (receiver and io_uring workers count:
// loopback makes the sender pay for the receiver's TCP processing too), and wall time.
//
// Build: bench/floor/build.sh (needs gcc and liburing-dev; without liburing only `send` is built).
// Run:   bench/floor/send_floor send 1000 1000 80   (mode, sockets, rounds, bytes)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

static int sockets, rounds, size;
static int *senders, *receivers;
static atomic_long received;

static void die(const char *what) {
    perror(what);
    exit(1);
}

static double seconds(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double process_cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void connect_pairs(void) {
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) || listen(listener, 4096) ||
        getsockname(listener, (struct sockaddr *)&addr, &len))
        die("listen");
    senders = calloc(sockets, sizeof(int));
    receivers = calloc(sockets, sizeof(int));
    int one = 1;
    for (int i = 0; i < sockets; i++) {
        receivers[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (receivers[i] < 0 || connect(receivers[i], (struct sockaddr *)&addr, sizeof addr)) die("connect");
        senders[i] = accept(listener, NULL, NULL);
        if (senders[i] < 0) die("accept");
        setsockopt(senders[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    close(listener);
}

// Drains every receiving end until all the bytes the sender will send have arrived.
static void *drain(void *unused) {
    (void)unused;
    int ep = epoll_create1(0);
    for (int i = 0; i < sockets; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = receivers[i]};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, receivers[i], &ev)) die("epoll_ctl");
    }
    long expected = (long)sockets * rounds * size;
    struct epoll_event events[256];
    char buffer[65536];
    while (atomic_load(&received) < expected) {
        int n = epoll_wait(ep, events, 256, 1000);
        for (int i = 0; i < n; i++) {
            ssize_t got = read(events[i].data.fd, buffer, sizeof buffer);
            if (got > 0) atomic_fetch_add(&received, got);
        }
    }
    close(ep);
    return NULL;
}

static void send_round_plain(const char *message) {
    for (int i = 0; i < sockets; i++) {
        for (ssize_t sent = 0; sent < size;) {
            ssize_t n = send(senders[i], message + sent, size - sent, MSG_NOSIGNAL);
            if (n < 0 && errno != EINTR) die("send");
            if (n > 0) sent += n;
        }
    }
}

#ifdef HAVE_LIBURING
static struct io_uring ring;
static unsigned ring_entries;

static void send_round_uring(const char *message) {
    for (int first = 0; first < sockets; first += ring_entries) {
        int batch = sockets - first < (int)ring_entries ? sockets - first : (int)ring_entries;
        for (int i = 0; i < batch; i++) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
            io_uring_prep_send(sqe, senders[first + i], message, size, MSG_NOSIGNAL);
        }
        int rc = io_uring_submit_and_wait(&ring, batch);
        if (rc < 0) {
            errno = -rc;
            die("io_uring_submit_and_wait");
        }
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            // A short send on an 80-byte message to a drained socket does not happen; if it did, the byte count
            // check at the end would hang, so say so rather than mis-measure.
            if (cqe->res != size) {
                fprintf(stderr, "send completed with %d, not %d\n", cqe->res, size);
                exit(1);
            }
            seen++;
        }
        io_uring_cq_advance(&ring, seen);
    }
}
#endif

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s send|uring SOCKETS ROUNDS BYTES\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    sockets = atoi(argv[2]);
    rounds = atoi(argv[3]);
    size = atoi(argv[4]);
    if (sockets <= 0 || rounds <= 0 || size <= 0 || size > 65536) {
        fprintf(stderr, "SOCKETS, ROUNDS and BYTES must be positive (BYTES at most 65536)\n");
        return 2;
    }
    void (*send_round)(const char *) = NULL;
    if (strcmp(mode, "send") == 0) send_round = send_round_plain;
#ifdef HAVE_LIBURING
    if (strcmp(mode, "uring") == 0) {
        ring_entries = 1;
        while (ring_entries < (unsigned)sockets && ring_entries < 4096) ring_entries <<= 1;
        int rc = io_uring_queue_init(ring_entries, &ring, 0);
        if (rc < 0) {
            errno = -rc;
            die("io_uring_queue_init (io_uring unavailable or refused here)");
        }
        send_round = send_round_uring;
    }
#endif
    if (!send_round) {
        fprintf(stderr, "unknown or unavailable mode '%s' (built modes: send%s)\n", mode,
#ifdef HAVE_LIBURING
                ", uring"
#else
                ""
#endif
        );
        return 2;
    }

    connect_pairs();
    char *message = malloc(size);
    memset(message, 'x', size);
    pthread_t drainer;
    pthread_create(&drainer, NULL, drain, NULL);

    double wall0 = seconds(CLOCK_MONOTONIC), thread0 = seconds(CLOCK_THREAD_CPUTIME_ID), process0 = process_cpu();
    for (int r = 0; r < rounds; r++) send_round(message);
    double thread1 = seconds(CLOCK_THREAD_CPUTIME_ID);
    pthread_join(drainer, NULL);
    double wall1 = seconds(CLOCK_MONOTONIC), process1 = process_cpu();

    double sends = (double)sockets * rounds;
    printf("mode=%s sockets=%d rounds=%d bytes=%d sends=%.0f sender_cpu_us_per_send=%.2f process_cpu_us_per_send=%.2f "
           "wall_us_per_send=%.2f\n",
           mode, sockets, rounds, size, sends, (thread1 - thread0) * 1e6 / sends, (process1 - process0) * 1e6 / sends,
           (wall1 - wall0) * 1e6 / sends);
    return 0;
}
