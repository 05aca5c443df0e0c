/**
 * Sluice's spans, through `@opentelemetry/api` only (no SDK here). Every helper first checks one
 * module flag, set by `startTelemetry()` when an exporter is configured: with tracing off they call
 * the wrapped function directly, so the hot path pays a boolean test and nothing else.
 *
 * The trace of a deployment run: API request → `send flow-runs.POOL` (producer) → `process
 * flow-runs.POOL` (consumer, with the queue wait) → `flow_run NAME` → `task_run NAME` → the task's
 * own spans (user code, HTTP, Postgres); a run with retries has an `attempt N` span per try between
 * its run span and its work, so retries show.
 * Queued task runs (`.submit()`, `.map()`, `.delay()`) add `send task-runs.POOL` (one per batch of
 * jobs added together) between the flow and the task runs, whichever worker runs them. A job of one
 * task run has no `process` span: its `task_run NAME` span is itself the job's CONSUMER span
 * (messaging attributes, queue wait), one span per task run, not two. A chunk job (a `.map()`'s
 * runs, up to 50 in one job) has one `process task-runs.POOL` span, and its runs' spans under it
 * carry only what is their own: the messaging attributes, the same for every run of the chunk, are
 * encoded and exported once per chunk, not once per run.
 * The W3C trace context travels in the jobs' data (`traceContext`).
 */
import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { afterSettled } from "@sluice/core";
import { jobsInProgress, recordQueueWait } from "./run-metrics.js";

export type { Context, Span };

/** A W3C trace context (`traceparent`, maybe `tracestate`) as carried in job data. */
export type TraceCarrier = Record<string, string>;

export type RunSpanKind = "flow_run" | "task_run";

let enabled = false;
let cachedTracer: Tracer | undefined;
/**
 * Each open run span: which kind of run it stands for, so a run's states go to its own span only,
 * and the run's latest state, which becomes the span's `sluice.state.name` when it ends (set once,
 * not at every state). A Map with each span deleted when it ends, not a WeakMap: at 10,000 spans a
 * second, a WeakMap's entries are ephemerons every garbage collection has to trace.
 */
const openRunSpans = new Map<Span, { kind: RunSpanKind; stateName?: string }>();

/** Whether Sluice records spans (set by `startTelemetry()`). */
export function isTracingEnabled(): boolean {
  return enabled;
}

/**
 * Turns Sluice's spans on or off. `startTelemetry()` calls it; a program that registers its own
 * OpenTelemetry tracer provider may call it to get Sluice's spans into that provider.
 */
export function setTracingEnabled(on: boolean): void {
  enabled = on;
  cachedTracer = undefined;
  contextCarried = undefined;
}

/** Whether OpenTelemetry's context manager keeps values, probed once after tracing is switched on. */
let contextCarried: boolean | undefined;
const PROBE = createContextKey("sluice.context_probe");

/**
 * Whether tracing is on and OpenTelemetry has a context manager that carries values through async
 * calls (the API's default one drops them: a program that turns Sluice's spans on without
 * registering a context manager). See ContextSlot.
 */
export function tracingCarriesContext(): boolean {
  if (!enabled) return false;
  contextCarried ??= context.with(ROOT_CONTEXT.setValue(PROBE, true), () => context.active().getValue(PROBE) === true);
  return contextCarried;
}

function tracer(): Tracer {
  cachedTracer ??= trace.getTracer("sluice");
  return cachedTracer;
}

/**
 * Set (true) on an error that ends a span without a failure: a run parked until a concurrency
 * slot frees throws one to leave, and its span must not show an error.
 */
export const NOT_A_FAILURE = Symbol.for("sluice.notAFailure");

function isFailureByDefault(error: unknown): boolean {
  return !(typeof error === "object" && error !== null && (error as { [NOT_A_FAILURE]?: boolean })[NOT_A_FAILURE]);
}

/** Marks the span failed with the error recorded as an exception event. */
export function recordSpanError(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  else span.recordException(String(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

interface InSpanOptions {
  /** The span's parent (default: the active context). */
  parent?: Context;
  /** Whether an error `fn` throws marks the span failed (default: every error does). */
  isFailure?: (error: unknown) => boolean;
  /** Called once `fn` has settled, just before the span ends. */
  beforeEnd?: (span: Span) => void;
}

/**
 * Runs `fn` inside a new active span (ended when `fn` settles; a throw marks it ERROR). One async
 * function in all: on a task run's path, each extra wrapper costs promises.
 */
function inSpan<T>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  { parent = context.active(), isFailure, beforeEnd }: InSpanOptions = {},
): Promise<T> {
  return tracer().startActiveSpan(name, { kind, attributes }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      if (isFailureByDefault(error) && (!isFailure || isFailure(error))) recordSpanError(span, error);
      throw error;
    } finally {
      beforeEnd?.(span);
      span.end();
    }
  });
}

