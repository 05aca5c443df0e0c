CREATE TABLE "work_queues" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"work_pool_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"concurrency_limit" integer,
	"priority" integer DEFAULT 1 NOT NULL,
	"paused" boolean DEFAULT false NOT NULL,
	"last_polled" timestamp with time zone,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "work_queues_work_pool_id_name_unique" UNIQUE("work_pool_id","name")
);
--> statement-breakpoint
CREATE TABLE "workers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"work_pool_id" uuid NOT NULL,
	"name" text NOT NULL,
	"last_heartbeat_time" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_interval_seconds" integer,
	"status" text DEFAULT 'ONLINE' NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "workers_work_pool_id_name_unique" UNIQUE("work_pool_id","name")
);
--> statement-breakpoint
ALTER TABLE "deployment_schedules" ALTER COLUMN "cron" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "deployment_schedules" ADD COLUMN "interval_seconds" double precision;--> statement-breakpoint
ALTER TABLE "deployment_schedules" ADD COLUMN "anchor_date" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deployment_schedules" ADD COLUMN "parameters" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "deployment_schedules" ADD COLUMN "slug" text;--> statement-breakpoint
ALTER TABLE "deployment_schedules" ADD COLUMN "updated" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "version" text;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "enforce_parameter_schema" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "job_variables" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "flow_runs" ADD COLUMN "idempotency_key" text;--> statement-breakpoint
ALTER TABLE "flow_runs" ADD COLUMN "auto_scheduled" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "flow_runs" ADD COLUMN "empirical_policy" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "flows" ADD COLUMN "tags" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "work_pools" ADD COLUMN "description" text;--> statement-breakpoint
ALTER TABLE "work_pools" ADD COLUMN "base_job_template" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "work_pools" ADD COLUMN "updated" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "work_queues" ADD CONSTRAINT "work_queues_work_pool_id_work_pools_id_fk" FOREIGN KEY ("work_pool_id") REFERENCES "public"."work_pools"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workers" ADD CONSTRAINT "workers_work_pool_id_work_pools_id_fk" FOREIGN KEY ("work_pool_id") REFERENCES "public"."work_pools"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deployments_name_idx" ON "deployments" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "flow_runs_deployment_id_idempotency_key_unique" ON "flow_runs" USING btree ("deployment_id","idempotency_key") WHERE "flow_runs"."idempotency_key" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "flow_runs_deployment_id_auto_scheduled_start_unique" ON "flow_runs" USING btree ("deployment_id","expected_start_time") WHERE "flow_runs"."auto_scheduled";--> statement-breakpoint
CREATE INDEX "flow_runs_scheduled_next_start_idx" ON "flow_runs" USING btree ("next_scheduled_start_time") WHERE "flow_runs"."state_type" = 'SCHEDULED';--> statement-breakpoint
ALTER TABLE "deployment_schedules" ADD CONSTRAINT "deployment_schedules_one_kind" CHECK (("deployment_schedules"."cron" IS NULL) <> ("deployment_schedules"."interval_seconds" IS NULL));--> statement-breakpoint
ALTER TABLE "deployment_schedules" ADD CONSTRAINT "deployment_schedules_interval_positive" CHECK ("deployment_schedules"."interval_seconds" IS NULL OR "deployment_schedules"."interval_seconds" > 0);