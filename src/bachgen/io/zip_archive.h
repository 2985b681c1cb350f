// Reading ZIP archives (PKWARE's APPNOTE): the central directory, stored and deflated entries
// (zlib), each checked against its CRC-32. What compressed MusicXML (.mxl) needs. ZIP64,
// encrypted entries and archives split over disks are refused by name. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bachgen::io {

struct ZipEntry {
  std::string name;             // as stored ("META-INF/container.xml")
  uint16_t method = 0;          // 0 stored, 8 deflated
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;            // uncompressed
  uint64_t local_header = 0;    // offset of its local file header
};

class ZipArchive {
 public:
  // `bytes`: the whole archive; `name` names it in errors. Throws std::runtime_error
  // "NAME: PROBLEM" for anything that is not a readable archive.
  ZipArchive(std::vector<uint8_t> bytes, std::string name);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(const std::string& entry_name) const;  // nullptr when absent
  // The entry's bytes, at most `max_bytes` of them (more is an error, before inflating).
  // Throws "NAME: ENTRY: PROBLEM" for an unsupported method, damaged data or a CRC mismatch.
  std::vector<uint8_t> read(const ZipEntry& entry, size_t max_bytes) const;

 private:
  std::vector<uint8_t> bytes_;
  std::string name_;
  std::vector<ZipEntry> entries_;
};

// For tests and tools: an archive of `files` (name, bytes), each deflated when `compress`,
// stored otherwise.
std::vector<uint8_t> make_zip(const std::vector<std::pair<std::string, std::vector<uint8_t>>>& files, bool compress);

}  // namespace bachgen::io
