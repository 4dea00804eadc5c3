"""Named variants of the reference central system (``--variant NAME``; ``--list-variants``).

Each one makes the simulator take another path that OCPP 1.6 or the OCTT document
permits. The harness's own tests (``tests/test_variants_csms.py``) run every case a
variant touches against it, and all of them must pass: a harness that fails a variant
judges by a reading the spec and the catalog do not make. Where the harness reports the
behaviour as a warning, the same tests show that ``strict: true`` turns it into a failure.

Settings come from the ``options`` of the simulator config's ``simulator:`` section.
"""

from __future__ import annotations

__all__ = ["VARIANTS"]

VARIANTS: dict[str, str] = {
    # the operator's side (harness.actuators): the manual step's answer comes late
    "late_actuator": "the operator API answers only after the charge point answered the CALL it sent (and a moment more)",
    "slow_operator": "the operator API answers options.slow_operator_delay seconds (default 30) after sending the CALL",
    # replies to the charge point (schema: optional fields; catalog TC_064_CSMS)
    "optional_fields_everywhere": "every message it sends carries the optional fields the schema allows, with valid "
                                  "values: idTagInfo.expiryDate (and parentIdTag where the tag has one) in every "
                                  "Authorize/StartTransaction/StopTransaction.conf, StopTransaction.conf idTagInfo also "
                                  "without idTag, charging profiles with validFrom, validTo, duration, minChargingRate, "
                                  "numberPhases (and recurrencyKind on Absolute TxDefaultProfiles), local list entries "
                                  "with expiryDate",
    "data_transfer_accepted": "DataTransfer of an unknown vendor is answered Accepted (catalog TC_064_CSMS: allowed, "
                              "with a warning)",
    # remote control: the central system's own choices where the catalog names no value
    "remote_start_own_choice": "RemoteStartTransaction (without profile) carries the central system's own choices: id tag "
                               "options.remote_start_id_tag (default: another Accepted tag of its store) and another "
                               "connector of the charge point than the operator named (warnings)",
    "unlock_other_connector": "UnlockConnector goes to another connector than the operator named (an existing one when "
                              "asked for an existing one, an unknown one when asked for an unknown one; a warning), "
                              "except to unlock the connector of a running transaction",
    # smart charging (spec 3.13, 7.8, 7.13; schema multipleOf 0.1)
    "relative_with_start_schedule": "Relative profiles it sends (SetChargingProfile, RemoteStartTransaction) carry a "
                                    "startSchedule, which a charge point ignores (a warning)",
    "absolute_txprofile": "the TxProfile it sends during a transaction is Absolute (startSchedule now) without validFrom, "
                          "validTo or duration, all optional (a warning: OCTT's TC_057_CSMS reading expects them)",
    "decimal_limits": "charging schedules carry one-decimal limits: the TxProfile's first limit is the asked one + 0.3, "
                      "every schedule gets periods at 60 s (asked + 0.3) and 120 s (0.3) and minChargingRate 0.3",
    # local authorization list (spec 5.15, 7.48)
    "full_list_same_version": "a Full SendLocalList carries the version the central system already holds for the charge "
                              "point (1 for a first list) instead of a higher one (spec 5.15: only Differential must rise)",
    "differential_right_after_failed": "after Failed of a Full SendLocalList it sends a Differential update at once (a warning)",
    "resend_after_not_supported": "after NotSupported it sends the same SendLocalList once more (a warning)",
}
