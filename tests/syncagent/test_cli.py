"""The `syncagent` command, run as the installed console script against a live primary, and its
configuration from a file and the environment.

Each command is its own process on one state file: the hardware id the first one created is kept, or
the primary (which bound the site to it) would refuse the next.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from apps.records.models import Record
from syncagent import ConfigError, load_config
from tests.support import primary_upsert

SCRIPT = Path(sys.executable).with_name("syncagent")


def syncagent(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert SCRIPT.exists(), "the console script is installed by `make setup`"
    return subprocess.run(
        [str(SCRIPT), *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


@pytest.mark.django_db(transaction=True)
def test_the_command_enqueues_runs_a_cycle_snapshots_and_reports(live_server, sites, tmp_path):
    primary_upsert("item", "I1", {"ID": "I1", "item_name": "Paracetamol"})
    env = {
        "SYNCAGENT_SERVER_URL": live_server.url,
        "SYNCAGENT_SITE_NAME": "site2",
        "SYNCAGENT_PASSWORD": "pass",
        "SYNCAGENT_STATE_PATH": str(tmp_path / "agent.sqlite3"),
    }

    enqueued = syncagent(
        "enqueue", "name", "N1", "--data", '{"ID": "N1", "type": "patient", "name": "Clinic"}', env=env
    )
    assert enqueued.returncode == 0, enqueued.stderr
    cycle = syncagent("run", "--once", env=env)
    assert cycle.returncode == 0, cycle.stderr
    assert json.loads(cycle.stdout)["pushed"] == 1 and json.loads(cycle.stdout)["pulled"] == 1
    assert Record.objects.filter(record_type="name", record_id="N1").exists()

    snapshot = syncagent("snapshot", "--full", env=env)
    assert snapshot.returncode == 0, snapshot.stderr
    assert json.loads(snapshot.stdout)["counts"] == {"item": 1, "name": 1, "store": 2}

    status = syncagent("status", "--json", env=env)
    body = json.loads(status.stdout)
    assert body["outbox"]["synced"] == 1 and body["online"] is True and body["store"] == "STORE2"
    assert body["last_snapshot"]["total"] == 4
    text = syncagent("status", env=env).stdout
    assert "1 synced" in text and "online    yes" in text

    refused = syncagent("run", env={**env, "SYNCAGENT_PASSWORD": "wrong"})
    assert refused.returncode == 2
    assert "stopped" in refused.stderr and "HTTP 401" in refused.stderr


def test_bad_input_to_the_command_is_refused_in_words_and_queues_nothing(tmp_path):
    env = {"SYNCAGENT_STATE_PATH": str(tmp_path / "agent.sqlite3")}

    for args in (
        ["enqueue", "item", "I1", "--data", "{not json"],
        ["enqueue", "item", "I1", "--data", "[1]"],
    ):
        result = syncagent(*args, env=env)
        assert result.returncode == 1 and "enqueue:" in result.stderr
    assert json.loads(syncagent("status", "--json", env=env).stdout)["outbox"]["pending"] == 0
    missing = syncagent("snapshot", env=env)
    assert missing.returncode == 1 and "SYNCAGENT_SERVER_URL" in missing.stderr


def test_settings_come_from_a_file_then_the_environment_then_the_caller(tmp_path):
    file = tmp_path / "agent.toml"
    file.write_text('[syncagent]\nserver_url = "http://primary:8000/"\nsite_name = "shop"\npush_batch = 20\n')

    config = load_config(file, environ={"SYNCAGENT_PUSH_BATCH": "10", "SYNCAGENT_INTERVAL": "5"}, attempts=3)

    assert config.server_url == "http://primary:8000"
    assert (config.site_name, config.push_batch, config.interval, config.attempts) == ("shop", 10, 5.0, 3)
    assert (config.api_version, config.pull_batch, config.timeout) == ("v3", 500, 30.0)
    assert load_config(environ={}).interval == 30 and load_config(environ={}).push_batch == 50


@pytest.mark.parametrize(
    ("text", "environ", "words"),
    [
        ("push_batch = 0\n", {}, "push_batch must be 1 or more"),
        ('colour = "blue"\n', {}, "Unknown setting(s)"),
        ("interval = [\n", {}, "not valid TOML"),
        ("", {"SYNCAGENT_API_VERSION": "v9"}, "api_version must be one of"),
        ("", {"SYNCAGENT_ATTEMPTS": "many"}, "SYNCAGENT_ATTEMPTS must be a whole number"),
    ],
)
def test_a_bad_setting_is_refused_in_words(tmp_path, text, environ, words):
    file = tmp_path / "agent.toml"
    file.write_text(text)

    with pytest.raises(ConfigError) as refused:
        load_config(file, environ=environ)

    assert words in str(refused.value)


def test_the_agent_stands_alone_without_the_server_or_django():
    probe = (
        "import sys, syncagent.cli; "
        "server = {'apps', 'django', 'syncserver', 'rest_framework'}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & server))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