/** A span of Sluice's own around `fn` (INTERNAL), when tracing is on. */
export function withSpan<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  if (!enabled) return fn();
  return inSpan(name, SpanKind.INTERNAL, attributes, fn);
}

/**
 * The span of one flow run or task run, around everything the run does (cache lookup, slots,
 * attempts). Its states are added to it as events (see `runSpanOf`).
 */
export function withRunSpan<T>(kind: RunSpanKind, name: string, attributes: Attributes, fn: () => Promise<T>) {
  if (!enabled) return fn();
  const active = context.active();
  // The run a consumed job starts (see `consumeJob`'s `runSpanIsConsumer`): its span is the job's
  // consumer span. Taken once, so the runs this one starts in turn get spans of their own.
  const consumed = active.getValue(CONSUMED_JOB) as ConsumedJobSpan | undefined;
  const consumer = consumed !== undefined && !consumed.taken;
  if (consumer) consumed.taken = true;
  const open: { kind: RunSpanKind; stateName?: string } = { kind };
  return inSpan(
    `${kind} ${name}`,
    consumer ? SpanKind.CONSUMER : SpanKind.INTERNAL,
    consumer ? Object.assign(consumed.attributes, attributes) : attributes,
    (span) => {
      openRunSpans.set(span, open);
      return fn();
    },
    {
      parent: active,
      beforeEnd: (span) => {
        openRunSpans.delete(span);
        if (open.stateName !== undefined) span.setAttribute("sluice.state.name", open.stateName);
      },
    },
  );
}

/** The active span if it is the span of a run of this kind (where that run's states belong). */
export function runSpanOf(kind: RunSpanKind): Span | undefined {
  if (!enabled) return undefined;
  const span = trace.getActiveSpan();
  return span && openRunSpans.get(span)?.kind === kind ? span : undefined;
}

/** One attempt of a run (`attempt 2` is the first retry); user spans opened by the body nest under it. */
export function withAttemptSpan<T>(attempt: number, fn: () => Promise<T>): Promise<T> {
  if (!enabled) return fn();
  return inSpan(`attempt ${attempt}`, SpanKind.INTERNAL, { "sluice.run.attempt": attempt }, fn);
}

/** The attributes of a state event without a message, one object per state type (the SDK copies them). */
const stateTypeAttributes = new Map<string, Attributes>();

/** Adds a run's state change to its span (see `runSpanOf`) as an event; the span's state attribute follows it. */
export function recordStateOnSpan(span: Span, name: string, type: string, message: string | null | undefined): void {
  let attributes = message
    ? { "sluice.state.type": type, "sluice.state.message": message }
    : stateTypeAttributes.get(type);
  if (!attributes) {
    attributes = { "sluice.state.type": type };
    stateTypeAttributes.set(type, attributes);
  }
  span.addEvent(name, attributes);
  const open = openRunSpans.get(span);
  if (open) open.stateName = name;
  else span.setAttribute("sluice.state.name", name);
}

/** The messaging attributes of a `send`: one job's id, or how many jobs the batch holds. */
function producerAttributes(queueName: string, jobIds: readonly string[]): Attributes {
  return {
    "messaging.system": "bullmq",
    "messaging.operation.type": "send",
    "messaging.operation.name": jobIds.length === 1 ? "add" : "addBulk",
    "messaging.destination.name": queueName,
    ...(jobIds.length === 1
      ? { "messaging.message.id": jobIds[0] }
      : { "messaging.batch.message_count": jobIds.length }),
  };
}

/**
 * Adds a job to a queue inside a PRODUCER span (OpenTelemetry messaging conventions); `send` gets
 * the trace context to put in the job's data (undefined when tracing is off).
 */
