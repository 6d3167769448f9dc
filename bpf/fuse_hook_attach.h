// Attaches a BPF object's struct fuse_bpf_ops to one FUSE connection (user
// space, libbpf).  Shared by sealfs-mount's BPF cache (userspace/client) and the
// VM test daemon hookfs (tests/vm).
//
// Sequence, for a caller that sizes maps before loading (e.g. a skeleton):
//   fuse_hook_available() -> bpf_object open -> fuse_hook_prepare()
//   -> adjust maps -> bpf_object__load() -> fuse_hook_link()
// fuse_hook_attach() does all of it for a BPF object file.
#ifndef SEALFS_BPF_FUSE_HOOK_ATTACH_H
#define SEALFS_BPF_FUSE_HOOK_ATTACH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bpf_map;
struct bpf_object;

// Returns 1 if the running kernel has the FUSE BPF hook, 0 if it lacks it
// (with the reason in msg), -1 if its BTF cannot be read (reason in msg).
int fuse_hook_available(char* msg, size_t msg_len);

// Before loading: finds obj's single struct_ops map and marks it to be
// attached with a BPF link (BPF_F_LINK).  Returns the map, or NULL with the
// reason in msg.
struct bpf_map* fuse_hook_prepare(struct bpf_object* obj, char* msg, size_t msg_len);

// After loading obj: lays out the struct_ops value of ops_map (the map
// fuse_hook_prepare returned) for the connection of the open /dev/fuse
// descriptor dev_fd and creates the link.  Returns the link fd (closing it
// detaches the program) or -1 with the reason in msg.
int fuse_hook_link(struct bpf_object* obj, struct bpf_map* ops_map, int dev_fd, char* msg,
                   size_t msg_len);

// Opens and loads the BPF object at obj_path, whose single struct_ops map must
// be of type struct fuse_bpf_ops, and attaches it to the connection of dev_fd.
// Returns the link fd and stores the object in *obj, or returns -1 with the
// reason in msg.
int fuse_hook_attach(const char* obj_path, int dev_fd, struct bpf_object** obj, char* msg,
                     size_t msg_len);

#ifdef __cplusplus
}
#endif

#endif  // SEALFS_BPF_FUSE_HOOK_ATTACH_H
