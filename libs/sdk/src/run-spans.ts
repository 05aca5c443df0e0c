/**
 * The spans of flow runs and task runs (see @sluice/telemetry's tracing): one per run, around all
 * it does, so its attempts, the spans the user's code opens and the runs it starts nest under it.
 * With tracing off each is a direct call.
 */
import { isTracingEnabled, withRunSpan } from "@sluice/telemetry";
import { currentRunContext } from "./context.js";

/** A task run called or submitted inside a flow or task run (a plain call outside any run has no span). */
export function traceTaskRun<T>(taskName: string, run: () => Promise<T>): Promise<T> {
  if (!isTracingEnabled()) return run();
  const parent = currentRunContext();
  if (!parent) return run();
  const flowRunId = parent.flowRun?.id;
  return withRunSpan(
    "task_run",
    taskName,
    flowRunId ? { "sluice.task.name": taskName, "sluice.flow_run.id": flowRunId } : { "sluice.task.name": taskName },
    run,
  );
}

/** A flow run, in whatever span is active: the worker's `process` span, the caller's run, or none (a new trace). */
export function traceFlowRun<T>(
  flowName: string,
  existing: { deploymentId?: string | null; workPoolName?: string | null } | undefined,
  run: () => Promise<T>,
): Promise<T> {
  if (!isTracingEnabled()) return run();
  return withRunSpan(
    "flow_run",
    flowName,
    {
      "sluice.flow.name": flowName,
      ...(existing?.deploymentId ? { "sluice.deployment.id": existing.deploymentId } : {}),
      ...(existing?.workPoolName ? { "sluice.work_pool.name": existing.workPoolName } : {}),
    },
    run,
  );
}
