// SPDX-License-Identifier: GPL-2.0
/*
 * sealfs's XDP fast path: answers GETATTR and LOOKUP datagrams sent to the
 * server's UDP port from the `answers` map, which only the server writes.
 * Format and maps: bpf/sealfs_xdp.h and docs/protocol.md ("UDP fast path").
 *
 * Only an exactly-valid request is answered: Ethernet II, IPv4 without
 * options or fragmentation, UDP to `sealfs_xdp_port`, every length exactly
 * that of one struct sealfs_xdp_msg, right magic, version and op, zero flags,
 * status and generation, correct IP header checksum.  Anything else goes up
 * the stack unchanged (XDP_PASS), as does a request whose answer is missing,
 * holds another key, or changed while it was read.  The reply is written in
 * place over the request (which is padded to the reply's size) and sent back
 * out of the same interface.
 *
 * The request's UDP checksum is not checked: where a veth or an offloading
 * device hands the frame over, XDP often sees a partial one
 * (CHECKSUM_PARTIAL).  A request damaged on the way is answered, if at all,
 * with its own damaged request id and key echoed, which the client does not
 * recognise as the answer to anything it asked.
 */
// The libbpf headers need the kernel types first.
// clang-format off
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
// clang-format on

#include "sealfs_xdp.h"

#include "percpu_counters.h"

char LICENSE[] SEC("license") = "GPL";

/* The UDP port requests are sent to, host byte order; set before load. */
const volatile __u16 sealfs_xdp_port = 0;

/* TTL of replies. */
#define REPLY_TTL 64

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, SEALFS_XDP_DEFAULT_SIZE);
  __type(key, struct sealfs_xdp_key);
  __type(value, struct sealfs_xdp_answer);
} answers SEC(".maps");

SEALFS_PERCPU_COUNTERS(counters, SEALFS_XDP_COUNTERS);

static __always_inline void count(__u32 counter) { sealfs_count(&counters, counter); }

/* Counts why the packet is not answered, and lets it go up the stack. */
static __always_inline int pass(__u32 counter) {
  count(counter);
  return XDP_PASS;
}

/* Folds a 32-bit one's complement sum to 16 bits. */
static __always_inline __u16 fold(__u64 sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return (__u16)sum;
}

/*
 * The UDP checksum of the datagram `udp` (whose length the caller has checked:
 * SEALFS_XDP_UDP_LEN bytes in the packet, check field zero), or 0 - no
 * checksum, valid over IPv4 - should the helper fail.
 */
static __always_inline __u16 udp_checksum(const struct iphdr* ip, struct udphdr* udp) {
  struct {
    __be32 saddr;
    __be32 daddr;
    __u8 zero;
    __u8 protocol;
    __be16 len;
  } pseudo = {ip->saddr, ip->daddr, 0, IPPROTO_UDP, bpf_htons(SEALFS_XDP_UDP_LEN)};
  __s64 sum = bpf_csum_diff(0, 0, (__be32*)&pseudo, sizeof(pseudo), 0);
  if (sum < 0) return 0;
  sum = bpf_csum_diff(0, 0, (__be32*)udp, SEALFS_XDP_UDP_LEN, sum);
  if (sum < 0) return 0;
  __u16 check = ~fold(sum);
  return check ? check : 0xffff; /* 0 would mean "no checksum" */
}

/* One's complement sum of the IPv4 header `ip` (20 bytes, checked by the caller). */
static __always_inline __u16 ip_sum(struct iphdr* ip) {
  __s64 sum = bpf_csum_diff(0, 0, (__be32*)ip, sizeof(*ip), 0);
  return sum < 0 ? 0 : fold(sum);
}

/* Keys and answers compare as 64-bit words. */
static __always_inline int same_key(const struct sealfs_xdp_key* a,
                                    const struct sealfs_xdp_key* b) {
  const __u64* x = (const __u64*)a;
  const __u64* y = (const __u64*)b;
  __u64 diff = 0;
  for (int i = 0; i < sizeof(*a) / 8; i++) diff |= x[i] ^ y[i];
  return diff == 0;
}

