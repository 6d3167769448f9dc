// `sealfs-loader bpf` for real: the loader asks a running server (over its TCP port,
// signed with the cluster secret) to attach its XDP program to an interface of a network
// namespace of the test's own, and to detach it; `bpf list` and `bpf counters` read what the
// kernel holds. GETATTR datagrams from another namespace show where answers come from.
//
// On loopback runs (SEALFS_TEST_XDP unset) the cluster's one server runs in the "server"
// namespace of a NetnsPair with no --xdp, and the loader attaches in generic mode. With
// SEALFS_TEST_XDP the cluster's own network is used: the server started with its program on
// (--xdp sealfs0), the loader first detaches it and then attaches it again in that mode.
// Needs root; the test without a udp_port does not.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "bpf_pins.h"
#include "cluster_net.h"
#include "file_util.h"
#include "fs_test.h"
#include "netns_pair.h"
#include "subprocess.h"
#include "udp_asker.h"
#include "unique_fd.h"
#include "xdp_counters.h"
#include "xdp_wire.h"

namespace sealfs::it {
namespace {

using namespace std::chrono_literals;
using Counters = std::vector<uint64_t>;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class LoaderBpfTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    if (IsSkipped()) return;
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces, veth, XDP)";
    if (const std::optional<XdpMode> mode = XdpModeFromEnv()) {
      StartCluster({.servers = 1});
      server_ns_ = cluster().server_netns(1);
      interface_ = ClusterNet::kServerInterface;
      mode_ = XdpModeName(*mode);
      // The harness started the server with its program attached: the loader takes it off.
      ASSERT_TRUE(Attached());
      const CommandResult detached = Detach();
      ASSERT_EQ(detached.status, 0) << detached.output;
      // This thread is in the cluster's client namespace.
      asker_ = std::make_unique<UdpAsker>(cluster().address(1), cluster().udp_port(1));
    } else {
      net_ = std::make_unique<NetnsPair>();
      in_server_ns_ = std::make_unique<InNetns>(net_->server_ns());
      StartCluster({.servers = 1, .udp_fast_path = true});
      server_ns_ = net_->server_ns();
      interface_ = net_->server_if();
      mode_ = "generic";
      InNetns client(net_->client_ns());
      asker_ =
          std::make_unique<UdpAsker>(NetnsPair::kServerAddress, cluster().udp_port(1),
                                     UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)));
    }
    started_ = true;
    pin_dir_ = cluster().xdp_pin_dir(1);
    // The mount asks over TCP only: every datagram the program sees is the test's.
    mnt_ = cluster().AddMount({.extra_args = {"--udp-timeout-us", "0"}}).path();
  }

  void TearDown() override {
    // SIGTERM, not the cluster's kill -9: the server detaches and unpins.
    if (started_ && cluster().ServerRunning(1)) {
      EXPECT_EQ(cluster().StopServer(1), 0);
    }
    ClusterTest::TearDown();
    in_server_ns_.reset();
    net_.reset();
  }

  CommandResult Bpf(std::vector<std::string> args) {
    args.insert(args.begin(), "bpf");
    return cluster().Loader(args);
  }
  CommandResult Attach(const std::string& interface, const std::filesystem::path& config) {
    return Bpf(
        {"attach", config.string(), "--server", "1", "--interface", interface, "--mode", mode_});
  }
  CommandResult Attach() { return Attach(interface_, cluster().config_path()); }
  CommandResult Detach(const std::filesystem::path& config) {
    return Bpf({"detach", config.string(), "--server", "1"});
  }
  CommandResult Detach() { return Detach(cluster().config_path()); }
  // `bpf list` run where the server's interface is, so that it can name it.
  CommandResult ListInServerNetns() {
    InNetns in(server_ns_);
    return Bpf({"list", "--pin-root", pin_dir_.parent_path().string()});
  }

  // The id of the XDP program on the server's interface in the test's mode, 0 for none.
  uint32_t AttachedId() {
    InNetns in(server_ns_);
    const int ifindex = static_cast<int>(::if_nametoindex(interface_.c_str()));
    EXPECT_NE(ifindex, 0) << interface_;
    uint32_t id = 0;
    const int flags = mode_ == "native" ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
    EXPECT_EQ(bpf_xdp_query_id(ifindex, flags, &id), 0);
    return id;
  }
  // What `ip link` says: the interface has an XDP program.
  bool Attached() {
    const CommandResult link =
        RunCommand({"/usr/sbin/ip", "-n", server_ns_, "link", "show", "dev", interface_}, 10s);
    EXPECT_EQ(link.status, 0) << link.output;
    return Contains(link.output, "prog/xdp");
  }

  sealfs_xdp_msg Ask(const sealfs_xdp_key& key) { return asker_->Ask(key); }
  Counters ReadCounters() { return ReadXdpCounters(pin_dir_); }

  // A cluster file like the cluster's, naming another (valid) secret.
  std::filesystem::path ClusterFileWithAnotherSecret() {
    const std::filesystem::path key = cluster().dir() / "other.key";
    const CommandResult made = cluster().Loader({"secret", "new", key.string()});
    EXPECT_EQ(made.status, 0) << made.output;
    std::string text = ReadFile(cluster().config_path());
    const std::string ours = cluster().secret_path().string();
    const size_t at = text.find(ours);
    EXPECT_NE(at, std::string::npos) << text;
    text.replace(at, ours.size(), key.string());
    const std::filesystem::path config = cluster().dir() / "other.toml";
    WriteFile(config, text);
    return config;
  }

  bool started_ = false;
  std::unique_ptr<NetnsPair> net_;  // loopback runs only
  std::unique_ptr<InNetns> in_server_ns_;
  std::string server_ns_, interface_, mode_;
  std::unique_ptr<UdpAsker> asker_;
  std::filesystem::path pin_dir_, mnt_;
};

