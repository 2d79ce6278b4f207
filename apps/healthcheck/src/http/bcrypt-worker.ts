/**
 * Entry of the worker thread behind bcrypt-verifier.ts: answers one comparison per message, so
 * that the CPU a comparison costs (~75 ms at cost 10) never blocks the event loop that answers
 * scrapes and runs probe cycles.
 */
import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import { answer, type VerifyJob } from "./bcrypt-compare.js";

// On a busy machine the comparisons must not take the CPU from the event loop: this thread runs
// at a lower priority. Linux keeps a nice value per thread (pid 0 is the calling thread); elsewhere
// it would renice the whole process, so only there. Raising nice needs no privilege.
if (process.platform === "linux") setPriority(0, 10);

parentPort?.on("message", (job: VerifyJob) => parentPort!.postMessage(answer(job)));
