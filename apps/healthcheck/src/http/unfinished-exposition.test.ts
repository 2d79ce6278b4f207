import { describe, expect, it } from "vitest";
import { unfinishedExposition } from "./unfinished-exposition.js";

describe("unfinishedExposition", () => {
  it("says down for this response only: db_up 0, db_status down, everything else as the registry has it", () => {
    const text = [
      "# HELP db_up 1 if …",
      "# TYPE db_up gauge",
      'db_up{db_name="postgres",db_role="primary",target="orders",env="prod"} 1',
      "# TYPE db_connection_errors_total counter",
      'db_connection_errors_total{db_name="postgres",db_role="primary",target="orders",env="prod"} 7',
      "# TYPE db_status gauge",
      'db_status{db_name="postgres",db_role="primary",target="orders",status="up",env="prod"} 1',
      'db_status{db_name="postgres",db_role="primary",target="orders",status="degraded",env="prod"} 0',
      'db_status{db_name="postgres",db_role="primary",target="orders",status="down",env="prod"} 0',
      'db_status{db_name="postgres",db_role="primary",target="orders",status="unknown",env="prod"} 0',
      "",
    ].join("\n");
    expect(unfinishedExposition(text, "probe did not finish within the scrape timeout (2.5s)\nx")).toBe(
      [
        "# unfinished: probe did not finish within the scrape timeout (2.5s) x",
        "# HELP db_up 1 if …",
        "# TYPE db_up gauge",
        'db_up{db_name="postgres",db_role="primary",target="orders",env="prod"} 0',
        "# TYPE db_connection_errors_total counter",
        'db_connection_errors_total{db_name="postgres",db_role="primary",target="orders",env="prod"} 7',
        "# TYPE db_status gauge",
        'db_status{db_name="postgres",db_role="primary",target="orders",status="up",env="prod"} 0',
        'db_status{db_name="postgres",db_role="primary",target="orders",status="degraded",env="prod"} 0',
        'db_status{db_name="postgres",db_role="primary",target="orders",status="down",env="prod"} 1',
        'db_status{db_name="postgres",db_role="primary",target="orders",status="unknown",env="prod"} 0',
        "",
      ].join("\n"),
    );
  });
});
