#!/usr/bin/env node
// The `sluice` command. Sluice and the flows it runs are TypeScript; tsx loads both without a build step.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