// The counters `bpf counters` printed for the map pinned at `pin`, by name.
std::map<std::string, uint64_t> PrintedCounters(const std::string& output,
                                                const std::filesystem::path& pin) {
  std::map<std::string, uint64_t> counters;
  std::istringstream lines(output);
  std::string line;
  bool in_section = false;
  while (std::getline(lines, line)) {
    if (!line.starts_with("  ")) {
      in_section = line.starts_with(pin.string() + " (");
      continue;
    }
    if (!in_section) continue;
    std::istringstream fields(line);
    std::string name;
    uint64_t value = 0;
    if (fields >> name >> value) counters[name] = value;
  }
  return counters;
}

TEST_F(LoaderBpfTest, AttachedByTheLoaderTheProgramAnswersAndDetachedItIsGone) {
  EXPECT_FALSE(Attached());
  const CommandResult attached = Attach();
  ASSERT_EQ(attached.status, 0) << attached.output;
  EXPECT_TRUE(Contains(attached.output, "server 1 (")) << attached.output;
  EXPECT_TRUE(Contains(attached.output, "program attached to " + interface_ + " in " + mode_))
      << attached.output;
  EXPECT_TRUE(Attached());
  EXPECT_TRUE(std::filesystem::exists(pin_dir_ / "answers"));

  WriteFile(mnt_ / "f", "hello");
  const sealfs_xdp_key key = XdpGetattrKey(Stat(mnt_ / "f").st_ino);
  const Counters before = ReadCounters();
  for (int i = 0; i < 11; ++i) EXPECT_EQ(Ask(key).payload.attr.size, 5u);
  const Counters after = ReadCounters();
  EXPECT_EQ(after[SEALFS_XDP_MISS] - before[SEALFS_XDP_MISS], 1u) << "the first one fills";
  EXPECT_EQ(after[SEALFS_XDP_HIT] - before[SEALFS_XDP_HIT], 10u) << "hot GETATTRs";
  // The server keeps the program's map right.
  ASSERT_EQ(::truncate((mnt_ / "f").c_str(), 2), 0);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(Ask(key).payload.attr.size, 2u);

  // Held open across the detach: the program's counters, which then stop.
  const UniqueFd counters(bpf_obj_get((pin_dir_ / "counters").c_str()));
  ASSERT_TRUE(counters);
  const CommandResult detached = Detach();
  ASSERT_EQ(detached.status, 0) << detached.output;
  EXPECT_TRUE(Contains(detached.output, "program detached from " + interface_)) << detached.output;
  EXPECT_FALSE(Attached());
  EXPECT_FALSE(std::filesystem::exists(pin_dir_)) << "pins removed";
  const uint64_t hits = SumPerCpuCounters(counters.get(), SEALFS_XDP_COUNTERS)->at(SEALFS_XDP_HIT);
  ASSERT_EQ(::truncate((mnt_ / "f").c_str(), 3), 0);
  for (int i = 0; i < 5; ++i) {
    const sealfs_xdp_msg m = Ask(key);
    EXPECT_EQ(m.status, 0);
    EXPECT_EQ(m.payload.attr.size, 3u) << "answered from user space";
  }
  EXPECT_EQ(SumPerCpuCounters(counters.get(), SEALFS_XDP_COUNTERS)->at(SEALFS_XDP_HIT), hits);

  const CommandResult again = Detach();
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_TRUE(Contains(again.output, "nothing changed")) << again.output;
  // And on again: a new program with an empty map, kept right from the start.
  ASSERT_EQ(Attach().status, 0);
  ASSERT_EQ(::truncate((mnt_ / "f").c_str(), 4), 0);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(Ask(key).payload.attr.size, 4u);
  EXPECT_EQ(ReadCounters()[SEALFS_XDP_HIT], 1u);
}

