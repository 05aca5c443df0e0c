/** Deployment schedules in words, as the Deployments page shows them. */
import { describe, expect, it } from "vitest";
import { describeCron, describeInterval, describeSchedule } from "../../src/lib/schedule";

describe("describeSchedule", () => {
  it("says a daily cron in words with its time zone", () => {
    expect(describeSchedule({ cron: "0 6 * * *", timezone: "UTC" })).toBe("At 06:00, every day, UTC");
    expect(describeSchedule({ cron: "30 18 * * *", timezone: "Europe/Paris" })).toBe(
      "At 18:30, every day, Europe/Paris",
    );
  });

  it("keeps cronstrue's words for other crons and assumes UTC without a zone", () => {
    expect(describeCron("0 6 * * 1")).toBe("At 06:00, only on Monday, UTC");
    expect(describeCron("*/5 * * * *", null)).toBe("Every 5 minutes, UTC");
  });

  it("names an invalid cron instead of throwing", () => {
    expect(describeCron("not a cron")).toBe("not a cron (not a valid cron expression)");
  });

  it("says intervals in the largest whole unit", () => {
    expect(describeSchedule({ interval: 900 })).toBe("Every 15 minutes");
    expect(describeInterval(3600)).toBe("Every hour");
    expect(describeInterval(7200)).toBe("Every 2 hours");
    expect(describeInterval(86_400)).toBe("Every day");
    expect(describeInterval(90)).toBe("Every 90 seconds");
  });
});
