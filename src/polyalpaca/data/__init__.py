"""Data stage: fetch every source (hub, URL or local file) and normalize it to source records."""

from .fetch import fetch_source
from .models import fetch_model

__all__ = ["fetch_model", "fetch_source"]
