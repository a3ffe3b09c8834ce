import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach } from "vitest";

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * An HTTP endpoint that records QStash publish requests (trigger's, and the official SDK's
 * they are compared with) and answers with the shapes QStash returns. It checks the request
 * side of trigger(); deliveries are checked end to end against the dev server.
 */
export async function startRecorder() {
  const requests: Recorded[] = [];
  let next = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      requests.push({ method: req.method!, path: req.url!, headers: req.headers, body });
      const reply =
        req.url === "/v2/batch"
          ? (JSON.parse(body) as unknown[]).map(() => ({ messageId: `msg_${++next}` }))
          : { messageId: `msg_${++next}` };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A recorder for one test file: started before its tests, emptied before each, closed after. */
export function recorderForFile(): Awaited<ReturnType<typeof startRecorder>> {
  const recorder = {} as Awaited<ReturnType<typeof startRecorder>>;
  beforeAll(async () => {
    Object.assign(recorder, await startRecorder());
  });
  beforeEach(() => {
    recorder.requests.length = 0;
  });
  afterAll(() => recorder.close());
  return recorder;
}
