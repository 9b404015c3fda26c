"""The ``m2m-auth`` command of the Python package: the console script runs the standalone binary that the
wheel carries next to this file (``bin/m2m-auth``), so the command behaves exactly as everywhere else."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def binary() -> Path:
    return Path(__file__).resolve().parent / "bin" / "m2m-auth"


def main() -> None:
    path = binary()
    if not path.is_file():
        sys.stderr.write(
            "m2m-auth: this installation has no m2m-auth binary (it was built from source); install the "
            "wheel from `make dist`, or build the command with `cargo install --path crates/m2m-auth-cli`\n"
        )
        sys.exit(127)
    os.execv(path, [str(path), *sys.argv[1:]])
