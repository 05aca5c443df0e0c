/**
 * Deployment concurrency, as Prefect has it: at most `concurrency_limit` runs of a deployment at
 * once, and what happens to a run that finds every slot taken (its collision strategy).
 */

/** ENQUEUE: the run waits (AwaitingConcurrencySlot) for a slot; CANCEL_NEW: the run is cancelled. */
export const COLLISION_STRATEGIES = ["ENQUEUE", "CANCEL_NEW"] as const;
export type CollisionStrategy = (typeof COLLISION_STRATEGIES)[number];

/** Prefect's default when a deployment has a limit and no collision strategy. */
export const DEFAULT_COLLISION_STRATEGY: CollisionStrategy = "ENQUEUE";

/** The lease key of a deployment's concurrency limit (Prefect names its limit the same way). */
export function deploymentLimitKey(deploymentId: string): string {
  return `deployment:${deploymentId}`;
}

/** The lease key of a work queue's concurrency limit. */
export function workQueueLimitKey(workPoolName: string, queueName: string): string {
  return `work-queue:${workPoolName}/${queueName}`;
}
