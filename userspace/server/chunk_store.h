// ChunkStore: file data, one ordinary file per chunk.
//
//   <data_dir>/chunks/<ino as 16 hex digits>/<chunk index>
//
// A chunk file holds the bytes of [index * chunk_size, (index + 1) * chunk_size)
// that were ever written; anything not in the file (a missing file, or
// past its end) is a hole and reads as zeros. Writes go to the page cache;
// Sync() makes an inode's chunks durable with fdatasync.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ino.h"
#include "messages.h"
#include "status.h"

namespace sealfs {

class ChunkStore {
 public:
  // `dir` is created if missing.
  static Result<std::unique_ptr<ChunkStore>> Open(const std::string& dir, uint64_t chunk_size);

  // Reads up to out.size() bytes; returns the number of bytes present before
  // the chunk's end (the caller treats the rest as a hole).
  Result<size_t> Read(Ino ino, uint64_t chunk, uint32_t offset, std::span<uint8_t> out) const;
  // Writes and returns how many 512-byte blocks the chunk file grew by.
  Result<int64_t> Write(Ino ino, uint64_t chunk, uint32_t offset, std::string_view data);
  Status Sync(Ino ino);
  // Drops every byte at or beyond `size`; returns the 512-byte blocks freed.
  // Idempotent.
  Result<int64_t> Truncate(Ino ino, uint64_t size);
  // Chunk migration (chunk_migrator.h). The length of a chunk file; ENOENT
  // if there is none.
  Result<uint64_t> Length(Ino ino, uint64_t chunk) const;
  // Makes `bytes` the chunk's whole content, durably, in one step (a new
  // file renamed over the old): all-zero 4 KiB blocks stay holes.
  Status Replace(Ino ino, uint64_t chunk, std::string_view bytes);
  // Deletes one chunk file (none is fine).
  Status Remove(Ino ino, uint64_t chunk);
  // Calls fn(ino, chunk index, bytes allocated) for every chunk file.
  void ForEachChunk(const std::function<void(Ino, uint64_t, uint64_t)>& fn) const;
  // For fsck: appends up to `max` chunk files at or after (ino, index), in
  // (ino, index) order, with their lengths. Returns true when none is left;
  // otherwise *next_ino, *next_index is where to continue. Memory is bounded
  // by `max`, whatever the number of chunk files.
  bool ListChunkPage(Ino ino, uint64_t index, size_t max, std::vector<ChunkInfo>* out,
                     Ino* next_ino, uint64_t* next_index) const;

  struct Space {
    uint64_t total = 0, free = 0, avail = 0, files = 0, files_free = 0;
  };
  Result<Space> Statfs() const;

 private:
  ChunkStore(std::string dir, uint64_t chunk_size)
      : dir_(std::move(dir)), chunk_size_(chunk_size) {}
  std::string InodeDir(Ino ino) const;
  std::string ChunkPath(Ino ino, uint64_t chunk) const;

  std::string dir_;
  uint64_t chunk_size_;
};

}  // namespace sealfs
