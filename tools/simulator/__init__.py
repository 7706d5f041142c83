"""The station simulator and load generator: ``run(config)``; the CSMS in ``responder``."""

from tools.simulator.processes import run_processes
from tools.simulator.report import Progress, Summary
from tools.simulator.runner import ConfigError, SimulatorConfig, run
from tools.simulator.station import Behaviour

__all__ = [
    "Behaviour",
    "ConfigError",
    "Progress",
    "SimulatorConfig",
    "Summary",
    "run",
    "run_processes",
]
