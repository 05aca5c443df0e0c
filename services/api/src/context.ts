/** What every route module gets: the database, the run dispatcher and notices, the parameter validator, a clock. */
import type { AnySluiceDb } from "@sluice/db";
import type { RunStateNotices } from "@sluice/queue";
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { DeploymentSnapshots } from "./deployment-snapshots.js";
import type { LeaseHolders } from "./lease-holders.js";
import type { ParameterValidator } from "./parameters.js";
import type { FlowRunDispatcher } from "./run-queue.js";
import type { TagLimitMirror } from "./tag-limits.js";
import type { WorkQueueLimitMirror } from "./work-queue-limits.js";

export interface ApiContext {
  db: AnySluiceDb;
  dispatcher: FlowRunDispatcher;
  /** Tells live views of the states this API writes to Postgres itself. */
  notices: RunStateNotices;
  parameters: ParameterValidator;
  /** Deployments create_flow_run read, kept with their row version. */
  deployments: DeploymentSnapshots;
  tagLimits: TagLimitMirror;
  /** The holders of concurrency slots by limit key (deployment limits). */
  leaseHolders: LeaseHolders;
  workQueueLimits: WorkQueueLimitMirror;
  now(): Date;
}

/** A Fastify instance whose route schemas are zod schemas. */
export type ZodApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;
