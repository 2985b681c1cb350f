// Bundled-model names.
#include "bachgen/runtime/bundled_models.h"

#include <stdexcept>

#include "bachgen/io/files.h"
#include "bachgen/runtime/build_info.h"

namespace bachgen::runtime {

std::string bundled_models_dir() { return resource_dir() + "/models"; }

std::string resolve_model(const std::string& model, const std::string& default_name) {
  const std::string name = model.empty() ? default_name : model;
  if (!model.empty() && io::is_regular_file(model)) return model;
  const std::string dir = bundled_models_dir();
  const std::string bundled = dir + "/" + name + ".pt";
  if (io::is_regular_file(bundled)) return bundled;
  std::string names;
  try {
    for (const std::string& f : io::list_files(dir, {".pt"})) names += (names.empty() ? "" : ", ") + f.substr(0, f.size() - 3);
  } catch (const std::exception&) {
  }
  if (model.empty()) {
    throw std::runtime_error("no --model given and the bundled model '" + name + "' is not in " + dir +
                             " (models/README.md; set BACHGEN_HOME to the source tree)");
  }
  throw std::runtime_error("--model " + model + ": no such file, and no bundled model of that name" +
                           (names.empty() ? std::string(" (none bundled in ") + dir + ")" : " (bundled: " + names + ")"));
}

}  // namespace bachgen::runtime
