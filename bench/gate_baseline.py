"""The baseline of bench/approval.py: an approval gate written by hand in Temporal.

One workflow waits for an `approve` Update, then runs one activity that reports when it
started; no DSL, no saga, no state to query. Run its worker as its own process:
`python -m bench.gate_baseline ADDRESS TASK_QUEUE`.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

WORKFLOW = "bench-gate"
APPROVE = "approve"


@activity.defn(name="bench.stamp")
async def stamp() -> float:
    return time.time()


@workflow.defn(name=WORKFLOW)
class GateWorkflow:
    def __init__(self) -> None:
        self._approved = False

    @workflow.run
    async def run(self) -> float:
        await workflow.wait_condition(lambda: self._approved)
        started: float = await workflow.execute_activity(
            stamp, start_to_close_timeout=timedelta(seconds=30)
        )
        return started

    @workflow.update(name=APPROVE)
    def approve(self) -> bool:
        self._approved = True
        return True


async def serve(address: str, task_queue: str) -> None:
    client = await Client.connect(address)
    worker = Worker(client, task_queue=task_queue, workflows=[GateWorkflow], activities=[stamp])
    await worker.run()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
