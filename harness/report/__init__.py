"""The compliance report: what a vendor hands to a test lab.

A run writes, side by side:

* ``report.html`` - one self-contained page (no JavaScript, no external file): cover with
  the SUT's identity and the configuration used, profile x verdict matrix, a section per
  case with its OCTT steps, what was expected and what arrived, both verdicts, and an SVG
  message sequence diagram; printable (a case per page);
* ``evidence.json`` - every case's steps, frames, warnings and readings, with a sha256
  over each case's frame log and over the whole file (the HTML shows both);
* the JUnit XML (pytest's own), carrying each case's official id, title and verdicts as
  properties.

Modules: :mod:`.model` (records, verdicts, the step table), :mod:`.catalog` (the shipped
OCTT catalog), :mod:`.page`, :mod:`.html` and :mod:`.svg` (rendering the page, a case, its
diagrams: pure functions of the records), :mod:`.evidence`, :mod:`.suts` (identity, redacted configuration), :mod:`.terminal`
(failures and live steps on the terminal), :mod:`.collect` (the pytest glue the plugin
calls), :mod:`.browser` (headless Chromium, for PDFs and the harness's own checks).

Why not pytest-html's page: it builds its rows with JavaScript from a JSON blob, names
tests by Python path and shows tracebacks; a certification document needs a page that
reads (and prints) without a script. pytest-html still runs when asked (``--html``): its
developer view goes beside the report and carries each case's section.
"""

from __future__ import annotations

from .catalog import load_catalog
from .collect import (
                      begin_session,
                      claim_report_path,
                      collect_case,
                      record_phase,
                      report_path,
                      use_default_report_paths,
                      write_reports,
                      written_report,
)
from .html import render_case
from .model import CaseRecord, RunRecord
from .page import render_report

__all__ = [
    "CaseRecord", "RunRecord", "begin_session", "claim_report_path", "collect_case", "load_catalog", "record_phase",
    "render_case", "render_report", "report_path", "use_default_report_paths", "write_reports", "written_report",
]
