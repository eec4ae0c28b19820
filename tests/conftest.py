"""Shared fixtures. Tests never touch the network: hub libraries are forced offline."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Hub libraries otherwise retry unreachable hosts for tens of seconds.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
