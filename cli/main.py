"""The `fireline` command. Each sub-command lives in its own module."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Fireline: incident automation on Temporal.", no_args_is_help=True)
incidents_app = typer.Typer(help="Incident maintenance.", no_args_is_help=True)
app.add_typer(incidents_app, name="incidents")
users_app = typer.Typer(help="People who sign in to the console.", no_args_is_help=True)
app.add_typer(users_app, name="users")
runbook_app = typer.Typer(help="Runbooks: drafts to start from.", no_args_is_help=True)
app.add_typer(runbook_app, name="runbook")
servicenow_app = typer.Typer(help="ServiceNow: first sync of incidents.", no_args_is_help=True)
app.add_typer(servicenow_app, name="servicenow")
secrets_app = typer.Typer(help="Secrets stored in the database.", no_args_is_help=True)
app.add_typer(secrets_app, name="secrets")


@app.command()
def lint(
    paths: list[Path] = typer.Argument(None, help="Files or folders (default: yaml_workflows/)"),
) -> None:
    """Check workflow files; print every error as file:line:col: message."""
    from cli.lint import lint_command

    raise typer.Exit(lint_command(paths or []))


@app.command()
def token(
    org: str = typer.Option(..., help="Organisation id"),
    role: list[str] = typer.Option(..., help="Role (repeatable), e.g. ORG_ADMIN"),
    sub: str = typer.Option("cli-user", help="Subject (user name)"),
) -> None:
    """Print a bearer token signed with this installation's secret."""
    from cli.tokens import print_token

    print_token(org=org, roles=role, sub=sub)


@incidents_app.command("rebuild")
def incidents_rebuild() -> None:
    """Recompute every incident snapshot from its events."""
    from cli.incidents import rebuild_command

    raise typer.Exit(rebuild_command())


@app.command()
def ingest(
    file: Path = typer.Argument(..., help="A .csv (documented columns) or .json file"),
    org: str = typer.Option("default", help="Organisation the incidents belong to"),
    actor: str = typer.Option("cli", help="Recorded as the author of the events"),
) -> None:
    """Import generic incidents from a file into the database; print every row error."""
    from cli.ingest import ingest_command

    raise typer.Exit(ingest_command(file, org=org, actor=actor))


@servicenow_app.command("import")
def servicenow_import(
    org: str = typer.Option("default", help="Organisation the incidents belong to"),
    query: str = typer.Option("active=true", help="ServiceNow encoded query, e.g. active=true"),
    connection: str = typer.Option("servicenow", help="Connection in the providers file"),
    page_size: int = typer.Option(100, min=1, max=10_000, help="Records per request"),
) -> None:
    """Pull an instance's incidents into Fireline (paged by offset); idempotent."""
    from cli.servicenow import import_command

    raise typer.Exit(
        import_command(org=org, query=query, connection=connection, page_size=page_size)
    )


@secrets_app.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt every stored secret with the first key of FIRELINE_SECRET_KEY (set it to
    NEW,OLD first); afterwards OLD can be dropped. All or nothing."""
    from cli.secrets import rotate_command

    raise typer.Exit(rotate_command())


@users_app.command("add")
def users_add(
    org: str = typer.Option(..., help="Organisation the user belongs to"),
    role: str = typer.Option(..., help="ORG_ADMIN, SRE_LEAD, ONCALL_ENGINEER, ANALYST or VIEWER"),
    email: str = typer.Option(..., help="Address the user signs in with"),
) -> None:
    """Add a console user; the password is read from standard input, or generated and
    printed when none is given."""
    from cli.users import add_command

    raise typer.Exit(add_command(org=org, role=role, email=email))


@users_app.command("remove")
def users_remove(
    org: str = typer.Option(..., help="Organisation the user belongs to"),
    email: str = typer.Option(..., help="Address the user signs in with"),
) -> None:
    """Remove a console user: they cannot sign in again, and their open pages send them
    to sign in."""
    from cli.users import remove_command

    raise typer.Exit(remove_command(org=org, email=email))


@runbook_app.command("draft")
def runbook_draft(
    incident: str = typer.Option(..., help="Incident id"),
    org: str = typer.Option("default", help="Organisation the incident belongs to"),
    out: Path = typer.Option(None, help="Folder to write <runbook-id>.yaml in (default: print)"),
) -> None:
    """Write a runbook for this kind of incident that passes `fireline lint`."""
    from cli.runbooks import draft_command

    raise typer.Exit(draft_command(org=org, incident_id=incident, out=out))


@app.command()
def up() -> None:
    """Start the embedded platform: Temporal dev server + UI, worker, API."""
    from cli.up import up_command

    raise typer.Exit(up_command())


@app.command()
def api() -> None:
    """Run the HTTP API against an existing Temporal and database."""
    from cli.serve import serve_api

    serve_api()


@app.command()
def worker() -> None:
    """Run the Temporal worker against an existing Temporal and database."""
    from cli.serve import serve_worker

    serve_worker()


if __name__ == "__main__":
    app()
