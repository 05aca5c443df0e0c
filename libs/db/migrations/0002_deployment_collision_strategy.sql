CREATE TYPE "public"."collision_strategy" AS ENUM('ENQUEUE', 'CANCEL_NEW');--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "collision_strategy" "collision_strategy";