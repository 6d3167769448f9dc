// File I/O: open/release, read, write, flush, fsync, fsyncdir, O_APPEND, sparse files.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>

#include "file_util.h"
#include "fs_test.h"
#include "syscall_assertions.h"

namespace sealfs::it {
namespace {

using IoTest = PosixTest;

constexpr off_t kGiB = off_t{1} << 30;

TEST_F(IoTest, WriteThenReadBack) {
  std::mt19937_64 rng(1);
  const auto data = RandomBytes(rng, 1 << 20);
  WriteFile(P("f"), data);
  EXPECT_EQ(Stat(P("f")).st_size, 1 << 20);
  const auto back = ReadFile(P("f"));
  ASSERT_EQ(back.size(), data.size());
  EXPECT_TRUE(back == data) << "content differs";
}

TEST_F(IoTest, PreadAndPwriteAtOffsetsAcrossChunkBoundaries) {
  auto fd = Open(P("f"), O_RDWR | O_CREAT);
  // 64 KiB and 4 MiB boundaries, with writes straddling them.
  const off_t offsets[] = {0, 65536 - 3, 131072 - 1, 4 * 1048576 - 5, 3 * 65536};
  std::string shadow;
  for (off_t off : offsets) {
    const std::string piece = "<" + std::to_string(off) + ">";
    PwriteFull(fd.get(), piece, off);
    if (shadow.size() < off + piece.size()) shadow.resize(off + piece.size(), '\0');
    shadow.replace(off, piece.size(), piece);
  }
  for (off_t off : offsets) {
    EXPECT_EQ(PreadFull(fd.get(), 10, off), shadow.substr(off, 10)) << "at " << off;
  }
  EXPECT_TRUE(PreadFull(fd.get(), shadow.size(), 0) == shadow);
  struct stat st {};
  ASSERT_OK(::fstat(fd.get(), &st));
  EXPECT_EQ(st.st_size, static_cast<off_t>(shadow.size()));
}

TEST_F(IoTest, ReadAtOrPastEndOfFileReturnsZeroAndShortReadsStopAtEof) {
  WriteFile(P("f"), "12345");
  auto fd = Open(P("f"), O_RDONLY);
  char buf[16];
  EXPECT_EQ(::pread(fd.get(), buf, sizeof buf, 5), 0);
  EXPECT_EQ(::pread(fd.get(), buf, sizeof buf, 1000000), 0);
  EXPECT_EQ(::pread(fd.get(), buf, sizeof buf, 3), 2);
}

TEST_F(IoTest, SequentialReadAndWriteAdvanceTheOffset) {
  auto fd = Open(P("f"), O_RDWR | O_CREAT);
  ASSERT_EQ(::write(fd.get(), "abc", 3), 3);
  ASSERT_EQ(::write(fd.get(), "def", 3), 3);
  ASSERT_EQ(::lseek(fd.get(), 2, SEEK_SET), 2);
  char buf[3];
  ASSERT_EQ(::read(fd.get(), buf, 3), 3);
  EXPECT_EQ(std::string(buf, 3), "cde");
  EXPECT_EQ(::lseek(fd.get(), 0, SEEK_END), 6);
}

TEST_F(IoTest, AppendWritesAlwaysGoToTheEnd) {
  WriteFile(P("f"), "start");
  auto fd = Open(P("f"), O_WRONLY | O_APPEND);
  ASSERT_EQ(::write(fd.get(), "-one", 4), 4);
  ASSERT_EQ(::lseek(fd.get(), 0, SEEK_SET), 0);
  ASSERT_EQ(::write(fd.get(), "-two", 4), 4);
  EXPECT_EQ(ReadFile(P("f")), "start-one-two");
}

TEST_F(IoTest, OpenModesAreEnforcedByTheDescriptor) {
  WriteFile(P("f"), "data");
  auto ro = Open(P("f"), O_RDONLY);
  EXPECT_ERRNO(EBADF, ::write(ro.get(), "x", 1));
  auto wo = Open(P("f"), O_WRONLY);
  char c;
  EXPECT_ERRNO(EBADF, ::read(wo.get(), &c, 1));
}

// open/release: many opens and closes of one file, interleaved, leave it intact and usable.
TEST_F(IoTest, ManyOpensAndReleases) {
  WriteFile(P("f"), "stable");
  std::vector<UniqueFd> open_fds;
  for (int i = 0; i < 200; ++i) {
    open_fds.push_back(Open(P("f"), i % 2 ? O_RDONLY : O_RDWR));
    if (i % 3 == 0) open_fds.erase(open_fds.begin());
  }
  for (auto& fd : open_fds) EXPECT_EQ(PreadFull(fd.get(), 6, 0), "stable");
  for (auto& fd : open_fds) EXPECT_OK(::close(fd.release()));
  ASSERT_OK(::unlink(P("f").c_str()));
  EXPECT_TRUE(ListDir(dir()).empty());
}

// flush runs on every close of a descriptor, including duplicates.
TEST_F(IoTest, CloseOfDuplicatedDescriptorsFlushesEachTime) {
  auto fd = Open(P("f"), O_RDWR | O_CREAT);
  const int dup_fd = ::dup(fd.get());
  ASSERT_OK(dup_fd);
  PwriteFull(dup_fd, "via dup", 0);
  EXPECT_OK(::close(dup_fd));
  EXPECT_EQ(ReadFile(P("f")), "via dup");
  PwriteFull(fd.get(), "VIA", 0);
  EXPECT_OK(::close(fd.release()));
  EXPECT_EQ(ReadFile(P("f")), "VIA dup");
}

TEST_F(IoTest, FsyncAndFdatasyncSucceed) {
  auto fd = Open(P("f"), O_RDWR | O_CREAT);
  PwriteFull(fd.get(), std::string(300000, 'z'), 0);
  EXPECT_OK(::fsync(fd.get()));
  PwriteFull(fd.get(), "tail", 300000);
  EXPECT_OK(::fdatasync(fd.get()));
  EXPECT_EQ(Stat(P("f")).st_size, 300004);
}

TEST_F(IoTest, FsyncdirSucceeds) {
  ASSERT_OK(::mkdir(P("d").c_str(), 0755));
  WriteFile(P("d/f"), "x");
  auto fd = Open(P("d"), O_RDONLY | O_DIRECTORY);
  EXPECT_OK(::fsync(fd.get()));
  EXPECT_OK(::fdatasync(fd.get()));
}

// Shared mappings (used by git, linkers, databases) read the file and write back to it.
TEST_F(IoTest, SharedMmapReadsAndWritesTheFile) {
  std::mt19937_64 rng(2);
  const size_t size = 300 * 1024;  // several 64 KiB chunks
  auto data = RandomBytes(rng, size);
  WriteFile(P("f"), data);
  auto fd = Open(P("f"), O_RDWR);
  void* map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  ASSERT_NE(map, MAP_FAILED) << "mmap: " << std::strerror(errno);
  auto* bytes = static_cast<char*>(map);
  EXPECT_TRUE(std::string_view(bytes, size) == data) << "mapped content differs";
  for (size_t at : {size_t{0}, size_t{65535}, size_t{65536}, size - 1}) {
    bytes[at] = 'M';
    data[at] = 'M';
  }
  EXPECT_OK(::msync(map, size, MS_SYNC));
  EXPECT_OK(::munmap(map, size));
  EXPECT_OK(::close(fd.release()));
  EXPECT_TRUE(ReadFile(P("f")) == data) << "writes through the mapping were lost";
}

TEST_F(IoTest, HolesReadBackAsZeros) {
  auto fd = Open(P("f"), O_RDWR | O_CREAT);
  PwriteFull(fd.get(), "head", 0);
  PwriteFull(fd.get(), "tail", 1000000);
  const auto all = PreadFull(fd.get(), 1000004, 0);
  ASSERT_EQ(all.size(), 1000004u);
  EXPECT_EQ(all.substr(0, 4), "head");
  EXPECT_EQ(all.substr(1000000), "tail");
  EXPECT_EQ(all.find_first_not_of('\0', 4), 1000000u) << "hole is not all zeros";
}

// A file larger than 10 GiB written at one offset costs one small write and stays small.
TEST_F(IoTest, SparseFileBeyondTenGiB) {
  const off_t offset = 11 * kGiB;
  const std::string data = "eleven gibibytes in";
  {
    auto fd = Open(P("big"), O_RDWR | O_CREAT);
    PwriteFull(fd.get(), data, offset);
  }
  const auto st = Stat(P("big"));
  EXPECT_EQ(st.st_size, offset + static_cast<off_t>(data.size()));
  EXPECT_LT(st.st_blocks, 2048) << "st_blocks counts the hole (" << st.st_blocks << " blocks)";

  auto fd = Open(P("big"), O_RDONLY);
  EXPECT_EQ(PreadFull(fd.get(), data.size(), offset), data);
  EXPECT_EQ(PreadFull(fd.get(), 4096, 0), std::string(4096, '\0'));
  EXPECT_EQ(PreadFull(fd.get(), 4096, 5 * kGiB + 12345), std::string(4096, '\0'));
  // A read that starts in the hole and runs into the data, and one past the end.
  EXPECT_EQ(PreadFull(fd.get(), 100, offset - 10), std::string(10, '\0') + data);
  EXPECT_EQ(PreadFull(fd.get(), 100, offset + static_cast<off_t>(data.size())), "");
  // Writing in the middle of the hole keeps the rest of it zero.
  {
    auto rw = Open(P("big"), O_WRONLY);
    PwriteFull(rw.get(), "middle", 6 * kGiB);
  }
  EXPECT_EQ(PreadFull(fd.get(), 16, 6 * kGiB - 5),
            std::string(5, '\0') + "middle" + std::string(5, '\0'));
  EXPECT_EQ(Stat(P("big")).st_size, offset + static_cast<off_t>(data.size()));
}

TEST_F(IoTest, TruncateToHugeSizeIsSparse) {
  WriteFile(P("f"), "x");
  ASSERT_OK(::truncate(P("f").c_str(), 12 * kGiB));
  const auto st = Stat(P("f"));
  EXPECT_EQ(st.st_size, 12 * kGiB);
  EXPECT_LT(st.st_blocks, 2048);
  auto fd = Open(P("f"), O_RDONLY);
  EXPECT_EQ(PreadFull(fd.get(), 8, 12 * kGiB - 8), std::string(8, '\0'));
}

}  // namespace
}  // namespace sealfs::it
