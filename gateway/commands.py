"""The gateway's memory of commands: which are in progress and how recent ones ended (pure)."""

from collections import OrderedDict

from contracts.envelope import Envelope


class CommandLedger:
    """A command id seen again gets the earlier outcome instead of being sent twice (design).

    Completed outcomes are kept for the last `capacity` commands (LRU), which covers the
    window in which a requester retries with the same command id.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        self._capacity = capacity
        self._in_progress: set[str] = set()
        self._completed: OrderedDict[str, Envelope] = OrderedDict()

    def outcome_of(self, command_id: str) -> Envelope | None:
        """The outcome already published for this command id, if any."""
        outcome = self._completed.get(command_id)
        if outcome is not None:
            self._completed.move_to_end(command_id)
        return outcome

    def in_progress(self, command_id: str) -> bool:
        return command_id in self._in_progress

    def start(self, command_id: str) -> None:
        self._in_progress.add(command_id)

    def complete(self, command_id: str, outcome: Envelope) -> None:
        self._in_progress.discard(command_id)
        self._completed[command_id] = outcome
        self._completed.move_to_end(command_id)
        while len(self._completed) > self._capacity:
            self._completed.popitem(last=False)

    def __len__(self) -> int:
        return len(self._completed)
