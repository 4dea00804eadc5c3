"""Check an evidence file and render its report again: ``python -m harness.report reports/evidence.json -o out.html``.

The HTML report is a pure function of the evidence, so a lab can verify the file's hashes
and compare the report it was given with one rendered from the evidence.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .catalog import load_catalog
from .evidence import verify_evidence
from .model import RunRecord
from .page import render_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.report", description=__doc__.splitlines()[0])
    parser.add_argument("evidence", help="evidence.json of a run")
    parser.add_argument("-o", "--output", help="write the report rendered from it here")
    args = parser.parse_args(argv)
    data = json.loads(Path(args.evidence).read_text(encoding="utf-8"))
    problems = verify_evidence(data)
    for problem in problems:
        print(f"evidence: {problem}", file=sys.stderr)
    if not problems:
        print(f"evidence: sha256 {data['sha256']} and every case's frame hash check out")
    if args.output:
        Path(args.output).write_text(render_report(RunRecord.from_json(data), load_catalog()), encoding="utf-8")
        print(f"report: {args.output}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
