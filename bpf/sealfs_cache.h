/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layout of the maps of sealfs's FUSE BPF cache (bpf/sealfs_cache.bpf.c),
 * shared by the BPF program and user space (userspace/client/bpf_cache.cc).
 * Plain C structs of fixed-size types: the same bytes on both sides.  See
 * docs/kernel-hook.md, "sealfs's cache maps".
 */
#ifndef SEALFS_BPF_SEALFS_CACHE_H
#define SEALFS_BPF_SEALFS_CACHE_H

#include <linux/types.h>

#ifdef __bpf__
#include "fuse_bpf_hook.h" /* struct fuse_attr */
#else
#include <linux/fuse.h> /* struct fuse_attr, the same FUSE ABI */
#endif

/* Size of the name buffer of long_entries keys, NUL included: names of up to 255 bytes. */
#define SEALFS_CACHE_NAME_MAX 256
/*
 * Size of the name buffer of entries keys, NUL included: names of up to 47
 * bytes, most names, live in `entries`, whose 64-byte keys are hashed and
 * compared four times faster than long_entries' 272-byte ones.
 */
#define SEALFS_CACHE_SHORT_NAME_MAX 48

/* Default max_entries of the entries and attrs maps. */
#define SEALFS_CACHE_DEFAULT_SIZE 65536
/* Default max_entries of the long_entries map. */
#define SEALFS_CACHE_DEFAULT_LONG_SIZE 8192

/*
 * Keys of the `entries` (names shorter than SEALFS_CACHE_SHORT_NAME_MAX) and
 * `long_entries` (longer names) maps: a name in a directory.  Keys compare
 * bytewise, so the bytes of name after name_len, and pad, must be zero.
 */
struct sealfs_entry_key {
  __u64 parent;   /* nodeid of the directory */
  __u32 name_len; /* bytes of name, without NUL; at most SEALFS_CACHE_SHORT_NAME_MAX - 1 */
  __u32 pad;      /* zero */
  char name[SEALFS_CACHE_SHORT_NAME_MAX];
};
struct sealfs_long_entry_key {
  __u64 parent;   /* nodeid of the directory */
  __u32 name_len; /* SEALFS_CACHE_SHORT_NAME_MAX .. SEALFS_CACHE_NAME_MAX - 1 */
  __u32 pad;      /* zero */
  char name[SEALFS_CACHE_NAME_MAX];
};

/* Value of the `entries` and `long_entries` maps: what LOOKUP(parent, name) answers. */
struct sealfs_entry_val {
  __u64 nodeid;
  __u64 generation; /* FUSE inode generation; sealfs uses 0 */
  __u64 fill_gen;   /* usable only while >= sealfs_lease.min_fill_gen */
};

/* Value of the `attrs` map (key: __u64 nodeid): what GETATTR answers. */
struct sealfs_attr_val {
  struct fuse_attr attr;
  __u64 fill_gen; /* usable only while >= sealfs_lease.min_fill_gen */
};

/*
 * The only element of the `lease` map (ARRAY, key __u32 0).  The program
 * answers only while bpf_ktime_get_ns() (CLOCK_MONOTONIC) < deadline_ns, and
 * only from values whose fill_gen >= min_fill_gen.  All zero: nothing is
 * answered.
 */
struct sealfs_lease {
  __u64 deadline_ns;
  __u64 min_fill_gen;
};

/* Indexes of the `counters` map (PERCPU_ARRAY of __u64). */
enum sealfs_cache_counter {
  SEALFS_LOOKUP_HIT,      /* answered */
  SEALFS_LOOKUP_MISS,     /* no entry for the name */
  SEALFS_LOOKUP_FORWARD,  /* present but not usable: sent to the daemon */
  SEALFS_GETATTR_HIT,     /* answered */
  SEALFS_GETATTR_MISS,    /* no attributes for the nodeid */
  SEALFS_GETATTR_FORWARD, /* present but not usable: sent to the daemon */
  SEALFS_CACHE_COUNTERS
};

#ifdef __cplusplus
#define SEALFS_CACHE_ASSERT static_assert
#else
#define SEALFS_CACHE_ASSERT _Static_assert
#endif
SEALFS_CACHE_ASSERT(sizeof(struct fuse_attr) == 88, "fuse_attr ABI");
SEALFS_CACHE_ASSERT(sizeof(struct sealfs_entry_key) == 16 + SEALFS_CACHE_SHORT_NAME_MAX,
                    "sealfs_entry_key has no hidden padding");
SEALFS_CACHE_ASSERT(sizeof(struct sealfs_long_entry_key) == 16 + SEALFS_CACHE_NAME_MAX,
                    "sealfs_long_entry_key has no hidden padding");
SEALFS_CACHE_ASSERT(sizeof(struct sealfs_entry_val) == 24, "sealfs_entry_val layout");
SEALFS_CACHE_ASSERT(sizeof(struct sealfs_attr_val) == 96, "sealfs_attr_val layout");
SEALFS_CACHE_ASSERT(sizeof(struct sealfs_lease) == 16, "sealfs_lease layout");
#undef SEALFS_CACHE_ASSERT

#endif /* SEALFS_BPF_SEALFS_CACHE_H */
