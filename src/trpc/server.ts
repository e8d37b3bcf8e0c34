import "server-only";
import { headers } from "next/headers";
import { cache } from "react";
import { createCaller } from "../server/api/root.ts";
import { createTRPCContext } from "../server/api/trpc.ts";

// One context per request; reading the headers also marks the calling page as rendered per request.
const createContext = cache(async () => {
  const requestHeaders = new Headers(await headers());
  requestHeaders.set("x-trpc-source", "rsc");
  return createTRPCContext({ headers: requestHeaders });
});

/** The API for Server Components, called in-process: `await api.job.list({ status: "RUNNING" })`. */
export const api = createCaller(createContext);
