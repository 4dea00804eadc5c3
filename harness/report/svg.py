"""A case's message sequence diagram as inline SVG: readable without JavaScript, on screen and on paper.

Two lifelines (the harness in its role, the SUT), one row per frame in the order it was
sent or received: an arrow with the message (``BootNotification.req``, ``.conf``,
``CALLERROR``) and a short payload summary; connection events and warnings as notes
between the lifelines; manual steps (actuations) as yellow notes; the rows of the failing
step on a red band and a red FAILED note after them; the harness's own setup and
teardown rows greyed. The left margin gives the time since the case began and the step
each row belongs to. A long case is cut into several diagrams of :data:`ROWS_PER_SVG`
rows (each fits a printed page; the lifeline heads repeat), so 60 frames stay legible.
"""

from __future__ import annotations

from html import escape
from typing import Any

from ..steps import short_payload
from .catalog import label_kind
from .model import CaseRecord, parse_frame

__all__ = ["sequence_diagrams", "diagram_rows", "ROWS_PER_SVG", "SVG_CSS"]

ROWS_PER_SVG = 40
WIDTH, ROW, HEAD = 1000, 22, 46
LEFT, RIGHT = 300, 940  # the two lifelines
CHARS = 96  # characters of a message label that fit between the lifelines (11px monospace)
ROLE_NAMES = {"cp": ("Central System", "Charge Point"), "cs": ("Charge Point", "Central System")}


