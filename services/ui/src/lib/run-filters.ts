/**
 * The flow-runs table's filters: read from and written to the URL (so a view can be shared), and
 * turned into the body of `POST /api/flow_runs/filter` and `/count`.
 */
import { STATE_TYPES, type StateType } from "@sluice/core/states";

export const RUN_SORTS = [
  "EXPECTED_START_TIME_DESC",
  "EXPECTED_START_TIME_ASC",
  "START_TIME_DESC",
  "START_TIME_ASC",
  "END_TIME_DESC",
  "NAME_ASC",
  "NAME_DESC",
] as const;
export type RunSort = (typeof RUN_SORTS)[number];
export const DEFAULT_SORT: RunSort = "EXPECTED_START_TIME_DESC";

export interface RunFilters {
  states: StateType[];
  flowIds: string[];
  deploymentIds: string[];
  tags: string[];
  /** Part of the run's name. */
  name: string;
  /** Expected start time range (ISO timestamps), either end open. */
  from: string | null;
  to: string | null;
  sort: RunSort;
}

export const EMPTY_FILTERS: RunFilters = {
  states: [],
  flowIds: [],
  deploymentIds: [],
  tags: [],
  name: "",
  from: null,
  to: null,
  sort: DEFAULT_SORT,
};

const list = (params: URLSearchParams, key: string) =>
  params
    .getAll(key)
    .flatMap((value) => value.split(","))
    .map((value) => value.trim())
    .filter(Boolean);

function isoOrNull(value: string | null): string | null {
  if (!value) return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

/** Unknown states, sorts and bad dates in a hand-edited URL are dropped, not errors. */
export function filtersFromSearch(params: URLSearchParams): RunFilters {
  const sort = params.get("sort");
  return {
    states: list(params, "state")
      .map((state) => state.toUpperCase())
      .filter((state): state is StateType => (STATE_TYPES as readonly string[]).includes(state)),
    flowIds: list(params, "flow"),
    deploymentIds: list(params, "deployment"),
    tags: list(params, "tag"),
    name: params.get("name")?.trim() ?? "",
    from: isoOrNull(params.get("from")),
    to: isoOrNull(params.get("to")),
    sort: (RUN_SORTS as readonly string[]).includes(sort ?? "") ? (sort as RunSort) : DEFAULT_SORT,
  };
}

/** Only what differs from no filter, in a stable order, so equal views have equal URLs. */
export function filtersToSearch(filters: RunFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.states.length) params.set("state", filters.states.join(","));
  if (filters.flowIds.length) params.set("flow", filters.flowIds.join(","));
  if (filters.deploymentIds.length) params.set("deployment", filters.deploymentIds.join(","));
  if (filters.tags.length) params.set("tag", filters.tags.join(","));
  if (filters.name) params.set("name", filters.name);
  if (filters.from) params.set("from", filters.from);
  if (filters.to) params.set("to", filters.to);
  if (filters.sort !== DEFAULT_SORT) params.set("sort", filters.sort);
  return params;
}

/** The criteria of a filter body (Prefect's shape), without sort and pagination. */
export function filterCriteria(filters: RunFilters): Record<string, unknown> {
  const flowRuns: Record<string, unknown> = {};
  if (filters.states.length) flowRuns.state = { type: { any_: filters.states } };
  if (filters.deploymentIds.length) flowRuns.deployment_id = { any_: filters.deploymentIds };
  if (filters.tags.length) flowRuns.tags = { all_: filters.tags };
  if (filters.name) flowRuns.name = { like_: filters.name };
  if (filters.from || filters.to) {
    flowRuns.expected_start_time = {
      ...(filters.from ? { after_: filters.from } : {}),
      ...(filters.to ? { before_: filters.to } : {}),
    };
  }
  const body: Record<string, unknown> = {};
  if (Object.keys(flowRuns).length) body.flow_runs = flowRuns;
  if (filters.flowIds.length) body.flows = { id: { any_: filters.flowIds } };
  return body;
}

export function filterBody(filters: RunFilters, page: { limit: number; offset: number }): Record<string, unknown> {
  return { ...filterCriteria(filters), sort: filters.sort, limit: page.limit, offset: page.offset };
}

/** Time range presets of the filter bar: the `from` of "last N hours" at `now`. */
export function sinceHours(hours: number, now: number = Date.now()): string {
  return new Date(now - hours * 3_600_000).toISOString();
}