TEST_F(LoaderBpfTest, AttachingAgainWorksOnlyOnTheSameInterface) {
  const CommandResult missing = Attach("sfsnone0", cluster().config_path());
  EXPECT_EQ(missing.status, 1) << missing.output;
  EXPECT_TRUE(Contains(missing.output, "no network interface sfsnone0")) << missing.output;
  EXPECT_TRUE(Contains(missing.output, "(ENODEV)")) << missing.output;
  EXPECT_FALSE(std::filesystem::exists(pin_dir_ / "answers"));
  ASSERT_EQ(Attach().status, 0);
  const uint32_t id = AttachedId();
  ASSERT_NE(id, 0u);
  const CommandResult same = Attach();
  EXPECT_EQ(same.status, 0) << same.output;
  EXPECT_TRUE(Contains(same.output, "already attached to " + interface_)) << same.output;
  EXPECT_TRUE(Contains(same.output, "nothing changed")) << same.output;
  const CommandResult other = Attach("lo", cluster().config_path());
  EXPECT_EQ(other.status, 1) << other.output;
  EXPECT_TRUE(Contains(other.output, "sealfs-loader bpf attach: server 1 (")) << other.output;
  EXPECT_TRUE(Contains(other.output, "attached to " + interface_ + "; detach it first (EBUSY)"))
      << other.output;
  EXPECT_EQ(AttachedId(), id) << "nothing changed";
}

TEST_F(LoaderBpfTest, ARequestSignedWithAnotherSecretChangesNothing) {
  const std::filesystem::path other = ClusterFileWithAnotherSecret();
  const CommandResult attach = Attach(interface_, other);
  EXPECT_EQ(attach.status, 1) << attach.output;
  EXPECT_TRUE(Contains(attach.output, "server 1 (")) << attach.output;
  EXPECT_TRUE(Contains(attach.output, "not signed with this cluster's secret (EPERM)"))
      << attach.output;
  EXPECT_FALSE(Attached());
  EXPECT_FALSE(std::filesystem::exists(pin_dir_ / "answers"));

  ASSERT_EQ(Attach().status, 0);
  const uint32_t id = AttachedId();
  const CommandResult detach = Detach(other);
  EXPECT_EQ(detach.status, 1) << detach.output;
  EXPECT_TRUE(Contains(detach.output, "(EPERM)")) << detach.output;
  EXPECT_EQ(AttachedId(), id) << "still attached";
  EXPECT_TRUE(std::filesystem::exists(pin_dir_ / "answers"));
  EXPECT_TRUE(Contains(cluster().LogTails(), "ADMIN_XDP refused: request not signed"));
}

TEST_F(LoaderBpfTest, ListShowsTheProgramAndThePinnedMapsWithBpftoolCommands) {
  ASSERT_EQ(Attach().status, 0);
  const uint32_t id = AttachedId();
  const CommandResult list = ListInServerNetns();
  ASSERT_EQ(list.status, 0) << list.output;
  const std::string program = "program " + std::to_string(id) + ": xdp sealfs_xdp, ";
  EXPECT_TRUE(Contains(list.output, program)) << list.output;
  EXPECT_TRUE(Contains(list.output, "attached to: " + interface_ + " (" + mode_ + ")"))
      << list.output;
  EXPECT_TRUE(Contains(list.output, "maps pinned in: " + pin_dir_.string())) << list.output;
  EXPECT_TRUE(Contains(list.output, "dump: bpftool prog dump xlated id " + std::to_string(id)))
      << list.output;
  for (const auto& [map, type] :
       {std::pair{"answers", "lru_hash"}, std::pair{"counters", "percpu_array"}}) {
    const std::string pin = (pin_dir_ / map).string();
    EXPECT_TRUE(Contains(list.output, pin + ": " + type + ", ")) << list.output;
    const std::string command = "bpftool map dump pinned " + pin;
    EXPECT_TRUE(Contains(list.output, "dump: " + command)) << list.output;
  }
  // The command it prints works.
  const CommandResult dump = RunCommand(
      {"/usr/sbin/bpftool", "map", "dump", "pinned", (pin_dir_ / "counters").string()}, 10s);
  EXPECT_EQ(dump.status, 0) << dump.output;
  EXPECT_TRUE(Contains(dump.output, "values")) << dump.output;

  ASSERT_EQ(Detach().status, 0);
  const CommandResult after = ListInServerNetns();
  EXPECT_FALSE(Contains(after.output, "program " + std::to_string(id) + ":")) << after.output;
  EXPECT_FALSE(Contains(after.output, pin_dir_.string())) << after.output;
}

