import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { appRouter } from "./root.ts";
import { createTRPCContext } from "./trpc.ts";

export const TRPC_ENDPOINT = "/api/trpc";

/**
 * Largest request body accepted: a batch of a few maximum-size job inputs. Checked while the body
 * arrives, so an oversized upload is refused before it is buffered and parsed.
 */
export const MAX_REQUEST_BYTES = 2 * 1024 * 1024;

function payloadTooLarge(limit: number): Response {
  const message = `Request body is larger than ${limit} bytes`;
  const error = {
    message,
    code: TRPC_ERROR_CODES_BY_KEY.PAYLOAD_TOO_LARGE,
    data: { code: "PAYLOAD_TOO_LARGE", httpStatus: 413 },
  };
  return Response.json({ error: { json: error } }, { status: 413 });
}

async function limitBody(req: Request, limit: number): Promise<Request | Response> {
  if (!req.body) return req;
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > limit) {
    await req.body.cancel().catch(() => {});
    return payloadTooLarge(limit);
  }
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      return payloadTooLarge(limit);
    }
    chunks.push(value);
  }
  return new Request(req.url, {
    method: req.method,
    headers: req.headers,
    body: Buffer.concat(chunks),
    signal: req.signal,
  });
}

/**
 * Serves queries and mutations (GET/POST, batched) and subscriptions (GET, server-sent events).
 * tRPC sets the SSE headers itself (text/event-stream; Cache-Control: no-cache, no-transform;
 * X-Accel-Buffering: no), so proxies neither buffer nor compress the stream.
 */
export async function handleTRPCRequest(req: Request, maxBodyBytes = MAX_REQUEST_BYTES): Promise<Response> {
  const limited = await limitBody(req, maxBodyBytes);
  if (limited instanceof Response) return limited;
  return fetchRequestHandler({
    endpoint: TRPC_ENDPOINT,
    req: limited,
    router: appRouter,
    createContext: () => createTRPCContext({ headers: req.headers }),
    onError: ({ error, path, type }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") {
        console.error(`[trpc] ${type} ${path ?? "<no path>"} failed: ${error.message}`, error.cause ?? "");
      }
    },
  });
}
