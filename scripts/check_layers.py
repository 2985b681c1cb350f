#!/usr/bin/python3
"""The layering of docs/architecture.md, checked over the #include lines of src/ and apps/.

From the bottom: io, runtime; midi; music; tokenize and render (siblings); data and model
(siblings); train and generate (siblings); serve; commands; apps. A file may include its own
layer and the layers below it, never a layer above nor a sibling. midi, music, tokenize and
render (and io, runtime) never include LibTorch. Prints every violation as FILE:LINE: WHY and
exits 1 when there is one. Usage: check_layers.py [REPO_ROOT] | --self-test
"""
import os
import re
import sys

RANK = {
    "io": 0, "runtime": 1, "midi": 2, "music": 3, "tokenize": 4, "render": 4,
    "data": 5, "model": 5, "train": 6, "generate": 6, "serve": 7, "commands": 8, "apps": 9,
}
TORCH_FREE = {"io", "runtime", "midi", "music", "tokenize", "render"}
# runtime/torch_runtime.cpp is LibTorch's adapter (threads, precision): the one torch file of runtime.
TORCH_ALLOWED = {"src/bachgen/runtime/torch_runtime.cpp"}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]')


def layer_of(path):
    parts = path.split("/")
    if parts[0] == "apps":
        return "apps"
    if parts[:2] == ["src", "bachgen"] and len(parts) > 3:
        return parts[2]
    return None


def check(root):
    problems = []
    files = 0
    for top in ("src", "apps"):
        for folder, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                if not name.endswith((".h", ".cpp")):
                    continue
                path = os.path.relpath(os.path.join(folder, name), root)
                layer = layer_of(path)
                if layer is None:
                    continue
                if layer not in RANK:
                    problems.append(f"{path}:1: folder '{layer}' has no layer in docs/architecture.md")
                    continue
                files += 1
                with open(os.path.join(root, path), encoding="utf-8") as f:
                    for number, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        target = m.group(1)
                        if target.startswith("torch/") or target.startswith("ATen/") or target.startswith("c10/"):
                            if layer in TORCH_FREE and path not in TORCH_ALLOWED:
                                problems.append(f"{path}:{number}: {layer}/ is torch-free but includes <{target}>")
                            continue
                        if not target.startswith("bachgen/"):
                            continue
                        other = target.split("/")[1]
                        if other not in RANK:
                            problems.append(f"{path}:{number}: includes {target}, which is in no layer")
                        elif other != layer and RANK[other] >= RANK[layer]:
                            kind = "a sibling" if RANK[other] == RANK[layer] else "a layer above"
                            problems.append(f"{path}:{number}: {layer}/ includes {target}: {other}/ is {kind}")
    return files, problems


def self_test():
    """The check finds what it must on a tree made here: one case of each rule, and nothing else."""
    import tempfile
    cases = {
        "src/bachgen/music/a.cpp": '#include "bachgen/data/jsb.h"\n',          # a layer above
        "src/bachgen/render/b.h": '#include "bachgen/tokenize/vocab.h"\n',     # a sibling
        "src/bachgen/midi/c.cpp": "#include <torch/torch.h>\n",                # torch in a torch-free layer
        "src/bachgen/gizmo/d.cpp": "int x;\n",                                 # a folder with no layer
        "src/bachgen/generate/e.cpp": '#include "bachgen/model/model_file.h"\n#include <torch/torch.h>\n',  # fine
        "apps/f.cpp": '#include "bachgen/commands/generate_command.h"\n',      # fine
    }
    with tempfile.TemporaryDirectory() as root:
        for path, text in cases.items():
            os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(root, path), "w", encoding="utf-8") as f:
                f.write(text)
        _, problems = check(root)
    found = sorted(p.split(":")[0] for p in problems)
    want = sorted(["src/bachgen/music/a.cpp", "src/bachgen/render/b.h", "src/bachgen/midi/c.cpp", "src/bachgen/gizmo/d.cpp"])
    if found != want:
        print("check_layers self-test FAILED: found", problems)
        return 1
    print("check_layers self-test: 4 of 4 violations found, none more")
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--self-test":
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    files, problems = check(root)
    for p in problems:
        print(p)
    print(f"layering: {files} files checked, {len(problems)} violation(s)")
    return 1 if problems or files == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