export function withProducerSpan<T>(
  queueName: string,
  jobId: string,
  send: (traceContext: TraceCarrier | undefined) => Promise<T>,
): Promise<T> {
  if (!enabled) return send(undefined);
  return inSpan(`send ${queueName}`, SpanKind.PRODUCER, producerAttributes(queueName, [jobId]), () => {
    const carrier: TraceCarrier = {};
    propagation.inject(context.active(), carrier);
    return send(carrier);
  });
}

/** The PRODUCER span of jobs sent together later (see `startBatchProducerSpan`). */
export interface ProducerSpan {
  /** What each job's data carries, so its consumer span continues this trace. */
  readonly traceContext: TraceCarrier;
  /** Ends the span once the jobs are added (or could not be: `error`). */
  end(error?: unknown): void;
}

/** Where a job submitted now is traced from, for a producer span started when it is sent; undefined when tracing is off. */
export function producerParent(): Context | undefined {
  return enabled ? context.active() : undefined;
}

/**
 * The PRODUCER span of the jobs submitted under one parent (`producerParent()`) and sent in one
 * batch: one span per batch rather than per job (the messaging conventions' batch `send`), so a
 * 20,000-item `.map()` exports 40 of them, not 20,000.
 */
export function startBatchProducerSpan(queueName: string, parent: Context, jobIds: readonly string[]): ProducerSpan {
  const span = tracer().startSpan(
    `send ${queueName}`,
    { kind: SpanKind.PRODUCER, attributes: producerAttributes(queueName, jobIds) },
    parent,
  );
  const traceContext: TraceCarrier = {};
  propagation.inject(trace.setSpan(parent, span), traceContext);
  return {
    traceContext,
    end(error?: unknown) {
      if (error !== undefined) recordSpanError(span, error);
      span.end();
    },
  };
}

/** A job taken from a queue, as `consumeJob` needs it. */
export interface ConsumedJob {
  /** The BullMQ queue ("flow-runs.POOL"). */
  queueName: string;
  /** Which kind of queue, for the metrics ("flow-runs" or "task-runs"). */
  queue: "flow-runs" | "task-runs";
  pool: string;
  jobId: string;
  /** When the job became ready to run (ms since the epoch): added, plus its delay. */
  readyAt: number;
  /** When a worker took it (default now). */
  takenAt?: number;
  traceContext?: TraceCarrier;
  /** Whether an error thrown by the processing is a failure (default: every error is). */
  isFailure?: (error: unknown) => boolean;
  /**
   * The processing runs one flow or task run: its run span is made the CONSUMER span (it gets the
   * messaging attributes and the producer's context), instead of a `process` span around it.
   */
  runSpanIsConsumer?: boolean;
}

/** The messaging attributes a run span takes when it is its job's consumer span (the first run span under it). */
const CONSUMED_JOB = createContextKey("sluice.consumed_job");
interface ConsumedJobSpan {
  attributes: Attributes;
  taken: boolean;
}

/** The attributes of a job's CONSUMER span (OpenTelemetry messaging conventions), with its queue wait. */
function consumerAttributes(job: ConsumedJob, waitMs: number): Attributes {
  return {
    "messaging.system": "bullmq",
    "messaging.operation.type": "process",
    "messaging.operation.name": "process",
    "messaging.destination.name": job.queueName,
    "messaging.message.id": job.jobId,
    "sluice.work_pool.name": job.pool,
    "sluice.queue.wait_ms": waitMs,
  };
}

/** What `propagation.inject` writes (W3C trace context and baggage), as one string. */
const carrierKey = (carrier: TraceCarrier | undefined) =>
  carrier ? `${carrier.traceparent} ${carrier.tracestate} ${carrier.baggage}` : "";

/**
 * The context a job's trace context continues. The runs of a chunk job carry the same one: the
 * last one extracted is kept (each extraction parses the header and copies a context).
 */
let lastExtracted: { key: string; context: Context } | undefined;
function producerContext(carrier: TraceCarrier | undefined): Context {
  if (!carrier) return ROOT_CONTEXT;
  const key = carrierKey(carrier);
  if (lastExtracted?.key !== key) lastExtracted = { key, context: propagation.extract(ROOT_CONTEXT, carrier) };
  return lastExtracted.context;
}

/** A job taken: how long it waited, and `runs` more jobs in progress, one fewer at each `done()`. */
function takeJob(job: ConsumedJob, runs: number): { waitMs: number; done: () => void } {
  jobsInProgress[job.queue] += runs;
  return {
    waitMs: Math.max(0, (job.takenAt ?? Date.now()) - job.readyAt),
    done: () => {
      jobsInProgress[job.queue]--;
    },
  };
}

