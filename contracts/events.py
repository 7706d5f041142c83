"""Event type names per topic, command outcomes, and DomainEvent (pure). Payloads: payloads/."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from contracts.envelope import Envelope


class EventType(StrEnum):
    """`Envelope.event_type` values. Past-tense facts, except commands (imperatives)."""

    # ocpp.inbound.v1 (gateway): raw OCPP as the station sent it, camelCase payloads
    OCPP_CALL = "OcppCall"  # a station-initiated CALL; answer on the gateway inbox
    OCPP_SEND = "OcppSend"  # OCPP 2.1 SEND: unconfirmed, never answered
    OCPP_CALL_RESULT = "OcppCallResult"  # the station's CALLRESULT to a command
    OCPP_CALL_ERROR = "OcppCallError"  # the station's CALLERROR to a command
    # ocpp.gateway-inbox.v1 (services -> gateway k)
    OCPP_REPLY = "OcppReply"  # CALLRESULT payload for a station CALL
    OCPP_REPLY_ERROR = "OcppReplyError"  # CALLERROR for a station CALL
    STATION_COMMAND = "StationCommand"  # send this CALL to the station
    # ocpp.presence.v1 (gateway)
    STATION_CONNECTED = "StationConnected"
    STATION_DISCONNECTED = "StationDisconnected"
    GATEWAY_ALIVE = "GatewayAlive"  # key gateway/<k>: a gateway's heartbeat, on every partition
    # ocpp.credentials.v1 (operators)
    CREDENTIAL_SET = "CredentialSet"
    # api.keys.v1 (operators: `python -m services.sessions.api keys create`)
    API_KEY_ISSUED = "ApiKeyIssued"
    # commands.ledger.v1 (gateways, APIs): a command's sent and final marks
    COMMAND_LOGGED = "CommandLogged"
    # command-results.v1 (gateway, sessions)
    COMMAND_COMPLETED = "CommandCompleted"
    # sessions.tokens.v1 (operators, the sessions API)
    TOKEN_DEFINED = "TokenDefined"
    # commands.v1 (other teams -> sessions)
    OPERATOR_COMMAND = "OperatorCommand"
    # stations.v1 (sessions)
    STATION_BOOTED = "StationBooted"
    STATION_STATUS_CHANGED = "StationStatusChanged"
    STATION_ONLINE = "StationOnline"
    STATION_OFFLINE = "StationOffline"
    CHARGING_LIMIT_SET = "ChargingLimitSet"  # 2.0.1 NotifyChargingLimit: set by someone else
    CHARGING_LIMIT_CLEARED = "ChargingLimitCleared"  # 2.0.1 ClearedChargingLimit
    SECURITY_EVENT_REPORTED = "SecurityEventReported"  # SecurityEventNotification (A04, 1.6S)
    MONITORING_EVENT_REPORTED = "MonitoringEventReported"  # 2.0.1 NotifyEvent, one per eventData
    REPORT_RECEIVED = "ReportReceived"  # a report's parts assembled (NotifyReport, ...)
    METER_VALUES_REPORTED = "MeterValuesReported"  # meter values outside a transaction
    FIRMWARE_STATUS_REPORTED = "FirmwareStatusReported"  # (Signed)FirmwareStatusNotification
    LOG_STATUS_REPORTED = "LogStatusReported"  # LogStatusNotification, 1.6 Diagnostics...
    DATA_TRANSFER_RECEIVED = "DataTransferReceived"  # a vendor's DataTransfer
    CERTIFICATE_SIGNING_REQUESTED = "CertificateSigningRequested"  # SignCertificate, checked
    # sessions.v1 (sessions)
    SESSION_STARTED = "SessionStarted"
    SESSION_UPDATED = "SessionUpdated"
    SESSION_ENDED = "SessionEnded"
    SESSION_CORRECTED = "SessionCorrected"  # the station's own end after the CSMS closed it
    SESSION_OPEN = "SessionOpen"  # sessions.open.v1: an open session as it stands now
    RESERVATION_ENDED = "ReservationEnded"  # a reservation ended without a session
    CHARGING_NEEDS_REPORTED = "ChargingNeedsReported"  # 2.0.1 NotifyEVChargingNeeds
    EV_CHARGING_SCHEDULE_REPORTED = "EvChargingScheduleReported"  # NotifyEVChargingSchedule
    TOKEN_AUTHORIZED = "TokenAuthorized"  # an Authorize answered
    ANOMALY_DETECTED = "AnomalyDetected"  # an impossible transition, reported, never raised
    # alerts.v1 and alerts.open.v1 (alerts)
    ALERT_RAISED = "AlertRaised"  # a condition that needs an operator began
    ALERT_RESOLVED = "AlertResolved"  # ... and ended
    ALERT_OPEN = "AlertOpen"  # alerts.open.v1: an open alert as it stands
    # billing, load balancing
    TARIFF_DEFINED = "TariffDefined"  # billing.tariffs.v1: an OCPI tariff
    TARIFF_ASSIGNED = "TariffAssigned"  # billing.tariffs.v1: which tariff applies where
    CDR_ISSUED = "CdrIssued"
    COST_QUOTED = "CostQuoted"  # billing.costs.v1: a session's cost so far, or its final cost
    PRICE_DISPLAY_REFUSED = "PriceDisplayRefused"  # billing.costs.v1: a station refused them
    PRICE_ANNOUNCED = "PriceAnnounced"  # billing.costs.v1: a station's price before a session
    SITE_DEFINED = "SiteDefined"
    CAPACITY_CHANGED = "CapacityChanged"
    GENERATION_MEASURED = "GenerationMeasured"  # grid.capacity.v1: PV behind the connection
    FORECAST_PUBLISHED = "ForecastPublished"  # grid.capacity.v1: capacity, PV, price per slot
    LIMITS_ALLOCATED = "LimitsAllocated"
    # deadletter.v1
    UNDECODABLE_RECORD = "UndecodableRecord"


class Outcome(StrEnum):
    """How a command ended; exactly one per command id on command-results.v1."""

    ANSWERED = "Answered"  # the station sent a CALLRESULT: see `response` (e.g. status Accepted)
    CALL_ERROR = "CallError"  # the station sent a CALLERROR
    TIMED_OUT = "TimedOut"  # sent, but the station did not answer in time
    STATION_OFFLINE = "StationOffline"  # no gateway holds the station
    NOT_HERE = "NotHere"  # not final: the gateway does not hold the station (stale presence)
    EXPIRED = "Expired"  # the deadline passed before the command could be sent
    INVALID = "Invalid"  # the CALL violates the OCPP schema: never sent


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    """One event a service publishes: its topic, type, key and payload. The worker wraps it in
    an envelope with a deterministic event id (runtime/batch.py)."""

    topic: str  # a contracts.topics.Topic
    event_type: str  # an EventType
    key: str  # the Kafka key, usually the station_id
    payload: dict[str, Any]
    partition: int | None = None  # None: by key; a StationCommand names its gateway's partition
    tombstone: bool = False  # write a null value (a compacted topic forgets the key)

    def envelope(
        self,
        *,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
        causation_id: str | None = None,
    ) -> Envelope:
        """The envelope it is written in (schema version 1); a new id and now where not given."""
        extra: dict[str, Any] = {}
        if occurred_at is not None:
            extra["occurred_at"] = occurred_at
        if event_id is not None:
            extra["event_id"] = event_id
        return Envelope(
            event_type=self.event_type,
            schema_version=1,
            key=self.key,
            payload=self.payload,
            causation_id=causation_id,
            **extra,
        )
