import { describe, expect, it } from "vitest";
import { dialectOf, replicaLag, replicaStatusFallback, sessionLimits } from "./mysql-dialect.js";
import { SQL } from "./sql.js";

describe("mysql dialect", () => {
  it("tells MySQL from MariaDB by VERSION(), whatever the number says", () => {
    const versions = {
      "8.0.36": "mysql",
      "8.4.2": "mysql",
      "8.0.36-28": "mysql",
      "10.11.19-MariaDB-0+deb12u1": "mariadb",
      "10.11.19-MariaDB-0+deb12u1-log": "mariadb",
      "5.5.5-10.11.6-MariaDB": "mariadb",
      "11.4.7-MariaDB": "mariadb",
    };
    for (const [version, dialect] of Object.entries(versions)) expect(dialectOf(version), version).toBe(dialect);
    expect(dialectOf(undefined)).toBe("mysql");
  });

  it("sets max_statement_time in seconds on MariaDB and max_execution_time in ms on MySQL, lock waits in whole seconds", () => {
    expect(sessionLimits("mariadb", { readTimeout: 2000, writeTimeout: 2000 })).toEqual({
      sql: "SET SESSION max_statement_time = ?, innodb_lock_wait_timeout = ?, lock_wait_timeout = ?",
      values: [1.8, 1, 1],
    });
    expect(sessionLimits("mysql", { readTimeout: 2000, writeTimeout: 2000 })).toEqual({
      sql: "SET SESSION max_execution_time = ?, innodb_lock_wait_timeout = ?, lock_wait_timeout = ?",
      values: [1800, 1, 1],
    });
    expect(sessionLimits("mariadb", { readTimeout: 1000, writeTimeout: 10_000 }).values).toEqual([9, 8, 8]);
    expect(sessionLimits("mysql", { readTimeout: 30_000, writeTimeout: 5000 }).values).toEqual([27_000, 4, 4]);
    expect(sessionLimits("mysql", { readTimeout: 1234, writeTimeout: 3000 }).values).toEqual([2700, 2, 2]);
    expect(sessionLimits("mysql", { readTimeout: 1235, writeTimeout: 400 }).values).toEqual([1112, 1, 1]);
    expect(sessionLimits("mariadb", { readTimeout: 500, writeTimeout: 400 }).values).toEqual([0.45, 1, 1]);
  });

  it("falls back to SHOW SLAVE STATUS on a syntax error only, and to read_only alone without the privilege", () => {
    expect(replicaStatusFallback(SQL.replicaStatus, 1064)).toBe("slave-spelling");
    expect(replicaStatusFallback(SQL.slaveStatus, 1064)).toBe("error");
    expect(replicaStatusFallback(SQL.replicaStatus, 1227)).toBe("not-allowed");
    expect(replicaStatusFallback(SQL.slaveStatus, 1142)).toBe("not-allowed");
    expect(replicaStatusFallback(SQL.replicaStatus, 2013)).toBe("error");
    expect(replicaStatusFallback(SQL.replicaStatus, undefined)).toBe("error");
  });

  it("takes lag from the heartbeat, else Seconds_Behind_Source/Master, never negative", () => {
    expect(replicaLag(0.4, { Seconds_Behind_Master: "7" })).toBe(0.4);
    expect(replicaLag(undefined, { Seconds_Behind_Master: "7" })).toBe(7);
    expect(replicaLag(undefined, { Seconds_Behind_Source: 3, Seconds_Behind_Master: 9 })).toBe(3);
    expect(replicaLag(undefined, { Seconds_Behind_Master: "0" })).toBe(0);
    expect(replicaLag(-0.2, { Seconds_Behind_Master: "0" })).toBe(0);
    expect(replicaLag(undefined, { Seconds_Behind_Master: null })).toBeUndefined();
    expect(replicaLag(undefined, { Seconds_Behind_Master: "" })).toBeUndefined();
    expect(replicaLag(undefined, undefined)).toBeUndefined();
  });
});
