"""Start and stop a simulator process from the test run (bounded, never orphaned)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SimulatorProcess", "start_simulator"]


@dataclass
class SimulatorProcess:
    module: str
    proc: subprocess.Popen[bytes]
    info: dict[str, str] = field(default_factory=dict)
    stderr: Any = None

    def errors(self) -> str:
        """What the simulator wrote to stderr (for diagnosing a crash)."""
        if self.stderr is None:
            return ""
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-3000:]

    def stop(self, timeout: float = 5.0) -> None:
        """Close its stdin (it exits on EOF); kill it if it does not within ``timeout``."""
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(timeout)
            except (subprocess.TimeoutExpired, OSError):
                self.proc.kill()
                self.proc.wait(timeout)
        for stream in (self.proc.stdout, self.stderr):
            if stream is not None:
                stream.close()


def start_simulator(module: str, args: list[str], *, timeout: float = 20.0, env: dict[str, str] | None = None) -> SimulatorProcess:
    """Run ``python -m module args`` and wait for its ``READY key=value ...`` line."""
    errors = tempfile.TemporaryFile()  # a file, not a pipe: a chatty simulator can never block on it
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
        env={**os.environ, **(env or {})},
    )
    line: list[bytes] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    text = line[0].decode().strip() if line else ""
    if not text.startswith("READY"):
        proc.kill()
        proc.wait(timeout)
        errors.seek(0)
        err = errors.read().decode(errors="replace")[-3000:]
        raise RuntimeError(f"simulator {module} did not start within {timeout:g}s: {text!r}\n{err}")
    info = dict(part.split("=", 1) for part in text.split()[1:])
    return SimulatorProcess(module, proc, info, errors)
