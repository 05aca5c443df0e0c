/** A raw BullMQ worker doing no-op jobs: the peer of the throughput benchmark. */
import { Worker } from "bullmq";
import { Redis } from "ioredis";

const [queueName = "raw", prefix = "bench", concurrency = "50"] = process.argv.slice(2);
const connection = new Redis(process.env.SLUICE_REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
const worker = new Worker(queueName, async (job) => job.data.n, {
  connection,
  prefix,
  concurrency: Number(concurrency),
});
process.on("SIGTERM", async () => {
  await worker.close();
  connection.disconnect();
  process.exit(0);
});
