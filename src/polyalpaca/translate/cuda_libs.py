"""CUDA-12 cuBLAS and cuDNN for CTranslate2 on GPU nodes.

ctranslate2 4.8.5's Linux wheel is built against CUDA 12 and opens ``libcublas.so.12`` (and cuDNN 9)
when it first runs on a GPU, while torch 2.13's wheel brings CUDA 13 libraries. The CUDA-12 libraries
come from pip wheels (``nvidia-cublas-cu12``, ``nvidia-cudnn-cu12``: the ``cuda12`` extra and
envs/translate.yaml); they live inside site-packages, where the dynamic loader does not look, so they
are loaded here by full path with RTLD_GLOBAL before CTranslate2 asks for them by soname.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
from pathlib import Path

from ..errors import ConfigError

log = logging.getLogger(__name__)

# (importable package holding a lib/ folder, sonames in load order: cuBLASLt before cuBLAS)
CUDA12_LIBRARIES = (
    ("nvidia.cublas", ("libcublasLt.so.12", "libcublas.so.12")),
    ("nvidia.cudnn", ("libcudnn.so.9",)),
)
INSTALL_HINT = "pip install '.[cuda12]' (nvidia-cublas-cu12, nvidia-cudnn-cu12), as envs/translate.yaml does"


def library_dirs(package: str) -> list[Path]:
    """The ``lib`` folders of an installed (namespace) package, or [] when it is not installed."""
    try:
        spec = importlib.util.find_spec(package)
    except ModuleNotFoundError:
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    return [Path(loc) / "lib" for loc in spec.submodule_search_locations if (Path(loc) / "lib").is_dir()]


def preload(libraries=CUDA12_LIBRARIES) -> list[Path]:
    """Load every listed library found in its package, globally; returns the files loaded."""
    loaded = []
    for package, sonames in libraries:
        for soname in sonames:
            found = [d / soname for d in library_dirs(package) if (d / soname).is_file()]
            if found:
                ctypes.CDLL(str(found[0]), mode=ctypes.RTLD_GLOBAL)
                loaded.append(found[0])
    return loaded


def prepare_cuda_translation() -> list[Path]:
    """Before CTranslate2 runs on a GPU: load the CUDA-12 libraries it needs, or fail saying how to get them.

    A node whose system already provides them (``ldconfig`` finds ``libcublas.so.12``) needs no wheel."""
    loaded = preload()
    names = {path.name for path in loaded}
    for package, sonames in CUDA12_LIBRARIES:
        for soname in sonames:
            if soname in names:
                continue
            try:
                ctypes.CDLL(soname, mode=ctypes.RTLD_GLOBAL)  # the system's copy, if any
            except OSError:
                raise ConfigError(f"translate.device cuda: CTranslate2 needs the CUDA-12 library {soname}, which "
                                  f"neither the {package} wheel nor the system provides; {INSTALL_HINT}, or set "
                                  "translate.device: cpu") from None
    log.info("CUDA-12 libraries for CTranslate2: %s", ", ".join(str(p) for p in loaded) or "from the system")
    return loaded
