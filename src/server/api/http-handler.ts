import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "./root.ts";
import { createTRPCContext } from "./trpc.ts";

export const TRPC_ENDPOINT = "/api/trpc";

/**
 * Serves queries and mutations (GET/POST, batched) and subscriptions (GET, server-sent events).
 * tRPC sets the SSE headers itself (text/event-stream; Cache-Control: no-cache, no-transform;
 * X-Accel-Buffering: no), so proxies neither buffer nor compress the stream.
 */
export function handleTRPCRequest(req: Request): Promise<Response> {
  return fetchRequestHandler({
    endpoint: TRPC_ENDPOINT,
    req,
    router: appRouter,
    createContext: () => createTRPCContext({ headers: req.headers }),
    onError: ({ error, path, type }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") {
        console.error(`[trpc] ${type} ${path ?? "<no path>"} failed: ${error.message}`, error.cause ?? "");
      }
    },
  });
}
