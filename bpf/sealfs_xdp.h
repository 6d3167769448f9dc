/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The UDP fast path of sealfs servers (docs/protocol.md, "UDP fast path"):
 * the datagram format, and the maps of the XDP program that answers hot
 * GETATTR and LOOKUP requests (bpf/sealfs_xdp.bpf.c).  Shared by the BPF
 * program and user space: plain C structs of fixed-size little-endian fields,
 * naturally aligned, no hidden padding (asserted below), so the same bytes on
 * both sides and on the wire.
 */
#ifndef SEALFS_BPF_SEALFS_XDP_H
#define SEALFS_BPF_SEALFS_XDP_H

#include <linux/types.h>

#define SEALFS_XDP_MAGIC 0x50445853u /* "SXDP" in wire (little-endian) order */
#define SEALFS_XDP_VERSION 1

/* Operations (struct sealfs_xdp_key.op). */
#define SEALFS_XDP_GETATTR 1
#define SEALFS_XDP_LOOKUP 2

/* struct sealfs_xdp_msg.flags: set in replies, clear in requests. */
#define SEALFS_XDP_FLAG_REPLY 0x01

/* Bytes of name a LOOKUP key holds; longer names are asked over TCP. */
#define SEALFS_XDP_NAME_MAX 64

/* Default max_entries of the answers map; user space may resize it before load. */
#define SEALFS_XDP_DEFAULT_SIZE 65536

/*
 * What a request asks about; also the key of the answers map, compared
 * bytewise: every byte the fields below do not use must be zero.
 *   GETATTR: ino = the inode, name_len = 0, name all zero.
 *   LOOKUP:  ino = the parent directory, name_len = 1..SEALFS_XDP_NAME_MAX,
 *            name = the name's bytes (no NUL), zero-padded.
 */
struct sealfs_xdp_key {
  __u64 ino;
  __u8 op;       /* SEALFS_XDP_GETATTR or SEALFS_XDP_LOOKUP */
  __u8 name_len; /* bytes of name */
  __u8 zero[6];
  char name[SEALFS_XDP_NAME_MAX];
};

/* The TCP protocol's Attr (userspace/common/messages.h), field for field. */
struct sealfs_xdp_attr {
  __u64 ino;
  __u32 mode;
  __u32 nlink;
  __u32 uid;
  __u32 gid;
  __u64 size;
  __u64 blocks;
  __u64 rdev;
  __s64 atime_ns;
  __s64 mtime_ns;
  __s64 ctime_ns;
  __u64 parent;
};

/* The TCP protocol's Entry, field for field (has_attr 1: attr is filled). */
struct sealfs_xdp_entry {
  __u64 ino;
  __u32 mode;
  __u8 has_attr;
  __u8 zero[3];
  struct sealfs_xdp_attr attr;
};

/*
 * What a reply carries: GETATTR the attr (the 16 bytes after it zero),
 * LOOKUP the entry.  Requests send zeros here: they are padded to the size of
 * the reply, so that answering never grows a packet and the fast path offers
 * no amplification.
 */
union sealfs_xdp_payload {
  struct sealfs_xdp_attr attr;
  struct sealfs_xdp_entry entry;
  __u8 bytes[96];
};

/*
 * One datagram (the whole UDP payload), request or reply: a request must be
 * exactly this long, and a reply is.  In a request, flags, status and
 * generation are zero; the reply echoes magic, version, request_id and key,
 * sets SEALFS_XDP_FLAG_REPLY, and fills status (0 or a positive Linux errno),
 * generation and, when status is 0, the payload.
 */
struct sealfs_xdp_msg {
  __u32 magic;  /* SEALFS_XDP_MAGIC */
  __u8 version; /* SEALFS_XDP_VERSION */
  __u8 flags;   /* SEALFS_XDP_FLAG_* */
  __u16 status; /* replies: 0 or a positive Linux errno */
  __u64 request_id;
  __u64 generation; /* replies: the server's generation of the answer */
  struct sealfs_xdp_key key;
  union sealfs_xdp_payload payload;
};

/*
 * Value of the `answers` map (LRU hash, key struct sealfs_xdp_key).  Written
 * only by the server, read by the program.  The program answers only when
 * `key` equals the request's key and `check` equals sealfs_xdp_answer_check()
 * of the copy it read: the kernel reuses an LRU element at once when user
 * space replaces or deletes it, so a program still reading it may see a mix
 * of two values, which the check rejects.
 */
struct sealfs_xdp_answer {
  struct sealfs_xdp_key key;
  __u64 generation;
  __u16 status;
  __u16 zero[3];
  union sealfs_xdp_payload payload;
  __u64 check; /* sealfs_xdp_answer_check() of all the bytes before it */
};

