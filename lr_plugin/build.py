"""Build dist/xmpcull.lrplugin.zip, the installable Lightroom Classic plug-in.

The zip holds one folder, xmpcull.lrplugin/, with the .lua files at its root
(what Lightroom's Plug-in Manager expects after unzipping). Entries are
sorted and dated 1980-01-01 so the same sources give the same bytes.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLUGIN = HERE / "xmpcull.lrplugin"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def build(out: Path) -> Path:
    """Write the zip to out and return its path."""
    files = sorted(p for p in PLUGIN.rglob("*") if p.is_file() and p.suffix in {".lua", ".txt", ".png"})
    if not (PLUGIN / "Info.lua").is_file():
        raise FileNotFoundError(f"{PLUGIN}/Info.lua is missing")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            info = zipfile.ZipInfo(f"{PLUGIN.name}/{path.relative_to(PLUGIN).as_posix()}", FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, path.read_bytes())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE.parent / "dist" / "xmpcull.lrplugin.zip")
    args = parser.parse_args(argv)
    path = build(args.out)
    sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
