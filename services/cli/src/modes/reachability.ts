/** Quick checks of whether Redis and Postgres answer, used to choose the run mode. */
import { Redis } from "ioredis";
import pg from "pg";

export async function redisAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    // Its default (2 s) keeps a timer, and so the process, alive after a refused connection.
    disconnectTimeout: 50,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** True when the server answers at all (a missing database is fine: it gets created). */
export async function postgresAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  const target = new URL(url);
  target.pathname = "/postgres";
  const client = new pg.Client({ connectionString: target.toString(), connectionTimeoutMillis: timeoutMs });
  client.on("error", () => {});
  try {
    await client.connect();
    return true;
  } catch (error) {
    // The server answered, but not with a usable maintenance database: still a Postgres.
    return typeof (error as { code?: unknown }).code === "string" && (error as { code: string }).code.length === 5;
  } finally {
    await client.end().catch(() => {});
  }
}
