// Attaches a BPF object's struct fuse_bpf_ops to one FUSE connection.
#ifndef SEALFS_TESTS_VM_HOOK_ATTACH_H
#define SEALFS_TESTS_VM_HOOK_ATTACH_H

#include <stddef.h>

struct bpf_object;

// Returns 1 if the running kernel has the FUSE BPF hook, 0 if it lacks it
// (with the reason in msg), -1 if its BTF cannot be read (reason in msg).
int fuse_hook_available(char* msg, size_t msg_len);

// Loads the BPF object at obj_path, whose single struct_ops map must be of type
// struct fuse_bpf_ops, and attaches it with a BPF link to the connection of the
// open /dev/fuse descriptor dev_fd.  Returns the link fd (closing it detaches)
// and stores the object in *obj, or returns -1 with the reason in msg.
int fuse_hook_attach(const char* obj_path, int dev_fd, struct bpf_object** obj, char* msg,
                     size_t msg_len);

#endif  // SEALFS_TESTS_VM_HOOK_ATTACH_H
