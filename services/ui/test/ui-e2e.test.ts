/**
 * The monitoring UI in a real browser (Debian's Chromium through playwright-core) against a real
 * server (`sluice server start` serving the built UI), real workers and real runs, on this test's
 * own database and Redis prefix. Every page is screenshotted into test-results/screenshots.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SluiceClient } from "@sluice/client";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSluice } from "../../../examples/test/run-cli.js";
import { startTestCluster, type TestCluster, waitFor } from "../../cli/test/cluster-processes.js";
import { accessibilityViolations, launchChromium, openPage, screenshot, type WatchedPage } from "./browser.js";
import { ensureUiBuilt } from "./ui-build.js";

const TIMEOUT = 30_000;
let cluster: TestCluster;
let client: SluiceClient;
let browser: Browser;
let base: string;
const pages: WatchedPage[] = [];
/** What axe-core found wrong on each page captured ("page › rule: target"). */
const accessibility: string[] = [];

/** Screenshots the page and audits its accessibility (labels, contrast, …) as it is now. */
async function capture(tab: Page, name: string): Promise<void> {
  await screenshot(tab, name);
  accessibility.push(...(await accessibilityViolations(tab)).map((violation) => `${name} › ${violation}`));
}

async function page(): Promise<Page> {
  const watched = await openPage(browser);
  pages.push(watched);
  return watched.page;
}

function origin(cluster: TestCluster): string {
  return (cluster.env.SLUICE_API_URL as string).replace(/\/api$/, "");
}

async function deploymentId(flowName: string, name: string): Promise<string> {
  return (await client.readDeploymentByName(flowName, name)).id;
}

beforeAll(async () => {
  ensureUiBuilt();
  [cluster, browser] = await Promise.all([startTestCluster(), launchChromium()]);
  client = cluster.client;
  base = origin(cluster);
  const etlWorker = cluster.worker("ui-etl-worker");
  const demoWorker = cluster.worker("ui-demo-worker", { pool: "ui-test-pool", flows: "services/ui/test/flows" });
  for (const script of ["examples/flows/deploy.ts", "services/ui/test/flows/deploy.ts"]) {
    const deployed = await runSluice(["deploy", script], cluster.env);
    expect(deployed.stderr).toBe("");
    expect(deployed.code).toBe(0);
  }
  await waitFor("the workers", async () =>
    [etlWorker, demoWorker].every((worker) => worker.output().includes("started")),
  );
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await cluster?.close();
});

