"""Create every declared topic with its configuration, idempotently (I/O: the Kafka admin API)."""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import for_code

from contracts.topics import TopicSpec


class Action(StrEnum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    UPDATED = "updated"  # configuration or partitions changed to the declaration
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Outcome:
    topic: str
    action: Action
    detail: str


async def provision(
    admin: AIOKafkaAdminClient, specs: Iterable[TopicSpec], *, replication_factor: int = 1
) -> list[Outcome]:
    """Bring each topic to its declaration: create it, raise partitions, set its configs."""
    specs = list(specs)
    existing = {t["topic"]: t for t in await admin.describe_topics([s.topic for s in specs])}
    outcomes: list[Outcome] = []
    missing = [s for s in specs if existing.get(s.topic, {}).get("error_code", 3) != 0]
    if missing:
        response: Any = await admin.create_topics(
            [
                NewTopic(
                    name=s.topic,
                    num_partitions=s.partitions,
                    replication_factor=replication_factor,
                    topic_configs=s.configs(),
                )
                for s in missing
            ]
        )
        for name, code, *rest in response.topic_errors:
            message = rest[0] if rest else ""
            if code in (0, 36):  # 36: TOPIC_ALREADY_EXISTS, a concurrent provisioner won
                outcomes.append(
                    Outcome(
                        name, Action.CREATED, _describe(next(s for s in specs if s.topic == name))
                    )
                )
            else:
                error = for_code(code).__name__
                outcomes.append(Outcome(name, Action.FAILED, f"{error}: {message}"))
    for spec in specs:
        if spec in missing:
            continue
        outcomes.append(await _reconcile(admin, spec, len(existing[spec.topic]["partitions"])))
    order = {str(s.topic): i for i, s in enumerate(specs)}
    return sorted(outcomes, key=lambda o: order.get(o.topic, len(order)))


async def _reconcile(admin: AIOKafkaAdminClient, spec: TopicSpec, partitions: int) -> Outcome:
    changes: list[str] = []
    if partitions > spec.partitions:
        return Outcome(
            spec.topic,
            Action.FAILED,
            f"has {partitions} partitions, declared {spec.partitions}; Kafka cannot shrink a topic",
        )
    if partitions < spec.partitions:
        await admin.create_partitions({spec.topic: NewPartitions(total_count=spec.partitions)})
        changes.append(f"partitions {partitions} -> {spec.partitions}")
    current = await read_configs(admin, spec.topic)
    wanted = spec.configs()
    differing = {k: v for k, v in wanted.items() if current.get(k) != v}
    if differing:
        # AlterConfigs replaces the topic's whole override set: send every declared key.
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, spec.topic, wanted)])
        changes.extend(f"{k}={current.get(k)} -> {v}" for k, v in differing.items())
    if changes:
        return Outcome(spec.topic, Action.UPDATED, "; ".join(changes))
    return Outcome(spec.topic, Action.UNCHANGED, _describe(spec))


async def read_configs(admin: AIOKafkaAdminClient, topic: str) -> dict[str, str]:
    """The topic's effective configuration as the broker reports it."""
    responses: list[Any] = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, topic)]
    )
    configs: dict[str, str] = {}
    for response in responses:
        for resource in response.resources:
            # (error_code, error_message, resource_type, resource_name, config_entries)
            for entry in resource[4]:
                configs[entry[0]] = entry[1]
    return configs


def _describe(spec: TopicSpec) -> str:
    return f"{spec.partitions} partitions, cleanup.policy={spec.cleanup_policy}"
