"""Try the shipped Jira workflow without a Jira: `python -m tests.fakes.demo_jira`.

Serves the test suite's Jira stand-in (the REST subset Fireline's client uses) on
loopback and writes the matching `jira` connection into the providers file, so that
`make up` (then `POST /v1/workflows/reload`) runs jira-incident-integration for real.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

import yaml

from core.settings import Settings
from tests.fakes.jira_server import FakeJira


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8081)
    port = parser.parse_args().port
    providers_file = Settings().resolved_providers_file
    with FakeJira(port=port) as jira:
        _add_connection(providers_file, jira)
        print(f"Demo Jira on {jira.url}; connection 'jira' written to {providers_file}.")
        print("Reload workflows (POST /v1/workflows/reload) and create an incident with")
        print('"enrichments": {"target_project": "OPS"}. Ctrl-C stops the demo Jira.')
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("\n" + "\n".join(f"{i.key}: {i.summary}" for i in jira.issues))


def _add_connection(providers_file: Path, jira: FakeJira) -> None:
    current = yaml.safe_load(providers_file.read_text()) if providers_file.exists() else None
    providers = current or {}
    providers["jira"] = {
        "type": "jira",
        "authentication": {
            "url": jira.url,
            "email": FakeJira.USER,
            "api_token": FakeJira.API_TOKEN,
        },
    }
    providers_file.write_text(yaml.safe_dump(providers, sort_keys=False))


if __name__ == "__main__":
    main()
