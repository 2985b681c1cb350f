// safetensors writer and reader.
#include "bachgen/model/safetensors.h"

#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "bachgen/io/files.h"

namespace bachgen::model {

void export_safetensors(const std::string& path, const ModelSpec& spec, SequenceModelImpl& model) {
  nlohmann::json header;
  header["__metadata__"] = {{"bachgen", spec_to_json(spec)}, {"format", "pt"}};
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  size_t offset = 0;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    torch::Tensor t = item.value().detach().to(torch::kCPU, torch::kFloat32).contiguous();
    const size_t bytes = static_cast<size_t>(t.numel()) * sizeof(float);
    header[item.key()] = {{"dtype", "F32"}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    tensors.emplace_back(item.key(), t);
  }
  std::string json = header.dump();
  while ((8 + json.size()) % 8 != 0) json += ' ';  // the data starts 8-byte aligned
  std::vector<uint8_t> out;
  out.reserve(8 + json.size() + offset);
  const uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(n >> (8 * i)));
  out.insert(out.end(), json.begin(), json.end());
  for (const auto& [name, t] : tensors) {
    const auto* p = static_cast<const uint8_t*>(t.data_ptr());
    out.insert(out.end(), p, p + t.numel() * sizeof(float));  // x86 and ARM are little-endian
  }
  io::write_file_atomically(path, out);
}

SafetensorsFile read_safetensors(const std::string& path) {
  auto fail = [&path](const std::string& problem) { return std::runtime_error(path + ": " + problem); };
  std::vector<uint8_t> bytes;
  try {
    bytes = io::read_file_bytes(path, size_t{16} << 30);
  } catch (const std::exception& e) {
    throw fail(e.what());
  }
  if (bytes.size() < 8) throw fail("too short for a safetensors file");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  if (n > bytes.size() - 8) throw fail("header length runs past the end of the file");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  } catch (const std::exception&) {
    throw fail("the header is not valid JSON");
  }
  const size_t base = 8 + n;
  SafetensorsFile out;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      for (const auto& [k, v] : entry.items()) out.metadata[k] = v.get<std::string>();
      continue;
    }
    const std::string dtype = entry.at("dtype");
    const auto shape = entry.at("shape").get<std::vector<int64_t>>();
    const auto range = entry.at("data_offsets").get<std::vector<size_t>>();
    const torch::Dtype type = dtype == "F32" ? torch::kFloat32 : dtype == "F64" ? torch::kFloat64
                              : dtype == "I64" ? torch::kInt64 : throw fail(name + ": dtype " + dtype + " is not supported");
    torch::Tensor t = torch::empty(shape, type);
    const size_t want = static_cast<size_t>(t.numel()) * t.element_size();
    if (range.size() != 2 || range[1] < range[0] || range[1] - range[0] != want ||
        base + range[1] > bytes.size()) {
      throw fail(name + ": byte range does not match its shape or the file");
    }
    std::memcpy(t.data_ptr(), bytes.data() + base + range[0], want);
    out.tensors[name] = t;
  }
  return out;
}

}  // namespace bachgen::model
