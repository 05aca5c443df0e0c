/** Typed HTTP client of Sluice's (Prefect-compatible) REST API, for the CLI, deploy scripts and tests. */
// The errors module alone: the client also runs in the browser (the UI), where the index's node:crypto cannot.
import { SluiceError } from "@sluice/core/errors";
import type {
  ApiConcurrencyLimit,
  ApiDeployment,
  ApiFlow,
  ApiFlowRun,
  ApiHistoryBucket,
  ApiLog,
  ApiRunState,
  ApiTaskRun,
  ApiWorker,
  ApiWorkPool,
  ApiWorkPoolHealth,
  OrchestrationResult,
} from "./types.js";

/** A non-2xx answer: the status and FastAPI-style `detail`. */
export class ApiError extends SluiceError {
  constructor(
    readonly status: number,
    readonly detail: unknown,
    readonly path: string,
  ) {
    super(status === 404 ? "NOT_FOUND" : "INVALID_INPUT", `${path} answered ${status}: ${describeDetail(detail)}`);
  }
}

function describeDetail(detail: unknown): string {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item: { loc?: unknown[]; msg?: string }) => `${(item.loc ?? []).join(".")}: ${item.msg ?? ""}`)
      .join("; ");
  }
  return JSON.stringify(detail);
}

export interface ClientOptions {
  /** Base URL including `/api`, e.g. http://127.0.0.1:4200/api */
  apiUrl: string;
  apiKey?: string;
  /** Per-request timeout. */
  timeoutMs?: number;
}

export class SluiceClient {
  private readonly base: string;

