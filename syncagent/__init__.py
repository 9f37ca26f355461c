"""The satellite agent: a site's outbox, drain loop, retries, status and snapshots.

Talks to the primary only over HTTP and uses only the standard library, so any satellite application
can run it beside its own database (docs/agent.md).
"""

from .agent import Agent, CycleResult
from .config import Config, ConfigError, load_config
from .state import State
from .transport import Refused, Stopped, Unreachable

__all__ = [
    "Agent",
    "Config",
    "ConfigError",
    "CycleResult",
    "Refused",
    "State",
    "Stopped",
    "Unreachable",
    "load_config",
]
