CREATE TYPE "public"."state_type" AS ENUM('SCHEDULED', 'PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'CANCELLING', 'CRASHED', 'PAUSED');--> statement-breakpoint
CREATE TABLE "concurrency_limits" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tag" text NOT NULL,
	"concurrency_limit" integer NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "concurrency_limits_tag_unique" UNIQUE("tag")
);
--> statement-breakpoint
CREATE TABLE "deployment_schedules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"deployment_id" uuid NOT NULL,
	"cron" text NOT NULL,
	"timezone" text DEFAULT 'UTC' NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deployments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"flow_id" uuid NOT NULL,
	"entrypoint" text,
	"parameters" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"parameter_schema" jsonb,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"work_pool_name" text,
	"work_queue_name" text,
	"paused" boolean DEFAULT false NOT NULL,
	"concurrency_limit" integer,
	"description" text,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "deployments_flow_id_name_unique" UNIQUE("flow_id","name")
);
--> statement-breakpoint
CREATE TABLE "flow_run_states" (
	"id" uuid PRIMARY KEY NOT NULL,
	"flow_run_id" uuid NOT NULL,
	"type" "state_type" NOT NULL,
	"name" text NOT NULL,
	"timestamp" timestamp with time zone NOT NULL,
	"message" text,
	"data" jsonb,
	"run_count" integer DEFAULT 0 NOT NULL,
	"scheduled_time" timestamp with time zone,
	"force" boolean DEFAULT false NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "flow_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"flow_id" uuid NOT NULL,
	"deployment_id" uuid,
	"parent_task_run_id" uuid,
	"parameters" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"expected_start_time" timestamp with time zone,
	"next_scheduled_start_time" timestamp with time zone,
	"start_time" timestamp with time zone,
	"end_time" timestamp with time zone,
	"total_run_time" double precision DEFAULT 0 NOT NULL,
	"run_count" integer DEFAULT 0 NOT NULL,
	"state_id" uuid,
	"state_type" "state_type",
	"state_name" text,
	"state_timestamp" timestamp with time zone,
	"state_message" text,
	"work_pool_name" text,
	"work_queue_name" text,
	"result" jsonb,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"updated" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "flows" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "flows_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "logs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"flow_run_id" uuid,
	"task_run_id" uuid,
	"name" text NOT NULL,
	"level" integer NOT NULL,
	"message" text NOT NULL,
	"timestamp" timestamp with time zone NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "task_cache" (
	"cache_key" text PRIMARY KEY NOT NULL,
	"task_run_id" uuid NOT NULL,
	"result" jsonb,
	"expires_at" timestamp with time zone,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "task_run_states" (
	"id" uuid PRIMARY KEY NOT NULL,
	"task_run_id" uuid NOT NULL,
	"type" "state_type" NOT NULL,
	"name" text NOT NULL,
	"timestamp" timestamp with time zone NOT NULL,
	"message" text,
	"data" jsonb,
	"run_count" integer DEFAULT 0 NOT NULL,
	"scheduled_time" timestamp with time zone,
	"force" boolean DEFAULT false NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "task_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"flow_run_id" uuid,
	"task_key" text NOT NULL,
	"dynamic_key" text NOT NULL,
	"cache_key" text,
	"cache_expiration" timestamp with time zone,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"task_inputs" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"expected_start_time" timestamp with time zone,
	"next_scheduled_start_time" timestamp with time zone,
	"start_time" timestamp with time zone,
	"end_time" timestamp with time zone,
	"total_run_time" double precision DEFAULT 0 NOT NULL,
	"run_count" integer DEFAULT 0 NOT NULL,
	"state_id" uuid,
	"state_type" "state_type",
	"state_name" text,
	"state_timestamp" timestamp with time zone,
	"state_message" text,
	"result" jsonb,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"updated" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "work_pools" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"type" text DEFAULT 'process' NOT NULL,
	"concurrency_limit" integer,
	"paused" boolean DEFAULT false NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "work_pools_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "deployment_schedules" ADD CONSTRAINT "deployment_schedules_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_flow_id_flows_id_fk" FOREIGN KEY ("flow_id") REFERENCES "public"."flows"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deployment_schedules_deployment_id_idx" ON "deployment_schedules" USING btree ("deployment_id");--> statement-breakpoint
CREATE INDEX "flow_run_states_flow_run_id_timestamp_idx" ON "flow_run_states" USING btree ("flow_run_id","timestamp");--> statement-breakpoint
CREATE INDEX "flow_runs_flow_id_idx" ON "flow_runs" USING btree ("flow_id");--> statement-breakpoint
CREATE INDEX "flow_runs_state_type_idx" ON "flow_runs" USING btree ("state_type");--> statement-breakpoint
CREATE INDEX "flow_runs_expected_start_time_idx" ON "flow_runs" USING btree ("expected_start_time" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "flow_runs_parent_task_run_id_idx" ON "flow_runs" USING btree ("parent_task_run_id");--> statement-breakpoint
CREATE INDEX "flow_runs_deployment_id_idx" ON "flow_runs" USING btree ("deployment_id");--> statement-breakpoint
CREATE INDEX "logs_flow_run_id_timestamp_idx" ON "logs" USING btree ("flow_run_id","timestamp");--> statement-breakpoint
CREATE INDEX "logs_task_run_id_timestamp_idx" ON "logs" USING btree ("task_run_id","timestamp");--> statement-breakpoint
CREATE INDEX "task_run_states_task_run_id_timestamp_idx" ON "task_run_states" USING btree ("task_run_id","timestamp");--> statement-breakpoint
CREATE INDEX "task_runs_flow_run_id_idx" ON "task_runs" USING btree ("flow_run_id");--> statement-breakpoint
CREATE INDEX "task_runs_state_type_idx" ON "task_runs" USING btree ("state_type");--> statement-breakpoint
CREATE INDEX "task_runs_expected_start_time_idx" ON "task_runs" USING btree ("expected_start_time" DESC NULLS LAST);