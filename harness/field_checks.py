"""Checks on every frame a charge point sends, for field defects no OCTT step looks at (pure, clock passed in).

The central-system role feeds every schema-valid CALL of the charge point to
:meth:`FieldChecks.observe`, in every case, the way it judges every StatusNotification
against the spec 4.9 table; each returned sentence is a defect of the charge point.

Rules (each cites what requires it):

- Energy registers (``*.Register`` measurands, default Energy.Active.Import.Register in Wh)
  MUST increase monotonically within a transaction (spec 7.31, 3.16), from meterStart
  (spec 6.45) to meterStop (spec 6.49); a value in kWh is converted before comparing, so
  a register sent in kWh while its unit says Wh shows as a register that fell.
- A register is energy: Energy.Active.*.Register in Wh or kWh, Energy.Reactive.*.Register in
  varh or kvarh (spec 7.31 Measurand, 7.33 UnitOfMeasure); another unit (W, A ...) is named.
- No transaction message for a transaction the central system already confirmed stopped
  (spec 3.7: a message is resent only until it is confirmed): a second StopTransaction.req,
  or MeterValues of it, after the StopTransaction.conf.
- Every timestamp lies within the clock deviation of the harness's clock: not in the
  future, and not before the harness began (a message queued offline carries its own time,
  which is after that), so a clock that fell back to 1970 is named, not met as a timeout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterator, Mapping

__all__ = ["FieldChecks", "register_wh", "register_unit_problem"]

_KILO = {"kWh": 1000.0, "kvarh": 1000.0}
_BASE = {"Wh": 1.0, "varh": 1.0}


def register_wh(sampled_value: Mapping[str, Any]) -> tuple[str, float] | None:
    """(measurand, value in Wh/varh) of a register sampledValue, or None for other measurands or unreadable values."""
    measurand = str(sampled_value.get("measurand", "Energy.Active.Import.Register"))
    if not measurand.endswith(".Register") or sampled_value.get("format") == "SignedData" or "phase" in sampled_value:
        return None
    unit = str(sampled_value.get("unit", "Wh"))
    factor = _KILO.get(unit, _BASE.get(unit))
    if factor is None:
        return None
    try:
        return measurand, float(sampled_value["value"]) * factor
    except (KeyError, TypeError, ValueError):
        return None


#: the units a register of each kind of energy may carry (spec 7.31, 7.33)
_REGISTER_UNITS = {"Energy.Active": ("Wh", "kWh"), "Energy.Reactive": ("varh", "kvarh")}


def register_unit_problem(sampled_value: Mapping[str, Any]) -> str | None:
    """Why the unit of a register sampledValue is not an energy unit of its kind, or None (also for other measurands)."""
    measurand = str(sampled_value.get("measurand", "Energy.Active.Import.Register"))
    if not measurand.endswith(".Register") or sampled_value.get("format") == "SignedData":
        return None
    kind = ".".join(measurand.split(".")[:2])
    allowed = _REGISTER_UNITS.get(kind)
    unit = sampled_value.get("unit")
    if allowed is None or (unit is None and kind == "Energy.Active") or unit in allowed:
        return None  # no unit: Wh, the default (spec 7.33), right for an active energy register
    return (f"{measurand} is sent in unit {unit if unit is not None else 'Wh (the default)'!s}; a register of "
            f"{kind.split('.')[1].lower()} energy is in {' or '.join(allowed)} (spec 7.31 Measurand, 7.33 UnitOfMeasure)")


def _wh(value: float) -> str:
    """A register value as a vendor reads it: 1250094, 1250.006 (never 1.25009e+06)."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _stamp(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass
