"""OCPP 1.6 connector status model: which StatusNotification sequences are legal.

This module judges the statuses a charge point reports; it never drives them.
It is pure logic (no I/O, no clock) so both harness roles share one set of rules.

Rules for what lives here:

1. Everything that decides whether a reported status is allowed, and nothing else
   (errorCode/info checks, MinimumStatusDuration timing, reboot detection live elsewhere).
2. Judge, never raise: every input, even a status outside the enum, yields either
   ``None`` or a one-sentence reason, so a deviating charge point is reported, not crashed on.

Theory of operation (OCPP 1.6 edition 2, section 4.9 StatusNotification; type 7.7):

- Connectors with connectorId > 0 follow the 9x9 table of spec 4.9 (``ALLOWED_TRANSITIONS``,
  53 pairs; row letters A-I and column numbers 1-9 are the spec's own codes, e.g. B6).
  "To Faulted" is allowed from every state; "from Faulted" to every state (I1-I8).
- The table's diagonal is empty, but re-sending the current status is not a transition
  (after reconnect, BootNotification (errata 3.22) or TriggerMessage), so it is accepted.
- The first status seen on a connector (``previous is None``) has nothing to be compared
  with, so any status is accepted there.
- Connector 0 (the main controller) may only be Available, Unavailable or Faulted, and any
  change among those three is allowed (spec 4.9; same as libocpp's connector-zero FSM).
- A previous status that is not a ChargePointStatus was already reported when it arrived;
  the next status is judged as if it were the first one seen.
- A step that waits for status X is met when X is reached through transitions the table
  allows (:func:`on_the_way`): a status Y reported meanwhile is a permitted intermediate
  when the table allows Y -> X (e.g. Preparing -> SuspendedEV -> Charging, Charging ->
  SuspendedEV -> Finishing, a status sent again, Available before Unavailable after a
  boot). Faulted is never on the way to another status: a fault is not a normal path.
"""

from __future__ import annotations

from enum import Enum

__all__ = [
    "ALLOWED_TRANSITIONS",
    "CONNECTOR_ZERO_STATUSES",
    "ChargePointStatus",
    "ConnectorStatusTracker",
    "on_the_way",
    "transition_error",
]


