import { handleTRPCRequest } from "../../../../server/api/http-handler.ts";

// Every call reads live data, and subscriptions are long-lived streams: never prerender or cache.
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export function GET(req: Request): Promise<Response> {
  return handleTRPCRequest(req);
}

export function POST(req: Request): Promise<Response> {
  return handleTRPCRequest(req);
}
