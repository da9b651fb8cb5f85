/*
 * cpu-kernels: CPU kernels timed one by one, for `vessel bench cpu`. The same source runs as a static riscv64
 * Linux program in the guest (on Vessel and on QEMU) and compiled natively on the host, so each engine's rate can
 * be shown as a percentage of native speed.
 * Usage: cpu-kernels [SCALE]   (SCALE multiplies the work of every kernel; the rates do not depend on it)
 * Output: one line per kernel, "RESULT <kernel> <rate> <unit> <checksum>", parsed by the host. The checksum is
 * printed so no kernel can be optimised away, and so a wrong emulation shows up as a different number.
 * Build with -ffp-contract=off on every target: fused multiply-add would change the floating-point checksum.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Integer: multiply, rotate, shift, xor and an occasional divide in a dependent chain. One op = one iteration. */
static uint64_t integer_kernel(uint64_t iterations)
{
    uint64_t h = 1469598103934665603ull, a = 0x9e3779b97f4a7c15ull;
    for (uint64_t i = 0; i < iterations; i++) {
        h ^= i;
        h *= 1099511628211ull;
        a += h >> 7;
        a ^= a << 13;
        unsigned r = (unsigned)(i & 31) + 1;
        h += (a << r) | (a >> (64 - r));
        if ((i & 15) == 0) h += a / (i | 1);
    }
    return h ^ a;
}

/* Memory copy: libc memcpy of 1 MiB blocks between two 4 MiB buffers (larger than typical L2). */
#define COPY_BLOCK (1u << 20)
#define COPY_SPAN (4u << 20)
static uint64_t copy_kernel(uint8_t *from, uint8_t *to, uint64_t blocks)
{
    uint64_t sum = 0;
    for (uint64_t b = 0; b < blocks; b++) {
        size_t offset = (size_t)(b % (COPY_SPAN / COPY_BLOCK)) * COPY_BLOCK;
        memcpy(to + offset, from + offset, COPY_BLOCK);
        from[offset + (b & 4095)] ^= (uint8_t)b; /* keep each copy distinct */
        sum += to[offset + ((b * 977) & (COPY_BLOCK - 1))];
    }
    return sum;
}

/* Branchy: a plain quicksort of pseudo-random keys (data-dependent, unpredictable branches). One op = one key. */
static void quicksort(uint32_t *v, long lo, long hi)
{
    while (lo < hi) {
        uint32_t pivot = v[lo + (hi - lo) / 2];
        long i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) {
                uint32_t t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        if (j - lo < hi - i) {
            quicksort(v, lo, j);
            lo = i;
        } else {
            quicksort(v, i, hi);
            hi = j;
        }
    }
}

#define SORT_KEYS 16384
static uint64_t branch_kernel(uint32_t *keys, uint64_t sorts)
{
    uint64_t seed = 88172645463325252ull, sum = 0;
    for (uint64_t s = 0; s < sorts; s++) {
        for (int i = 0; i < SORT_KEYS; i++) keys[i] = (uint32_t)xorshift(&seed);
        quicksort(keys, 0, SORT_KEYS - 1);
        sum += keys[s % SORT_KEYS] ^ keys[SORT_KEYS / 2];
    }
    return sum;
}

/* Floating point: double-precision 48x48 matrix multiply plus a division and square-root pass (IEEE exact on every
 * target, unlike libm's transcendental functions). One op = one floating-point operation. */
#define N 48
static uint64_t float_kernel(uint64_t multiplies)
{
    static double a[N][N], b[N][N], c[N][N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            a[i][j] = (i * N + j) % 17 / 8.0 - 1.0;
            b[i][j] = (j * N + i) % 13 / 6.0 - 1.0;
        }
    double total = 0;
    for (uint64_t m = 0; m < multiplies; m++) {
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) {
                double s = 0;
                for (int k = 0; k < N; k++) s += a[i][k] * b[k][j];
                c[i][j] = s;
            }
        for (int i = 0; i < N; i++) {
            double d = c[i][i] * c[i][i] + 1.0;
            a[i][(m + i) % N] = __builtin_sqrt(d) / (d + 2.0) - 0.5;
        }
        total += c[m % N][(m * 7) % N];
    }
    uint64_t bits;
    memcpy(&bits, &total, sizeof bits);
    return bits;
}

static void report(const char *name, double ops, double seconds, const char *unit, uint64_t checksum)
{
    printf("RESULT %s %.3f %s %016llx\n", name, ops / seconds / 1e6, unit, (unsigned long long)checksum);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    long scale = argc > 1 ? atol(argv[1]) : 1;
    if (argc > 2 || scale < 1 || scale > 100000) {
        fprintf(stderr, "usage: cpu-kernels [SCALE 1..100000]\n");
        return 2;
    }
    uint8_t *from = malloc(COPY_SPAN), *to = malloc(COPY_SPAN);
    uint32_t *keys = malloc(SORT_KEYS * sizeof *keys);
    if (from == NULL || to == NULL || keys == NULL) {
        fprintf(stderr, "cpu-kernels: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < COPY_SPAN; i++) from[i] = (uint8_t)(i * 31 + 7);
    memset(to, 0, COPY_SPAN);

    /* Warm-up (untimed): page faults on the buffers, caches, decode caches and host CPU clocks settle first. */
    volatile uint64_t warm = integer_kernel(100000) + copy_kernel(from, to, 4) + branch_kernel(keys, 1) + float_kernel(1);
    (void)warm;

    /* Work per unit of SCALE: a fraction of a second each on the interpreter. */
    uint64_t n = 4000000ull * scale;
    double t = now();
    uint64_t r = integer_kernel(n);
    report("integer", (double)n, now() - t, "Mops/s", r);

    n = 48ull * scale;
    t = now();
    r = copy_kernel(from, to, n);
    report("memcpy", (double)n * COPY_BLOCK, now() - t, "MB/s", r);

    n = 12ull * scale;
    t = now();
    r = branch_kernel(keys, n);
    report("branchy", (double)n * SORT_KEYS, now() - t, "Mkeys/s", r);

    n = 8ull * scale;
    t = now();
    r = float_kernel(n);
    report("float", (double)n * (2.0 * N * N * N + 4.0 * N), now() - t, "MFLOP/s", r);
    return 0;
}
