"""Agents against a live primary (pytest-django's live_server), each through its own fault proxy."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from syncagent import Agent, Config
from tests.support import make_site

from .faults import FaultProxy


@dataclass
class Satellite:
    """An agent, the proxy between it and the primary, and the delays it asked its sleeper for."""

    agent: Agent
    proxy: FaultProxy
    slept: list[float] = field(default_factory=list)


@pytest.fixture
def sites(transactional_db) -> dict[int, Any]:
    return {site_id: make_site(site_id) for site_id in (2, 3)}


@pytest.fixture
def satellite(live_server, sites) -> Iterator[Callable[..., Satellite]]:
    """Make an agent for a site; settings override the test defaults (small batches, no real sleep)."""
    proxies: list[FaultProxy] = []

    def make(site: int, /, *, callback: Any = None, **settings: Any) -> Satellite:
        proxy = FaultProxy(live_server.url)
        proxies.append(proxy)
        slept: list[float] = []
        config = Config(
            **{
                "server_url": proxy.url,
                "site_name": sites[site].name,
                "password": "pass",
                "hardware_id": f"device-of-site-{site}",
                "state_path": ":memory:",
                "push_batch": 3,
                "pull_batch": 4,
                "timeout": 10,
                **settings,
            }
        )
        agent = Agent(config, callback=callback, sleep=slept.append, rng=random.Random(site))
        return Satellite(agent=agent, proxy=proxy, slept=slept)

    yield make
    for proxy in proxies:
        proxy.close()
