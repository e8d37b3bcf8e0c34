import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { EventSource as EventSourcePonyfill } from "eventsource";
import superjson from "superjson";
import type { AppRouter } from "../server/api/root.ts";

export type AgentEngineClientOptions = {
  /**
   * EventSource used for subscriptions. Default: the global one where it exists (browsers,
   * Node >= 22), else the `eventsource` package (Node 20 has no global EventSource).
   */
  EventSource?: typeof globalThis.EventSource;
  /** Extra headers on queries and mutations. */
  headers?: Record<string, string>;
};

/**
 * A typed client for a running Agent Engine (Node scripts, tests, other services):
 * subscriptions over SSE, everything else batched over HTTP.
 *
 *   const client = createAgentEngineClient("http://localhost:3000");
 *   const job = await client.job.create.mutate({ type: "ENRICHMENT", input: { record: { name: "x" } } });
 */
export function createAgentEngineClient(baseUrl: string, opts: AgentEngineClientOptions = {}) {
  const url = `${baseUrl.replace(/\/+$/, "")}/api/trpc`;
  const EventSource = opts.EventSource ?? globalThis.EventSource ?? (EventSourcePonyfill as unknown as typeof globalThis.EventSource);
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({ url, transformer: superjson, EventSource }),
        false: httpBatchLink({ url, transformer: superjson, headers: () => opts.headers ?? {} }),
      }),
    ],
  });
}

export type AgentEngineClient = ReturnType<typeof createAgentEngineClient>;
