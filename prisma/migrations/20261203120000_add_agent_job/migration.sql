-- CreateEnum
CREATE TYPE "AgentJobType" AS ENUM ('RESEARCH', 'OUTREACH', 'ENRICHMENT');

-- CreateEnum
CREATE TYPE "AgentJobStatus" AS ENUM ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED');

-- CreateTable
CREATE TABLE "AgentJob" (
    "id" TEXT NOT NULL,
    "type" "AgentJobType" NOT NULL,
    "status" "AgentJobStatus" NOT NULL DEFAULT 'PENDING',
    "input" JSONB NOT NULL,
    "output" JSONB,
    "logs" JSONB[] DEFAULT ARRAY[]::JSONB[],
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "maxAttempts" INTEGER NOT NULL DEFAULT 1,
    "progress" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "idempotencyKey" TEXT,
    "cancelRequestedAt" TIMESTAMP(3),
    "seq" BIGSERIAL NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "AgentJob_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "AgentJob_idempotencyKey_key" ON "AgentJob"("idempotencyKey");

-- CreateIndex
CREATE INDEX "AgentJob_status_createdAt_idx" ON "AgentJob"("status", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "AgentJob_type_createdAt_idx" ON "AgentJob"("type", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "AgentJob_createdAt_idx" ON "AgentJob"("createdAt" DESC);

-- CreateIndex
CREATE INDEX "AgentJob_seq_idx" ON "AgentJob"("seq");

-- Change feed (not expressible in schema.prisma): every write moves the row to the end of the
-- feed, so "seq > last seen" is exactly what a reconnecting dashboard missed, whichever process
-- or raw SQL statement made the change.
CREATE FUNCTION "AgentJob_bump_seq"() RETURNS trigger AS $$
BEGIN
    NEW."seq" := nextval(pg_get_serial_sequence('"AgentJob"', 'seq'));
    NEW."updatedAt" := CURRENT_TIMESTAMP;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "AgentJob_bump_seq" BEFORE UPDATE ON "AgentJob"
    FOR EACH ROW EXECUTE FUNCTION "AgentJob_bump_seq"();
