// PNG output (libpng): heatmaps for attention weights and, later, piano rolls. Files are
// written atomically.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bachgen::render {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // row-major RGB, 3 bytes per pixel
};

// A heatmap of a rows x cols matrix of values in [0, 1] (clamped), each value a cell x cell
// square, coloured from dark blue (0) through teal and green to yellow (1).
RgbImage heatmap(const float* values, int rows, int cols, int cell);

std::vector<uint8_t> encode_png(const RgbImage& image);
void write_png(const std::string& path, const RgbImage& image);  // atomic; throws on failure

}  // namespace bachgen::render
