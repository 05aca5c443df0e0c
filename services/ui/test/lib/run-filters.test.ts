/** The flow-runs filters ↔ the URL ↔ the filter body sent to POST /api/flow_runs/filter. */
import { describe, expect, it } from "vitest";
import {
  EMPTY_FILTERS,
  filterBody,
  filterCriteria,
  filtersFromSearch,
  filtersToSearch,
  type RunFilters,
} from "../../src/lib/run-filters";

const FLOW = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
const DEPLOYMENT = "a3bb189e-8bf9-3888-9912-ace4e6543002";

describe("run filters in the URL", () => {
  it("round-trips every filter through the query string", () => {
    const filters: RunFilters = {
      states: ["FAILED", "CRASHED"],
      flowIds: [FLOW],
      deploymentIds: [DEPLOYMENT],
      tags: ["etl", "daily"],
      name: "panda",
      from: "2026-01-01T00:00:00.000Z",
      to: "2026-01-02T00:00:00.000Z",
      sort: "START_TIME_DESC",
    };
    const search = filtersToSearch(filters);
    expect(search.toString()).toBe(
      `state=FAILED%2CCRASHED&flow=${FLOW}&deployment=${DEPLOYMENT}&tag=etl%2Cdaily&name=panda` +
        "&from=2026-01-01T00%3A00%3A00.000Z&to=2026-01-02T00%3A00%3A00.000Z&sort=START_TIME_DESC",
    );
    expect(filtersFromSearch(new URLSearchParams(search.toString()))).toEqual(filters);
  });

  it("writes nothing for no filter, so the plain page has a plain URL", () => {
    expect(filtersToSearch(EMPTY_FILTERS).toString()).toBe("");
    expect(filtersFromSearch(new URLSearchParams(""))).toEqual(EMPTY_FILTERS);
  });

  it("drops what a hand-edited URL gets wrong instead of failing", () => {
    const filters = filtersFromSearch(
      new URLSearchParams("state=failed,bogus&sort=SIDEWAYS&from=yesterday&tag=a&tag=b"),
    );
    expect(filters).toEqual({ ...EMPTY_FILTERS, states: ["FAILED"], tags: ["a", "b"] });
  });
});

describe("run filters as an API filter body", () => {
  it("is Prefect's filter body with sort and pagination", () => {
    const filters: RunFilters = {
      ...EMPTY_FILTERS,
      states: ["COMPLETED"],
      flowIds: [FLOW],
      tags: ["etl"],
      name: "pan",
      from: "2026-01-01T00:00:00.000Z",
    };
    expect(filterBody(filters, { limit: 200, offset: 400 })).toEqual({
      flow_runs: {
        state: { type: { any_: ["COMPLETED"] } },
        tags: { all_: ["etl"] },
        name: { like_: "pan" },
        expected_start_time: { after_: "2026-01-01T00:00:00.000Z" },
      },
      flows: { id: { any_: [FLOW] } },
      sort: "EXPECTED_START_TIME_DESC",
      limit: 200,
      offset: 400,
    });
  });

  it("has no criteria without filters (the count counts every run)", () => {
    expect(filterCriteria(EMPTY_FILTERS)).toEqual({});
    expect(filterCriteria({ ...EMPTY_FILTERS, deploymentIds: [DEPLOYMENT], to: "2026-01-02T00:00:00.000Z" })).toEqual({
      flow_runs: {
        deployment_id: { any_: [DEPLOYMENT] },
        expected_start_time: { before_: "2026-01-02T00:00:00.000Z" },
      },
    });
  });
});
