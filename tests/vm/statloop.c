// statloop: times stat() calls on one path and prints latency percentiles.
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void usage(FILE* out) {
  fprintf(out,
          "usage: statloop [-n COUNT] PATH\n"
          "Calls stat(PATH) COUNT times (default 20000) after 1000 warm-up calls and\n"
          "prints: count, mean (total time / COUNT), p50, p90 and p99 latency in\n"
          "nanoseconds.  The percentiles need a fine clock; the mean does not, and a\n"
          "warning says when CLOCK_MONOTONIC is coarser than a microsecond (a guest\n"
          "whose TSC was found unstable falls back to jiffies).\n"
          "  -n COUNT    number of timed calls\n"
          "  -h, --help  show this help\n");
}

static int cmp_u64(const void* a, const void* b) {
  unsigned long long x = *(const unsigned long long*)a, y = *(const unsigned long long*)b;
  return x < y ? -1 : x > y;
}

static unsigned long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int main(int argc, char** argv) {
  static const struct option kLong[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  long count = 20000;
  int c;
  while ((c = getopt_long(argc, argv, "n:h", kLong, NULL)) != -1) {
    if (c == 'n') {
      count = strtol(optarg, NULL, 10);
    } else if (c == 'h') {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (optind != argc - 1 || count <= 0) {
    usage(stderr);
    return 2;
  }
  const char* path = argv[optind];
  struct stat st;
  for (int i = 0; i < 1000; i++) {
    if (stat(path, &st)) {
      fprintf(stderr, "statloop: stat %s: %s\n", path, strerror(errno));
      return 1;
    }
  }
  unsigned long long* lat = malloc(count * sizeof(*lat));
  if (!lat) return 1;
  struct timespec res;
  clock_getres(CLOCK_MONOTONIC, &res);
  if (res.tv_sec || res.tv_nsec > 1000)
    fprintf(stderr, "statloop: warning: clock resolution %ld ns, percentiles are coarse\n",
            res.tv_sec * 1000000000L + res.tv_nsec);
  unsigned long long start = now_ns();
  for (long i = 0; i < count; i++) {
    unsigned long long t0 = now_ns();
    if (stat(path, &st)) {
      fprintf(stderr, "statloop: stat %s: %s\n", path, strerror(errno));
      return 1;
    }
    lat[i] = now_ns() - t0;
  }
  unsigned long long total = now_ns() - start;
  qsort(lat, count, sizeof(*lat), cmp_u64);
  printf("%ld %llu %llu %llu %llu\n", count, total / count, lat[count / 2], lat[count * 9 / 10],
         lat[count * 99 / 100]);
  free(lat);
  return 0;
}
