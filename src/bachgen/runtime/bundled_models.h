// The models that come with bachgen (models/, found through runtime::resource_dir()): a
// command's or the studio's model given by file or by a bundled model's name. Torch-free.
#pragma once

#include <string>

namespace bachgen::runtime {

// The bundled composer `generate`, `eval` and the studio use when no model is named: the Music
// Transformer with meter, end and key conditions (models/README.md).
inline constexpr const char* kDefaultComposer = "jsb-compose";
// The bundled harmonizer `harmonize`, `infill` and the studio use when no model is named: the
// conditioning model with relative attention and conditions (models/README.md).
inline constexpr const char* kDefaultHarmonizer = "jsb-harmonize";

// Where the bundled models live: RESOURCES/models.
std::string bundled_models_dir();

// A model given as a file or a bundled model's name: empty = the bundled `default_name`; an
// existing file = itself; else a bundled model by name (models/NAME.pt). Throws
// std::runtime_error listing the bundled names.
std::string resolve_model(const std::string& model, const std::string& default_name);

}  // namespace bachgen::runtime
