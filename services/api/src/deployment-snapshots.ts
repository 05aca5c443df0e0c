/**
 * Deployments as create_flow_run last read them, with their row version. A run is then created in
 * one round trip, by an insert that checks the deployment's row is still at that version (see
 * createDeploymentFlowRun's `unchangedSince`); when it is not (updated, paused, deleted, by this
 * API process or another) the insert writes nothing and the deployment is read again. Nothing is
 * ever served stale, so nothing has to expire.
 */
import type { VersionedDeploymentSummary } from "@sluice/db";

/** Enough for every deployment a server creates runs of; the oldest read is forgotten first. */
const MAX_DEPLOYMENTS = 1000;

export class DeploymentSnapshots {
  private readonly byId = new Map<string, VersionedDeploymentSummary>();

  get(id: string): VersionedDeploymentSummary | undefined {
    return this.byId.get(id);
  }

  remember(deployment: VersionedDeploymentSummary): void {
    this.byId.delete(deployment.id);
    if (this.byId.size >= MAX_DEPLOYMENTS) this.byId.delete(this.byId.keys().next().value as string);
    this.byId.set(deployment.id, deployment);
  }

  forget(id: string): void {
    this.byId.delete(id);
  }
}
