-- Custom SQL migration file, put your code below! --
-- Cached results and queued task runs' big arguments and results are megabytes (an ETL step's
-- whole batch), written on the run's path: lz4 compresses them several times faster than the
-- default pglz. A server built without lz4 (PGlite) keeps pglz.
DO $$
BEGIN
  ALTER TABLE "task_cache" ALTER COLUMN "result" SET COMPRESSION lz4;
  ALTER TABLE "task_run_payloads" ALTER COLUMN "value" SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 is not available: big values keep the default compression';
END $$;
