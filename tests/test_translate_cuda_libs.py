"""CUDA-12 libraries for CTranslate2 (issue 14, defect 2): loaded from their pip wheels by full path
before CTranslate2 opens them by soname; a GPU translation without them stops with the install hint."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import pytest

from polyalpaca.errors import ConfigError
from polyalpaca.translate import cuda_libs


def test_a_library_inside_a_wheel_is_loaded_by_full_path():
    """The mechanism on a wheel this machine has: torch ships torch/lib/libc10.so the way nvidia-cublas-cu12
    ships nvidia/cublas/lib/libcublas.so.12."""
    loaded = cuda_libs.preload((("torch", ("libc10.so",)), ("no_such_package", ("libnothing.so.1",))))
    assert [p.name for p in loaded] == ["libc10.so"] and loaded[0].parent.name == "lib"
    ctypes.CDLL("libc10.so", mode=os.RTLD_NOLOAD | os.RTLD_LAZY)  # resolvable by soname: in the process


def test_missing_cuda12_libraries_stop_a_gpu_translation_with_the_install_hint():
    if cuda_libs.library_dirs("nvidia.cublas"):
        pytest.skip("nvidia-cublas-cu12 is installed here")
    try:
        ctypes.CDLL("libcublas.so.12")
        pytest.skip("the system provides libcublas.so.12")
    except OSError:
        pass
    with pytest.raises(ConfigError, match=r"libcublasLt\.so\.12.*pip install '\.\[cuda12\]'.*translate\.device: cpu"):
        cuda_libs.prepare_cuda_translation()


def test_the_translate_env_ships_the_cuda12_wheels():
    import yaml

    env = yaml.safe_load((Path(__file__).resolve().parents[1] / "envs" / "translate.yaml").read_text())
    pins = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert any(p.startswith("nvidia-cublas-cu12==") for p in pins)
    assert any(p.startswith("nvidia-cudnn-cu12==") for p in pins)


def test_a_cuda_translator_without_cuda_fails_loudly(tmp_path):
    """translate.device: cuda on a node without a usable CUDA: an error naming the key, never a CPU run."""
    from polyalpaca.translate.engine import Ct2Translator
    from polyalpaca.translate.settings import TranslateSettings

    try:
        import ctranslate2

        if ctranslate2.get_cuda_device_count() > 0 and cuda_libs.library_dirs("nvidia.cublas"):
            pytest.skip("CUDA and its libraries are usable here")
    except ImportError:
        pytest.skip("ctranslate2 not installed")
    with pytest.raises(ConfigError, match=r"translate\.device"):
        Ct2Translator(tmp_path, TranslateSettings(device="cuda"))
