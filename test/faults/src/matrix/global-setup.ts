import { rmSync } from "node:fs";
import { RESULTS_DIR } from "./record.js";
import { renderDoc } from "./render.js";

/** clears old rows before the run; renders docs/fault-matrix.md after it */
export default function setup(): () => void {
  rmSync(RESULTS_DIR, { recursive: true, force: true });
  return () => {
    console.log(renderDoc());
  };
}
