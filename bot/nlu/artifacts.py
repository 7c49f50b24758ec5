"""How trained models are written and read: plain arrays in a zip that numpy loads without pickle.

Shared by the safety model (`safety_training`) and the intent ranker (`intent_ranker_training`):
fixed timestamps, order and permissions, so the same inputs give byte-identical files and a
retrained model shows up in `git diff` only when it really changed.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any, Final

import numpy as np

_ZIP_TIME: Final = (1980, 1, 1, 0, 0, 0)


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz numpy can load, written with fixed timestamps and order (byte-identical reruns)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, member.getvalue())
    return buffer.getvalue()


def write_artifact(paths: tuple[Path, Path], arrays: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
    """Write a model: its arrays (`npz_bytes`) and its metadata as sorted, indented JSON."""
    arrays_path, meta_path = paths
    arrays_path.parent.mkdir(parents=True, exist_ok=True)
    arrays_path.write_bytes(npz_bytes(arrays))
    meta_path.write_text(json.dumps(metadata, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def read_artifact(paths: tuple[Path, Path]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A model's arrays and metadata as `write_artifact` wrote them (numpy only, pickle refused);
    FileNotFoundError when it was never trained."""
    arrays_path, meta_path = paths
    metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    with np.load(arrays_path, allow_pickle=False) as arrays:
        return {name: arrays[name] for name in arrays.files}, metadata


def stored_inputs(paths: tuple[Path, Path]) -> dict[str, str] | None:
    """The input fingerprints a model was trained on (its metadata's "inputs"), None when either file
    is missing: what a trainer's staleness check compares with the inputs as they are now."""
    arrays_path, meta_path = paths
    if not arrays_path.exists() or not meta_path.exists():
        return None
    inputs: dict[str, str] = json.loads(meta_path.read_text(encoding="utf-8")).get("inputs", {})
    return inputs
