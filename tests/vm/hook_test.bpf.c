// SPDX-License-Identifier: GPL-2.0
/*
 * Test program for the FUSE BPF hook, attached by hookfs --bpf.  What it does
 * depends on the name looked up (see tests/vm/test-hook.sh):
 *   bpf_file     answered: nodeid 1000 with the attributes below
 *   bpf_errattr  answered: nodeid 1001, whose GETATTR fails with EPERM
 *   bpf_badattr  answered: nodeid 1002, whose GETATTR replies with a wrong size
 *   whoami       answered: nodeid 1003, uid/gid/size = caller's uid/gid/pid,
 *                in LOOKUP and GETATTR
 *   eacces_file  fails with EACCES
 *   badret_file  returns 7 (outside the contract)
 *   badneg_file  returns -5000 (outside the contract)
 *   noreply_file returns 1 without a reply
 *   badsize_file replies with a wrong size: EILSEQ if the kernel refused it
 *   rcu_file     answered only during RCU-walk revalidation: hookfs's nodeid 8
 *                and attributes, but mode 0600, valid for a second
 *   rcu_grown    the same for hookfs's nodeid 9, but with size 4242
 *   anything else is forwarded to the daemon.
 */
// The libbpf headers need the kernel types first.
// clang-format off
#include <asm-generic/errno.h>
#include <linux/bpf.h>
#include <linux/stat.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
// clang-format on

#include "fuse_bpf_hook.h"

char LICENSE[] SEC("license") = "GPL";

#define BPF_FILE_NODEID 1000
#define BPF_ERRATTR_NODEID 1001
#define BPF_BADATTR_NODEID 1002
#define WHOAMI_NODEID 1003
/* hookfs's own files (nodeid = index in its kFiles + 2) and their size. */
#define RCU_FILE_NODEID 8
#define RCU_GROWN_NODEID 9
#define HOOKFS_FILE_SIZE 11

static __always_inline int name_is(const char* name, const char* want, int len) {
  for (int i = 0; i < len; i++)
    if (name[i] != want[i]) return 0;
  return 1;
}

#define NAME_IS(name, lit) name_is(name, lit, sizeof(lit))

static __always_inline void fill_attr(struct fuse_attr* attr, __u64 nodeid) {
  attr->ino = nodeid;
  attr->size = 4242;
  attr->blocks = 9;
  attr->mtime = 1700000000;
  attr->ctime = 1700000000;
  attr->atime = 1700000000;
  attr->mode = S_IFREG | 0640;
  attr->nlink = 7;
  attr->uid = 4321;
  attr->gid = 8765;
  attr->blksize = 4096;
}

static __always_inline int answer_entry(struct fuse_bpf_lookup_ctx* req, __u64 nodeid) {
  struct fuse_entry_out e = {};

  e.nodeid = nodeid;
  fill_attr(&e.attr, nodeid);
  if (nodeid == WHOAMI_NODEID) {
    e.attr.uid = req->uid;
    e.attr.gid = req->gid;
    e.attr.size = req->pid;
  }
  if (bpf_fuse_reply_entry(req, &e, sizeof(e))) return -EIO;
  return FUSE_BPF_ANSWERED;
}

/*
 * The answer during RCU-walk for one of hookfs's files: the daemon's nodeid and
 * attributes except for mode 0600 and `size`, valid for a second, so a stat
 * shows whether the kernel applied them.
 */
static __always_inline int answer_rcu(struct fuse_bpf_lookup_ctx* req, __u64 nodeid, __u64 size) {
  struct fuse_entry_out e = {};

  if (!(req->flags & FUSE_BPF_LOOKUP_RCU)) return FUSE_BPF_FORWARD;
  e.nodeid = nodeid;
  e.attr_valid = 1;
  e.attr.ino = nodeid;
  e.attr.size = size;
  e.attr.mode = S_IFREG | 0600;
  e.attr.nlink = 1;
  if (bpf_fuse_reply_entry(req, &e, sizeof(e))) return -EIO;
  return FUSE_BPF_ANSWERED;
}

SEC("struct_ops/hook_lookup")
int BPF_PROG(hook_lookup, struct fuse_bpf_lookup_ctx* req) {
  char name[32];
  struct fuse_entry_out e = {};

  if (req->parent_nodeid != 1) return FUSE_BPF_FORWARD;
  if (bpf_fuse_lookup_name(req, name, sizeof(name)) < 0) return FUSE_BPF_FORWARD;
  if (NAME_IS(name, "bpf_file")) return answer_entry(req, BPF_FILE_NODEID);
  if (NAME_IS(name, "bpf_errattr")) return answer_entry(req, BPF_ERRATTR_NODEID);
  if (NAME_IS(name, "bpf_badattr")) return answer_entry(req, BPF_BADATTR_NODEID);
  if (NAME_IS(name, "whoami")) return answer_entry(req, WHOAMI_NODEID);
  if (NAME_IS(name, "rcu_file")) return answer_rcu(req, RCU_FILE_NODEID, HOOKFS_FILE_SIZE);
  if (NAME_IS(name, "rcu_grown")) return answer_rcu(req, RCU_GROWN_NODEID, 4242);
  if (NAME_IS(name, "eacces_file")) return -EACCES;
  if (NAME_IS(name, "badret_file")) return 7;
  if (NAME_IS(name, "badneg_file")) return -5000;
  if (NAME_IS(name, "noreply_file")) return FUSE_BPF_ANSWERED;
  if (NAME_IS(name, "badsize_file")) {
    e.nodeid = BPF_FILE_NODEID;
    fill_attr(&e.attr, BPF_FILE_NODEID);
    if (bpf_fuse_reply_entry(req, &e, sizeof(e) - 8) == -EINVAL) return -EILSEQ;
    return FUSE_BPF_ANSWERED;
  }
  return FUSE_BPF_FORWARD;
}

SEC("struct_ops/hook_getattr")
int BPF_PROG(hook_getattr, struct fuse_bpf_getattr_ctx* req) {
  struct fuse_attr_out a = {};

  if (req->nodeid == BPF_ERRATTR_NODEID) return -EPERM;
  if (req->nodeid == WHOAMI_NODEID) {
    fill_attr(&a.attr, WHOAMI_NODEID);
    a.attr.uid = req->uid;
    a.attr.gid = req->gid;
    a.attr.size = req->pid;
    return bpf_fuse_reply_attr(req, &a, sizeof(a)) ? -EIO : FUSE_BPF_ANSWERED;
  }
  if (req->nodeid != BPF_FILE_NODEID && req->nodeid != BPF_BADATTR_NODEID) return FUSE_BPF_FORWARD;
  fill_attr(&a.attr, req->nodeid);
  if (req->nodeid == BPF_BADATTR_NODEID) {
    if (bpf_fuse_reply_attr(req, &a, sizeof(a) - 4) == -EINVAL) return -EILSEQ;
    return FUSE_BPF_ANSWERED;
  }
  if (bpf_fuse_reply_attr(req, &a, sizeof(a))) return -EIO;
  return FUSE_BPF_ANSWERED;
}

SEC(".struct_ops")
struct fuse_bpf_ops hook_test_ops = {
    .lookup = (void*)hook_lookup,
    .getattr = (void*)hook_getattr,
    .name = "hook_test",
};
