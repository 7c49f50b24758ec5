#!/usr/bin/env python3
"""Set-up and run in one command, on a machine with only Python and pip.

    python3 tasks.py run    create .venv if needed, install, run the bot (python -m bot)
    python3 tasks.py test   create .venv if needed, install with test extras, check content, run pytest
    python3 tasks.py bench  run the benchmarks (benchmarks/README.md)

Extra arguments are passed on: `python3 tasks.py test -k safety`, `python3 tasks.py run chat`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("VENV_DIR", ROOT / ".venv"))
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_env(extras: str) -> None:
    """Create the virtual environment and install the project; redo it when pyproject.toml changes."""
    stamp = VENV / f".installed-{extras or 'base'}"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted and PYTHON.exists():
        return
    if not PYTHON.exists():
        print(f"creating {VENV} ...", flush=True)
        venv.create(VENV, with_pip=True)
    target = f".[{extras}]" if extras else "."
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "-e", target], check=True, cwd=ROOT)
    stamp.write_text(wanted)


def main(argv: list[str]) -> int:
    task, rest = (argv[0], argv[1:]) if argv else ("run", [])
    if task == "run":
        ensure_env("")
        return subprocess.call([str(PYTHON), "-m", "bot", *rest], cwd=ROOT)
    if task == "test":
        ensure_env("test")
        checked = subprocess.call([str(PYTHON), "-m", "bot", "check"], cwd=ROOT)
        if checked != 0:
            return checked
        return subprocess.call([str(PYTHON), "-m", "pytest", *rest], cwd=ROOT)
    if task == "bench":
        ensure_env("test")
        return subprocess.call([str(PYTHON), "benchmarks/run_all.py", *rest], cwd=ROOT)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
