/**
 * A stand-in for an OpenTelemetry collector: an OTLP/HTTP receiver in the bench process that takes
 * `POST /v1/traces`, counts the requests and their bytes, and answers as a collector does (200, an
 * empty protobuf `ExportTraceServiceResponse`) without decoding anything, so receiving costs the
 * benchmark next to nothing while the traced processes pay the whole cost of exporting.
 */
import { createServer } from "node:http";

/** What the receiver has been sent so far. */
export interface Received {
  /** `POST /v1/traces` requests (each one batch of spans). */
  requests: number;
  /** Their bodies' bytes, as sent (protobuf, uncompressed unless the exporter compresses). */
  bytes: number;
}

export interface OtlpReceiver {
  /** OTEL_EXPORTER_OTLP_ENDPOINT for the processes exporting to it. */
  endpoint: string;
  received(): Received;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: Received = { requests: 0, bytes: 0 };
  const server = createServer((request, response) => {
    const traces = request.method === "POST" && request.url?.split("?")[0] === "/v1/traces";
    let bytes = 0;
    request.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
    });
    request.on("end", () => {
      if (traces) {
        received.requests++;
        received.bytes += bytes;
      }
      response.writeHead(traces ? 200 : 404, { "content-type": "application/x-protobuf", "content-length": 0 });
      response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    received: () => ({ ...received }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** "12 requests, 3.4 MB". */
export const describeReceived = ({ requests, bytes }: Received) =>
  `${requests.toLocaleString("en-US")} requests, ${(bytes / 1_000_000).toFixed(bytes < 100_000 ? 3 : 1)} MB`;
