"""A step whose rendered parameters cannot be sent fails the run; it never loops."""

from __future__ import annotations

from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from tests.platform.harness import make_settings, running_platform, write_workflow


async def test_unserialisable_parameter_fails_the_step_with_its_name(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    workflows = tmp_path / "wf"
    workflows.mkdir()
    # `has` renders to the function object itself: no converter can send that.
    write_workflow(
        workflows,
        "odd",
        """
        workflow:
          id: odd
          triggers: [{type: incident, events: [created]}]
          steps:
            - name: send-function
              provider: {type: notify, with: {message: "{{ has }}", links: "{{ has }}"}}
        """,
    )
    settings = make_settings(tmp_path, temporal_env, workflows, {})
    async with running_platform(settings, temporal_env) as platform:
        incident = await platform.create_incident()
        run_id = f"acme:{incident['id']}:odd:1"
        assert "step 'send-function'" in await platform.failure_of(run_id)
