/*
 * net-bench: sends SIZE_MIB MiB of zeroes over one TCP connection in 64 KiB writes, for `vessel bench net`.
 * Usage: net-bench IPV4 PORT SIZE_MIB [CONNECT_TIMEOUT_S]. Prints its own rate (connect excluded, close included: it half-closes and waits for the receiver's close);
 * unlike busybox nc (small reads and writes through a pipe) this keeps the guest's share of the work to the TCP
 * stack itself. With CONNECT_TIMEOUT_S it retries a refused connect until then (the peer VM may still be booting).
 * Receiver: net-bench -l PORT SIZE_MIB TIMEOUT_S accepts one connection and reads to end of stream, printing
 * "NET-BENCH received N bytes in T s: R MB/s" (accept to end of stream); alarm(2) ends it after TIMEOUT_S
 * whatever happens, so a sender that never comes cannot hang the benchmark (busybox nc -l waits forever).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double seconds_since(const struct timespec *start)
{
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    return (end.tv_sec - start->tv_sec) + (end.tv_nsec - start->tv_nsec) / 1e9;
}

static void timed_out(int signal)
{
    (void)signal;
    static const char message[] = "NET-BENCH timed out\n";
    write(2, message, sizeof message - 1);
    _exit(3);
}

static int receive(int port, long long expected, int timeout)
{
    signal(SIGALRM, timed_out);
    alarm((unsigned)timeout);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    struct sockaddr_in at;
    memset(&at, 0, sizeof at);
    at.sin_family = AF_INET;
    at.sin_port = htons((unsigned short)port);
    at.sin_addr.s_addr = htonl(INADDR_ANY);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0
        || bind(fd, (struct sockaddr *)&at, sizeof at) < 0 || listen(fd, 1) < 0) {
        perror("net-bench: listen");
        return 1;
    }
    printf("NET-BENCH listening on %d\n", port);
    fflush(stdout);
    int peer = accept(fd, NULL, NULL);
    if (peer < 0) {
        perror("net-bench: accept");
        return 1;
    }
    static char buffer[65536];
    long long total = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    ssize_t n;
    while ((n = read(peer, buffer, sizeof buffer)) > 0) total += n;
    double seconds = seconds_since(&start);
    close(peer); /* the sender waits for this FIN before it lets its VM power off */
    if (n < 0) {
        perror("net-bench: read");
        return 1;
    }
    printf("NET-BENCH received %lld bytes in %.3f s: %.2f MB/s\n", total, seconds, total / 1e6 / seconds);
    return total == expected ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "-l") == 0) {
        return receive(atoi(argv[2]), atoll(argv[3]) << 20, atoi(argv[4]));
    }
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: net-bench IPV4 PORT SIZE_MIB [CONNECT_TIMEOUT_S] | net-bench -l PORT SIZE_MIB TIMEOUT_S\n");
        return 2;
    }
    struct sockaddr_in to;
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons((unsigned short)atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
        fprintf(stderr, "net-bench: bad address %s\n", argv[1]);
        return 2;
    }
    struct timespec began;
    clock_gettime(CLOCK_MONOTONIC, &began);
    int patience = argc == 5 ? atoi(argv[4]) : 0;
    int fd;
    for (;;) {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&to, sizeof to) == 0) break;
        if (fd < 0 || (errno != ECONNREFUSED && errno != EHOSTUNREACH && errno != ETIMEDOUT)
            || seconds_since(&began) >= patience) {
            perror("net-bench: connect");
            return 1;
        }
        close(fd);
        usleep(200000);
    }
    static char buffer[65536];
    long long left = atoll(argv[3]) << 20;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (left > 0) {
        ssize_t n = write(fd, buffer, left < (long long)sizeof buffer ? (size_t)left : sizeof buffer);
        if (n <= 0) {
            perror("net-bench: write");
            return 1;
        }
        left -= n;
    }
    /* close() returns while the tail of the stream still sits in the socket buffer, and the guest powers off
     * right after we exit, which would lose it (the receiver then waits forever). Half-close and wait for the
     * receiver's own close, so every byte has been acknowledged; a 60 s read timeout keeps a lost FIN from
     * hanging us. */
    shutdown(fd, SHUT_WR);
    struct timeval patience_rd = { .tv_sec = 60 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience_rd, sizeof patience_rd);
    while (read(fd, buffer, sizeof buffer) > 0) {
    }
    close(fd);
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
    printf("NET-BENCH sent %s MiB in %.3f s: %.2f MB/s\n", argv[3], seconds, (atoll(argv[3]) << 20) / 1e6 / seconds);
    return 0;
}
