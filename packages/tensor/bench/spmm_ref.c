// Single-threaded CSR x dense reference, compiled with -O3 -march=native by
// the benchmark to measure what a plain C loop over the same arrays reaches.
// Input file: int32 N, E, F, reps; int32 indptr[N+1]; int32 indices[E];
// float weights[E]; float x[N*F]. Prints the median time in ms and a checksum.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void spmm(int n, int f, const int *restrict indptr, const int *restrict indices,
                 const float *restrict w, const float *restrict x, float *restrict out) {
  for (int r = 0; r < n; r++) {
    float *restrict o = out + (size_t)r * f;
    memset(o, 0, sizeof(float) * f);
    for (int e = indptr[r]; e < indptr[r + 1]; e++) {
      const float *restrict xs = x + (size_t)indices[e] * f;
      float we = w[e];
      for (int k = 0; k < f; k++) o[k] += we * xs[k];
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: spmm_ref FILE\n"); return 2; }
  FILE *fp = fopen(argv[1], "rb");
  if (!fp) { perror("open"); return 2; }
  int hdr[4];
  if (fread(hdr, 4, 4, fp) != 4) return 3;
  int n = hdr[0], e = hdr[1], f = hdr[2], reps = hdr[3];
  int *indptr = malloc(4 * (size_t)(n + 1));
  int *indices = malloc(4 * (size_t)e);
  float *w = malloc(4 * (size_t)e);
  float *x = malloc(4 * (size_t)n * f);
  float *out = malloc(4 * (size_t)n * f);
  if (fread(indptr, 4, n + 1, fp) != (size_t)(n + 1) || fread(indices, 4, e, fp) != (size_t)e ||
      fread(w, 4, e, fp) != (size_t)e || fread(x, 4, (size_t)n * f, fp) != (size_t)n * f) return 3;
  fclose(fp);
  double *times = malloc(sizeof(double) * reps);
  spmm(n, f, indptr, indices, w, x, out); // warm-up
  for (int i = 0; i < reps; i++) {
    double t0 = now_ms();
    spmm(n, f, indptr, indices, w, x, out);
    times[i] = now_ms() - t0;
  }
  qsort(times, reps, sizeof(double), cmp);
  double sum = 0;
  for (size_t i = 0; i < (size_t)n * f; i++) sum += out[i];
  printf("{\"medianMs\": %.4f, \"checksum\": %.6e}\n", times[reps / 2], sum);
  return 0;
}