/**
 * Processes a job inside a CONSUMER span, child of the producer's span in the job's trace context
 * (a new trace when it has none), with the time it waited in the queue as `sluice.queue.wait_ms`;
 * the wait also goes to the `sluice_queue_wait_seconds` histogram when metrics are on. With
 * `runSpanIsConsumer` that span is the span of the run the job starts.
 */
export function consumeJob<T>(job: ConsumedJob, process: () => Promise<T>): Promise<T> {
  const { waitMs, done } = takeJob(job, 1);
  recordQueueWait(job.queue, job.pool, waitMs / 1000);
  if (!enabled) return afterSettled(process(), done);
  const parent = producerContext(job.traceContext);
  const attributes = consumerAttributes(job, waitMs);
  if (job.runSpanIsConsumer) {
    const consumed: ConsumedJobSpan = { attributes, taken: false };
    return afterSettled(context.with(parent.setValue(CONSUMED_JOB, consumed), process), done);
  }
  return afterSettled(
    inSpan(`process ${job.queueName}`, SpanKind.CONSUMER, attributes, process, { parent, isFailure: job.isFailure }),
    done,
  );
}

/**
 * Processes the runs of a chunk job, each by `process`, side by side; settles when they all have,
 * with their outcomes in the order of `runs`.
 * The queue wait and the jobs in progress count each run, as if it had its own job. With tracing
 * on, the runs continuing one trace (all of them, for a `.map()`'s chunk) go under one CONSUMER
 * span, `process QUEUE`, child of their producer's span; a run that could not be processed (its
 * promise rejected) marks it failed.
 */
export function consumeChunkJob<R, T>(
  job: ConsumedJob,
  runs: readonly R[],
  traceContextOf: (run: R) => TraceCarrier | undefined,
  process: (run: R) => Promise<T>,
): Promise<PromiseSettledResult<T>[]> {
  const { waitMs, done } = takeJob(job, runs.length);
  const processed = (run: R) => {
    recordQueueWait(job.queue, job.pool, waitMs / 1000);
    return afterSettled(process(run), done);
  };
  if (!enabled) return Promise.allSettled(runs.map(processed));
  const byTrace = new Map<string, { carrier: TraceCarrier | undefined; runs: number[] }>();
  for (const [index, run] of runs.entries()) {
    const carrier = traceContextOf(run);
    const key = carrierKey(carrier);
    const group = byTrace.get(key);
    if (group) group.runs.push(index);
    else byTrace.set(key, { carrier, runs: [index] });
  }
  const groups = [...byTrace.values()].map(({ carrier, runs: indexes }) => {
    const parent = producerContext(carrier);
    const span = tracer().startSpan(
      `process ${job.queueName}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: { ...consumerAttributes(job, waitMs), "sluice.task_run.count": indexes.length },
      },
      parent,
    );
    const inChunkSpan = trace.setSpan(parent, span);
    return Promise.allSettled(
      indexes.map((index) => context.with(inChunkSpan, processed, undefined, runs[index] as R)),
    ).then((settled) => {
      const failed = settled.find((outcome) => outcome.status === "rejected");
      if (failed) recordSpanError(span, failed.reason);
      span.end();
      return { indexes, settled };
    });
  });
  return Promise.all(groups).then((settledGroups) => {
    const outcomes: PromiseSettledResult<T>[] = new Array(runs.length);
    for (const { indexes, settled } of settledGroups)
      for (const [position, index] of indexes.entries()) outcomes[index] = settled[position] as PromiseSettledResult<T>;
    return outcomes;
  });
}

/** The trace id of the active span, if tracing is on and the span is sampled (what a run records). */
export function currentTraceId(): string | undefined {
  if (!enabled) return undefined;
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || (spanContext.traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
  return spanContext.traceId;
}

/** `trace_id` and `span_id` of the active span, for log lines (empty when tracing is off). */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  if (!enabled) return {};
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

/** Names the active HTTP server span after the route (`POST /api/deployments/:id/create_flow_run`). */
export function nameHttpServerSpan(method: string, route: string | undefined): void {
  if (!enabled || !route) return;
  const span = trace.getActiveSpan();
  if (!span) return;
  span.updateName(`${method} ${route}`);
  span.setAttribute("http.route", route);
}
