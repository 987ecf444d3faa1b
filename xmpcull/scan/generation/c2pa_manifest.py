"""C2PA manifests (Content Credentials) through c2pa-python (``import c2pa``).

Only called for a file whose container holds a manifest store (found by
``containers``), so camera photos never pay for it. The validation state is
c2pa-rs's own ("Valid", "Trusted", "Invalid"); the digital source type comes
from the active manifest's ``c2pa.actions`` (v1 or v2) or Adobe's
``com.adobe.digitalSourceType`` action parameter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ManifestInfo:
    state: str  # "Valid", "Trusted", "Invalid", or "unreadable: <reason>"
    source_type: str | None = None
    generator: str | None = None  # softwareAgent of the creating action, else the claim generator


def normalise_source_type(value: Any) -> str | None:
    text = str(value).strip() if value else ""
    if not text:
        return None
    if text.startswith("https://cv.iptc.org/"):
        text = "http://" + text[len("https://") :]  # some Google files write https
    return text


def read_manifest(path: Path) -> ManifestInfo:
    try:
        import c2pa
    except ImportError:
        return ManifestInfo("unreadable: c2pa-python is not installed (pip install c2pa-python)")
    try:
        with c2pa.Reader(str(path)) as reader:
            store = json.loads(reader.json())
            state = reader.get_validation_state() or "unknown"
    except Exception as exc:  # noqa: BLE001 - a damaged manifest is a finding, not a crash
        return ManifestInfo(f"unreadable: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}")
    manifest = store.get("manifests", {}).get(store.get("active_manifest") or "", {})
    source_type, agent = _actions(manifest)
    claim = manifest.get("claim_generator") or _claim_generator_info(manifest)
    return ManifestInfo(str(state), source_type, agent or claim)


def _claim_generator_info(manifest: dict[str, Any]) -> str | None:
    info = manifest.get("claim_generator_info")
    if isinstance(info, list) and info and isinstance(info[0], dict):
        return " ".join(str(info[0].get(k)) for k in ("name", "version") if info[0].get(k)) or None
    return None


def _actions(manifest: dict[str, Any]) -> tuple[str | None, str | None]:
    for assertion in manifest.get("assertions", []) or []:
        if not isinstance(assertion, dict) or assertion.get("label") not in ("c2pa.actions", "c2pa.actions.v2"):
            continue
        for action in (assertion.get("data") or {}).get("actions", []) or []:
            if not isinstance(action, dict):
                continue
            params = action.get("parameters") if isinstance(action.get("parameters"), dict) else {}
            source = normalise_source_type(action.get("digitalSourceType") or params.get("com.adobe.digitalSourceType"))
            if source:
                agent = action.get("softwareAgent")
                if isinstance(agent, dict):
                    agent = agent.get("name")
                return source, str(agent) if agent else None
    return None, None