TEST_F(LoaderBpfTest, CountersPrintsWhatTheServersProgramCounted) {
  ASSERT_EQ(Attach().status, 0);
  WriteFile(mnt_ / "f", "hello");
  const sealfs_xdp_key key = XdpGetattrKey(Stat(mnt_ / "f").st_ino);
  for (int i = 0; i < 7; ++i) Ask(key);
  const Counters before = ReadCounters();
  const CommandResult printed = Bpf({"counters", "--pin-root", pin_dir_.parent_path().string()});
  const Counters after = ReadCounters();
  ASSERT_EQ(printed.status, 0) << printed.output;
  EXPECT_TRUE(Contains(printed.output, (pin_dir_ / "counters").string() +
                                           " (server XDP fast path), summed over the CPUs:"))
      << printed.output;
  const std::map<std::string, uint64_t> c = PrintedCounters(printed.output, pin_dir_ / "counters");
  ASSERT_EQ(c.size(), static_cast<size_t>(SEALFS_XDP_COUNTERS)) << printed.output;
  const std::map<std::string, sealfs_xdp_counter> names = {
      {"received", SEALFS_XDP_RECEIVED},   {"hit", SEALFS_XDP_HIT},
      {"miss", SEALFS_XDP_MISS},           {"key_mismatch", SEALFS_XDP_KEY_MISMATCH},
      {"pass_port", SEALFS_XDP_PASS_PORT}, {"pass_torn", SEALFS_XDP_PASS_TORN}};
  for (const auto& [name, index] : names) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(c.contains(name)) << printed.output;
    // Frames other than the test's (IPv6 neighbour discovery, say) may arrive meanwhile.
    EXPECT_GE(c.at(name), before[index]);
    EXPECT_LE(c.at(name), after[index]);
  }
  EXPECT_EQ(c.at("hit"), 6u);
  EXPECT_EQ(c.at("miss"), 1u);
  // The server's own account, at its stop, says the same.
  ASSERT_EQ(cluster().StopServer(1), 0);
  EXPECT_TRUE(Contains(cluster().LogTails(), ", 6 answered, 1 missed, ")) << cluster().LogTails();
}

// Without a udp_port a server has no fast path for a program to serve: loopback only (with
// SEALFS_TEST_XDP every server has one). Needs no privilege: the server refuses before it
// would touch BPF.
class LoaderBpfNoUdpPortTest : public ClusterTest {};

TEST_F(LoaderBpfNoUdpPortTest, AttachIsRefusedWithEinvalAndErrorsNameTheServer) {
  if (XdpModeFromEnv()) GTEST_SKIP() << "with SEALFS_TEST_XDP every server has a udp_port";
  auto& cluster = StartCluster({.servers = 1});
  const CommandResult r =
      cluster.Loader({"bpf", "attach", cluster.config_path().string(), "--server", "1",
                      "--interface", "lo", "--mode", "generic"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(Contains(r.output, "server 1 (127.0.0.1:")) << r.output;
  EXPECT_TRUE(Contains(r.output, "no udp_port")) << r.output;
  EXPECT_TRUE(Contains(r.output, "(EINVAL)")) << r.output;
  const CommandResult unknown =
      cluster.Loader({"bpf", "detach", cluster.config_path().string(), "--server", "9"});
  EXPECT_EQ(unknown.status, 2) << unknown.output;
  EXPECT_TRUE(Contains(unknown.output, "lists no server 9")) << unknown.output;
  cluster.StopServer(1);
  const CommandResult down =
      cluster.Loader({"bpf", "detach", cluster.config_path().string(), "--server", "1"});
  EXPECT_EQ(down.status, 1) << down.output;
  EXPECT_TRUE(Contains(down.output, "sealfs-loader bpf detach: server 1 (127.0.0.1:"))
      << down.output;
  EXPECT_TRUE(Contains(down.output, "cannot be asked")) << down.output;
}

}  // namespace
}  // namespace sealfs::it
