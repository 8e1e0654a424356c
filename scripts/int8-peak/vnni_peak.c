// The int8 compute limit of this CPU, measured: each of THREADS threads runs 12 independent chains of vpdpbusd (AVX-512
// VNNI: 64 uint8 x int8 multiply-accumulates per instruction), enough to hide its latency, so the loop runs at the
// instruction's throughput at the clock the cores hold under that load. Prints GMAC/s, the best of 3 repeats.
//   gcc -O2 -mavx512f -mavx512vnni -pthread vnni_peak.c -o vnni_peak && ./vnni_peak THREADS [ITERATIONS]
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHAINS 12
#define STEP(i) c##i = _mm512_dpbusd_epi32(c##i, a, b)
static long iterations;
static int sums[64];

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static void *run(void *slot) {
  __m512i a = _mm512_set1_epi8(1), b = _mm512_set1_epi8(2);
  // Distinct starting values keep the compiler from merging the chains into one.
  __m512i c0 = _mm512_set1_epi32(0), c1 = _mm512_set1_epi32(1), c2 = _mm512_set1_epi32(2), c3 = _mm512_set1_epi32(3),
          c4 = _mm512_set1_epi32(4), c5 = _mm512_set1_epi32(5), c6 = _mm512_set1_epi32(6), c7 = _mm512_set1_epi32(7),
          c8 = _mm512_set1_epi32(8), c9 = _mm512_set1_epi32(9), c10 = _mm512_set1_epi32(10), c11 = _mm512_set1_epi32(11);
  for (long n = 0; n < iterations; n++) {
    STEP(0); STEP(1); STEP(2); STEP(3); STEP(4); STEP(5); STEP(6); STEP(7); STEP(8); STEP(9); STEP(10); STEP(11);
    __asm__ volatile("" : "+v"(a));  // a may change: nothing is hoisted out of the loop
  }
  __m512i s = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c0, c1), _mm512_add_epi32(c2, c3)),
                               _mm512_add_epi32(_mm512_add_epi32(c4, c5), _mm512_add_epi32(c6, c7)));
  s = _mm512_add_epi32(s, _mm512_add_epi32(_mm512_add_epi32(c8, c9), _mm512_add_epi32(c10, c11)));
  *(int *)slot = _mm512_reduce_add_epi32(s);  // stored where main can read it, so the chains are not dead code
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  iterations = argc > 2 ? atol(argv[2]) : 20000000;
  if (threads < 1 || threads > 64 || iterations < 1) return 2;
  pthread_t t[64];
  double best = 0;
  for (int repeat = 0; repeat < 3; repeat++) {
    double start = now();
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, run, &sums[i]);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    double rate = (double)iterations * CHAINS * 64 * threads / (now() - start) / 1e9;
    if (rate > best) best = rate;
  }
  printf("%.1f\n", best);
  return 0;
}
