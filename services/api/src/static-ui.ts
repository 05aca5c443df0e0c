/**
 * Serves the monitoring UI (services/ui's production build) at `/`: its files, and index.html for
 * any other GET outside `/api` and `/docs`, so a deep link like /flow-runs/<id> opens the app.
 * Files are looked up per request, so a rebuilt UI is served without a restart.
 * `GET /api/ui/settings` tells the UI what only the server knows (the tracing UI's address).
 */
import { existsSync, statSync } from "node:fs";
import { resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** Where the build lands in this repository (services/ui/dist), next to this package. */
export const DEFAULT_UI_DIR = fileURLToPath(new URL("../../ui/dist", import.meta.url));

export interface StaticUiOptions {
  /** The built UI; when it does not exist, `/` explains how to build it. */
  uiDir: string;
  /** Tracing UI link for a run's trace, with `{trace_id}` where the id goes (e.g. Jaeger's). */
  traceUiUrl?: string;
}

const NOT_UI = /^\/(api|docs|metrics|openapi\.json)(\/|$|\?)/;

export function installStaticUi(app: FastifyInstance, options: StaticUiOptions): void {
  app.get("/api/ui/settings", { schema: { hide: true } }, async () => ({
    trace_ui_url: options.traceUiUrl ?? null,
  }));

  if (!existsSync(options.uiDir)) {
    app.get("/", { schema: { hide: true } }, async (_request, reply) =>
      reply
        .code(404)
        .type("text/plain")
        .send(
          "The Sluice UI is not built: run `npm run build` (or `npm run build -w @sluice/ui`). The API is at /api.",
        ),
    );
    return;
  }
  const root = resolve(options.uiDir);
  // serve: false: only reply.sendFile (safe path handling, ETags); the routing is ours.
  void app.register(fastifyStatic, { root, serve: false });
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = decodeURIComponent(request.url.split("?", 1)[0] ?? "/");
    if (NOT_UI.test(path)) return reply.code(404).send({ detail: "Not Found" });
    const file = path.replace(/^\/+/, "");
    if (file && isFileUnder(root, file)) {
      // Hashed asset names never change content; anything else is revalidated.
      const immutable = file.startsWith("assets/");
      return reply.sendFile(file, { maxAge: immutable ? "365d" : 0, immutable });
    }
    return reply.header("cache-control", "no-cache").sendFile("index.html", { maxAge: 0 });
  };
  app.get("/", { schema: { hide: true } }, handler);
  app.get("/*", { schema: { hide: true } }, handler);
}

function isFileUnder(root: string, file: string): boolean {
  const full = resolve(root, file);
  if (!full.startsWith(root + sep)) return false;
  try {
    return statSync(full).isFile();
  } catch {
    return false;
  }
}
