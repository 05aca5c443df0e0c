CREATE TABLE "task_run_payloads" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "task_run_payloads_expires_at_idx" ON "task_run_payloads" USING btree ("expires_at");