/** Tasks tagged "warehouse": a tag concurrency limit decides how many run at once. */
import { flow, task } from "@sluice/sdk";

const loadChunk = task({ name: "load_chunk", tags: ["warehouse"] }, async (chunk: number) => {
  await new Promise((resolve) => setTimeout(resolve, 150));
  return chunk;
});

export const warehouseLoad = flow({ name: "Warehouse Load" }, async () => loadChunk.map([1, 2, 3, 4, 5, 6, 7, 8]));
