import { afterEach, describe, expect, it } from "vitest";
import { type ApiHarness, createDeployment, startApi } from "./support.js";

let api: ApiHarness | undefined;

afterEach(async () => {
  await api?.close();
  api = undefined;
});

const count = async (harness: ApiHarness, table: string) =>
  Number((await harness.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]?.n);

describe("errors", () => {
  it("answers FastAPI-style 422s for invalid bodies and ids, 404s for unknown routes and ids", async () => {
    api = await startApi();
    expect(await api.call("GET", "/api/health")).toMatchObject({ status: 200, text: "true" });

    const missing = await api.call("POST", "/api/flows/", {});
    expect(missing).toMatchObject({
      status: 422,
      body: { detail: [{ loc: ["body", "name"], msg: "Field required", type: "missing" }] },
    });
    const wrongType = await api.call("POST", "/api/deployments/", { name: 5, flow_id: "nope" });
    expect(wrongType.status).toBe(422);
    expect(wrongType.body.detail.map((d: { loc: unknown[] }) => d.loc)).toEqual([
      ["body", "name"],
      ["body", "flow_id"],
    ]);
    expect(wrongType.body.detail[0]).toMatchObject({ type: "string_type", input: 5 });

    const badJson = await api.call("POST", "/api/flows/", "{not json");
    expect(badJson.status).toBe(422);
    expect(badJson.body.detail[0]).toMatchObject({ loc: ["body"], type: "json_invalid" });

    const badId = await api.call("GET", "/api/flow_runs/123");
    expect(badId).toMatchObject({
      status: 422,
      body: { detail: [{ loc: ["path", "id"], msg: "Input should be a valid UUID", type: "uuid_parsing" }] },
    });
    const unknownIds = [
      ["/api/flow_runs/", "Flow run not found"],
      ["/api/task_runs/", "Task run not found"],
      ["/api/deployments/", "Deployment not found"],
      ["/api/flows/", "Flow not found"],
    ];
    for (const [path, detail] of unknownIds) {
      expect(await api.call("GET", `${path}5f8e9a1c-0000-4000-8000-000000000000`)).toMatchObject({
        status: 404,
        body: { detail },
      });
    }
    expect(await api.call("GET", "/api/deployments/name/nope/nope")).toMatchObject({
      status: 404,
      body: { detail: "Deployment not found" },
    });
    expect(await api.call("GET", "/api/nothing-here")).toMatchObject({ status: 404, body: { detail: "Not Found" } });
    expect(await count(api, "flows")).toBe(0);
  });

  it("refuses a body over the limit with 413 and writes nothing", async () => {
    api = await startApi({ bodyLimit: 1024 });
    const big = await api.call("POST", "/api/flows/", { name: "x".repeat(2000) });
    expect(big.status).toBe(413);
    expect(big.body.detail).toMatch(/too large/);
    expect(await count(api, "flows")).toBe(0);
    expect((await api.call("POST", "/api/flows/", { name: "small" })).status).toBe(201);
  });

  it("reads a JSON body sent without a JSON content type", async () => {
    api = await startApi();
    const response = await fetch(`${api.baseUrl}/api/flows/`, { method: "POST", body: '{"name":"form-posted"}' });
    expect(response.status).toBe(201);
    expect(((await response.json()) as { name: string }).name).toBe("form-posted");
  });
});

describe("API key", () => {
  const KEY = "s3cret-key";

  it("needs the bearer key on every route but health and the docs", async () => {
    api = await startApi({ apiKey: KEY });
    expect(await api.call("GET", "/api/health")).toMatchObject({ status: 200, body: true });
    expect((await api.call("GET", "/docs/json")).status).toBe(200);
    expect((await api.call("GET", "/openapi.json")).status).toBe(200);

    const none = await api.call("POST", "/api/flows/", { name: "f" });
    expect(none.status).toBe(401);
    expect(none.body.detail).toMatch(/API key/);
    const wrong = await api.call("POST", "/api/flows/", { name: "f" }, { authorization: "Bearer wrong" });
    expect(wrong.status).toBe(401);
    const notBearer = await api.call("POST", "/api/flows/", { name: "f" }, { authorization: KEY });
    expect(notBearer.status).toBe(401);
    expect((await api.call("POST", "/api/flow_runs/filter", {})).status).toBe(401);
    // A percent-encoded path reaches the same route, so it needs the key as well.
    expect((await api.call("POST", "/%61pi/flow_runs/filter", {})).status).toBe(401);
    expect((await api.call("GET", "/%61pi/nowhere")).status).toBe(401);
    expect(await count(api, "flows")).toBe(0);

    const auth = { authorization: `Bearer ${KEY}` };
    expect((await api.call("POST", "/api/flows/", { name: "f" }, auth)).status).toBe(201);
    expect((await api.call("POST", "/api/flow_runs/filter", {}, auth)).status).toBe(200);
  });
});

describe("OpenAPI", () => {
  it("documents the routes at /docs", async () => {
    api = await startApi();
    const spec = await api.call("GET", "/docs/json");
    expect(spec.status).toBe(200);
    expect(Object.keys(spec.body.paths)).toEqual(
      expect.arrayContaining([
        "/api/health",
        "/api/deployments/{id}/create_flow_run",
        "/api/flow_runs/filter",
        "/api/work_pools/{name}/workers/heartbeat",
      ]),
    );
    const ui = await fetch(`${api.baseUrl}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger/i);
    await createDeployment(api);
  });
});
