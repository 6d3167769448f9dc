// hookfs: a tiny FUSE file system for the FUSE BPF hook tests.  It serves a
// fixed set of regular files in its root, counts every LOOKUP, GETATTR and
// FORGET it receives into a text stats file, and can attach a BPF object's
// struct fuse_bpf_ops to its own connection.  Entry and attribute timeouts are
// zero, so every stat() reaches the FUSE layer.
#define FUSE_USE_VERSION 34

#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuse_hook_attach.h"

#define ROOT_NODEID 1
#define FILE_SIZE 11
#define STATS_SIZE 4096

// The daemon's own files: nodeid = index + 2.  Names the BPF test program
// answers itself (bpf_*, whoami) are deliberately absent.
static const char* const kFiles[] = {"fwd_file",     "eacces_file",  "badret_file", "badneg_file",
                                     "noreply_file", "badsize_file", "rcu_file",    "rcu_grown"};
#define NFILES (sizeof(kFiles) / sizeof(kFiles[0]))

static struct {
  uint64_t lookup_total, getattr_total, forget_total;
  uint64_t lookup[NFILES], lookup_other;
  uint64_t getattr[NFILES], getattr_root, getattr_other;
} counts;

static char* stats_map;  // shared mapping of the stats file, or NULL
static volatile sig_atomic_t link_fd = -1;

// Rewrites the stats file; called before each reply so that a caller whose
// stat() returned sees its request counted.
static void publish(void) {
  if (!stats_map) return;
  char buf[STATS_SIZE];
  int n = snprintf(buf, sizeof(buf),
                   "bpf_attached %d\nlookup_total %" PRIu64 "\ngetattr_total %" PRIu64
                   "\nforget_total %" PRIu64 "\nlookup_other %" PRIu64 "\ngetattr_root %" PRIu64
                   "\ngetattr_other %" PRIu64 "\n",
                   link_fd >= 0, counts.lookup_total, counts.getattr_total, counts.forget_total,
                   counts.lookup_other, counts.getattr_root, counts.getattr_other);
  for (size_t i = 0; i < NFILES; i++)
    n += snprintf(buf + n, sizeof(buf) - n, "lookup %s %" PRIu64 "\ngetattr %s %" PRIu64 "\n",
                  kFiles[i], counts.lookup[i], kFiles[i], counts.getattr[i]);
  memset(stats_map, '\n', STATS_SIZE);
  memcpy(stats_map, buf, n);
}

static void fill_stat(fuse_ino_t ino, struct stat* st) {
  memset(st, 0, sizeof(*st));
  st->st_ino = ino;
  if (ino == ROOT_NODEID) {
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
  } else {
    st->st_mode = S_IFREG | 0644;
    st->st_nlink = 1;
    st->st_size = FILE_SIZE;
  }
}

static void hookfs_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  counts.lookup_total++;
  for (size_t i = 0; parent == ROOT_NODEID && i < NFILES; i++) {
    if (strcmp(name, kFiles[i]) != 0) continue;
    counts.lookup[i]++;
    publish();
    struct fuse_entry_param e = {.ino = i + 2};
    fill_stat(e.ino, &e.attr);
    fuse_reply_entry(req, &e);
    return;
  }
  counts.lookup_other++;
  publish();
  fuse_reply_err(req, ENOENT);
}

static void hookfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
  (void)fi;
  counts.getattr_total++;
  if (ino == ROOT_NODEID) {
    counts.getattr_root++;
  } else if (ino >= 2 && ino < 2 + NFILES) {
    counts.getattr[ino - 2]++;
  } else {
    counts.getattr_other++;
    publish();
    fuse_reply_err(req, ENOENT);
    return;
  }
  publish();
  struct stat st;
  fill_stat(ino, &st);
  fuse_reply_attr(req, &st, 0);
}

static void hookfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  (void)ino;
  counts.forget_total += nlookup;
  publish();
  fuse_reply_none(req);
}

static void hookfs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data* forgets) {
  for (size_t i = 0; i < count; i++) counts.forget_total += forgets[i].nlookup;
  publish();
  fuse_reply_none(req);
}

