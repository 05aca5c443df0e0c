CREATE TABLE "deleted_flow_runs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"deleted" timestamp with time zone DEFAULT now() NOT NULL
);
