// Attaches struct fuse_bpf_ops with libbpf 1.1, which predates struct_ops
// links: the map gets BPF_F_LINK, the value (program fds, dev_fd, name) is laid
// out from the kernel's BTF, and the link is created with BPF_LINK_CREATE.
#include "fuse_hook_attach.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

// Not in Debian 12's <linux/bpf.h> (6.1); values from Linux 6.4+ UAPI.
#define HOOK_BPF_F_LINK (1U << 13)
#define HOOK_BPF_STRUCT_OPS 44

static const char kOpsType[] = "fuse_bpf_ops";
static const char kValueType[] = "bpf_struct_ops_fuse_bpf_ops";
static const char kLookupCtxType[] = "fuse_bpf_lookup_ctx";

static void set_msg(char* msg, size_t msg_len, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, msg_len, fmt, ap);
  va_end(ap);
}

// Byte offset of member `name` of struct type `type_id`, or -1.
static long member_offset(const struct btf* btf, int type_id, const char* name) {
  const struct btf_type* t = btf__type_by_id(btf, type_id);
  const struct btf_member* m = btf_members(t);
  for (int i = 0; i < btf_vlen(t); i++, m++)
    if (strcmp(btf__name_by_offset(btf, m->name_off), name) == 0)
      return btf_member_bit_offset(t, i) / 8;
  return -1;
}

int fuse_hook_available(char* msg, size_t msg_len) {
  struct btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) {
    set_msg(msg, msg_len, "cannot read the kernel's BTF (/sys/kernel/btf/vmlinux): %s",
            strerror(errno));
    return -1;
  }
  int found = btf__find_by_name_kind(vmlinux, kOpsType, BTF_KIND_STRUCT) >= 0;
  int ctx_id = btf__find_by_name_kind(vmlinux, kLookupCtxType, BTF_KIND_STRUCT);
  int current = ctx_id >= 0 && member_offset(vmlinux, ctx_id, "flags") >= 0;
  btf__free(vmlinux);
  struct utsname u;
  const char* release = uname(&u) == 0 ? u.release : "unknown";
  if (!found) {
    set_msg(msg, msg_len,
            "the running kernel (%s) has no FUSE BPF hook (struct %s is not in "
            "/sys/kernel/btf/vmlinux); boot a kernel built with vm-test/patches, e.g. "
            "vm-test/run -- COMMAND",
            release, kOpsType);
    return 0;
  }
  if (!current) {
    set_msg(msg, msg_len,
            "the running kernel (%s) has an older FUSE BPF hook, without RCU-walk "
            "revalidation and lock-free entry expiry (struct %s has no flags); boot a kernel "
            "built with the current vm-test/patches",
            release, kLookupCtxType);
    return 0;
  }
  return 1;
}

// Fills `value` (the kernel's struct bpf_struct_ops_fuse_bpf_ops) for `map`.
static int build_value(const struct btf* btf, struct bpf_object* obj, const struct bpf_map* map,
                       int dev_fd, uint8_t* value, size_t value_size, char* msg, size_t msg_len) {
  int value_id = btf__find_by_name_kind(btf, kValueType, BTF_KIND_STRUCT);
  int ops_id = btf__find_by_name_kind(btf, kOpsType, BTF_KIND_STRUCT);
  long data = value_id < 0 ? -1 : member_offset(btf, value_id, "data");
  long fd_off = ops_id < 0 ? -1 : member_offset(btf, ops_id, "dev_fd");
  long name_off = ops_id < 0 ? -1 : member_offset(btf, ops_id, "name");
  if (data < 0 || fd_off < 0 || name_off < 0 ||
      (size_t)btf__type_by_id(btf, value_id)->size != value_size) {
    set_msg(msg, msg_len, "the kernel's %s does not have the expected layout", kValueType);
    return -1;
  }
  memset(value, 0, value_size);
  const struct btf_type* ops = btf__type_by_id(btf, ops_id);
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    if (bpf_program__type(prog) != BPF_PROG_TYPE_STRUCT_OPS || bpf_program__fd(prog) < 0) continue;
    // libbpf records the member a struct_ops program implements as its
    // expected attach type.
    unsigned idx = bpf_program__expected_attach_type(prog);
    if (idx >= btf_vlen(ops)) {
      set_msg(msg, msg_len, "program %s implements no member of %s", bpf_program__name(prog),
              kOpsType);
      return -1;
    }
    uint64_t fd = bpf_program__fd(prog);
    memcpy(value + data + btf_member_bit_offset(ops, idx) / 8, &fd, sizeof(fd));
  }
  int32_t fd32 = dev_fd;
  memcpy(value + data + fd_off, &fd32, sizeof(fd32));
  snprintf((char*)value + data + name_off, 16, "%.15s", bpf_map__name(map));
  return 0;
}

