// PNG output: the heatmap colours at both ends, and the encoded file's signature, header and
// pixels (inflated back with zlib) exactly.
#include <gtest/gtest.h>
#include <zlib.h>

#include "bachgen/render/png_image.h"

namespace bachgen::render {
namespace {

uint32_t be32(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | b[at + 3];
}

TEST(PngImage, HeatmapColoursAndCells) {
  const float values[] = {0.0f, 1.0f, 2.0f, -1.0f};  // clamped to [0, 1]
  const RgbImage img = heatmap(values, 2, 2, 3);
  EXPECT_EQ(img.width, 6);
  EXPECT_EQ(img.height, 6);
  auto px = [&](int x, int y) {
    const size_t i = (static_cast<size_t>(y) * img.width + x) * 3;
    return std::vector<int>{img.pixels[i], img.pixels[i + 1], img.pixels[i + 2]};
  };
  EXPECT_EQ(px(0, 0), (std::vector<int>{68, 1, 84}));      // 0: dark blue
  EXPECT_EQ(px(5, 2), (std::vector<int>{253, 231, 37}));   // 1: yellow
  EXPECT_EQ(px(2, 3), (std::vector<int>{253, 231, 37}));   // 2 clamps to 1
  EXPECT_EQ(px(4, 5), (std::vector<int>{68, 1, 84}));      // -1 clamps to 0
}

TEST(PngImage, EncodesAValidPngWithThePixels) {
  RgbImage img;
  img.width = 3;
  img.height = 2;
  for (int i = 0; i < 18; ++i) img.pixels.push_back(static_cast<uint8_t>(i * 13));
  const std::vector<uint8_t> png = encode_png(img);
  const std::vector<uint8_t> signature = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  ASSERT_GT(png.size(), 33u);
  EXPECT_EQ(std::vector<uint8_t>(png.begin(), png.begin() + 8), signature);
  EXPECT_EQ(std::string(png.begin() + 12, png.begin() + 16), "IHDR");
  EXPECT_EQ(be32(png, 16), 3u);  // width
  EXPECT_EQ(be32(png, 20), 2u);  // height
  EXPECT_EQ(png[24], 8);         // bit depth
  EXPECT_EQ(png[25], 2);         // colour type RGB
  // Gather the IDAT chunks and inflate them: each row is a filter byte and the pixels.
  std::vector<uint8_t> idat;
  for (size_t at = 8; at + 8 <= png.size();) {
    const uint32_t length = be32(png, at);
    const std::string type(png.begin() + static_cast<std::ptrdiff_t>(at + 4), png.begin() + static_cast<std::ptrdiff_t>(at + 8));
    if (type == "IDAT") idat.insert(idat.end(), png.begin() + static_cast<std::ptrdiff_t>(at + 8), png.begin() + static_cast<std::ptrdiff_t>(at + 8 + length));
    at += 12 + length;
  }
  std::vector<uint8_t> raw(2 * (1 + 9));
  uLongf raw_size = raw.size();
  ASSERT_EQ(uncompress(raw.data(), &raw_size, idat.data(), idat.size()), Z_OK);
  ASSERT_EQ(raw_size, raw.size());
  for (int y = 0; y < 2; ++y) {
    EXPECT_EQ(raw[y * 10], 0);  // no row filter (encode_png sets none)
    for (int i = 0; i < 9; ++i) EXPECT_EQ(raw[y * 10 + 1 + i], img.pixels[y * 9 + i]);
  }
  EXPECT_EQ(std::string(png.end() - 8, png.end() - 4), "IEND");
  RgbImage empty;
  EXPECT_THROW(encode_png(empty), std::invalid_argument);
}

}  // namespace
}  // namespace bachgen::render
