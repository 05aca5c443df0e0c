/** Names by id for flows and deployments: run rows carry ids, people read names. */
import type { ApiDeployment, ApiFlow } from "@sluice/client";
import { useQuery } from "@tanstack/react-query";
import { useSession } from "./session";

/** Pages of 200 (the API's maximum) until all are read: lists of flows and deployments stay short. */
async function readAll<T>(page: (offset: number) => Promise<T[]>): Promise<T[]> {
  const all: T[] = [];
  for (let offset = 0; ; offset += 200) {
    const rows = await page(offset);
    all.push(...rows);
    if (rows.length < 200) return all;
  }
}

export function useFlows() {
  const { client } = useSession();
  return useQuery({
    queryKey: ["flows"],
    queryFn: () => readAll((offset) => client.filterFlows({ sort: "NAME_ASC", limit: 200, offset })),
  });
}

export function useDeployments() {
  const { client } = useSession();
  return useQuery({
    queryKey: ["deployments"],
    queryFn: () => readAll((offset) => client.filterDeployments({ sort: "NAME_ASC", limit: 200, offset })),
  });
}

export function useFlowNames(): Map<string, string> {
  const flows = useFlows();
  return new Map((flows.data ?? []).map((flow: ApiFlow) => [flow.id, flow.name]));
}

export function useDeploymentNames(): Map<string, string> {
  const deployments = useDeployments();
  return new Map((deployments.data ?? []).map((deployment: ApiDeployment) => [deployment.id, deployment.name]));
}
