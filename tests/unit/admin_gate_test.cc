// Administrative requests (admin_request.h) and the server's gate
// (admin_gate.h): only the cluster secret's MAC over exactly these fields,
// issued within five minutes of the server's clock, once.
#include "admin_gate.h"

#include <gtest/gtest.h>

#include "admin_request.h"
#include "cluster_secret.h"
#include "membership.h"
#include "temp_dir.h"

namespace sealfs {
namespace {

constexpr uint64_t kNow = 1'800'000'000'000;  // ms
constexpr uint64_t kMinute = 60'000;

ClusterSecret NewSecret(const testing::TempDir& dir, const char* name) {
  Result<ClusterSecret> s = ClusterSecret::CreateFile(dir.path() + "/" + name);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

AdminXdpBody Attach(uint64_t issued_ms) {
  return AdminXdpBody{.action = static_cast<uint8_t>(AdminXdpAction::kAttach),
                      .interface = "eth0",
                      .mode = static_cast<uint8_t>(AdminXdpMode::kGeneric),
                      .issued_ms = issued_ms};
}

class AdminGateTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  ClusterSecret secret_ = NewSecret(dir_, "cluster.key");
  uint64_t now_ = kNow;
  AdminGate gate_{&secret_, [this] { return now_; }};
};

TEST_F(AdminGateTest, AdmitsASignedRequestOnce) {
  const AdminXdpReq req = SignAdmin(Attach(kNow), secret_);
  EXPECT_TRUE(gate_.Admit(req).ok());
  const Status again = gate_.Admit(req);
  EXPECT_EQ(again.err(), EPERM);
  EXPECT_NE(again.message().find("replay"), std::string::npos) << again.message();
  // Another request (another issue time) is fine.
  EXPECT_TRUE(gate_.Admit(SignAdmin(Attach(kNow + 1), secret_)).ok());
}

TEST_F(AdminGateTest, RefusesAnotherSecretAndAnyChangedField) {
  testing::TempDir other_dir;
  const ClusterSecret other = NewSecret(other_dir, "other.key");
  EXPECT_EQ(gate_.Admit(SignAdmin(Attach(kNow), other)).err(), EPERM);
  AdminXdpReq req = SignAdmin(Attach(kNow), secret_);
  for (int field = 0; field < 4; ++field) {
    AdminXdpReq changed = req;
    if (field == 0) changed.body.action = static_cast<uint8_t>(AdminXdpAction::kDetach);
    if (field == 1) changed.body.interface = "eth1";
    if (field == 2) changed.body.mode = static_cast<uint8_t>(AdminXdpMode::kNative);
    if (field == 3) changed.body.issued_ms += 1;
    EXPECT_EQ(gate_.Admit(changed).err(), EPERM) << "field " << field;
  }
  AdminXdpReq no_mac = req;
  no_mac.mac.clear();
  EXPECT_EQ(gate_.Admit(no_mac).err(), EPERM);
  EXPECT_TRUE(gate_.Admit(req).ok()) << "the refusals did not use it up";
}

TEST_F(AdminGateTest, AMembershipMacIsNoAdminMac) {
  // The same secret signs membership records: their MACs must never verify
  // as an administrative request's, whatever the bytes.
  AdminXdpReq req = SignAdmin(Attach(kNow), secret_);
  AdminXdpBody body = req.body;
  std::vector<uint8_t> bytes = Encode(body);
  ClusterSecret::Mac membership_mac =
      secret_.Sign("sealfs membership record", std::string(bytes.begin(), bytes.end()));
  req.mac.assign(membership_mac.begin(), membership_mac.end());
  EXPECT_EQ(gate_.Admit(req).err(), EPERM);
}

TEST_F(AdminGateTest, RefusesRequestsIssuedMoreThanFiveMinutesAway) {
  for (uint64_t issued : {kNow - 5 * kMinute - 1, kNow + 5 * kMinute + 1, uint64_t{0}}) {
    const Status s = gate_.Admit(SignAdmin(Attach(issued), secret_));
    EXPECT_EQ(s.err(), EPERM) << issued;
    EXPECT_NE(s.message().find("clock"), std::string::npos) << s.message();
  }
  EXPECT_TRUE(gate_.Admit(SignAdmin(Attach(kNow - 5 * kMinute), secret_)).ok());
  EXPECT_TRUE(gate_.Admit(SignAdmin(Attach(kNow + 5 * kMinute), secret_)).ok());
}

TEST_F(AdminGateTest, AReplayIsRefusedUntilTheRequestIsTooOldAnyway) {
  const AdminXdpReq req = SignAdmin(Attach(kNow + 5 * kMinute), secret_);
  ASSERT_TRUE(gate_.Admit(req).ok());
  for (uint64_t later : {kMinute, 5 * kMinute, 10 * kMinute}) {
    now_ = kNow + later;
    EXPECT_EQ(gate_.Admit(req).err(), EPERM) << later;
  }
  now_ = kNow + 10 * kMinute + 1;  // issued more than 5 minutes ago: refused for its age
  const Status s = gate_.Admit(req);
  EXPECT_EQ(s.err(), EPERM);
  EXPECT_NE(s.message().find("clock"), std::string::npos) << s.message();
}

TEST(AdminGateWithoutSecretTest, RefusesEverything) {
  testing::TempDir dir;
  const ClusterSecret secret = NewSecret(dir, "cluster.key");
  AdminGate gate(nullptr);
  const Status s = gate.Admit(SignAdmin(Attach(AdminNowMs()), secret));
  EXPECT_EQ(s.err(), EPERM);
  EXPECT_NE(s.message().find("no cluster secret"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace sealfs
