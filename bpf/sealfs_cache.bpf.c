// SPDX-License-Identifier: GPL-2.0
/*
 * sealfs's FUSE BPF cache: answers LOOKUP and GETATTR from maps that the
 * sealfs-mount daemon fills from its own replies (userspace/client/bpf_cache.*).
 * Maps and their contract: bpf/sealfs_cache.h and docs/kernel-hook.md.
 *
 * An answer is given only while the lease holds (now < deadline_ns) and only
 * from values with fill_gen >= min_fill_gen; LOOKUP needs both the entry and
 * its nodeid's attributes.  Entries and attributes carry a validity of 1 ns,
 * which the kernel rounds up to one tick: the path walks and stat()s of that
 * tick share an answer.  That never serves stale data: the daemon drops the
 * kernel's copies (FUSE_NOTIFY_INVAL_INODE, and FUSE_NOTIFY_INVAL_ENTRY with
 * FUSE_EXPIRE_ONLY, which the patched kernel carries out without the
 * directory's lock and checks against answers in flight) before it
 * acknowledges a change, and a tick is far inside the margin the daemon keeps
 * below the lease (docs/design.md).  The kernel gives an entry this validity
 * only when the program confirms a cached dentry in RCU-walk.  There is no
 * negative caching: a missing name always reaches the daemon.
 */
// The libbpf headers need the kernel types first.
// clang-format off
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
// clang-format on

#include "sealfs_cache.h"

#include "fuse_bpf_hook.h"
#include "percpu_counters.h"

char LICENSE[] SEC("license") = "GPL";

/* max_entries of the three hashes: user space may resize them before load. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, SEALFS_CACHE_DEFAULT_SIZE);
  __type(key, struct sealfs_entry_key);
  __type(value, struct sealfs_entry_val);
} entries SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, SEALFS_CACHE_DEFAULT_LONG_SIZE);
  __type(key, struct sealfs_long_entry_key);
  __type(value, struct sealfs_entry_val);
} long_entries SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, SEALFS_CACHE_DEFAULT_SIZE);
  __type(key, __u64);
  __type(value, struct sealfs_attr_val);
} attrs SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sealfs_lease);
} lease SEC(".maps");

SEALFS_PERCPU_COUNTERS(counters, SEALFS_CACHE_COUNTERS);

static __always_inline void count(__u32 counter) { sealfs_count(&counters, counter); }

/* Counts why the request goes to the daemon, and lets it go there. */
static __always_inline int forward(__u32 counter) {
  count(counter);
  return FUSE_BPF_FORWARD;
}

/* Result of a reply kfunc: answered if it took the reply, else forwarded. */
static __always_inline int answered(int reply_err, __u32 hit, __u32 not_usable) {
  if (reply_err) return forward(not_usable);
  count(hit);
  return FUSE_BPF_ANSWERED;
}

/*
 * forward() for a LOOKUP.  One asked while revalidating a dentry in RCU-walk
 * is not counted: the walk asks the same LOOKUP again in ref-walk, and that
 * one is counted.
 */
static __always_inline int forward_lookup(struct fuse_bpf_lookup_ctx* req, __u32 counter) {
  if (req->flags & FUSE_BPF_LOOKUP_RCU) return FUSE_BPF_FORWARD;
  return forward(counter);
}

/*
 * The lease's bound on fill_gen if answers are allowed now, else -1 (no
 * fill_gen reaches it).  Each field is read once: user space orders its
 * updates so that any mix of an old and a new field is no more permissive
 * than the old or the new lease (BpfCache::SetLease).
 */
static __always_inline __u64 usable_from(void) {
  __u32 zero = 0;
  struct sealfs_lease* l = bpf_map_lookup_elem(&lease, &zero);
  if (!l) return (__u64)-1;
  __u64 deadline = *(volatile __u64*)&l->deadline_ns;
  __u64 min_fill_gen = *(volatile __u64*)&l->min_fill_gen;
  if (bpf_ktime_get_ns() >= deadline) return (__u64)-1;
  return min_fill_gen;
}

/*
 * The cached entry for the name being looked up, from `entries` or, for a
 * name of SEALFS_CACHE_SHORT_NAME_MAX bytes or more, `long_entries`; NULL if
 * there is none.  Each key is zeroed whole: keys compare bytewise.
 */
static __always_inline struct sealfs_entry_val* find_entry(struct fuse_bpf_lookup_ctx* req) {
  if (req->name_len < SEALFS_CACHE_SHORT_NAME_MAX) {
    struct sealfs_entry_key key;
    __builtin_memset(&key, 0, sizeof(key));
    key.parent = req->parent_nodeid;
    int len = bpf_fuse_lookup_name(req, key.name, sizeof(key.name));
    if (len < 0) return NULL;
    key.name_len = len;
    return bpf_map_lookup_elem(&entries, &key);
  }
  struct sealfs_long_entry_key key;
  __builtin_memset(&key, 0, sizeof(key));
  key.parent = req->parent_nodeid;
  int len = bpf_fuse_lookup_name(req, key.name, sizeof(key.name));
  if (len < 0) return NULL;
  key.name_len = len;
  return bpf_map_lookup_elem(&long_entries, &key);
}

SEC("struct_ops/sealfs_lookup")
int BPF_PROG(sealfs_lookup, struct fuse_bpf_lookup_ctx* req) {
  struct fuse_entry_out out;

  struct sealfs_entry_val* e = find_entry(req);
  if (!e) return forward_lookup(req, SEALFS_LOOKUP_MISS);
  __u64 nodeid = e->nodeid;
  struct sealfs_attr_val* a = bpf_map_lookup_elem(&attrs, &nodeid);
  __u64 min_fill_gen = usable_from();
  if (!a || e->fill_gen < min_fill_gen || a->fill_gen < min_fill_gen || min_fill_gen == (__u64)-1)
    return forward_lookup(req, SEALFS_LOOKUP_FORWARD);

  __builtin_memset(&out, 0, sizeof(out));
  out.nodeid = nodeid;
  out.generation = e->generation;
  out.attr = a->attr;
  /* One tick each (see the top of this file). */
  out.entry_valid_nsec = 1;
  out.attr_valid_nsec = 1;
  return answered(bpf_fuse_reply_entry(req, &out, sizeof(out)), SEALFS_LOOKUP_HIT,
                  SEALFS_LOOKUP_FORWARD);
}

SEC("struct_ops/sealfs_getattr")
int BPF_PROG(sealfs_getattr, struct fuse_bpf_getattr_ctx* req) {
  struct fuse_attr_out out;

  __u64 nodeid = req->nodeid;
  struct sealfs_attr_val* a = bpf_map_lookup_elem(&attrs, &nodeid);
  if (!a) return forward(SEALFS_GETATTR_MISS);
  __u64 min_fill_gen = usable_from();
  if (a->fill_gen < min_fill_gen || min_fill_gen == (__u64)-1)
    return forward(SEALFS_GETATTR_FORWARD);

  __builtin_memset(&out, 0, sizeof(out));
  out.attr = a->attr;
  out.attr_valid_nsec = 1; /* one tick */
  return answered(bpf_fuse_reply_attr(req, &out, sizeof(out)), SEALFS_GETATTR_HIT,
                  SEALFS_GETATTR_FORWARD);
}

SEC(".struct_ops")
struct fuse_bpf_ops sealfs = {
    .lookup = (void*)sealfs_lookup,
    .getattr = (void*)sealfs_getattr,
    .name = "sealfs",
};
