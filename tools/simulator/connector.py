"""One connector's charging state inside a simulated station (pure data)."""

from dataclasses import dataclass
from enum import StrEnum

from tools.simulator.payloads import ConnectorStatus


class Phase(StrEnum):
    IDLE = "idle"
    AUTHORIZING = "authorizing"
    STARTING = "starting"
    CHARGING = "charging"  # 1.6: StartTransaction answered; 2.0.1: TransactionEvent Started sent
    STOPPING = "stopping"


@dataclass(slots=True)
class Connector:
    """1.6: one connectorId; 2.0.1: one EVSE (evse_id = connector_id) with connectorId 1."""

    connector_id: int
    energy_wh: float = 0.0  # the meter register: never decreases
    phase: Phase = Phase.IDLE
    available: bool = True
    next_at: float | None = None  # IDLE: next session; CHARGING: next meter sample
    stop_at: float | None = None
    id_token: str = ""
    transaction_id: str | None = None  # 1.6: the CSMS's integer, as a decimal string
    remote_start_id: int | None = None
    seq_no: int = 0
    meter_start_wh: int = 0
    ev_power_w: float = 0.0  # what the EV would draw without a limit
    power_w: float = 0.0
    limit_w: float | None = None  # its transaction's TxProfile: ends with the transaction
    default_limit_w: float | None = None  # TxDefaultProfile: what a transaction starts under
    soc_percent: float = 0.0
    sampled_at: float = 0.0
    reported: str | None = None  # the last status sent, in the version's vocabulary

    @property
    def status(self) -> ConnectorStatus:
        match self.phase:
            case Phase.IDLE if self.available:
                return ConnectorStatus.AVAILABLE
            case Phase.IDLE:
                return ConnectorStatus.UNAVAILABLE
            case Phase.AUTHORIZING | Phase.STARTING:
                return ConnectorStatus.PREPARING
            case Phase.CHARGING:
                return ConnectorStatus.CHARGING
            case Phase.STOPPING:
                return ConnectorStatus.FINISHING

    def begin(self, id_token: str, remote_start_id: int | None) -> None:
        self.phase, self.id_token, self.remote_start_id = (
            Phase.AUTHORIZING,
            id_token,
            remote_start_id,
        )
        self.next_at = self.stop_at = self.transaction_id = None

    def end(self) -> None:
        self.phase, self.power_w, self.remote_start_id = Phase.IDLE, 0.0, None
        self.next_at = self.stop_at = self.transaction_id = None
