// SPDX-License-Identifier: GPL-2.0
/*
 * Must be rejected at load: a program of another struct_ops type (the
 * kernel's bpf_dummy_ops) calling the FUSE hook's kfuncs.
 */
// The libbpf headers need the kernel types first.
// clang-format off
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
// clang-format on

#include "fuse_bpf_hook.h"

char LICENSE[] SEC("license") = "GPL";

struct bpf_dummy_ops_state {
  int val;
};

struct bpf_dummy_ops {
  int (*test_1)(struct bpf_dummy_ops_state* cb);
};

SEC("struct_ops/foreign_test_1")
int BPF_PROG(foreign_test_1, struct bpf_dummy_ops_state* cb) {
  char name[16];

  return bpf_fuse_lookup_name((struct fuse_bpf_lookup_ctx*)cb, name, sizeof(name));
}

SEC(".struct_ops")
struct bpf_dummy_ops foreign_ops = {
    .test_1 = (void*)foreign_test_1,
};
