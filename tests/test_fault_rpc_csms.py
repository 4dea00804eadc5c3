"""The harness's own RPC_xxx_CSMS cases fail, at the violated step, under the reference central system's faults.

Among them the six defects with which a central system passed every OCTT case
(``python -m harness.simulators.central_system --list-faults``): a repeated unique id
processed twice (duplicate_id_processed_twice), NotImplemented / NotSupported swapped
(error_codes_swapped), every CALLERROR sent as GenericError (generic_error_codes), an
unknown action answered with an empty CALLRESULT (unknown_action_empty_result), a client
without the ocpp1.6 subprotocol served (no_subprotocol_accepted), a reconnecting charge
point refused while its stale connection is kept (stale_connection_kept). That every case
passes against the reference central system is ``pytest testcases -m ocppj``; RPC_002_CSMS,
which needs a central system lacking an action, is proven here against one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_fault_rpc_cs import ROW, fault

from conftest import TESTCASES, sim_configs

FAULTS: list[ROW] = [
    fault("RPC_001_CSMS", "unknown_action_empty_result", "1-2", ["answered with a CALLRESULT {}", "NotImplemented"]),
    fault("RPC_003_CSMS", "schema_not_checked", "1", ["Authorize.req with idTag a number",
                                                       "expected TypeConstraintViolation"]),
    fault("RPC_004_CSMS", "reader_dies_on_bad_json", "1", ["no longer answers a valid Heartbeat.req"]),
    fault("RPC_005_CSMS", "wrong_direction_accepted", "1-2", ["a CALL of GetConfiguration", "answered with a CALLRESULT"]),
    fault("RPC_006_CSMS", "duplicate_id_processed_twice", "2", ["was processed again: a second transaction"]),
    fault("RPC_007_CSMS", "unique_id_max_32", "1", ["36-character unique id", "got CALLERROR TypeConstraintViolation"]),
    fault("RPC_007_CSMS", "long_unique_id_accepted", "3", ["unique id of 37 characters", "answered with a CALLRESULT"]),
    fault("RPC_008_CSMS", "unknown_reply_closes", "1-2", ["the SUT closed the connection after a CALLRESULT"]),
    fault("RPC_009_CSMS", "pings_unanswered", "1", ["no pong within"]),
    fault("RPC_010_CSMS", "oversize_frame_wedges", "2", ["no reply to Heartbeat.req"]),
    fault("RPC_011_CSMS", "slow_peer_stalls", "2", ["no reply to BootNotification.req"]),
    fault("RPC_012_CSMS", "deaf_after_quiet_spell", "2", ["no reply to Heartbeat.req"]),
    fault("RPC_013_CSMS", "no_subprotocol_accepted", "1", ["served OCPP on a connection that never agreed on ocpp1.6"]),
    fault("RPC_014_CSMS", "stale_connection_kept", "1", ["refused the charge point's new connection while its old one",
                                                         "HTTP 409"]),
    fault("RPC_020_CSMS", "max_connections_100", "1", ["100 of 200 charge points could not connect", "HTTP 503"]),
]

SHARED: dict[str, dict[str, tuple[str, list[str]]]] = {
    "error_codes_swapped": {
        "RPC_001_CSMS": ("1-2", ["CALLERROR NotSupported; expected NotImplemented"]),
        "RPC_002_CSMS": ("1-2", ["CALLERROR NotImplemented; expected NotSupported"]),
    },
    "generic_error_codes": {
        "RPC_001_CSMS": ("1-2", ["CALLERROR GenericError; expected NotImplemented"]),
        "RPC_002_CSMS": ("1-2", ["CALLERROR GenericError; expected NotSupported"]),
        "RPC_003_CSMS": ("1", ["CALLERROR GenericError; expected TypeConstraintViolation"]),
    },
}
LACKING = "FirmwareStatusNotification"


def lacking_config(pytester: pytest.Pytester) -> Path:
    """Fixtures where the reference central system lacks FirmwareStatusNotification, and its SUT config says so."""
    return sim_configs(pytester.path, "cs", {"extra": {"unsupported_actions": [LACKING]},
                                             "simulator": {"options": {"unsupported_actions": [LACKING]}}})


def test_every_rpc_csms_case_has_a_fault() -> None:
    ids = set()
    for module in ("test_rpc_csms.py", "test_rpc_transport_csms.py", "test_robustness.py"):
        ids |= set(re.findall(r'tc\("(RPC_\d{3}_CSMS)"', (TESTCASES / module).read_text()))
    covered = {tc for tc, *_ in FAULTS} | {tc for cases in SHARED.values() for tc in cases}
    assert ids == covered, ids ^ covered


@pytest.mark.parametrize(("tc_id", "fault", "step", "phrases"), FAULTS,
                         ids=[f"{tc.lower()}-fault-{name}" for tc, name, *_ in FAULTS])
def test_rpc_csms_fault_fails_at_the_violated_step(run_case, tc_id: str, fault: str, step: str, phrases: list[str]) -> None:
    run_case(tc_id, f"cs:{fault}").assert_failed_at(step, *phrases)


def test_rpc_002_csms_passes_against_a_central_system_lacking_an_action(run_case, pytester: pytest.Pytester) -> None:
    run = run_case("RPC_002_CSMS", config_dir=lacking_config(pytester))
    assert run.outcomes().get("passed") == 1, run.output[-4000:]


@pytest.mark.parametrize("fault", sorted(SHARED), ids=[f"rpc_001_csms-rpc_002_csms-fault-{f}" for f in sorted(SHARED)])
def test_rpc_csms_cases_sharing_a_fault_fail_each_at_its_step(run_case, pytester: pytest.Pytester, fault: str) -> None:
    cases = SHARED[fault]
    run = run_case(",".join(cases), f"cs:{fault}", config_dir=lacking_config(pytester))
    assert set(run.failures_by_case()) == set(cases), run.output[-4000:]
    for tc_id, (step, phrases) in cases.items():
        run.assert_case_failed_at(tc_id, step, *phrases)
