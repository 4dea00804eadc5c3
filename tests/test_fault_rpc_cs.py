"""The harness's own RPC_xxx_CS cases fail, at the violated step, under the reference charge point's faults.

That every case passes against the reference charge point is the run of ``pytest testcases
-m ocppj`` itself (also in CI); RPC_002_CS, which needs a charge point lacking an action,
is proven here against one (the simulator's option ``unsupported_actions``). Each row names
a case, a fault (``python -m harness.simulators.charge_point --list-faults``), the step the
case must fail at and phrases of the failure a vendor reads. A fault that breaks several
cases runs them in one process (fewer simulator starts in CI).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import TESTCASES, sim_configs

ROW = tuple[str, str, str, list[str]]


def fault(tc_id: str, name: str, step: str, phrases: list[str]) -> ROW:
    return tc_id, name, step, phrases


FAULTS: list[ROW] = [
    fault("RPC_001_CS", "unknown_action_empty_result", "1-2", ["answered with a CALLRESULT {}", "NotImplemented"]),
    fault("RPC_003_CS", "schema_not_checked", "1", ["GetConfiguration.req with key a string",
                                                     "expected CALLERROR TypeConstraintViolation"]),
    fault("RPC_004_CS", "reader_dies_on_bad_json", "1", ["no longer answers a valid GetConfiguration.req"]),
    fault("RPC_005_CS", "wrong_direction_accepted", "1-2", ["a CALL of Heartbeat", "answered with a CALLRESULT {}"]),
    fault("RPC_006_CS", "duplicate_id_processed_twice", "5", ["was processed again", "'Rejected'"]),
    fault("RPC_007_CS", "unique_id_max_32", "1", ["36-character unique id", "got CALLERROR TypeConstraintViolation"]),
    fault("RPC_007_CS", "long_unique_id_accepted", "3", ["unique id of 37 characters", "answered with a CALLRESULT"]),
    fault("RPC_008_CS", "unknown_reply_closes", "1-2", ["the SUT closed the connection after a CALLRESULT"]),
    fault("RPC_009_CS", "pings_unanswered", "1", ["no pong within"]),
    fault("RPC_010_CS", "oversize_frame_no_reconnect", "2", ["no OCPP connection with the SUT"]),
    fault("RPC_011_CS", "blocks_while_call_outstanding", "3", ["no reply to GetConfiguration.req"]),
    fault("RPC_012_CS", "deaf_after_quiet_spell", "2", ["no reply to GetConfiguration.req"]),
    fault("RPC_015_CS", "readonly_key_accepted", "2", ["is reported read-only, yet ChangeConfiguration answered Accepted"]),
    fault("RPC_016_CS", "register_kwh_as_wh", "1", ["below its meterStart", "sent as 1250."]),
    fault("RPC_016_CS", "register_decreasing", "2", ["fell from", "MUST increase monotonically"]),
    fault("RPC_016_CS", "meter_values_1970", "1", ["1970-01-01", "before the harness started"]),
    fault("RPC_016_CS", "stop_resent_after_reconnect", "6", ["StopTransaction.req for transaction",
                                                               "after the central system confirmed its stop"]),
    fault("RPC_017_CS", "cpmax_not_capping", "4-5", ["the composite schedule is not what the installed charging profiles"]),
    fault("RPC_020_CS", "burst_drops_calls", "1", ["no reply to"]),
]

#: faults that break several cases: the cases run together, against a charge point lacking CancelReservation
SHARED: dict[str, dict[str, tuple[str, list[str]]]] = {
    "error_codes_swapped": {
        "RPC_001_CS": ("1-2", ["CALLERROR NotSupported; expected NotImplemented"]),
        "RPC_002_CS": ("1-2", ["CALLERROR NotImplemented; expected NotSupported"]),
    },
    "generic_error_codes": {
        "RPC_001_CS": ("1-2", ["CALLERROR GenericError; expected NotImplemented"]),
        "RPC_002_CS": ("1-2", ["CALLERROR GenericError; expected NotSupported"]),
        "RPC_003_CS": ("1", ["CALLERROR GenericError; expected TypeConstraintViolation"]),
    },
}
LACKING = "CancelReservation"


def lacking_config(pytester: pytest.Pytester) -> Path:
    """Fixtures where the reference charge point lacks CancelReservation, and its SUT config says so."""
    return sim_configs(pytester.path, "cp", {"extra": {"unsupported_actions": [LACKING]},
                                             "simulator": {"options": {"unsupported_actions": [LACKING]}}})


def test_every_rpc_cs_case_has_a_fault() -> None:
    ids = set()
    for module in ("test_rpc_cs.py", "test_rpc_transport_cs.py", "test_robustness.py"):
        ids |= set(re.findall(r'tc\("(RPC_\d{3}_CS)"', (TESTCASES / module).read_text()))
    covered = {tc for tc, *_ in FAULTS} | {tc for cases in SHARED.values() for tc in cases}
    assert ids == covered, ids ^ covered


@pytest.mark.parametrize(("tc_id", "fault", "step", "phrases"), FAULTS,
                         ids=[f"{tc.lower()}-fault-{name}" for tc, name, *_ in FAULTS])
def test_rpc_cs_fault_fails_at_the_violated_step(run_case, tc_id: str, fault: str, step: str, phrases: list[str]) -> None:
    run_case(tc_id, f"cp:{fault}").assert_failed_at(step, *phrases)


def test_rpc_002_cs_passes_against_a_charge_point_lacking_an_action(run_case, pytester: pytest.Pytester) -> None:
    run = run_case("RPC_002_CS", config_dir=lacking_config(pytester))
    assert run.outcomes().get("passed") == 1, run.output[-4000:]


@pytest.mark.parametrize("fault", sorted(SHARED), ids=[f"rpc_001_cs-rpc_002_cs-fault-{f}" for f in sorted(SHARED)])
def test_rpc_cs_cases_sharing_a_fault_fail_each_at_its_step(run_case, pytester: pytest.Pytester, fault: str) -> None:
    cases = SHARED[fault]
    run = run_case(",".join(cases), f"cp:{fault}", config_dir=lacking_config(pytester))
    assert set(run.failures_by_case()) == set(cases), run.output[-4000:]
    for tc_id, (step, phrases) in cases.items():
        run.assert_case_failed_at(tc_id, step, *phrases)
