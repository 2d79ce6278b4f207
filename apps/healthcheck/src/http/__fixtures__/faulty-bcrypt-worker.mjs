// The bcrypt worker (its comparison as built in dist/), with two faults a test asks for by
// password: "crash" kills the worker thread with an uncaught exception, "hang" never answers.
import { parentPort } from "node:worker_threads";
import { answer } from "../../../dist/http/bcrypt-compare.js";

parentPort.on("message", (job) => {
  if (job.password === "crash") throw new Error("worker crashed on purpose");
  if (job.password === "hang") for (;;);
  parentPort.postMessage(answer(job));
});