class ChargePointStatus(str, Enum):
    """The nine OCPP 1.6 ChargePointStatus values (spec 7.7), spelled as on the wire."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EVSE = "SuspendedEVSE"
    SUSPENDED_EV = "SuspendedEV"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"

    def __str__(self) -> str:
        return self.value


_S = ChargePointStatus

# OCPP 1.6 section 4.9, table "allowed transitions" (edition 2 + errata 3.20, which adds B6).
# One row per "from" state, in the spec's row order; the comment gives the spec codes.
_TABLE: dict[ChargePointStatus, tuple[ChargePointStatus, ...]] = {
    _S.AVAILABLE: (  # A2 A3 A4 A5 A7 A8 A9
        _S.PREPARING, _S.CHARGING, _S.SUSPENDED_EV, _S.SUSPENDED_EVSE,
        _S.RESERVED, _S.UNAVAILABLE, _S.FAULTED,
    ),
    _S.PREPARING: (  # B1 B3 B4 B5 B6 B9
        _S.AVAILABLE, _S.CHARGING, _S.SUSPENDED_EV, _S.SUSPENDED_EVSE,
        _S.FINISHING, _S.FAULTED,
    ),
    _S.CHARGING: (  # C1 C4 C5 C6 C8 C9
        _S.AVAILABLE, _S.SUSPENDED_EV, _S.SUSPENDED_EVSE, _S.FINISHING,
        _S.UNAVAILABLE, _S.FAULTED,
    ),
    _S.SUSPENDED_EV: (  # D1 D3 D5 D6 D8 D9
        _S.AVAILABLE, _S.CHARGING, _S.SUSPENDED_EVSE, _S.FINISHING,
        _S.UNAVAILABLE, _S.FAULTED,
    ),
    _S.SUSPENDED_EVSE: (  # E1 E3 E4 E6 E8 E9
        _S.AVAILABLE, _S.CHARGING, _S.SUSPENDED_EV, _S.FINISHING,
        _S.UNAVAILABLE, _S.FAULTED,
    ),
    _S.FINISHING: (_S.AVAILABLE, _S.PREPARING, _S.UNAVAILABLE, _S.FAULTED),  # F1 F2 F8 F9
    _S.RESERVED: (_S.AVAILABLE, _S.PREPARING, _S.UNAVAILABLE, _S.FAULTED),  # G1 G2 G8 G9
    _S.UNAVAILABLE: (  # H1 H2 H3 H4 H5 H9
        _S.AVAILABLE, _S.PREPARING, _S.CHARGING, _S.SUSPENDED_EV,
        _S.SUSPENDED_EVSE, _S.FAULTED,
    ),
    # I1-I8: the spec means "back to the pre-fault state", but a state may change while
    # faulted (libocpp, MicroOcpp), so every recovery target is accepted, as the table says.
    _S.FAULTED: tuple(s for s in ChargePointStatus if s is not _S.FAULTED),
}

ALLOWED_TRANSITIONS: frozenset[tuple[ChargePointStatus, ChargePointStatus]] = frozenset(
    (source, target) for source, targets in _TABLE.items() for target in targets
)
"""(from, to) pairs allowed on connectorId > 0 by the spec 4.9 table (53 pairs, no diagonal)."""

CONNECTOR_ZERO_STATUSES: frozenset[ChargePointStatus] = frozenset(
    {_S.AVAILABLE, _S.UNAVAILABLE, _S.FAULTED}
)
"""The only statuses connector 0 (the main controller) may report (spec 4.9)."""

_SECTION = "OCPP 1.6 section 4.9"


def _parse(value: object) -> ChargePointStatus | None:
    """The enum member for ``value``, or None if it is not an exact OCPP 1.6 status."""
    if isinstance(value, ChargePointStatus):
        return value
    if not isinstance(value, str):
        return None
    try:
        return ChargePointStatus(value)
    except ValueError:
        return None


def transition_error(
    connector_id: int,
    previous: ChargePointStatus | str | None,
    new: ChargePointStatus | str,
) -> str | None:
    """Judge one reported status against the previous one on the same connector.

    Args:
        connector_id: the StatusNotification connectorId (0 = the charge point itself).
        previous: the last status seen on this connector, or None if this is the first.
        new: the status just reported.

    Returns:
        None if the status is allowed, otherwise a one-sentence reason naming the
        connector and the transition. Never raises.
    """
    valid_id = isinstance(connector_id, int) and not isinstance(connector_id, bool)
    if not valid_id or connector_id < 0:
        return (
            f"connector {connector_id!r}: connectorId must be an integer >= 0 "
            "(OCPP 1.6 section 6.47)"
        )
    status = _parse(new)
    if status is None:
        return (
            f"connector {connector_id}: {new!r} is not an OCPP 1.6 ChargePointStatus "
            "(section 7.7)"
        )
    if connector_id == 0:
        if status in CONNECTOR_ZERO_STATUSES:
            return None
        return (
            f"connector 0: {status.value} is not allowed on connector 0, which may only be "
            f"Available, Unavailable or Faulted ({_SECTION})"
        )
    before = _parse(previous)
    if before is None or before is status or (before, status) in ALLOWED_TRANSITIONS:
        return None
    return (
        f"connector {connector_id}: {before.value} -> {status.value} "
        f"is not an allowed transition ({_SECTION})"
    )


def on_the_way(connector_id: int, status: ChargePointStatus | str, targets: tuple[ChargePointStatus | str, ...]) -> bool:
    """May ``status``, reported while a step waits for one of ``targets``, still lead there (spec 4.9)?

    True when the table allows status -> target for some target (connector 0: any of its three
    statuses), except Faulted, which is on the way only to itself. A status equal to a target
    is not "on the way": it is the target (its other fields decide the step).
    """
    wanted = {t for t in map(_parse, targets) if t is not None}
    current = _parse(status)
    if current is None or not wanted or current in wanted or current is _S.FAULTED:
        return False
    if connector_id == 0:
        return current in CONNECTOR_ZERO_STATUSES
    return any((current, target) in ALLOWED_TRANSITIONS for target in wanted)


class ConnectorStatusTracker:
    """Remembers the last status per connector and judges each new one against it.

    The reported status is always recorded, even when it is a violation, so that later
    checks continue from what the charge point says rather than from what it should say.
    """

    def __init__(self) -> None:
        self._last: dict[int, ChargePointStatus] = {}

    def observe(self, connector_id: int, status: ChargePointStatus | str) -> str | None:
        """Record ``status`` for ``connector_id``; return the violation reason or None."""
        error = transition_error(connector_id, self._last.get(connector_id), status)
        parsed = _parse(status)
        if parsed is None:
            # Nothing valid to compare the next status with: treat it as the first one.
            self._last.pop(connector_id, None)
        else:
            self._last[connector_id] = parsed
        return error

    def status(self, connector_id: int) -> ChargePointStatus | None:
        """The last valid status recorded for ``connector_id``, or None if unknown."""
        return self._last.get(connector_id)

    def reset(self) -> None:
        """Forget every connector's status, e.g. after the charge point rebooted."""
        self._last.clear()