describe("monitoring UI", () => {
  it("shows the ETL run Completed on the dashboard, its three task runs on the timeline and its logs", async () => {
    const run = await client.createFlowRunFromDeployment(await deploymentId("ETL Pipeline", "daily-etl"));
    await waitFor("the ETL run Completed", async () => (await client.readFlowRun(run.id)).state_name === "Completed");

    const tab = await page();
    await tab.goto(`${base}/`);
    const latest = tab.getByRole("region", { name: "Latest runs" });
    const row = latest.getByRole("listitem").filter({ hasText: run.name });
    await row.getByText("Completed").waitFor({ timeout: TIMEOUT });
    await tab.getByRole("img", { name: /Bar chart of flow runs/ }).waitFor();
    await tab.getByRole("region", { name: "Work pools" }).getByRole("cell", { name: "default-agent-pool" }).waitFor();
    await capture(tab, "dashboard");

    await row.getByRole("link", { name: run.name }).click();
    await tab.getByRole("heading", { level: 1, name: new RegExp(run.name) }).waitFor();
    const timeline = tab.getByRole("figure", { name: /timeline/ });
    for (const name of ["extract_data", "transform_data", "load_data"]) {
      await timeline.getByRole("link", { name: new RegExp(`^${name}`) }).waitFor({ timeout: TIMEOUT });
    }
    expect(await timeline.getByRole("listitem").count()).toBe(3);
    const logs = tab.getByRole("list", { name: "Log lines" });
    await logs.getByText(/Extracting data from/).waitFor({ timeout: TIMEOUT });
    await logs.getByText(/Pipeline complete: 10 rows loaded into users/).waitFor({ timeout: TIMEOUT });
    await tab.getByRole("searchbox", { name: "Search" }).fill("PIPELINE COMPLETE");
    await expect.poll(() => logs.getByRole("listitem").count(), { timeout: TIMEOUT }).toBe(1);
    await logs.getByText(/Pipeline complete: 10 rows loaded into users/).waitFor();
    await tab.getByRole("searchbox", { name: "Search" }).fill("");
    await logs.getByText(/Extracting data from/).waitFor({ timeout: TIMEOUT });
    await tab.getByRole("region", { name: "State history" }).getByText("Running").waitFor();
    await capture(tab, "flow-run");

    await timeline.getByRole("link", { name: /^extract_data/ }).click();
    await tab.getByRole("heading", { level: 1, name: /extract_data/ }).waitFor();
    await tab.getByRole("region", { name: "States and attempts" }).getByText("Completed").waitFor();
    await capture(tab, "task-run");
  }, 90_000);

  it("runs a deployment from its page with a changed parameter and follows it Running → Completed live", async () => {
    const tab = await page();
    await tab.goto(`${base}/deployments`);
    await tab.getByRole("link", { name: "ui-demo" }).click();
    await tab.getByRole("heading", { level: 1, name: /ui-demo/ }).waitFor();
    await capture(tab, "deployment");
    const seconds = tab.getByLabel("seconds");
    expect(await seconds.inputValue()).toBe("1");
    await seconds.fill("-1");
    await tab.getByRole("button", { name: "Run" }).click();
    // The API's 422 detail, shown by the field.
    await tab.locator("#param-seconds-error").waitFor({ timeout: TIMEOUT });
    await seconds.fill("5"); // long enough to see Running on a slow machine
    await tab.getByLabel("label").fill("from the browser");
    await tab.getByRole("button", { name: "Run" }).click();

    await tab.waitForURL(/\/flow-runs\/[0-9a-f-]{36}$/);
    const id = tab.url().split("/").pop() as string;
    const badge = tab.locator(".page-title .state-badge");
    await tab.locator(".page-title .state-badge", { hasText: "Running" }).waitFor({ timeout: TIMEOUT });
    const navigations: string[] = [];
    tab.on("framenavigated", (frame) => navigations.push(frame.url()));
    await tab.locator(".page-title .state-badge", { hasText: "Completed" }).waitFor({ timeout: TIMEOUT });
    expect(navigations).toEqual([]); // no reload: the page followed the run through its events
    expect(await badge.textContent()).toBe("Completed");
    const timeline = tab.getByRole("figure", { name: /timeline/ });
    await timeline.getByRole("link", { name: /^nap/ }).waitFor();
    expect((await client.readFlowRun(id)).parameters).toMatchObject({ seconds: 5, label: "from the browser" });
    expect(await tab.getByRole("region", { name: "Parameters" }).textContent()).toContain('"seconds": 5');

    // The subflow is on the timeline and opens as a flow run of its own, with its task and logs.
    await timeline.getByRole("listitem").filter({ hasText: "(subflow)" }).getByRole("link").click();
    await tab.getByRole("heading", { level: 1 }).filter({ hasText: "Wrap up" }).waitFor();
    await tab
      .getByRole("figure", { name: /timeline/ })
      .getByRole("link", { name: /^finish/ })
      .waitFor();
    await tab
      .getByRole("list", { name: "Log lines" })
      .getByText("Finished FROM THE BROWSER")
      .waitFor({ timeout: TIMEOUT });
  }, 90_000);

  it("cancels a running flow run", async () => {
    const run = await client.createFlowRunFromDeployment(await deploymentId("UI Demo", "ui-demo"), {
      parameters: { seconds: 120 },
    });
    const tab = await page();
    await tab.goto(`${base}/flow-runs/${run.id}`);
    await tab.locator(".page-title .state-badge", { hasText: "Running" }).waitFor({ timeout: TIMEOUT });
    await tab.getByRole("button", { name: "Cancel" }).click();
    await tab.locator(".page-title .state-badge", { hasText: "Cancelled" }).waitFor({ timeout: TIMEOUT });
    await tab.getByRole("button", { name: "Retry" }).waitFor();
    expect((await client.readFlowRun(run.id)).state_name).toBe("Cancelled");
  }, 60_000);

  it("pauses a deployment and its next runs disappear", async () => {
    const id = await deploymentId("ETL Pipeline", "daily-etl");
    const tab = await page();
    await tab.goto(`${base}/deployments/${id}`);
    await tab.getByText("At 06:00, every day, UTC").first().waitFor();
    const nextRuns = tab.getByRole("list", { name: "Next runs" });
    await nextRuns.getByRole("listitem").first().waitFor({ timeout: TIMEOUT });
    await tab.getByRole("button", { name: "Pause" }).click();
    // Polled as text, so that a failure shows what the page had instead (runs still listed, an error).
    const nextRunsSection = tab.getByRole("region", { name: "Next runs" });
    await expect
      .poll(() => tab.locator(".page-title .state-badge").first().textContent(), { timeout: TIMEOUT })
      .toBe("Paused");
    await expect
      .poll(() => nextRunsSection.textContent(), { timeout: TIMEOUT })
      .toContain("No upcoming runs: the deployment is paused");
    expect(await nextRuns.count()).toBe(0);
    await tab.getByRole("button", { name: "Resume" }).click();
    await tab.getByText("No upcoming runs yet: the scheduler adds them shortly").waitFor({ timeout: TIMEOUT });
    // The scheduler's new runs appear without a reload (it announces them on the event stream).
    const navigations: string[] = [];
    tab.on("framenavigated", (frame) => navigations.push(frame.url()));
    await nextRuns.getByRole("listitem").first().waitFor({ timeout: TIMEOUT });
    expect(navigations).toEqual([]);
  }, 60_000);

  it("lists, filters and sorts flow runs with the filters in the URL, and shows the other pages", async () => {
    const tab = await page();
    // From the dashboard to the flow runs by keyboard alone.
    await tab.goto(`${base}/`);
    await tab.getByRole("heading", { name: "Dashboard" }).waitFor();
    for (let presses = 0; presses < 15; presses++) {
      await tab.keyboard.press("Tab");
      if ((await tab.evaluate(() => document.activeElement?.textContent)) === "Flow runs") break;
    }
    await tab.keyboard.press("Enter");
    await tab.waitForURL(/\/flow-runs$/);
    await tab.getByRole("table", { name: "Flow runs" }).waitFor();
    await tab.getByLabel("State").selectOption("CANCELLED");
    await tab.waitForURL(/state=CANCELLED/);
    const rows = tab.getByRole("table", { name: "Flow runs" }).getByRole("row");
    await expect.poll(() => rows.count(), { timeout: TIMEOUT }).toBe(2); // the header and the cancelled run
    await capture(tab, "flow-runs");
    // A shared link opens the same view.
    const shared = await page();
    await shared.goto(tab.url());
    await shared.getByRole("table", { name: "Flow runs" }).getByText("Cancelled").waitFor();
    expect(await shared.getByLabel("State").inputValue()).toBe("CANCELLED");

    await tab.getByRole("link", { name: "Flows", exact: true }).click();
    await tab.getByRole("link", { name: "ETL Pipeline" }).waitFor();
    await capture(tab, "flows");
    await tab.getByRole("link", { name: "Work pools" }).click();
    await tab.getByRole("heading", { name: /ui-test-pool/ }).waitFor();
    await tab.getByRole("cell", { name: "ui-demo-worker" }).waitFor();
    await capture(tab, "work-pools");
    await tab.getByRole("link", { name: "Concurrency limits" }).click();
    await tab.getByText("No tag limits").waitFor();
    await tab.getByLabel("Tag").fill("warehouse");
    await tab.getByRole("spinbutton", { name: "Limit" }).fill("3");
    await tab.getByRole("button", { name: "Create limit" }).click();
    await tab.getByRole("cell", { name: "0 / 3" }).waitFor({ timeout: TIMEOUT });
    await capture(tab, "concurrency-limits");
    await tab.getByRole("button", { name: "Delete the limit of tag warehouse" }).click();
    await tab.getByText("No tag limits").waitFor({ timeout: TIMEOUT });
    await tab.goto(`${base}/deployments`);
    await tab.getByText("At 06:00, every day, UTC").waitFor();
    await capture(tab, "deployments");
    const dark = await openPage(browser, "dark");
    pages.push(dark);
    await dark.page.goto(`${base}/`);
    await dark.page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await capture(dark.page, "dashboard-dark");
  }, 90_000);

  it("logged no console error on any page", () => {
    // The one error the tests provoke: the API's 422 for the invalid parameter.
    const provoked = /status of 422/;
    expect(pages.flatMap((watched) => watched.errors).filter((error) => !provoked.test(error))).toEqual([]);
  });

  it("has every page accessible: labelled controls, sufficient contrast (light and dark), WCAG 2 AA", () => {
    expect(accessibility).toEqual([]);
  });
});

