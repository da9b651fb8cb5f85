/*
 * net-bench: sends SIZE_MIB MiB of zeroes over one TCP connection in 64 KiB writes, for `vessel bench net`.
 * Usage: net-bench IPV4 PORT SIZE_MIB. The receiver on the host times the transfer; unlike busybox nc
 * (small reads and writes through a pipe) this keeps the guest's share of the work to the TCP stack itself.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
    while (left > 0) {
        ssize_t n = write(fd, buffer, left < (long long)sizeof buffer ? (size_t)left : sizeof buffer);
        if (n <= 0) {
            perror("net-bench: write");
            return 1;
        }
        left -= n;
    }
    close(fd);
    printf("NET-BENCH sent %s MiB\n", argv[3]);
    return 0;
}