  constructor(private readonly options: ClientOptions) {
    this.base = options.apiUrl.replace(/\/+$/, "");
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new SluiceError(
        "UNAVAILABLE",
        `Cannot reach the Sluice API at ${this.base} (${(error as Error).message}): start it with \`npx sluice server start\` or set SLUICE_API_URL`,
        { cause: error },
      );
    }
    const text = await response.text();
    const data = text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok) throw new ApiError(response.status, (data as { detail?: unknown })?.detail ?? text, path);
    return data as T;
  }

  health(): Promise<boolean> {
    return this.request("GET", "/health");
  }

  createFlow(name: string): Promise<ApiFlow> {
    return this.request("POST", "/flows/", { name });
  }

  readFlow(id: string): Promise<ApiFlow> {
    return this.request("GET", `/flows/${id}`);
  }

  createDeployment(body: Record<string, unknown>): Promise<ApiDeployment> {
    return this.request("POST", "/deployments/", body);
  }

  readDeployment(id: string): Promise<ApiDeployment> {
    return this.request("GET", `/deployments/${id}`);
  }

  readDeploymentByName(flowName: string, deploymentName: string): Promise<ApiDeployment> {
    return this.request(
      "GET",
      `/deployments/name/${encodeURIComponent(flowName)}/${encodeURIComponent(deploymentName)}`,
    );
  }

  filterDeployments(body: Record<string, unknown> = {}): Promise<ApiDeployment[]> {
    return this.request("POST", "/deployments/filter", body);
  }

  pauseDeployment(id: string): Promise<void> {
    return this.request("POST", `/deployments/${id}/pause_deployment`, {});
  }

  resumeDeployment(id: string): Promise<void> {
    return this.request("POST", `/deployments/${id}/resume_deployment`, {});
  }

  createFlowRunFromDeployment(id: string, body: Record<string, unknown> = {}): Promise<ApiFlowRun> {
    return this.request("POST", `/deployments/${id}/create_flow_run`, body);
  }

  readFlowRun(id: string): Promise<ApiFlowRun> {
    return this.request("GET", `/flow_runs/${id}`);
  }

  filterFlowRuns(body: Record<string, unknown> = {}): Promise<ApiFlowRun[]> {
    return this.request("POST", "/flow_runs/filter", body);
  }

  setFlowRunState(id: string, state: { type: string; name?: string; message?: string }, force = false) {
    return this.request<OrchestrationResult>("POST", `/flow_runs/${id}/set_state`, { state, force });
  }

  countFlowRuns(body: Record<string, unknown> = {}): Promise<number> {
    return this.request("POST", "/flow_runs/count", body);
  }

  /** Flow runs counted per time bucket and state (by expected start time). */
  flowRunHistory(body: {
    history_start: string;
    history_end: string;
    history_interval_seconds: number;
  }): Promise<ApiHistoryBucket[]> {
    return this.request("POST", "/flow_runs/history", body);
  }

  /** A flow run's states, oldest first (a Completed state's data is the result). */
  readFlowRunStates(flowRunId: string): Promise<ApiRunState[]> {
    return this.request("GET", `/flow_run_states/?flow_run_id=${encodeURIComponent(flowRunId)}`);
  }

  readTaskRunStates(taskRunId: string): Promise<ApiRunState[]> {
    return this.request("GET", `/task_run_states/?task_run_id=${encodeURIComponent(taskRunId)}`);
  }

  readTaskRun(id: string): Promise<ApiTaskRun> {
    return this.request("GET", `/task_runs/${id}`);
  }

  filterFlows(body: Record<string, unknown> = {}): Promise<ApiFlow[]> {
    return this.request("POST", "/flows/filter", body);
  }

  filterTaskRuns(body: Record<string, unknown> = {}): Promise<ApiTaskRun[]> {
    return this.request("POST", "/task_runs/filter", body);
  }

  filterLogs(body: Record<string, unknown> = {}): Promise<ApiLog[]> {
    return this.request("POST", "/logs/filter", body);
  }

  createWorkPool(body: { name: string; type?: string; concurrency_limit?: number | null }): Promise<ApiWorkPool> {
    return this.request("POST", "/work_pools/", body);
  }

  /** PATCH: the fields given change (`concurrency_limit: null` removes the limit). */
  updateWorkPool(
    name: string,
    body: { concurrency_limit?: number | null; is_paused?: boolean; description?: string | null },
  ): Promise<void> {
    return this.request("PATCH", `/work_pools/${encodeURIComponent(name)}`, body);
  }

  /** PATCH a work queue of a pool (`concurrency_limit: null` removes its limit). */
  updateWorkQueue(
    workPoolName: string,
    queueName: string,
    body: { concurrency_limit?: number | null; is_paused?: boolean; priority?: number },
  ): Promise<void> {
    return this.request(
      "PATCH",
      `/work_pools/${encodeURIComponent(workPoolName)}/queues/${encodeURIComponent(queueName)}`,
      body,
    );
  }

  readWorkPool(name: string): Promise<ApiWorkPool> {
    return this.request("GET", `/work_pools/${encodeURIComponent(name)}`);
  }

  readWorkPoolHealth(name: string): Promise<ApiWorkPoolHealth> {
    return this.request("GET", `/work_pools/${encodeURIComponent(name)}/health`);
  }

  filterWorkPools(body: Record<string, unknown> = {}): Promise<ApiWorkPool[]> {
    return this.request("POST", "/work_pools/filter", body);
  }

  workerHeartbeat(workPoolName: string, body: { name: string; heartbeat_interval_seconds?: number }): Promise<void> {
    return this.request("POST", `/work_pools/${encodeURIComponent(workPoolName)}/workers/heartbeat`, body);
  }

  filterWorkers(workPoolName: string): Promise<ApiWorker[]> {
    return this.request("POST", `/work_pools/${encodeURIComponent(workPoolName)}/workers/filter`, {});
  }

  createConcurrencyLimit(tag: string, concurrencyLimit: number): Promise<ApiConcurrencyLimit> {
    return this.request("POST", "/concurrency_limits/", { tag, concurrency_limit: concurrencyLimit });
  }

  readConcurrencyLimit(tag: string): Promise<ApiConcurrencyLimit> {
    return this.request("GET", `/concurrency_limits/tag/${encodeURIComponent(tag)}`);
  }

  filterConcurrencyLimits(body: Record<string, unknown> = {}): Promise<ApiConcurrencyLimit[]> {
    return this.request("POST", "/concurrency_limits/filter", body);
  }

  resetConcurrencyLimit(tag: string): Promise<ApiConcurrencyLimit> {
    return this.request("POST", `/concurrency_limits/tag/${encodeURIComponent(tag)}/reset`, {});
  }

  deleteConcurrencyLimit(tag: string): Promise<void> {
    return this.request("DELETE", `/concurrency_limits/tag/${encodeURIComponent(tag)}`);
  }
}
