"""Named variants of the reference charge point (``--variant NAME``; ``--list-variants``).

Each one makes the simulator take another path that OCPP 1.6 or the OCTT document
permits (or be another kind of charge point). The harness's own tests run every case a
variant touches against it, and all of them must pass: a harness that fails a variant
judges by a reading the spec does not make.
"""

from __future__ import annotations

__all__ = ["VARIANTS"]

VARIANTS = {
    # other kinds of charge point (the harness config says so too: extra.fixed_cable, features)
    "fixed_cable": "a fixed cable: UnlockConnector is NotSupported (config: extra.fixed_cable true)",
    "no_local_list": "no LocalAuthListManagement profile: SendLocalList NotSupported, GetLocalListVersion -1",
    # statuses (spec 4.9 table)
    "suspended_ev_before_charging": "a transaction starts with the EV not yet drawing energy: Preparing -> SuspendedEV -> Charging",
    "suspended_ev_before_finishing": "the EV stops drawing energy before the transaction ends: Charging -> SuspendedEV -> Finishing",
    "repeated_status": "every StatusNotification is sent twice",
    # order (catalog "may be reversed", spec 3.7 / 4.10)
    "finishing_before_stop": "Finishing is reported before the StopTransaction.req of the transaction",
    "status_before_offline_replay": "after a reconnect, the current statuses go out before the queued transaction messages",
    # preconditions
    "authorize_from_cache": "LocalPreAuthorize and AuthorizationCacheEnabled are true out of the box: a cached id starts "
                            "without Authorize.req",
    # manual steps
    "late_actuator": "the actuation API answers only once the CALLs the manual step caused have been answered",
    "slow_operator": "the actuation API answers options.slow_operator_delay seconds (default 30) after doing the step",
    # configuration answers (spec 5.3, 9.1)
    "reboot_required": "ChangeConfiguration of the keys in options.reboot_required_keys is answered RebootRequired "
                       "and takes effect at the next boot",
    "optional_keys_missing": "the keys the catalog marks '(If implemented)' do not exist (ChangeConfiguration NotSupported): "
                             "MinimumStatusDuration, AllowOfflineTxForUnknownId, MaxEnergyOnInvalidId",
    "power_only": "ChargingScheduleAllowedChargingRateUnit is Power: charging schedules in W only, A is Rejected "
                  "(config: extra.charging_rate_unit W)",
    # numbers (schema multipleOf 0.1, judged in decimal)
    "decimal_limits": "where no charging profile applies, GetCompositeSchedule reports the local maximum "
                      "options.max_limit_a amperes (default 31.7; x 230 V x 3 for W): one-decimal limits",
}


def _merge_profiles() -> None:
    from . import (
        charge_point_certificates, charge_point_firmware, charge_point_reservation, charge_point_security,
        charge_point_trigger,
    )

    for module in (charge_point_reservation, charge_point_firmware, charge_point_trigger, charge_point_security,
                   charge_point_certificates):
        VARIANTS.update(module.VARIANTS)


_merge_profiles()