def _cut(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def diagram_rows(case: CaseRecord) -> list[dict[str, Any]]:
    """The diagram's rows in order: frames, events, manual steps and the failure, each with its time and step."""
    owner: dict[int, Any] = {}
    for rec in case.steps:
        for i in range(rec.frames[0], rec.frames[1]):
            owner[i] = rec
    actions: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    for i, f in enumerate(case.frames):
        rec = owner.get(i)
        label = rec.label if rec is not None else ""
        base = {"t": float(f.get("t", 0.0)), "step": label, "kind_of_step": label_kind(label) if label else "",
                "failing": False, "order": i}
        direction = f.get("direction")
        if direction == "event":
            text = str(f.get("text", ""))
            tone = "defect" if "SUT defect" in text else "warning" if "warning" in text else "event"
            rows.append({**base, "type": "note", "tone": tone, "text": text})
            continue
        mtype, mid, name, payload = parse_frame(str(f.get("text", "")))
        if mtype == 2:
            actions[f"{direction}:{mid}"] = name
            label_text = f"{name}.req"
        elif mtype == 3:
            asked = actions.get(f"{'received' if direction == 'sent' else 'sent'}:{mid}", "")
            label_text = f"{asked}.conf" if asked else "CALLRESULT"
        elif mtype == 4:
            asked = actions.get(f"{'received' if direction == 'sent' else 'sent'}:{mid}", "")
            label_text = f"CALLERROR {name}" + (f" ({asked})" if asked else "")
        else:
            label_text = "malformed frame"
        summary = short_payload(payload, CHARS) if mtype in (2, 3, 4) else _cut(str(payload), CHARS)
        note = str(f.get("note", ""))
        rows.append({**base, "type": "frame", "direction": direction, "label": label_text, "summary": summary,
                     "note": note, "error": mtype in (4, None)})
    for a in case.actuations:
        if a.get("t") is None:
            continue
        rows.append({"t": float(a["t"]), "step": str(a.get("step", "")), "kind_of_step": label_kind(str(a.get("step", ""))),
                     "failing": False, "order": len(case.frames), "type": "note",
                     "tone": "failed-manual" if a.get("outcome") == "failed" else "manual",
                     "text": f"manual step {a.get('action')}: {a.get('text') or ''}".rstrip(": ")})
    rows.sort(key=lambda r: (r["t"], r["order"]))
    _mark_failure(case, rows)
    return rows


def _mark_failure(case: CaseRecord, rows: list[dict[str, Any]]) -> None:
    if case.outcome not in ("failed", "error") or case.failure is None:
        return
    step = case.failure.step
    failing = [r for r in case.steps if r.verdict in ("failed", "error") and step in (r.label, r.failed_step)]
    rec = failing[0] if failing else None
    for row in rows:
        if step and row["step"] == step and (rec is None or row["type"] == "frame" or row["tone"] != "manual"):
            row["failing"] = True
    if rec is not None and rec.ended is not None:
        at = rec.ended
    else:
        marked = [r["t"] for r in rows if r["failing"]]
        at = max(marked) if marked else (rows[-1]["t"] if rows else 0.0)
    text = f"FAILED at step {step}: {case.failure.problem}" if step else f"FAILED: {case.failure.problem}"
    marker = {"t": at, "step": step, "kind_of_step": label_kind(step), "failing": True, "order": 10 ** 9,
              "type": "note", "tone": "failure", "text": text}
    position = next((i for i, r in enumerate(rows) if r["t"] > at), len(rows))
    rows.insert(position, marker)


def sequence_diagrams(case: CaseRecord, sut_name: str = "") -> list[str]:
    """The case's diagram as one or more ``<svg>`` strings (of at most :data:`ROWS_PER_SVG` rows each)."""
    rows = diagram_rows(case)
    tool, sut = ROLE_NAMES.get(case.role, ("Harness", "SUT"))
    heads = (f"OCPP harness as {tool}", f"SUT: {sut}" + (f" {sut_name}" if sut_name else ""))
    if not rows:  # a case that never ran still shows who would have talked, and why nobody did
        why = f"no frame: not run ({case.skip_reason})" if case.outcome == "skipped" else "no frame was exchanged"
        rows = [{"t": 0.0, "step": "", "kind_of_step": "", "failing": False, "order": 0, "type": "note", "tone": "event",
                 "text": why}]
    parts = -(-len(rows) // ROWS_PER_SVG)
    size = -(-len(rows) // parts)  # even parts: 41 rows are 21 + 20, not 40 + 1
    return [_svg(rows[i:i + size], heads, case.tc_id, i + 1, len(rows)) for i in range(0, len(rows), size)]


#: the diagrams' styles (the page's stylesheet carries them: rows stay short, a long case stays small)
SVG_CSS = """
svg.msd text{font:11px "DejaVu Sans Mono",Menlo,Consolas,monospace;fill:#222}
svg.msd .h{fill:#eef2f7;stroke:#567}svg.msd .hd{font-weight:bold;text-anchor:middle}
svg.msd .life{stroke:#889;stroke-dasharray:4 3;fill:none}
svg.msd text.t,svg.msd text.st,svg.msd text.sf{font-size:10px;fill:#667}svg.msd text.st{fill:#446}svg.msd text.sf{fill:#b00}
svg.msd .bgf{fill:#fde8e8}svg.msd .bgo{fill:#f4f4f4}svg.msd text.own{fill:#999}svg.msd .b{font-weight:bold}
svg.msd .as{stroke:#1f5fa8;fill:#1f5fa8}svg.msd .ar{stroke:#2a7a2a;fill:#2a7a2a}svg.msd .ae{stroke:#b00;fill:#b00}
svg.msd .ao{stroke:#9ab;fill:#9ab}svg.msd path.as,svg.msd path.ar,svg.msd path.ae,svg.msd path.ao{stroke-width:1.3}
svg.msd tspan.as,svg.msd tspan.ar,svg.msd tspan.ae,svg.msd tspan.ao{stroke:none}
svg.msd .n-manual{fill:#fff4c2;stroke:#c9a400}svg.msd text.n-manual{fill:#5a4a00;stroke:none;font-weight:bold}
svg.msd .n-failed-manual{fill:#fde0c8;stroke:#c05000}svg.msd text.n-failed-manual{fill:#6a2a00;stroke:none;font-weight:bold}
svg.msd .n-failure{fill:#f8d0d0;stroke:#b00}svg.msd text.n-failure{fill:#800;stroke:none;font-weight:bold}
svg.msd .n-defect{fill:#fde8e8;stroke:#c44}svg.msd text.n-defect{fill:#800;stroke:none}
svg.msd .n-warning{fill:#fff0dc;stroke:#d08000}svg.msd text.n-warning{fill:#6a4000;stroke:none}
svg.msd text.n-event{fill:#778}
"""


def _svg(rows: list[dict[str, Any]], heads: tuple[str, str], tc_id: str, first: int, total: int) -> str:
    height = HEAD + ROW * max(1, len(rows)) + 8
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="msd" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img">',
        f"<title>{escape(tc_id)}: message sequence" + (f", rows {first}-{first + len(rows) - 1} of {total}" if total else "")
        + "</title>",
    ]
    for x, name in ((LEFT, heads[0]), (RIGHT, heads[1])):
        w = min(360, 14 + 6.7 * len(name))
        x0 = min(max(x - w / 2, 2), WIDTH - w - 2)
        out.append(f'<rect class="h" x="{x0:.0f}" y="4" width="{w:.0f}" height="26" rx="4"/>'
                   f'<text class="hd" x="{x0 + w / 2:.0f}" y="21">{escape(_cut(name, 52))}</text>')
    bottom = height - 4
    out.append(f'<path class="life" d="M{LEFT},30V{bottom}M{RIGHT},30V{bottom}"/>')
    out.append('<text class="t" x="4" y="42">time</text><text class="t" x="62" y="42">step</text>')
    last_step = None
    for n, row in enumerate(rows):
        top = HEAD + n * ROW
        out.append(_row(row, top, show_step=row["step"] != last_step))
        last_step = row["step"]
    out.append("</svg>")
    return "".join(out)


def _row(row: dict[str, Any], top: int, show_step: bool) -> str:
    parts: list[str] = []
    own = row["kind_of_step"] in ("setup", "teardown") and not row["failing"]
    if row["failing"] or own:
        parts.append(f'<rect class="{"bgf" if row["failing"] else "bgo"}" y="{top}" width="{WIDTH}" height="{ROW}"/>')
    parts.append(f'<text class="t" x="4" y="{top + 15}">+{row["t"]:.3f}</text>')
    if show_step and row["step"]:
        parts.append(f'<text class="{"sf" if row["failing"] else "st"}" x="62" y="{top + 15}">{escape(_cut(row["step"], 37))}</text>')
    if row["type"] == "frame":
        sent = row["direction"] == "sent"
        x1, x2 = (LEFT, RIGHT) if sent else (RIGHT, LEFT)
        tone = "ae" if row["error"] else "ao" if own else "as" if sent else "ar"
        y = top + 18
        parts.append(f'<path class="a {tone}" d="M{x1},{y}H{x2}M{x2},{y}l{-8 if sent else 8},-4v8z"/>')  # arrow, head
        label = _cut(row["label"], CHARS)
        room = CHARS - len(label) - 2
        summary = _cut(row["summary"], room) if room > 8 else ""
        note = f" [{row['note']}]" if row.get("note") and room - len(summary) > 12 else ""
        own_class = ' class="own"' if own else ""
        parts.append(f'<text{own_class} x="{LEFT + 8}" y="{top + 13}"><tspan class="b {tone}">'
                     f"{escape(label)}</tspan>{'  ' + escape(summary) if summary else ''}"
                     f"{escape(_cut(note, max(0, room - len(summary))))}</text>")
    else:
        tone = row["tone"]
        if tone != "event":
            parts.append(f'<rect class="n-{tone}" x="{LEFT - 20}" y="{top + 2}" width="{RIGHT - LEFT + 40}" '
                         f'height="{ROW - 4}" rx="3"/>')
        parts.append(f'<text class="n-{tone}" x="{LEFT - 12}" y="{top + 15}">{escape(_cut(row["text"], CHARS + 4))}</text>')
    return "".join(parts)
