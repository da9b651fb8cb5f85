// Vessel's CPU benchmark guest: integer, memory and branch-heavy kernels, run bare-metal.
// Built by build.sh with riscv64-linux-gnu-gcc; the result is checked so the work cannot be optimised away.
#include <stdint.h>
#include <stddef.h>

volatile uint64_t tohost __attribute__((section(".tohost"), aligned(64)));
volatile uint64_t fromhost __attribute__((section(".tohost"), aligned(64)));
volatile uint64_t checksum;

#define BUF (64 * 1024)
static uint8_t src[BUF], dst[BUF];
static uint32_t keys[8192];

// Integer: a hash/mix loop with multiplies, shifts and xors.
static uint64_t integer_kernel(uint32_t rounds)
{
    uint64_t h = 1469598103934665603ull, a = 0x9e3779b97f4a7c15ull;
    for (uint32_t i = 0; i < rounds; i++) {
        h ^= i;
        h *= 1099511628211ull;
        a += h >> 7;
        a ^= a << 13;
        h += a / ((i & 15) + 1);
    }
    return h ^ a;
}

// Memory: byte and word copies and a strided read-modify-write over 64 KiB buffers.
static uint64_t memory_kernel(uint32_t rounds)
{
    uint64_t sum = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        for (size_t i = 0; i < BUF; i++) dst[i] = src[i] + (uint8_t)r;
        uint64_t *d = (uint64_t *)dst, *s = (uint64_t *)src;
        for (size_t i = 0; i < BUF / 8; i++) s[i] = d[i] ^ (s[i] >> 1);
        for (size_t i = 0; i < BUF; i += 64) sum += src[i];
    }
    return sum;
}

// Branchy: insertion sort of pseudo-random keys plus a prime sieve.
static uint64_t branch_kernel(uint32_t rounds)
{
    uint64_t sum = 0;
    uint32_t seed = 12345;
    for (uint32_t r = 0; r < rounds; r++) {
        const int n = 1024;
        for (int i = 0; i < n; i++) { seed = seed * 1103515245u + 12345u; keys[i] = seed >> 8; }
        for (int i = 1; i < n; i++) {
            uint32_t k = keys[i];
            int j = i - 1;
            while (j >= 0 && keys[j] > k) { keys[j + 1] = keys[j]; j--; }
            keys[j + 1] = k;
        }
        sum += keys[r % n];
        static uint8_t composite[32768];
        for (int i = 0; i < 32768; i++) composite[i] = 0;
        for (int i = 2; i * i < 32768; i++)
            if (!composite[i])
                for (int j = i * i; j < 32768; j += i) composite[j] = 1;
        for (int i = 2; i < 32768; i++) sum += !composite[i];
    }
    return sum;
}

int main(void)
{
    for (size_t i = 0; i < BUF; i++) src[i] = (uint8_t)(i * 7);
    uint64_t c = integer_kernel(20000000);
    c += memory_kernel(200);
    c += branch_kernel(60);
    checksum = c;
    return 0;
}
