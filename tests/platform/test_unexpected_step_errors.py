"""A step whose rendered parameters cannot be sent fails the run; it never loops."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from tests.platform.harness import eventually, make_settings, running_platform, write_workflow


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
        await eventually(lambda: platform.run_exists(run_id))
        assert await eventually(lambda: platform.finished_status(run_id)) == (
            WorkflowExecutionStatus.FAILED
        )
        with pytest.raises(WorkflowFailureError) as failure:
            await platform.client.get_workflow_handle(run_id).result()
        assert "step 'send-function'" in str(failure.value.cause)