class FieldChecks:
    """What the charge point said so far about its transactions and its clock; judges each new CALL.

    Args:
        started: when the harness began (no timestamp may lie before it, less the deviation).
        deviation: how far a timestamp may be from the harness's clock (timeouts.clock_deviation).
    """

    started: datetime
    deviation: timedelta
    #: transactionId -> {measurand: last register value in Wh}
    registers: dict[int, dict[str, float]] = field(default_factory=dict)
    #: transactionId -> meterStart, of the StartTransaction.req the central system answered
    meter_start: dict[int, float] = field(default_factory=dict)
    #: transactionIds whose StopTransaction.req was confirmed
    confirmed_stopped: set[int] = field(default_factory=set)

    def started_transaction(self, transaction_id: int, meter_start: float) -> None:
        """The central system answered a StartTransaction.req with ``transaction_id``."""
        self.meter_start[transaction_id] = float(meter_start)
        self.registers.setdefault(transaction_id, {})

    def confirmed_stop(self, transaction_id: int) -> None:
        """The central system answered the StopTransaction.req of ``transaction_id``."""
        self.confirmed_stopped.add(transaction_id)

    def observe(self, action: str, payload: Mapping[str, Any], now: datetime) -> list[str]:
        """The defects one CALL of the charge point shows (empty: none)."""
        problems = list(self._timestamps(action, payload, now))
        if action == "MeterValues":
            problems += self._meter_values(payload)
        elif action == "StopTransaction":
            problems += self._stop(payload)
        return problems

    # -- timestamps -----------------------------------------------------------------------------------------
    def _timestamps(self, action: str, payload: Mapping[str, Any], now: datetime) -> Iterator[str]:
        stamps = [payload.get("timestamp")] if "timestamp" in payload else []
        stamps += [mv.get("timestamp") for mv in payload.get("meterValue", []) or []]
        stamps += [mv.get("timestamp") for mv in payload.get("transactionData", []) or []]
        for raw in stamps:
            moment = _stamp(raw)
            if moment is None or moment.tzinfo is None:
                continue  # the schema check names an unreadable date-time
            if moment > now + self.deviation:
                yield (f"{action}.req timestamp {raw} lies {(moment - now).total_seconds():.0f}s in the future "
                       f"(the harness's clock: {now.isoformat(timespec='seconds')}; at most {self.deviation.total_seconds():g}s "
                       "deviation): the charge point's clock is wrong (spec 4.2: it sets its clock from currentTime)")
            elif moment < self.started - self.deviation:
                yield (f"{action}.req timestamp {raw} lies before the harness started "
                       f"({self.started.isoformat(timespec='seconds')}): the charge point's clock is wrong "
                       "(spec 4.2: it sets its clock from currentTime)")

    # -- registers and closed transactions ---------------------------------------------------------------------------
    def _meter_values(self, payload: Mapping[str, Any]) -> Iterator[str]:
        transaction_id = payload.get("transactionId")
        if not isinstance(transaction_id, int) or isinstance(transaction_id, bool):
            return
        if transaction_id in self.confirmed_stopped:
            yield (f"MeterValues.req for transaction {transaction_id}, whose StopTransaction.req the central system "
                   "already confirmed (spec 3.7: a transaction message is not sent again once confirmed)")
            return
        for mv in payload.get("meterValue", []) or []:
            for sampled in mv.get("sampledValue", []) or []:
                if sampled.get("context") in ("Transaction.Begin",):
                    continue  # taken at the start: judged against meterStart only
                yield from self._register(transaction_id, sampled, f"MeterValues.req ({mv.get('timestamp')})")

    def _register(self, transaction_id: int, sampled: Mapping[str, Any], where: str) -> Iterator[str]:
        unit = register_unit_problem(sampled)
        if unit is not None:
            yield f"{where}: {unit}"
            return
        reading = register_wh(sampled)
        if reading is None:
            return
        measurand, value = reading
        last = self.registers.setdefault(transaction_id, {}).get(measurand)
        floor = self.meter_start.get(transaction_id) if measurand == "Energy.Active.Import.Register" else None
        if last is not None and value < last:
            yield (f"{where}: {measurand} of transaction {transaction_id} fell from {_wh(last)} to {_wh(value)} Wh "
                   f"(sent as {sampled.get('value')} {sampled.get('unit', 'Wh')}); a register MUST increase "
                   "monotonically within a transaction (spec 3.16, 7.31) — a value in kWh sent with unit Wh shows so")
        elif last is None and floor is not None and value < floor:
            yield (f"{where}: {measurand} of transaction {transaction_id} is {_wh(value)} Wh (sent as "
                   f"{sampled.get('value')} {sampled.get('unit', 'Wh')}), below its meterStart {_wh(floor)} Wh "
                   "(spec 6.45, 7.31: the register at the start of the transaction)")
        self.registers[transaction_id][measurand] = max(value, last or value)

    def _stop(self, payload: Mapping[str, Any]) -> Iterator[str]:
        transaction_id = payload.get("transactionId")
        if transaction_id in self.confirmed_stopped:
            yield (f"StopTransaction.req for transaction {transaction_id} again, after the central system confirmed "
                   "its stop (spec 3.7: a transaction message is resent only until it is confirmed)")
            return
        if not isinstance(transaction_id, int):
            return
        last = self.registers.get(transaction_id, {}).get("Energy.Active.Import.Register")
        if last is not None and float(payload.get("meterStop", last)) < last:
            yield (f"StopTransaction.req meterStop {payload.get('meterStop')} Wh is below the last register value "
                   f"{_wh(last)} Wh of transaction {transaction_id} (spec 6.49, 7.31)")
        for mv in payload.get("transactionData", []) or []:
            for sampled in mv.get("sampledValue", []) or []:
                if sampled.get("context") not in ("Transaction.Begin",):
                    yield from self._register(transaction_id, sampled, f"StopTransaction.req transactionData "
                                                                       f"({mv.get('timestamp')})")
