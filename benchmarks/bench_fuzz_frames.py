"""10^5 generated probes of a bad SUT through the harness's frame checks, as a ratio to plain json.loads.

    python -m pytest benchmarks/bench_fuzz_frames.py --benchmark-only

The inputs: a corpus drawn (seeded, so every run sees the same inputs) from the hypothesis
strategies of tests/test_fuzz_frames.py (arbitrary text and bytes, JSON of any shape, frame-shaped
arrays with one defect, JSON a parser need not accept, CALLs of every 1.6 action with one field
mutated), grown to N_INPUTS by seeded mutation of that corpus (a character garbled, a cut, two
frames spliced, a frame element replaced, dropped or added, an odd literal spliced in, and, most
often, one payload member of a CALL replaced, dropped or added), the way a mutational fuzzer grows
a seed corpus. Four measurements in the same run, over the same inputs:

* baseline: plain ``json.loads`` of each input (exceptions caught);
* ``ocppj.parse``;
* what the session does with each frame short of I/O: parse, the schema check of a CALL,
  serializing the answer;
* a ``Session`` reading every input from an in-memory WebSocket (reader task, trace, RPC rules).

Each reports inputs per second and its ratio to the baseline (best round against best round) in
``extra_info`` and on one summary line; all share one benchmark group, so pytest-benchmark's
parenthesised columns read as ratios too. No assertion is made on time. Every input is also
checked once, untimed: parse and the schema check never raise, every MalformedFrame carries a
valid 1.6 error code, every message survives serialize then parse, the session never stops.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from harness import ocppj, schemas
from harness.ocppj import Call, CallError, CallResult, ErrorCode, MalformedFrame
from harness.waits import within
from tests.test_fuzz_frames import ODD_LITERALS, Harness, any_frames, check_parse

N_INPUTS = 100_000
CORPUS = 10_000  # drawn by hypothesis (about 1-2 ms of CPU each); the rest are mutants of these
BATCH = 50
SEED = 2026
GROUP = "fuzz-frames"


def _draw_corpus(size: int) -> list[str | bytes]:
    drawn: list[str | bytes] = []
    for n in range(1000):  # a few seeded passes: hypothesis may stop a pass early
        @seed(SEED + n)
        @settings(max_examples=(size - len(drawn)) // BATCH + 1, database=None, deadline=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(st.lists(any_frames, min_size=BATCH, max_size=BATCH))
        def draw(batch: list[str | bytes]) -> None:
            drawn.extend(batch)

        draw()
        if len(drawn) >= size:
            return drawn[:size]
    raise RuntimeError(f"hypothesis drew only {len(drawn)} inputs")


WRONG_VALUES = [12, -1, 1.05, 10**400, None, True, "", "x" * 600, "NotAnOcppValue", "2026-13-01T00:00:00Z", [], {}, [{}]]
JUNK = ['"', "\\", "[", "]", "{", "}", ",", ":", "\x00", "\ud800", "\ufeff", "", " ", "2", "null", "-"]
WRONG_ELEMENTS = [2.0, "2", True, 5, -1, 2**64, None, "", "x" * 37, "é" * 36, [], {}, "FooBar", "Heartbeat", 12, "NotImplemented"]


def _mutants(corpus: list[str | bytes], count: int, rng: random.Random) -> Iterator[str | bytes]:
    texts = [x for x in corpus if isinstance(x, str)]
    frames = []
    for text in texts:
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, list) and value:
            frames.append(value)
    calls = [f for f in frames if len(f) == 4 and f[0] == 2 and isinstance(f[2], str) and f[2] in schemas.ACTIONS
             and isinstance(f[3], dict)]
    # weights: mostly CALLs of known actions with one payload member changed (the schema check at scale)
    ops = rng.choices(range(8), weights=[1, 1, 1, 1, 1, 1, 4, 1] if calls else [1] * 6 + [0, 0], k=count)
    for n, op in enumerate(ops):
        if op == 0:  # garble one character (bytes stay bytes)
            x = rng.choice(corpus)
            at = rng.randrange(len(x) + 1)
            junk = rng.choice(JUNK)
            yield x[:at] + (junk.encode("utf-8", "surrogatepass") if isinstance(x, bytes) else junk) + x[at + 1:]
        elif op == 1:  # cut short
            x = rng.choice(texts)
            yield x[:rng.randrange(len(x) + 1)]
        elif op == 2:  # splice two frames
            a, b = rng.choice(texts), rng.choice(texts)
            yield a[:rng.randrange(len(a) + 1)] + b[rng.randrange(len(b) + 1):]
        elif op == 3:  # one element of a frame replaced by a wrong one
            frame = list(rng.choice(frames))
            frame[rng.randrange(len(frame))] = rng.choice(WRONG_ELEMENTS)
            yield json.dumps(frame, ensure_ascii=rng.random() < 0.5)
        elif op == 4:  # an element dropped or added: wrong arity
            frame = list(rng.choice(frames))
            if rng.random() < 0.5:
                del frame[rng.randrange(len(frame))]
            else:
                frame.insert(rng.randrange(len(frame) + 1), rng.choice(WRONG_ELEMENTS))
            yield json.dumps(frame)
        elif op == 5:  # an odd literal (NaN, 1e400, a repeated name, deep nesting, a lone surrogate ...) spliced in
            text = json.dumps(rng.choice(frames))
            commas = [i for i, c in enumerate(text) if c in ",["] or [0]
            at = rng.choice(commas) + 1
            yield text[:at] + rng.choice(ODD_LITERALS)[0] + ("," if text[at:at + 1] not in ("]", "") else "") + text[at:]
        else:  # a CALL of a known action under a fresh unique id: one payload member changed (op 6) or as drawn (op 7)
            _, _, action, payload = rng.choice(calls)
            payload = json.loads(json.dumps(payload))
            if op == 6:
                roll = rng.random()
                if payload and roll < 0.5:
                    payload[rng.choice(sorted(payload))] = rng.choice(WRONG_VALUES)
                elif payload and roll < 0.8:
                    del payload[rng.choice(sorted(payload))]
                else:
                    payload["harnessFuzzExtra"] = rng.choice(WRONG_VALUES)
            yield json.dumps([2, f"m{n}", action, payload])


@pytest.fixture(scope="module")
def inputs() -> list[str | bytes]:
    corpus = _draw_corpus(CORPUS)
    generated = corpus + list(_mutants(corpus, N_INPUTS - len(corpus), random.Random(SEED)))
    assert len(generated) >= N_INPUTS
    return generated


BEST: dict[str, float] = {}  # best round (seconds) of each measurement, for the ratios


def _report(benchmark: Any, name: str, inputs: list[Any], capsys: pytest.CaptureFixture[str]) -> None:
    best = benchmark.stats.stats.min
    BEST[name] = best
    benchmark.extra_info["inputs"] = len(inputs)
    benchmark.extra_info["inputs_per_second"] = round(len(inputs) / best)
    line = f"{name}: {len(inputs)} inputs, {len(inputs) / best:,.0f} inputs/s, {best * 1e6 / len(inputs):.2f} us each"
    if "json.loads" in BEST and name != "json.loads":
        ratio = best / BEST["json.loads"]
        benchmark.extra_info["ratio_to_json_loads"] = round(ratio, 2)
        line += f", {ratio:.2f}x plain json.loads"
    with capsys.disabled():
        print(f"\n[{GROUP}] {line}")


def _json_loads_all(inputs: list[str | bytes]) -> None:
    for x in inputs:
        try:
            json.loads(x)
        except (ValueError, RecursionError):
            pass


def _parse_all(inputs: list[str | bytes]) -> None:
    for x in inputs:
        ocppj.parse(x)


def _handle_all(inputs: list[str | bytes]) -> None:
    """What Session._handle does with each frame, without I/O or trace."""
    for x in inputs:
        message = ocppj.parse(x)
        if isinstance(message, MalformedFrame):
            if message.answerable and message.unique_id is not None:
                ocppj.serialize(CallError(message.unique_id, message.error_code, message.description))
        elif isinstance(message, Call):
            if message.action in schemas.ACTIONS:
                problems = schemas.validate(message.action, "request", message.payload)
                answer = (CallError(message.unique_id, problems[0].error_code, str(problems[0])[:255]) if problems
                          else CallResult(message.unique_id, {}))
            else:
                answer = CallError(message.unique_id, ErrorCode.NOT_IMPLEMENTED, f"unknown action {message.action}")
            ocppj.serialize(answer)


@pytest.mark.benchmark(group=GROUP)
def test_baseline_plain_json_loads(benchmark: Any, inputs: list[str | bytes], capsys: pytest.CaptureFixture[str]) -> None:
    benchmark.pedantic(_json_loads_all, args=(inputs,), rounds=5, iterations=1)
    _report(benchmark, "json.loads", inputs, capsys)


@pytest.mark.benchmark(group=GROUP)
def test_ocppj_parse(benchmark: Any, inputs: list[str | bytes], capsys: pytest.CaptureFixture[str]) -> None:
    benchmark.pedantic(_parse_all, args=(inputs,), rounds=5, iterations=1)
    _report(benchmark, "ocppj.parse", inputs, capsys)
    kinds: dict[str, int] = {}
    for x in inputs:  # untimed: the properties hold on every input
        result = check_parse(x)
        kind = result.kind if isinstance(result, MalformedFrame) else type(result).__name__
        kinds[kind] = kinds.get(kind, 0) + 1
    benchmark.extra_info["verdicts"] = dict(sorted(kinds.items(), key=lambda kv: -kv[1]))


@pytest.mark.benchmark(group=GROUP)
def test_parse_schema_check_and_answer(benchmark: Any, inputs: list[str | bytes], capsys: pytest.CaptureFixture[str]) -> None:
    benchmark.pedantic(_handle_all, args=(inputs,), rounds=3, iterations=1)
    _report(benchmark, "parse+validate+answer", inputs, capsys)
    for x in inputs:  # untimed: every violation carries the code of its rule
        message = ocppj.parse(x)
        if isinstance(message, Call) and message.action in schemas.ACTIONS:
            for problem in schemas.validate(message.action, "request", message.payload):
                assert isinstance(problem.error_code, ErrorCode)


@pytest.mark.benchmark(group=GROUP)
def test_session_reading_every_input(benchmark: Any, inputs: list[str | bytes], capsys: pytest.CaptureFixture[str]) -> None:
    loop = asyncio.new_event_loop()
    harness: Harness | None = None

    async def start() -> Harness:
        h = Harness()
        await h.__aenter__()
        return h

    async def read_all(h: Harness) -> None:
        h.ws.idle.clear()
        for x in inputs:
            h.ws.inbound.put_nowait(x)
        await within(h.ws.idle.wait(), 600)  # the reader is back waiting: every input handled
        assert not h.session.closed.is_set(), h.session.close_reason

    def one_round() -> None:
        assert harness is not None
        harness.trace.entries.clear()  # keep memory flat across rounds
        harness.ws.sent.clear()
        harness.violations.clear()
        loop.run_until_complete(read_all(harness))

    try:
        harness = loop.run_until_complete(start())
        benchmark.pedantic(one_round, rounds=3, iterations=1)
        received = sum(1 for e in harness.trace.entries if e.direction == "received")
        assert received == len(inputs)  # the last round recorded every input
        benchmark.extra_info["frames_sent_back"] = len(harness.ws.sent)
        benchmark.extra_info["defects_reported"] = len(harness.violations)
        _report(benchmark, "Session", inputs, capsys)
    finally:
        if harness is not None:
            loop.run_until_complete(harness.__aexit__(None, None, None))
        loop.close()
