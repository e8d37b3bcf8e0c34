import { jobRouter } from "./routers/job.ts";
import { createCallerFactory, router } from "./trpc.ts";

export const appRouter = router({
  job: jobRouter,
});

export type AppRouter = typeof appRouter;

/** Calls procedures in-process (Server Components, tests): `createCaller(createTRPCContext())`. */
export const createCaller = createCallerFactory(appRouter);
