"""Two devices saving one key's settings at the same moment, on real parallel MariaDB connections.

Whatever order the saves arrive in, the newer save time must be what is stored, both when the document
does not exist yet (both try to create it) and when it does (both compare under the row lock).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections

from apps.settingsync.models import SettingsDocument, SettingsVersion
from apps.sites.services import apikey_create
from tests.settingsync.support import save, update
from tests.support import mariadb_in_parallel

pytestmark = mariadb_in_parallel("SQLite serialises writers, so there is no race to test")

ROUNDS = 15
OLDER = "2026-03-01T10:00:00.000Z"
NEWER = "2026-03-01T10:00:00.001Z"


def race(raw_key: str, saves: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Post every (device, savedTs) at once, each from its own thread and database connection."""
    barrier = threading.Barrier(len(saves))
    answers: list[dict[str, Any]] = [{} for _ in saves]
    failures: list[BaseException] = []

    def device(n: int, name: str, saved_ts: str) -> None:
        try:
            barrier.wait(timeout=30)
            response = save(raw_key, update(name, saved_ts, {"from": name}))
            assert response.status_code == 200, response.content
            answers[n] = response.json()
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=device, args=(n, *s)) for n, s in enumerate(saves)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    return answers


@pytest.mark.parametrize("existing", [False, True], ids=["creating", "updating"])
def test_the_newer_save_wins_whatever_the_arrival_order(existing: bool):
    for round_number in range(ROUNDS):
        _, raw_key = apikey_create(name=f"tablets {round_number}", scopes=["settings"])
        if existing:
            save(raw_key, update("setup", "2026-01-01T00:00:00.000Z", {"from": "setup"}))
        # Alternate which device starts first, so both arrival orders are exercised.
        saves = [("old-clock", OLDER), ("new-clock", NEWER)]
        answers = race(raw_key, saves if round_number % 2 else saves[::-1])
        document = SettingsDocument.objects.get(api_key__name=f"tablets {round_number}")
        assert (document.device_name, document.content) == ("new-clock", '{"from":"new-clock"}')
        by_device = {a["data"]["from"]: a for a in answers if a["action"] != "existingNewer"}
        actions = sorted(a["action"] for a in answers)
        if existing:
            # The newer one is stored; the older either lost the comparison or came first and was replaced.
            assert actions in (["existingNewer", "incomingNewer"], ["incomingNewer", "incomingNewer"])
        else:
            assert actions in (["created", "existingNewer"], ["created", "incomingNewer"])
        assert "new-clock" in by_device
        # Every stored state is one of the kept versions, the last one the winner's.
        last = SettingsVersion.objects.filter(document=document).order_by("-id").first()
        assert last is not None and last.device_name == "new-clock"