describe("monitoring UI with an API key and a tracing UI", () => {
  let secured: TestCluster;
  let collector: Server;

  beforeAll(async () => {
    // Where the server's spans go (OTLP/HTTP); only the trace ids they get matter here.
    collector = createServer((request, response) => {
      request.resume();
      request.on("end", () => response.writeHead(200, { "content-type": "application/json" }).end("{}"));
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    const { port } = collector.address() as AddressInfo;
    secured = await startTestCluster(["server", "start"], {
      SLUICE_API_KEY: "s3cret-key",
      SLUICE_TRACE_UI_URL: "http://jaeger.test:16686/trace/{trace_id}",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    });
  }, 60_000);
  afterAll(async () => {
    await secured?.close();
    collector?.close();
  });

  it("asks for the key, refuses a wrong one clearly, and logs in and out", async () => {
    const { page: tab, errors } = await openPage(browser);
    await tab.goto(`${origin(secured)}/flow-runs`);
    const key = tab.getByLabel("API key");
    await key.fill("wrong-key");
    await tab.getByRole("button", { name: "Log in" }).click();
    await tab
      .getByRole("alert")
      .getByText(/refused this API key/)
      .waitFor();
    await screenshot(tab, "login");
    expect(await accessibilityViolations(tab)).toEqual([]);
    await key.fill("s3cret-key");
    await tab.getByRole("button", { name: "Log in" }).click();
    await tab.getByRole("heading", { name: "Flow runs" }).waitFor();
    await tab.getByText(/No flow runs yet/).waitFor();
    await tab.getByRole("link", { name: "Dashboard" }).click();
    await tab.getByRole("heading", { name: "Dashboard" }).waitFor();
    await tab.getByRole("status").filter({ hasText: "Live" }).first().waitFor({ timeout: TIMEOUT }); // SSE with the key
    await tab.reload(); // the key is kept
    await tab.getByRole("heading", { name: "Dashboard" }).waitFor();
    await tab.getByRole("button", { name: "Log out" }).click();
    await tab.getByLabel("API key").waitFor();
    // Only the refused requests (the first visit and the wrong key) are logged, as 401s.
    expect(errors.filter((error) => !error.includes("401"))).toEqual([]);
  }, 60_000);

  it("links a traced run to its trace in the tracing UI", async () => {
    const api = new SluiceClient({ apiUrl: secured.env.SLUICE_API_URL as string, apiKey: "s3cret-key" });
    const flow = await api.createFlow("Traced");
    const deployment = await api.createDeployment({ name: "traced", flow_id: flow.id, entrypoint: "traced.ts:traced" });
    const run = await api.createFlowRunFromDeployment(deployment.id);
    expect(run.trace_id).toMatch(/^[0-9a-f]{32}$/);

    const { page: tab } = await openPage(browser);
    await tab.goto(`${origin(secured)}/flow-runs/${run.id}`);
    await tab.getByLabel("API key").fill("s3cret-key");
    await tab.getByRole("button", { name: "Log in" }).click();
    const link = tab.getByRole("link", { name: "Open the trace" });
    await link.waitFor({ timeout: TIMEOUT });
    expect(await link.getAttribute("href")).toBe(`http://jaeger.test:16686/trace/${run.trace_id}`);
  }, 60_000);
});
