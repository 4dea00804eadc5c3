"""evidence.json: the run record as JSON, and a sha256 a lab can recompute.

The file is ``{"sha256": H, ...body}`` where ``H`` is the sha256 of
``json.dumps(body, indent=1, sort_keys=True)`` (Python's json module, ASCII escapes), i.e.
of the file without its ``sha256`` key, serialised the same way. Per case it holds the id,
title, verdicts, steps, frames with wall-clock and relative times, manual steps, warnings,
readings, and the sha256 of the case's frame log (``frames_sha256``, see
:func:`harness.report.model.frames_sha256`); the HTML report shows both hashes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable, Mapping

from .model import RunRecord, frames_sha256
from .suts import scrub

__all__ = ["evidence_text", "verify_evidence"]


def evidence_text(run: RunRecord, secrets: Iterable[str] = ()) -> tuple[str, str]:
    """The evidence file's text and its sha256 (secrets scrubbed before hashing).

    The file keeps every payload's own key order (the report renders from it exactly as
    from the run); the hash is over the sorted form, so it does not depend on that order.
    """
    body = json.loads(scrub(json.dumps(run.to_json(), indent=1), secrets))
    digest = hashlib.sha256(json.dumps(body, indent=1, sort_keys=True).encode()).hexdigest()
    return json.dumps({"sha256": digest, **body}, indent=1), digest


def verify_evidence(data: Mapping[str, Any]) -> list[str]:
    """What does not check out in an evidence file (empty: the file and every case's frame log are intact)."""
    problems = []
    body = {k: v for k, v in data.items() if k != "sha256"}
    if hashlib.sha256(json.dumps(body, indent=1, sort_keys=True).encode()).hexdigest() != data.get("sha256"):
        problems.append("the file's sha256 does not match its content")
    for case in data.get("cases", []):
        if frames_sha256(case.get("frames", [])) != case.get("frames_sha256"):
            problems.append(f"{case.get('tc_id')}: frames_sha256 does not match its frames")
    return problems
