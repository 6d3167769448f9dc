// `sealfs-loader bpf attach` and `bpf detach`: one ADMIN_XDP request, signed
// with the cluster secret, to one server, which then attaches its XDP
// program to an interface or detaches it (docs/operations.md,
// "sealfs-loader bpf").
#pragma once

#include <chrono>
#include <ostream>
#include <string>

namespace sealfs {

struct BpfAdminOptions {
  std::string cluster_file;
  int server = 0;               // the server's id in the cluster file
  bool attach = true;           // false: detach
  std::string interface;        // attach: the server's network interface
  std::string mode = "native";  // attach: "native" or "generic"
  std::chrono::milliseconds timeout{3000};
};

// Returns the exit status: 0 when the server did what was asked (or it was
// done already), 1 when it refused or could not be asked, 2 for a bad
// cluster file, secret or server id. What the server did goes to `out`,
// errors, naming the server, to `err`.
int RunBpfAdmin(const BpfAdminOptions& options, std::ostream& out, std::ostream& err);

}  // namespace sealfs
