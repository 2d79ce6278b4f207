/**
 * Entry of the worker thread behind bcrypt-verifier.ts: answers one comparison per message, so
 * that the CPU a comparison costs (~75 ms at cost 10) never blocks the event loop that answers
 * scrapes and runs probe cycles.
 */
import { parentPort } from "node:worker_threads";
import { answer, type VerifyJob } from "./bcrypt-compare.js";

parentPort?.on("message", (job: VerifyJob) => parentPort!.postMessage(answer(job)));