SEC("xdp")
int sealfs_xdp(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* data_end = (void*)(long)ctx->data_end;
  count(SEALFS_XDP_RECEIVED);

  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
    return pass(SEALFS_XDP_PASS_NOT_IPV4);
  struct iphdr* ip = (void*)(eth + 1);
  if ((void*)(ip + 1) > data_end || ip->version != 4 || ip->ihl != 5)
    return pass(SEALFS_XDP_PASS_IP_HEADER);
  if (ip->frag_off & bpf_htons(0xbfff)) /* reserved flag, IP_MF, IP_OFFSET */
    return pass(SEALFS_XDP_PASS_FRAGMENT);
  if (ip->protocol != IPPROTO_UDP) return pass(SEALFS_XDP_PASS_NOT_UDP);
  struct udphdr* udp = (void*)(ip + 1);
  if ((void*)(udp + 1) > data_end || udp->dest != bpf_htons(sealfs_xdp_port))
    return pass(SEALFS_XDP_PASS_PORT);
  struct sealfs_xdp_msg* msg = (void*)(udp + 1);
  /* The whole frame's length: data_end - data is not a number to the verifier. */
  if ((void*)(msg + 1) > data_end || bpf_xdp_get_buff_len(ctx) != SEALFS_XDP_FRAME_LEN ||
      ip->tot_len != bpf_htons(SEALFS_XDP_IP_LEN) || udp->len != bpf_htons(SEALFS_XDP_UDP_LEN))
    return pass(SEALFS_XDP_PASS_LENGTH);
  if (msg->magic != SEALFS_XDP_MAGIC) return pass(SEALFS_XDP_PASS_MAGIC);
  if (msg->version != SEALFS_XDP_VERSION) return pass(SEALFS_XDP_PASS_VERSION);
  if (msg->key.op != SEALFS_XDP_GETATTR && msg->key.op != SEALFS_XDP_LOOKUP)
    return pass(SEALFS_XDP_PASS_OP);
  if (msg->flags != 0 || msg->status != 0 || msg->generation != 0)
    return pass(SEALFS_XDP_PASS_HEADER);
  if (ip_sum(ip) != 0xffff) return pass(SEALFS_XDP_PASS_IP_CHECKSUM);

  struct sealfs_xdp_key key;
  __builtin_memcpy(&key, &msg->key, sizeof(key));
  struct sealfs_xdp_answer* found = bpf_map_lookup_elem(&answers, &key);
  if (!found) return pass(SEALFS_XDP_MISS);
  /*
   * A private copy: the element may be reused while it is read.  The barrier
   * keeps the compiler from reading the element again instead of the copy
   * after the check.
   */
  struct sealfs_xdp_answer a;
  __builtin_memcpy(&a, found, sizeof(a));
  asm volatile("" : : "r"(&a) : "memory");
  if (a.check != sealfs_xdp_answer_check(&a)) return pass(SEALFS_XDP_PASS_TORN);
  if (!same_key(&a.key, &key)) return pass(SEALFS_XDP_KEY_MISMATCH);

  /* The reply, in place: addresses and ports swapped, then the message. */
  unsigned char mac[ETH_ALEN];
  __builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
  __builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
  __builtin_memcpy(eth->h_source, mac, ETH_ALEN);
  __be32 addr = ip->daddr;
  ip->daddr = ip->saddr;
  ip->saddr = addr;
  ip->ttl = REPLY_TTL;
  ip->check = 0;
  ip->check = ~ip_sum(ip);
  __be16 port = udp->dest;
  udp->dest = udp->source;
  udp->source = port;

  msg->flags = SEALFS_XDP_FLAG_REPLY;
  msg->status = a.status;
  msg->generation = a.generation;
  __builtin_memcpy(&msg->payload, &a.payload, sizeof(a.payload));
  udp->check = 0;
  udp->check = udp_checksum(ip, udp);
  count(SEALFS_XDP_HIT);
  return XDP_TX;
}
