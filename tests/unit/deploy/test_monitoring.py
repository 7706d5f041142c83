"""The Grafana dashboard and the Prometheus rules of deploy/k8s/monitoring: well formed, every
query parses, and they cover what docs/operations.md says to watch (no processes; the names
they use are checked against running processes in tests/e2e/test_metrics_exported.py)."""

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

from services.alerts.app import NAME as ALERTS
from services.billing.app import NAME as BILLING
from services.loadbalance.app import NAME as LOADBALANCE
from services.loadbalance.app import ROUTER
from services.sessions.app import NAME as SESSIONS

ROOT = Path(__file__).resolve().parents[3]
MONITORING = ROOT / "deploy" / "k8s" / "monitoring"
DASHBOARD = MONITORING / "dashboard.json"
RULES = MONITORING / "prometheus-rules.yaml"
WORKERS = (SESSIONS, BILLING, LOADBALANCE, ROUTER, ALERTS)  # every runtime/worker.py service
APIS = ("sessions_api", "billing_api", "loadbalance_api")
# Grafana's variables as a query gets them: durations, and a regex for the textbox.
RATE_INTERVAL = timedelta(minutes=4, seconds=59)  # an odd value: only $__rate_interval gives it
DURATIONS = {"__rate_interval": "4m59s", "__interval": "1m", "__range": "6h"}
RATE_FUNCTIONS = {"rate", "irate", "increase"}


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text("utf-8"))
    return loaded


def rules() -> list[dict[str, Any]]:
    """Every rule of the one PrometheusRule, each with its group's name as ``group``."""
    rule = yaml.safe_load(RULES.read_text("utf-8"))
    return [{**r, "group": g["name"]} for g in rule["spec"]["groups"] for r in g["rules"]]


def targets() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(panel, target) for every query of the dashboard."""
    for panel in dashboard()["panels"]:
        for target in panel.get("targets", []):
            yield panel, target


def substituted(expr: str) -> str:
    """``expr`` with Grafana's variables replaced as Grafana would before sending it."""
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: DURATIONS.get(m[1] or m[2], ".*"), expr)


def parse(expr: str) -> promql_parser.Expr:
    """Raises: ValueError: ``expr`` is not PromQL."""
    parsed: promql_parser.Expr = promql_parser.parse(expr)
    return parsed


def metric_names(expr: promql_parser.Expr) -> set[str]:
    """The metric names an expression selects, from its syntax tree."""
    names: set[str] = set()

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            assert node.name, f"a selector without a metric name: {node}"  # no {__name__=~}
            names.add(node.name)

    promql_parser.walk(expr, visit)
    return names


def used_metric_names() -> dict[str, set[str]]:
    """Metric name -> where it is used (panel titles and alert names)."""
    used: dict[str, set[str]] = {}
    for panel, target in targets():
        for name in metric_names(parse(substituted(target["expr"]))):
            used.setdefault(name, set()).add(f"panel {panel['title']!r}")
    for rule in rules():
        for name in metric_names(parse(rule["expr"])):
            used.setdefault(name, set()).add(f"alert {rule['alert']}")
    return used


