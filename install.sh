#!/usr/bin/env bash
# Install everything polyalpaca needs on a Debian-like machine (as root) or just the Python part.
#   System: Slurm + munge (local cluster test), Hunspell dictionaries (spellcheck metric),
#           Chromium + poppler-utils (rendered report and figure checks).
#   Python: the library with its pinned dependencies and the test extra (editable).
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
