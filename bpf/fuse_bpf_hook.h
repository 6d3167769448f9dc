/* SPDX-License-Identifier: GPL-2.0 */
/*
 * BPF-side declarations of the FUSE BPF hook (struct fuse_bpf_ops), which the
 * project's kernel patch adds in fs/fuse/bpf_ops.c; see docs/kernel-hook.md.
 *
 * The context types carry preserve_access_index, so field reads are relocated
 * against the running kernel's BTF and no vmlinux.h is needed.
 */
#ifndef SEALFS_BPF_FUSE_BPF_HOOK_H
#define SEALFS_BPF_FUSE_BPF_HOOK_H

// The libbpf headers need the kernel types first.
// clang-format off
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
// clang-format on

/* Callback return values; -1..-4095 fail the request with that errno. */
#define FUSE_BPF_FORWARD 0  /* send the request to the daemon */
#define FUSE_BPF_ANSWERED 1 /* the reply kfunc supplied the answer */

/*
 * FUSE protocol replies, as in <linux/fuse.h> (a stable ABI).  Declared here
 * because that header pulls in the C library's <stdint.h>, which BPF targets
 * cannot include.
 */
struct fuse_attr {
  __u64 ino;
  __u64 size;
  __u64 blocks;
  __u64 atime;
  __u64 mtime;
  __u64 ctime;
  __u32 atimensec;
  __u32 mtimensec;
  __u32 ctimensec;
  __u32 mode;
  __u32 nlink;
  __u32 uid;
  __u32 gid;
  __u32 rdev;
  __u32 blksize;
  __u32 flags;
};

struct fuse_entry_out {
  __u64 nodeid;
  __u64 generation;
  __u64 entry_valid;
  __u64 attr_valid;
  __u32 entry_valid_nsec;
  __u32 attr_valid_nsec;
  struct fuse_attr attr;
};

struct fuse_attr_out {
  __u64 attr_valid;
  __u32 attr_valid_nsec;
  __u32 dummy;
  struct fuse_attr attr;
};

_Static_assert(sizeof(struct fuse_entry_out) == 128, "fuse_entry_out ABI");
_Static_assert(sizeof(struct fuse_attr_out) == 104, "fuse_attr_out ABI");

/*
 * fuse_bpf_lookup_ctx.flags: the LOOKUP revalidates a cached dentry during
 * RCU-walk.  Only an answer naming the same inode is used; otherwise the walk
 * asks the same LOOKUP again in ref-walk.
 */
#define FUSE_BPF_LOOKUP_RCU (1U << 0)

struct fuse_bpf_lookup_ctx {
  __u64 parent_nodeid;
  __u32 uid;
  __u32 gid;
  __u32 pid;
  __u32 name_len;
  __u32 flags;
} __attribute__((preserve_access_index));

struct fuse_bpf_getattr_ctx {
  __u64 nodeid;
  __u64 fh;
  __u32 getattr_flags;
  __u32 uid;
  __u32 gid;
  __u32 pid;
} __attribute__((preserve_access_index));

struct fuse_bpf_ops {
  int (*lookup)(struct fuse_bpf_lookup_ctx* ctx);
  int (*getattr)(struct fuse_bpf_getattr_ctx* ctx);
  int dev_fd;
  char name[16];
};

/* Copies the looked-up name and a NUL; returns its length or -E2BIG. */
extern int bpf_fuse_lookup_name(struct fuse_bpf_lookup_ctx* ctx, char* buf, __u32 buf__sz) __ksym;
/* Stage the answer; -EINVAL unless out__sz is exactly sizeof(*out). */
extern int bpf_fuse_reply_entry(struct fuse_bpf_lookup_ctx* ctx, const struct fuse_entry_out* out,
                                __u32 out__sz) __ksym;
extern int bpf_fuse_reply_attr(struct fuse_bpf_getattr_ctx* ctx, const struct fuse_attr_out* out,
                               __u32 out__sz) __ksym;

#endif /* SEALFS_BPF_FUSE_BPF_HOOK_H */
