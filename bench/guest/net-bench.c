/*
 * net-bench: sends SIZE_MIB MiB of zeroes over one TCP connection in 64 KiB writes, for `vessel bench net`.
 * Usage: net-bench IPV4 PORT SIZE_MIB. Prints its own rate (connect excluded, close included); unlike busybox nc
 * (small reads and writes through a pipe) this keeps the guest's share of the work to the TCP stack itself.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: net-bench IPV4 PORT SIZE_MIB\n");
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
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
        perror("net-bench: connect");
        return 1;
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
    close(fd);
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
    printf("NET-BENCH sent %s MiB in %.3f s: %.2f MB/s\n", argv[3], seconds, (atoll(argv[3]) << 20) / 1e6 / seconds);
    return 0;
}
