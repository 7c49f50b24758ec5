"""The model files both trainers write and the bot reads: reproducible, pickle-free, staleness-aware."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.nlu.artifacts import read_artifact, stored_inputs, write_artifact


def _paths(directory: Path) -> tuple[Path, Path]:
    return directory / "model.npz", directory / "model.json"


def test_a_model_reads_back_as_written_and_reruns_are_byte_identical(tmp_path: Path) -> None:
    arrays = {"weights": np.arange(6, dtype=np.float16).reshape(2, 3), "names": np.frombuffer(b"a\nb", dtype=np.uint8)}
    metadata = {"inputs": {"corpus_sha256": "abc"}, "lines": 2}
    first, second = _paths(tmp_path / "one"), _paths(tmp_path / "two")
    write_artifact(first, arrays, metadata)
    write_artifact(second, arrays, metadata)

    assert first[0].read_bytes() == second[0].read_bytes()
    assert first[1].read_text(encoding="utf-8") == second[1].read_text(encoding="utf-8")
    read_arrays, read_metadata = read_artifact(first)
    assert read_metadata == metadata
    assert set(read_arrays) == {"weights", "names"}
    assert read_arrays["weights"].dtype == np.float16
    np.testing.assert_array_equal(read_arrays["weights"], arrays["weights"])


def test_stored_inputs_are_what_staleness_compares_and_none_without_a_model(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    assert stored_inputs(paths) is None
    with pytest.raises(FileNotFoundError):
        read_artifact(paths)

    write_artifact(paths, {"w": np.zeros(1)}, {"inputs": {"intents_sha256": "f00"}})
    assert stored_inputs(paths) == {"intents_sha256": "f00"}

    paths[0].unlink()  # half a model is no model
    assert stored_inputs(paths) is None


def test_object_arrays_are_refused_so_loading_never_needs_pickle(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_artifact(_paths(tmp_path), {"bad": np.array([{"a": 1}], dtype=object)}, {})
