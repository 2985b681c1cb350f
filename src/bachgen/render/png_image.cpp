// Heatmap colouring and PNG encoding through libpng's write callbacks.
#include "bachgen/render/png_image.h"

#include <png.h>

#include <algorithm>
#include <array>
#include <stdexcept>

#include "bachgen/io/files.h"

namespace bachgen::render {

namespace {

// Anchors of a perceptually ordered map (dark blue -> teal -> green -> yellow).
constexpr std::array<std::array<float, 3>, 5> kAnchors = {{{68, 1, 84},
                                                          {59, 82, 139},
                                                          {33, 145, 140},
                                                          {94, 201, 98},
                                                          {253, 231, 37}}};

std::array<uint8_t, 3> colour(float v) {
  v = std::clamp(v, 0.0f, 1.0f) * (kAnchors.size() - 1);
  const size_t i = std::min(static_cast<size_t>(v), kAnchors.size() - 2);
  const float f = v - static_cast<float>(i);
  std::array<uint8_t, 3> c{};
  for (int k = 0; k < 3; ++k) {
    c[k] = static_cast<uint8_t>(kAnchors[i][k] + f * (kAnchors[i + 1][k] - kAnchors[i][k]) + 0.5f);
  }
  return c;
}

void append_bytes(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + length);
}

void no_flush(png_structp) {}

}  // namespace

RgbImage heatmap(const float* values, int rows, int cols, int cell) {
  RgbImage img;
  img.width = cols * cell;
  img.height = rows * cell;
  img.pixels.resize(static_cast<size_t>(img.width) * img.height * 3);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const auto rgb = colour(values[static_cast<size_t>(r) * cols + c]);
      for (int y = r * cell; y < (r + 1) * cell; ++y) {
        uint8_t* p = &img.pixels[(static_cast<size_t>(y) * img.width + static_cast<size_t>(c) * cell) * 3];
        for (int x = 0; x < cell; ++x, p += 3) std::copy(rgb.begin(), rgb.end(), p);
      }
    }
  }
  return img;
}

std::vector<uint8_t> encode_png(const RgbImage& image) {
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3) {
    throw std::invalid_argument("encode_png: the image has no pixels or the wrong number of them");
  }
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    throw std::runtime_error("encode_png: libpng could not start");
  }
  std::vector<uint8_t> out;
  std::vector<png_bytep> rows(static_cast<size_t>(image.height));
  for (int y = 0; y < image.height; ++y) {
    rows[static_cast<size_t>(y)] = const_cast<png_bytep>(&image.pixels[static_cast<size_t>(y) * image.width * 3]);
  }
  if (setjmp(png_jmpbuf(png))) {  // libpng reports errors by longjmp
    png_destroy_write_struct(&png, &info);
    throw std::runtime_error("encode_png: libpng failed");
  }
  png_set_write_fn(png, &out, append_bytes, no_flush);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height), 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  // No row filters: heatmaps are flat blocks that zlib packs well alone, and unfiltered rows
  // keep the output simple to check.
  png_set_filter(png, 0, PNG_FILTER_NONE);
  png_write_info(png, info);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

void write_png(const std::string& path, const RgbImage& image) {
  io::write_file_atomically(path, encode_png(image));
}

}  // namespace bachgen::render
