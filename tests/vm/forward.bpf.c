// SPDX-License-Identifier: GPL-2.0
/* Always forwards: measures what an attached program costs (docs/benchmarks.md). */
// The libbpf headers need the kernel types first.
// clang-format off
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
// clang-format on

#include "fuse_bpf_hook.h"

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/forward_lookup")
int BPF_PROG(forward_lookup, struct fuse_bpf_lookup_ctx* req) { return FUSE_BPF_FORWARD; }

SEC("struct_ops/forward_getattr")
int BPF_PROG(forward_getattr, struct fuse_bpf_getattr_ctx* req) { return FUSE_BPF_FORWARD; }

SEC(".struct_ops")
struct fuse_bpf_ops forward_ops = {
    .lookup = (void*)forward_lookup,
    .getattr = (void*)forward_getattr,
    .name = "forward",
};
