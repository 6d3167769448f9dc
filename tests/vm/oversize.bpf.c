// SPDX-License-Identifier: GPL-2.0
/*
 * Must be rejected at load: it claims a reply buffer larger than the memory it
 * passes, which the verifier refuses for a kfunc's (pointer, __sz) pair.
 */
// The libbpf headers need the kernel types first.
// clang-format off
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
// clang-format on

#include "fuse_bpf_hook.h"

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/oversize_lookup")
int BPF_PROG(oversize_lookup, struct fuse_bpf_lookup_ctx* req) {
  struct fuse_attr_out small = {};

  bpf_fuse_reply_entry(req, (const struct fuse_entry_out*)&small, sizeof(struct fuse_entry_out));
  return FUSE_BPF_ANSWERED;
}

SEC(".struct_ops")
struct fuse_bpf_ops oversize_ops = {
    .lookup = (void*)oversize_lookup,
    .name = "oversize",
};
