// Read bandwidth of this machine's caches and memory at the moment it runs (issue 28: the same int8 archive's latency moved
// between minutes while vnni_peak's compute limit did not). Each of THREADS threads sums its own buffer of MIB MiB with
// 512-bit loads REPEATS times; prints GB/s over the slowest thread. A few MiB per thread stays in the L3 cache, 64 MiB
// per thread goes to memory.
//   gcc -O2 -mavx512f -pthread read_bandwidth.c -o read_bandwidth && ./read_bandwidth THREADS MIB REPEATS
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static size_t bytes;
static int repeats;
static double slowest;
static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static void *run(void *unused) {
  (void)unused;
  char *buffer = aligned_alloc(64, bytes);
  for (size_t i = 0; i < bytes; i += 8) *(long *)(buffer + i) = (long)i;  // touched before the clock starts
  double start = now();
  __m512i sum = _mm512_setzero_si512();
  for (int r = 0; r < repeats; r++)
    for (size_t i = 0; i < bytes; i += 64) sum = _mm512_add_epi64(sum, _mm512_load_si512(buffer + i));
  long long total = _mm512_reduce_add_epi64(sum);  // used, so the loads are not optimized away
  double seconds = now() - start;
  pthread_mutex_lock(&gate);
  if (seconds > slowest) slowest = seconds;
  pthread_mutex_unlock(&gate);
  free(buffer);
  return (void *)(intptr_t)(total & 1);
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: %s THREADS MIB REPEATS\n", argv[0]); return 2; }
  int threads = atoi(argv[1]);
  bytes = (size_t)(atof(argv[2]) * 1024 * 1024) / 64 * 64;
  repeats = atoi(argv[3]);
  if (threads < 1 || threads > 64 || bytes == 0 || repeats < 1) { fprintf(stderr, "bad arguments\n"); return 2; }
  pthread_t workers[64];
  for (int i = 0; i < threads; i++) pthread_create(&workers[i], NULL, run, NULL);
  for (int i = 0; i < threads; i++) pthread_join(workers[i], NULL);
  printf("%.1f\n", (double)bytes * repeats * threads / slowest / 1e9);
  return 0;
}
