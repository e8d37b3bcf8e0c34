import type { JobHandlers } from "../../src/lib/agents/job-types.ts";
import { enrichmentHandler } from "./enrichment.ts";
import { outreachHandler } from "./outreach.ts";
import { researchHandler } from "./research.ts";

export const handlers: JobHandlers = {
  RESEARCH: researchHandler,
  OUTREACH: outreachHandler,
  ENRICHMENT: enrichmentHandler,
};
