"""What the harness charge point holds and answers from: charging profiles, Local Authorization List, certificates.

A mixin of :class:`harness.roles.charge_point.ChargePoint` (which owns the state and the
connections): the charging profiles the central system installed (SmartCharging, spec 3.13,
5.5, 5.7, 5.16), its Local Authorization List (LocalAuthListManagement, spec 3.5.2, 5.10,
5.15) and its installed root certificates (security extension). Kept apart so the role
module is about being a charge point on the wire, this one about what the central system
manages on it; ``ChargePoint.default_reply`` answers the CALLs from these methods.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

from ..config import SutConfig
from ..models.charging_profile import ChargingProfile, ChargingProfilePurpose, ChargingRateUnit, format_datetime
from ..models.charging_profile_rules import (
    ChargePointSmartChargingState, ChargingProfileStore, parse_allowed_units, validate_profile,
)
from ..models.composite_schedule import Transaction, composite_schedule
from ..models.local_auth_list import LocalAuthList, PayloadError, apply_send_local_list, get_local_list_version
from ..pki import certificate_hash_data, same_certificate
from ..pki_certs import load_certificates

__all__ = ["ChargePointHoldings"]


class ChargePointHoldings:
    """Smart charging, local list and installed certificates of ChargePoint (which sets the attributes below)."""

    config: SutConfig
    configuration: dict[str, dict[str, Any]]
    transactions: dict[int, dict[str, Any]]
    charging_profiles: ChargingProfileStore
    local_list: LocalAuthList
    certificates: dict[str, list[str]]

    # -- smart charging (spec 3.13, 5.5, 5.7, 5.16) ----------------------------------------------
    @property
    def supports_smart_charging(self) -> bool:
        return "smart_charging" in self.config.features

    @property
    def supports_local_list(self) -> bool:
        return "local_auth_list_management" in self.config.features

    def open_transactions(self) -> dict[int, int]:
        """connectorId -> transactionId of the transactions running at this charge point."""
        return {tx["connector"]: tx_id for tx_id, tx in self.transactions.items() if tx["open"]}

    def smart_charging_state(self) -> ChargePointSmartChargingState:
        """What validate_profile needs: this charge point's 9.4 keys, connectors and running transactions."""
        value = lambda key: self.configuration[key]["value"]  # noqa: E731
        return ChargePointSmartChargingState(
            max_stack_level=int(value("ChargeProfileMaxStackLevel")), max_periods=int(value("ChargingScheduleMaxPeriods")),
            max_installed=int(value("MaxChargingProfilesInstalled")),
            allowed_units=parse_allowed_units(value("ChargingScheduleAllowedChargingRateUnit")),
            active_transactions=self.open_transactions(), number_of_connectors=self.config.connectors)

    def profile_violations(self, connector_id: int, payload: Mapping[str, Any], *, remote_start: bool = False) -> list[str]:
        """The spec rules a received ``csChargingProfiles`` / ``chargingProfile`` breaks here (empty = installable)."""
        try:
            profile = ChargingProfile.from_payload(payload)
        except ValueError as exc:
            return [str(exc)]
        return validate_profile(profile, connector_id, self.smart_charging_state(),
                                installed=self.charging_profiles.entries, remote_start=remote_start)

    def install_profile(self, connector_id: int, payload: Mapping[str, Any], *, remote_start: bool = False) -> str:
        """Validate and install a profile as a conforming charge point does; returns the .conf status."""
        if not self.supports_smart_charging:
            return "NotSupported"
        if self.profile_violations(connector_id, payload, remote_start=remote_start):
            return "Rejected"
        self.charging_profiles = self.charging_profiles.install(connector_id, ChargingProfile.from_payload(payload))
        return "Accepted"

    def clear_profiles(self, payload: Mapping[str, Any]) -> str:
        """ClearChargingProfile.req on the store: Accepted iff a profile was removed, else Unknown."""
        purpose = payload.get("chargingProfilePurpose")
        self.charging_profiles, status = self.charging_profiles.clear(
            id=payload.get("id"), connector_id=payload.get("connectorId"),
            purpose=None if purpose is None else ChargingProfilePurpose(purpose), stack_level=payload.get("stackLevel"))
        return status.value

    def composite_reply(self, payload: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
        """GetCompositeSchedule.conf from composite_schedule() of the installed profiles (spec 5.7).

        Spans without any profile get the charge point's hardware maximum (``extra.max_current``
        amperes per phase, 32 by default; in W for three phases at 230 V).
        """
        connector = int(payload["connectorId"])
        if connector < 0 or connector > self.config.connectors:
            return {"status": "Rejected"}
        allowed = parse_allowed_units(self.configuration["ChargingScheduleAllowedChargingRateUnit"]["value"])
        unit = ChargingRateUnit(payload.get("chargingRateUnit") or min(u.value for u in allowed))
        if unit not in allowed:
            return {"status": "Rejected"}
        tx_id = self.open_transactions().get(connector)
        now = now or datetime.now(timezone.utc)
        transaction = None if tx_id is None else Transaction(self.transactions[tx_id].get("start", now), tx_id)
        schedule = composite_schedule(self.charging_profiles, connector, now, int(payload["duration"]), unit=unit,
                                      transaction=transaction)
        amps = float(self.config.extra.get("max_current", 32))
        no_limit = amps if unit is ChargingRateUnit.A else amps * 230.0 * 3
        return {"status": "Accepted", "connectorId": connector, "scheduleStart": format_datetime(schedule.start_schedule),
                "chargingSchedule": schedule.to_payload(no_limit=no_limit)}

    def transaction_stopped(self, tx_id: int) -> None:
        """A transaction ended: its TxProfiles cease to be valid (spec 3.13.1)."""
        tx = self.transactions.get(tx_id)
        if tx is not None:
            tx["open"] = False
            self.charging_profiles = self.charging_profiles.end_transaction(tx["connector"])

    # -- local authorization list (spec 3.5.2, 5.10, 5.15) ---------------------------------------------------
    def local_list_version(self) -> int:
        """What GetLocalListVersion.conf reports: -1 without the profile, 0 for an empty list."""
        enabled = self.configuration.get("LocalAuthListEnabled", {}).get("value") == "true"
        return get_local_list_version(self.local_list, supported=self.supports_local_list, enabled=enabled)

    def apply_local_list(self, payload: Mapping[str, Any]) -> tuple[LocalAuthList, str]:
        """What SendLocalList.req would do to this charge point's list: (new list, .conf status)."""
        enabled = self.configuration.get("LocalAuthListEnabled", {}).get("value") == "true"
        if not self.supports_local_list:
            return self.local_list, "NotSupported"
        try:
            result = apply_send_local_list(
                self.local_list, payload, max_length=int(self.configuration["LocalAuthListMaxLength"]["value"]),
                send_max_length=int(self.configuration["SendLocalListMaxLength"]["value"]), enabled=enabled)
        except PayloadError:
            return self.local_list, "Failed"
        return result.local_list, result.status.value

    # -- installed certificates (GetInstalledCertificateIds, InstallCertificate, DeleteCertificate) ----------------
    def hash_data(self, certificate_type: str, algorithm: str = "SHA256") -> list[dict[str, str]]:
        """CertificateHashData of every installed certificate of ``certificate_type`` (roots: their own issuer)."""
        pems = self.certificates.get(certificate_type, [])
        found = []
        for pem in pems:
            cert = load_certificates(pem)[0]
            issuer = next((p for p in pems if load_certificates(p)[0].subject == cert.issuer), pem)
            found.append(certificate_hash_data(pem, issuer, algorithm))  # type: ignore[arg-type]
        return found

    def certificate_reply(self, action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """What it answers to InstallCertificate, GetInstalledCertificateIds, DeleteCertificate (from its store)."""
        if action == "InstallCertificate":
            try:
                load_certificates(payload["certificate"])
            except ValueError:
                return {"status": "Rejected"}
            installed = self.certificates.setdefault(payload["certificateType"], [])
            if payload["certificate"] not in installed:
                installed.append(payload["certificate"])
            return {"status": "Accepted"}
        if action == "GetInstalledCertificateIds":
            data = self.hash_data(payload["certificateType"], str(self.config.extra.get("hash_algorithm", "SHA256")))
            return {"status": "Accepted", "certificateHashData": data} if data else {"status": "NotFound"}
        wanted = payload["certificateHashData"]  # DeleteCertificate
        for certificate_type, pems in self.certificates.items():
            for pem, data in zip(list(pems), self.hash_data(certificate_type, wanted["hashAlgorithm"])):
                if same_certificate(data, wanted):
                    pems.remove(pem)
                    return {"status": "Accepted"}
        return {"status": "NotFound"}
