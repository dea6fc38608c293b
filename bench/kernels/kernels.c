/* The four benchmark kernels in C, with the same semantics as the .clif files beside
 * this one.  bench/run_kernels.py builds this file with gcc -O2 and gcc -O0 as shared
 * libraries and times the same calls it makes to Heron's compiled code. */
#include <stdint.h>

int32_t fib(int32_t n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

int64_t sieve(uint8_t *marks, int64_t n) {
    int64_t count = 0;
    for (int64_t i = 2; i <= n; i++) {
        if (marks[i]) continue;
        count++;
        for (int64_t j = i * i; j <= n; j += i) marks[j] = 1;
    }
    return count;
}

void matmul(const double *a, const double *b, double *c, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) {
            double sum = 0.0;
            for (int64_t k = 0; k < n; k++) sum += a[i * n + k] * b[k * n + j];
            c[i * n + j] = sum;
        }
}

int64_t collatz(int64_t n) {
    int64_t steps = 0;
    for (int64_t s = 1; s <= n; s++) {
        uint64_t x = (uint64_t)s;
        while (x != 1) {
            x = (x & 1) ? 3 * x + 1 : x >> 1;
            steps++;
        }
    }
    return steps;
}