static const struct fuse_lowlevel_ops kOps = {
    .lookup = hookfs_lookup,
    .getattr = hookfs_getattr,
    .forget = hookfs_forget,
    .forget_multi = hookfs_forget_multi,
};

// SIGUSR1 detaches the BPF program by closing the link, as a daemon would.
static void detach_handler(int sig) {
  (void)sig;
  if (link_fd >= 0) {
    close(link_fd);
    link_fd = -1;
  }
  publish();
}

static void usage(FILE* out) {
  fprintf(out,
          "usage: hookfs [--bpf OBJECT [--bpf OBJECT]] [--stats FILE] MOUNTPOINT\n"
          "Mounts a small test file system at MOUNTPOINT and serves it in the foreground\n"
          "until SIGINT/SIGTERM or unmount.\n"
          "  --bpf OBJECT   attach the struct fuse_bpf_ops in this BPF object to the mount\n"
          "                 (needs the patched kernel; SIGUSR1 detaches it); a second\n"
          "                 --bpf tries to attach another one, which the kernel refuses\n"
          "  --stats FILE   keep request counters in FILE (text, rewritten in place)\n"
          "  -h, --help     show this help\n");
}

static int open_stats(const char* path) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || ftruncate(fd, STATS_SIZE) < 0) {
    fprintf(stderr, "hookfs: cannot create stats file %s: %s\n", path, strerror(errno));
    return -1;
  }
  stats_map = mmap(NULL, STATS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (stats_map == MAP_FAILED) {
    stats_map = NULL;
    fprintf(stderr, "hookfs: cannot map stats file %s: %s\n", path, strerror(errno));
    return -1;
  }
  return 0;
}

int main(int argc, char** argv) {
  static const struct option kLong[] = {{"bpf", required_argument, NULL, 'b'},
                                        {"stats", required_argument, NULL, 's'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  const char* bpf_paths[2];
  int nbpf = 0;
  const char* stats_path = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "h", kLong, NULL)) != -1) {
    switch (c) {
      case 'b':
        if (nbpf == 2) {
          fprintf(stderr, "hookfs: --bpf given more than twice\n");
          return 2;
        }
        bpf_paths[nbpf++] = optarg;
        break;
      case 's':
        stats_path = optarg;
        break;
      case 'h':
        usage(stdout);
        return 0;
      default:
        usage(stderr);
        return 2;
    }
  }
  if (optind != argc - 1) {
    usage(stderr);
    return 2;
  }
  const char* mountpoint = argv[optind];
  if (stats_path && open_stats(stats_path)) return 1;

  char* fuse_argv[] = {argv[0], "-o", "fsname=hookfs,subtype=hookfs,allow_other", NULL};
  struct fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);
  struct fuse_session* se = fuse_session_new(&args, &kOps, sizeof(kOps), NULL);
  if (!se) {
    fprintf(stderr, "hookfs: cannot create the FUSE session\n");
    return 1;
  }
  struct bpf_object* objs[2] = {NULL, NULL};
  int ret = 1;
  if (fuse_set_signal_handlers(se)) goto out_destroy;
  if (fuse_session_mount(se, mountpoint)) {
    fprintf(stderr, "hookfs: cannot mount on %s\n", mountpoint);
    goto out_signals;
  }
  for (int i = 0; i < nbpf; i++) {
    char msg[512];
    int fd = fuse_hook_attach(bpf_paths[i], fuse_session_fd(se), &objs[i], msg, sizeof(msg));
    if (fd < 0) {
      fprintf(stderr, "hookfs: --bpf %s: %s\n", bpf_paths[i], msg);
      goto out_unmount;
    }
    if (i == 0) link_fd = fd;
    signal(SIGUSR1, detach_handler);
  }
  publish();
  ret = fuse_session_loop(se) ? 1 : 0;

out_unmount:
  fuse_session_unmount(se);
  if (link_fd >= 0) close(link_fd);
  for (int i = 0; i < nbpf; i++) bpf_object__close(objs[i]);
out_signals:
  fuse_remove_signal_handlers(se);
out_destroy:
  fuse_session_destroy(se);
  return ret;
}