/* Number of 64-bit words sealfs_xdp_answer_check() covers. */
#define SEALFS_XDP_CHECKED_WORDS ((sizeof(struct sealfs_xdp_answer) - sizeof(__u64)) / 8)

/*
 * A 64-bit mix of every byte of `a` before `check`.  Not a defence against an
 * adversary (only the server writes the map), but two different values, or a
 * value mixed from two, match with a chance of about 2^-64.
 */
static inline __u64 sealfs_xdp_answer_check(const struct sealfs_xdp_answer* a) {
  const unsigned char* p = (const unsigned char*)a;
  __u64 h = 0x7365616c66730001ull;
  for (unsigned i = 0; i < SEALFS_XDP_CHECKED_WORDS; i++) {
    __u64 w;
    __builtin_memcpy(&w, p + 8 * i, 8);
    h = (h ^ w) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
  }
  return h;
}

/*
 * Indexes of the `counters` map (PERCPU_ARRAY of __u64).  Every packet the
 * program sees counts in RECEIVED and in exactly one of the others.  The
 * PASS_* reasons are listed in the order the program checks them.
 */
enum sealfs_xdp_counter {
  SEALFS_XDP_RECEIVED,
  SEALFS_XDP_HIT,            /* answered: XDP_TX */
  SEALFS_XDP_MISS,           /* a valid request with no answer in the map */
  SEALFS_XDP_KEY_MISMATCH,   /* the answer found holds another key */
  SEALFS_XDP_PASS_NOT_IPV4,  /* shorter than Ethernet, or not IPv4 (VLAN, IPv6, ARP, ...) */
  SEALFS_XDP_PASS_IP_HEADER, /* truncated, not version 4, or with options */
  SEALFS_XDP_PASS_FRAGMENT,  /* reserved or more-fragments flag, or a fragment offset */
  SEALFS_XDP_PASS_NOT_UDP,
  SEALFS_XDP_PASS_PORT,   /* truncated UDP header, or another destination port */
  SEALFS_XDP_PASS_LENGTH, /* frame, IP or UDP length not exactly a sealfs_xdp_msg */
  SEALFS_XDP_PASS_MAGIC,
  SEALFS_XDP_PASS_VERSION,
  SEALFS_XDP_PASS_OP,          /* op neither GETATTR nor LOOKUP */
  SEALFS_XDP_PASS_HEADER,      /* flags, status or generation not zero (e.g. a reply) */
  SEALFS_XDP_PASS_IP_CHECKSUM, /* wrong IP header checksum (the UDP one is not checked) */
  SEALFS_XDP_PASS_TORN,        /* the answer changed while the program read it */
  SEALFS_XDP_COUNTERS
};

/* Sizes on the wire: Ethernet II + IPv4 without options + UDP + message. */
#define SEALFS_XDP_UDP_LEN (8 + sizeof(struct sealfs_xdp_msg))
#define SEALFS_XDP_IP_LEN (20 + SEALFS_XDP_UDP_LEN)
#define SEALFS_XDP_FRAME_LEN (14 + SEALFS_XDP_IP_LEN)

#ifdef __cplusplus
#define SEALFS_XDP_ASSERT static_assert
#else
#define SEALFS_XDP_ASSERT _Static_assert
#endif
SEALFS_XDP_ASSERT(sizeof(struct sealfs_xdp_key) == 80, "sealfs_xdp_key layout");
SEALFS_XDP_ASSERT(sizeof(struct sealfs_xdp_attr) == 80, "sealfs_xdp_attr layout");
SEALFS_XDP_ASSERT(sizeof(struct sealfs_xdp_entry) == 96, "sealfs_xdp_entry layout");
SEALFS_XDP_ASSERT(sizeof(union sealfs_xdp_payload) == 96, "sealfs_xdp_payload layout");
SEALFS_XDP_ASSERT(__builtin_offsetof(struct sealfs_xdp_msg, key) == 24, "sealfs_xdp_msg layout");
SEALFS_XDP_ASSERT(__builtin_offsetof(struct sealfs_xdp_msg, payload) == 104,
                  "sealfs_xdp_msg layout");
SEALFS_XDP_ASSERT(sizeof(struct sealfs_xdp_msg) == 200, "sealfs_xdp_msg layout");
SEALFS_XDP_ASSERT(sizeof(struct sealfs_xdp_answer) == 200, "sealfs_xdp_answer layout");
#undef SEALFS_XDP_ASSERT

#endif /* SEALFS_BPF_SEALFS_XDP_H */
