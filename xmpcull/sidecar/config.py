"""Where the ExifTool config for our namespace lives (shipped inside the package)."""

from __future__ import annotations

from pathlib import Path

_CONFIG = Path(__file__).with_name("exiftool.config")


def exiftool_config_path() -> Path:
    """Absolute path of the shipped config: pass it as ``exiftool -config <path>``."""
    return _CONFIG.resolve()
