/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-CPU u64 counters of a BPF program, shared by sealfs's programs: a
 * PERCPU_ARRAY map named `name` with `n` counters, which user space sums over
 * the CPUs (userspace/common/bpf_pins.h), and the increment.
 */
#ifndef SEALFS_BPF_PERCPU_COUNTERS_H
#define SEALFS_BPF_PERCPU_COUNTERS_H

// The libbpf headers need the kernel types first.
// clang-format off
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
// clang-format on

#define SEALFS_PERCPU_COUNTERS(name, n)      \
  struct {                                   \
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); \
    __uint(max_entries, n);                  \
    __type(key, __u32);                      \
    __type(value, __u64);                    \
  } name SEC(".maps")

/* Adds one to counter `index` of the per-CPU array `counters`. */
static __always_inline void sealfs_count(void* counters, __u32 index) {
  __u64* c = bpf_map_lookup_elem(counters, &index);
  /* Atomic: programs run with migration, not always preemption, disabled. */
  if (c) __sync_fetch_and_add(c, 1);
}

#endif /* SEALFS_BPF_PERCPU_COUNTERS_H */
