"""The FirmwareManagement TC_xxx_CS cases fail, at the violated step, under the reference charge point's faults,
and pass under its variants (paths the catalog permits).

The transfers are real: each case runs FTP and HTTP servers and the simulator downloads and
uploads through them, so "Downloaded without a download" and "Uploaded without an upload"
are caught by what the servers recorded, not by a flag.
"""

from __future__ import annotations

import re
import socket

import pytest

from conftest import sim_configs

CASES = ["TC_044_1_CS", "TC_044_2_CS", "TC_044_3_CS", "TC_045_1_CS", "TC_045_2_CS"]


def fault(tc_id: str, name: str, step: str, phrases: list[str]) -> tuple[str, str, str, list[str]]:
    """One fault test: ``tc_id`` run with simulator fault ``name`` must fail at ``step`` saying ``phrases``."""
    return tc_id, name, step, phrases


FAULTS = [
    fault("TC_044_1_CS", "firmware_fake_download", "5", ["reported Downloaded, but no complete download of ftp://ocpp:***@",
                                                         "the transfer servers recorded nothing"]),
    fault("TC_044_1_CS", "firmware_wrong_url", "5-6", ["status='Downloaded'", "got 'DownloadFailed'",
                                                       "missing /firmware/firmware-harness-2.0.0-old.bin"]),
    fault("TC_044_1_CS", "firmware_status_order_wrong", "5-6", ["status='Downloaded'", "got 'Installing'"]),
    fault("TC_044_1_CS", "firmware_installed_without_reboot", "9-14", ["BootNotification.req", "did not arrive"]),
    fault("TC_044_2_CS", "firmware_retries_ignored", "5", ["tried 3 times to download", "retries 0 (at most 1 attempt"]),
    fault("TC_044_3_CS", "firmware_corrupt_installed", "7-12", ["status='InstallationFailed'", "got 'Installed'"]),
    fault("TC_045_1_CS", "diagnostics_not_uploaded", "5", ["reported Uploaded, but no complete upload to ftp://ocpp:***@"]),
    fault("TC_045_1_CS", "diagnostics_empty_file", "5", ["uploaded an empty file"]),
    fault("TC_045_2_CS", "diagnostics_failure_reported_uploaded", "5-6", ["status='UploadFailed'", "got 'Uploaded'",
                                                                          "refused_upload"]),
]


def test_every_firmware_cs_case_has_a_fault() -> None:
    assert {tc for tc, *_ in FAULTS} == set(CASES)


@pytest.mark.parametrize(("tc_id", "fault", "step", "phrases"), FAULTS,
                         ids=[f"{tc.lower()}-fault-{name}" for tc, name, *_ in FAULTS])
def test_firmware_cs_fault_fails_at_the_violated_step(run_case, tc_id: str, fault: str, step: str, phrases: list[str]) -> None:
    run = run_case(tc_id, f"cp:{fault}")
    run.assert_failed_at(step, *phrases)
    assert _passwords(run.failure()) <= {"***"}  # the failure names the location, never the servers' password


def _passwords(text: str) -> set[str]:
    return set(re.findall(r"(?:ftp|http)://ocpp:([^@\s\"]*)@", text))


def test_the_report_and_the_evidence_show_no_transfer_password(run_case) -> None:
    run = run_case("TC_044_1_CS", "cp:firmware_fake_download", report=True)
    for name in ("report.html", "evidence.json"):
        assert _passwords((run.path / name).read_text(encoding="utf-8")) <= {"***"}, name


VARIANTS = [
    ("firmware_download_fails_at_once", ["TC_044_2_CS"]),
    ("firmware_install_fails_at_once", ["TC_044_3_CS"]),
    ("firmware_installed_before_reboot", ["TC_044_1_CS"]),
    ("firmware_connectors_unavailable", ["TC_044_1_CS", "TC_044_2_CS", "TC_044_3_CS"]),
    ("http_only", CASES),  # SupportedFileTransferProtocols HTTP: the harness serves and takes everything over HTTP (PUT)
]


@pytest.mark.parametrize(("variant", "cases"), VARIANTS, ids=[v for v, _ in VARIANTS])
def test_every_firmware_cs_case_a_variant_touches_passes_against_it(run_case, variant: str, cases: list[str]) -> None:
    run = run_case(",".join(cases), variants=(f"cp:{variant}",))
    assert {k: v for k, v in run.outcomes().items() if k not in ("deselected", "warnings")} == {"passed": len(cases)}, \
        run.output[-6000:]


def test_diagnostics_uploaded_by_http_post_multipart_pass(run_case) -> None:
    """A charge point that uploads over HTTP with POST multipart/form-data (spec 8 leaves the method open)."""
    run = run_case("TC_045_1_CS,TC_045_2_CS", variants=("cp:http_only", "cp:upload_post_multipart"))
    assert {k: v for k, v in run.outcomes().items() if k not in ("deselected", "warnings")} == {"passed": 2}, \
        run.output[-6000:]


def test_the_transfer_section_says_where_the_servers_listen_and_how_the_charge_point_reaches_them(run_case, pytester) -> None:
    """``transfer:`` of the SUT config: a fixed FTP port and the external URL the locations are built on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config_dir = sim_configs(pytester.path, "cp", {"transfer": {"host": "127.0.0.1", "ftp_port": port,
                                                                "ftp_external_url": f"ftp://localhost:{port}"}})
    passing = run_case("TC_045_1_CS", config_dir=config_dir)
    assert {k: v for k, v in passing.outcomes().items() if k not in ("deselected", "warnings")} == {"passed": 1}, \
        passing.output[-6000:]
    run_case("TC_045_1_CS", "cp:diagnostics_not_uploaded", config_dir=config_dir).assert_failed_at(
        "5", f"no complete upload to ftp://ocpp:***@localhost:{port}/upload/")