static const char* reg_error(int err) {
  switch (err) {
    case EBADF:
      return "the descriptor is not an open /dev/fuse";
    case ENOTCONN:
      return "the /dev/fuse descriptor has no live connection (not mounted, or aborted)";
    case EEXIST:
      return "another program is already attached to this connection";
    case EBUSY:
      return "this struct_ops map is already attached";
    default:
      return strerror(err);
  }
}

struct bpf_map* fuse_hook_prepare(struct bpf_object* obj, char* msg, size_t msg_len) {
  struct bpf_map* map = NULL;
  struct bpf_map* m;
  bpf_object__for_each_map(m, obj) {
    if (bpf_map__type(m) != BPF_MAP_TYPE_STRUCT_OPS) continue;
    if (map) {
      set_msg(msg, msg_len, "BPF object %s has more than one struct_ops map",
              bpf_object__name(obj));
      return NULL;
    }
    map = m;
  }
  if (!map) {
    set_msg(msg, msg_len, "BPF object %s has no struct_ops map (SEC(\".struct_ops\"))",
            bpf_object__name(obj));
    return NULL;
  }
  if (bpf_map__set_map_flags(map, bpf_map__map_flags(map) | HOOK_BPF_F_LINK)) {
    set_msg(msg, msg_len, "cannot flag struct_ops map %s BPF_F_LINK (object already loaded?)",
            bpf_map__name(map));
    return NULL;
  }
  return map;
}

int fuse_hook_link(struct bpf_object* obj, struct bpf_map* ops_map, int dev_fd, char* msg,
                   size_t msg_len) {
  int link_fd = -1;
  size_t value_size = bpf_map__value_size(ops_map);
  uint8_t* value = calloc(1, value_size);
  struct btf* btf = btf__load_vmlinux_btf();
  if (!value || !btf) {
    set_msg(msg, msg_len, "cannot read the kernel's BTF (/sys/kernel/btf/vmlinux): %s",
            strerror(errno));
    goto out;
  }
  if (build_value(btf, obj, ops_map, dev_fd, value, value_size, msg, msg_len)) goto out;
  int zero = 0;
  if (bpf_map_update_elem(bpf_map__fd(ops_map), &zero, value, 0)) {
    set_msg(msg, msg_len, "cannot fill struct_ops map %s: %s", bpf_map__name(ops_map),
            strerror(errno));
    goto out;
  }
  link_fd = bpf_link_create(bpf_map__fd(ops_map), 0, HOOK_BPF_STRUCT_OPS, NULL);
  if (link_fd < 0)
    set_msg(msg, msg_len, "cannot attach to the FUSE connection: %s", reg_error(errno));
out:
  btf__free(btf);
  free(value);
  return link_fd;
}

int fuse_hook_attach(const char* obj_path, int dev_fd, struct bpf_object** obj_out, char* msg,
                     size_t msg_len) {
  if (fuse_hook_available(msg, msg_len) != 1) return -1;
  struct bpf_object* obj = bpf_object__open_file(obj_path, NULL);
  if (!obj) {
    set_msg(msg, msg_len, "cannot open BPF object %s: %s", obj_path, strerror(errno));
    return -1;
  }
  struct bpf_map* map = fuse_hook_prepare(obj, msg, msg_len);
  if (!map) goto fail;
  if (bpf_object__load(obj)) {
    set_msg(msg, msg_len, "the kernel refused to load %s: %s (verifier log above)", obj_path,
            strerror(errno));
    goto fail;
  }
  int link_fd = fuse_hook_link(obj, map, dev_fd, msg, msg_len);
  if (link_fd < 0) goto fail;
  *obj_out = obj;
  return link_fd;

fail:
  bpf_object__close(obj);
  return -1;
}