def anchors(markdown: Path) -> set[str]:
    """The anchors GitHub gives the headings of ``markdown``."""
    headings = re.findall(r"^#+ (.+)$", markdown.read_text("utf-8"), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


# -- the dashboard --------------------------------------------------------------------------------


def test_the_dashboard_has_a_stable_uid_and_a_datasource_variable() -> None:
    board = dashboard()
    assert board["uid"] == "chargebus-overview"
    assert board["id"] is None  # the database assigns it
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert "__inputs" not in board  # the variable form: file and sidecar provisioning load it


def test_panels_have_unique_ids_refids_and_use_the_datasource_variable() -> None:
    panels = dashboard()["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    for panel in panels:
        if panel["type"] == "row":
            continue
        assert panel["type"] in ("timeseries", "stat"), panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert refs, panel["title"]
        assert len(refs) == len(set(refs)), panel["title"]
        assert all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"])


def test_panels_sit_on_the_grid_without_overlapping() -> None:
    taken: set[tuple[int, int]] = set()
    for panel in dashboard()["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] >= 0, panel["title"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        cells = {
            (x, y)
            for x in range(pos["x"], pos["x"] + pos["w"])
            for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells


def test_every_query_parses_and_rates_over_the_rate_interval() -> None:
    """$__rate_interval wherever a rate is taken over the graph's step (increase over the
    whole range or an hour is a total, not a rate)."""
    for panel, target in targets():
        expr = parse(substituted(target["expr"]))  # raises on bad syntax

        def visit(node: promql_parser.Expr, title: str = panel["title"]) -> None:
            if isinstance(node, promql_parser.Call) and node.func.name in ("rate", "irate"):
                (matrix,) = node.args
                assert matrix.range == RATE_INTERVAL, f"{title}: {node}"

        promql_parser.walk(expr, visit)


def test_a_broken_query_fails_to_parse() -> None:
    with pytest.raises(ValueError, match=r".+"):
        parse(substituted("sum(rate(chargebus_gateway_frames_total[$__rate_interval])"))


def test_the_dashboard_shows_what_issue_13_asks_for() -> None:
    """Connections, frames per action, reply latency, errors by code, auth failures, consumer
    lag per group, batch times of every worker, open sessions, energy, CDRs, allocations,
    API requests, command outcomes and certificates."""
    shown = set()
    for _, target in targets():
        shown |= metric_names(parse(substituted(target["expr"])))
    wanted = {
        "chargebus_gateway_connections",
        "chargebus_gateway_frames_total",
        "chargebus_gateway_service_round_trip_seconds_bucket",
        "chargebus_gateway_errors_total",
        "chargebus_gateway_auth_failures_total",
        "kafka_consumergroup_lag",
        "chargebus_sessions_api_open_sessions",
        "chargebus_sessions_energy_joules_total",
        "chargebus_billing_cdrs_total",
        "chargebus_loadbalance_allocations_total",
        "chargebus_gateway_commands_total",
        "chargebus_sessions_api_commands_total",
        "chargebus_certificates_total",
        "chargebus_ready",
        *(f"chargebus_{w}_batch_seconds_bucket" for w in WORKERS),
        *(f"chargebus_{a}_requests_total" for a in APIS),
    }
    assert wanted - shown == set()


# -- the rules ------------------------------------------------------------------------------------


def test_one_prometheus_rule_the_operator_picks_up() -> None:
    documents = list(yaml.safe_load_all(RULES.read_text("utf-8")))
    assert len(documents) == 1
    (rule,) = documents
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["kind"] == "PrometheusRule"
    assert rule["metadata"]["name"] == "chargebus"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    names = [g["name"] for g in rule["spec"]["groups"]]
    assert len(names) == len(set(names))


def test_every_rule_parses_and_says_how_bad_it_is_and_what_to_do() -> None:
    runbooks = anchors(ROOT / "docs" / "operations.md")
    for rule in rules():
        assert set(rule) <= {
            "alert",
            "expr",
            "for",
            "keep_firing_for",
            "labels",
            "annotations",
            "group",
        }, rule
        parse(rule["expr"])  # raises on bad syntax; no Grafana variables here
        assert re.fullmatch(r"([0-9]+(ms|s|m|h|d|w|y))+", rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        notes = rule["annotations"]
        assert notes["summary"], rule["alert"]
        assert notes["description"], rule["alert"]
        page, _, anchor = notes["runbook"].partition("#")
        assert page == "docs/operations.md", rule["alert"]
        assert anchor in runbooks, rule["alert"]


def test_the_rules_alert_on_what_operations_md_says_to_alert_on() -> None:
    """Every metric named under "What to alert on" is in a rule (``<service>``: every worker),
    as are readiness and consumer lag."""
    text = (ROOT / "docs" / "operations.md").read_text("utf-8")
    section = text.split("## What to alert on", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`(chargebus_[a-z_<>]+)", section))
    assert "chargebus_gateway_connections" in named  # the section still reads as it did
    expected = {
        expanded
        for name in named
        for expanded in (
            [name.replace("<service>", w) for w in WORKERS] if "<service>" in name else [name]
        )
    }
    in_rules = set()
    for rule in rules():
        in_rules |= metric_names(parse(rule["expr"]))
    missing = {
        name
        for name in expected
        if not any(used == name or used.startswith(f"{name}_") for used in in_rules)
    }
    assert missing == set()
    assert {"chargebus_ready", "up", "kafka_consumergroup_lag"} <= in_rules


def test_docs_observability_names_every_metric_and_alert_used() -> None:
    """Every family in a query is in the doc's tables (``<service>``, ``<api>``: any)."""
    doc = (ROOT / "docs" / "observability.md").read_text("utf-8")
    documented = [
        re.compile(re.sub(r"<\w+>", "[a-z_]+", name))
        for name in re.findall(r"^\| `([a-z_<>]+)` \|", doc, flags=re.MULTILINE)
    ]
    for name in set(used_metric_names()) - {"up", "kafka_consumergroup_lag"}:
        family = re.sub(r"_(bucket|count|sum)$", "", name)
        assert any(d.fullmatch(family) for d in documented), name
    for rule in rules():
        assert f"| `{rule['alert']}`" in doc, rule["alert"]
