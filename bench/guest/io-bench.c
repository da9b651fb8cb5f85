/*
 * io-bench: disk throughput inside a Linux guest, for `vessel bench disk`.
 * Usage: io-bench DEVICE SIZE_MIB SECONDS
 * Four phases on the first SIZE_MIB of DEVICE, all with O_DIRECT so the guest page cache is bypassed and the
 * virtual disk is what is measured (the same thing `dd oflag=direct` measures, without a process per request):
 *   seq-write  1 MiB writes over the region, then fsync      -> MB/s
 *   seq-read   1 MiB reads over the region                   -> MB/s
 *   rand-write 4 KiB writes at random aligned offsets, SECONDS -> IOPS (fsync at the end, included)
 *   rand-read  4 KiB reads at random aligned offsets, SECONDS  -> IOPS
 * Each result is one line "RESULT <phase> <value> <unit>", parsed by the host.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BIG (1 << 20)
#define SMALL 4096

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static uint64_t state = 0x9E3779B97F4A7C15ull;

static uint64_t next_random(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static void fail(const char *what)
{
    perror(what);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: io-bench DEVICE SIZE_MIB SECONDS\n");
        return 2;
    }
    long long size = atoll(argv[2]) * BIG;
    double seconds = atof(argv[3]);
    int fd = open(argv[1], O_RDWR | O_DIRECT);
    if (fd < 0)
        fail(argv[1]);
    unsigned char *buffer;
    if (posix_memalign((void **)&buffer, 4096, BIG))
        fail("posix_memalign");
    for (int i = 0; i < BIG; i++)
        buffer[i] = (unsigned char)(i * 31 + 7);

    double start = now();
    for (long long off = 0; off < size; off += BIG)
        if (pwrite(fd, buffer, BIG, off) != BIG)
            fail("seq-write");
    if (fsync(fd))
        fail("fsync");
    printf("RESULT seq-write %.1f MB/s\n", size / 1e6 / (now() - start));
    fflush(stdout);

    start = now();
    for (long long off = 0; off < size; off += BIG)
        if (pread(fd, buffer, BIG, off) != BIG)
            fail("seq-read");
    printf("RESULT seq-read %.1f MB/s\n", size / 1e6 / (now() - start));
    fflush(stdout);

    long long blocks = size / SMALL, ops = 0;
    start = now();
    double end = start + seconds;
    do {
        for (int i = 0; i < 64; i++, ops++)
            if (pwrite(fd, buffer, SMALL, (long long)(next_random() % blocks) * SMALL) != SMALL)
                fail("rand-write");
    } while (now() < end);
    if (fsync(fd))
        fail("fsync");
    printf("RESULT rand-write %.0f IOPS\n", ops / (now() - start));
    fflush(stdout);

    ops = 0;
    start = now();
    end = start + seconds;
    do {
        for (int i = 0; i < 64; i++, ops++)
            if (pread(fd, buffer, SMALL, (long long)(next_random() % blocks) * SMALL) != SMALL)
                fail("rand-read");
    } while (now() < end);
    printf("RESULT rand-read %.0f IOPS\n", ops / (now() - start));
    fflush(stdout);
    close(fd);
    return 0;
}
