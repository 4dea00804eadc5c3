"""Named fault switches of the reference charge point (``--fault NAME``; ``--list-faults``).

Each one breaks one rule on purpose, so the harness's own tests can show that the test
case guarding that rule fails, at the right step, with a message a vendor can act on.
"""

from __future__ import annotations

from . import (
    charge_point_certificates, charge_point_firmware, charge_point_reservation, charge_point_security,
    charge_point_trigger,
)
from .charge_point_local_list import LOCAL_LIST_FAULTS
from .charge_point_smart import SMART_FAULTS
from .common import RPC_FAULTS

__all__ = ["FAULTS"]

FAULTS = {
    # boot and heartbeat (TC_001_CS, TC_002_CS)
    "no_retry_after_rejected": "after BootNotification Rejected, never send BootNotification again",
    "boot_retry_too_early": "after Rejected/Pending, retry BootNotification at once instead of after interval",
    "invalid_boot_notification": "send a BootNotification whose chargePointVendor is 30 characters (schema: at most 20)",
    "no_connector_zero_status": "after boot, send no StatusNotification for connectorId 0",
    "boot_status_unavailable": "after boot, report connector 1 as Unavailable instead of Available",
    "heartbeat_interval_doubled": "send heartbeats at twice the interval the central system set",
    "no_heartbeat": "never send a Heartbeat",
    # local sessions and authorization
    "no_preparing_on_plug_in": "plugging in the cable changes the status to Preparing without a StatusNotification",
    "invalid_start_timestamp": "StartTransaction.req carries a timestamp that is not an RFC 3339 date-time (schema)",
    "no_start_after_plug_in": "an id authorized before the cable was plugged in never leads to StartTransaction",
    "ignore_connection_timeout": "an authorization waiting for the cable never times out (ConnectionTimeOut ignored)",
    "stop_with_any_tag": "any valid id tag stops the transaction, not only the one that started it (or its group)",
    "ignore_parent_id_tag": "a different id tag with the same parentIdTag does not stop the transaction",
    "start_despite_invalid": "start a transaction even when Authorize.conf says the id tag is Invalid",
    "cached_id_not_started": "a RemoteStartTransaction for an id found valid in the authorization cache never starts",
    "clear_cache_rejected": "answer ClearCache.req with Rejected",
    "lock_failure_not_reported": "a failing connector lock is not reported as Faulted/ConnectorLockFailure",
    "charge_while_faulted": "start a transaction when an id tag is presented while the charge point is Faulted",
    # stopping: reasons and transaction ids
    "ev_disconnect_reason_local": "StopTransaction after an EV-side disconnect carries reason Local instead of EVDisconnected",
    "ev_disconnect_always_stops": "unplugging on the EV side stops the transaction even if StopTransactionOnEVSideDisconnect is false",
    "ev_disconnect_to_preparing": "unplugging on the EV side (no stop) reports Preparing: Charging -> Preparing is forbidden",
    "remote_stop_reason_local": "StopTransaction after RemoteStopTransaction carries reason Local instead of Remote",
    "unlock_stop_reason_local": "StopTransaction after UnlockConnector carries reason Local instead of UnlockCommand",
    "reset_reason_swapped": "StopTransaction on Reset carries SoftReset for a hard reset and HardReset for a soft one",
    "power_loss_reason_local": "StopTransaction on power loss carries reason Local instead of PowerLoss",
    "power_cut_stop_wrong_transaction_id": "StopTransaction after a power cut carries a transactionId the central system never issued",
    "ignore_invalid_id": "ignore a non-Accepted idTagInfo in StartTransaction.conf (no stop, no SuspendedEVSE)",
    # remote control
    "remote_start_rejected": "answer every RemoteStartTransaction.req with Rejected",
    "remote_start_always_accepted": "answer every RemoteStartTransaction.req with Accepted, even for a busy or invalid connector",
    "remote_stop_always_accepted": "answer RemoteStopTransaction.req with Accepted even for an unknown transactionId",
    "unlock_not_supported": "answer UnlockConnector.req with NotSupported although the connector has a lock",
    "unlock_failure_ignored": "answer UnlockConnector.req with Unlocked even when the lock has failed",
    "unlock_unknown_connector_failed": "answer UnlockConnector.req for an unknown connector with UnlockFailed (not NotSupported)",
    "fault_never_clears": "the manual step clear_fault has no effect: a fault stays for good (the common state "
                          "cannot be restored)",
    "unlock_fixed_cable": "a fixed-cable charge point (variant fixed_cable) answers UnlockConnector.req with Unlocked",
    "availability_not_persistent": "forget ChangeAvailability Inoperative on reboot (connectors come back Available)",
    "data_transfer_no_answer": "never answer a DataTransfer.req",
    # configuration
    "wrong_key_accessibility": "report HeartbeatInterval as read-only (the spec makes it read-write)",
    "change_configuration_not_applied": "answer ChangeConfiguration Accepted without changing the value",
    "unknown_key_rejected": "answer ChangeConfiguration for an unknown key with Rejected instead of NotSupported",
    "accept_invalid_value": "accept out-of-range values in ChangeConfiguration (e.g. MeterValueSampleInterval -1)",
    # meter values and offline behaviour
    "sample_interval_doubled": "send Sample.Periodic MeterValues at twice MeterValueSampleInterval",
    "clock_values_not_aligned": "timestamp Sample.Clock MeterValues half an interval off the clock-aligned boundary",
    "offline_meter_values_reversed": "after reconnect, send the MeterValues queued while offline newest first",
    "offline_start_lost": "a transaction started while offline is never reported (no StartTransaction.req)",
    "offline_stop_lost": "a transaction stopped while offline is never reported (no StopTransaction.req)",
}
FAULTS.update(SMART_FAULTS)  # smart charging (TC_056_CS ... TC_082_CS)
FAULTS.update(LOCAL_LIST_FAULTS)  # local authorization list (TC_008_CS, TC_042_x_CS, TC_043_x_CS)
FAULTS.update(charge_point_reservation.FAULTS)  # Reservation (TC_046_x_CS ... TC_053_CS)
FAULTS.update(charge_point_firmware.FAULTS)  # FirmwareManagement (TC_044_x_CS, TC_045_x_CS)
FAULTS.update(charge_point_trigger.FAULTS)  # RemoteTrigger (TC_054_CS, TC_055_CS)
FAULTS.update(charge_point_security.FAULTS)  # security extension (TC_073_CS ... TC_087_CS)
FAULTS.update(charge_point_certificates.FAULTS)  # its certificates, GetLog and signed firmware
# -- the harness's own cases beyond OCTT (testcases/test_rpc_*cs.py, test_robustness.py) ------------------------
FAULTS.update(RPC_FAULTS)  # the OCPP-J layer (RPC_001_CS ... RPC_012_CS), carried out by common.RpcPeer
FAULTS.update({
    "blocks_while_call_outstanding": "handle no CALL of the central system while its own CALL waits for an answer "
                                     "(RPC_011_CS)",
    "oversize_frame_no_reconnect": "after closing a connection for a frame over its size limit (1009), never "
                                   "reconnect (RPC_010_CS)",
    "burst_drops_calls": "of CALLs arriving less than 0.5 s apart, drop every 25th unanswered (RPC_020_CS)",
    "readonly_key_accepted": "ChangeConfiguration of a key it reports read-only is Accepted and stored (RPC_015_CS)",
    "register_kwh_as_wh": "MeterValues carry Energy.Active.Import.Register in kWh while the unit says Wh (RPC_016_CS)",
    "register_decreasing": "the Energy.Active.Import.Register of MeterValues falls during a transaction (RPC_016_CS)",
    "meter_values_1970": "MeterValues are stamped 1970-01-01T00:00:00Z (a clock never set) (RPC_016_CS)",
    "stop_resent_after_reconnect": "after a reconnect the last StopTransaction.req goes out again, although it was "
                                   "confirmed (RPC_016_CS)",
})
