/**
 * The image tests' closing note: image sizes, the layers the project adds, health transitions,
 * the Prometheus answer from the compose stack, and what was not run. Written to
 * docker/.test-results/images-report.txt, which .ci/run prints above its summary line.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { ImageSize } from "./project-images.js";

export const REPORT_FILE = fileURLToPath(new URL("../../.test-results/images-report.txt", import.meta.url));

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * Sections of the note, in the order they are added.
 *
 * @example
 * ```ts
 * const report = new Report();
 * report.add("daemon stop", "exit 0 after 0.1 s");
 * console.log(report.write());
 * ```
 */
export class Report {
  readonly #sections: Array<[string, string[]]> = [];

  /** Adds (or extends) a section. */
  add(title: string, ...lines: string[]): void {
    const found = this.#sections.find(([t]) => t === title);
    if (found) found[1].push(...lines);
    else this.#sections.push([title, [...lines]]);
  }

  /** A table of image sizes: total, base, and what the image adds (with its largest layers). */
  sizes(rows: ImageSize[]): void {
    const name = (t: string): string => t.replace(/^localhost\//, "");
    this.add("image sizes (podman, uncompressed)", "image | size | base | base size | added over base");
    for (const r of rows) {
      this.add("image sizes (podman, uncompressed)", `${name(r.image)} | ${mb(r.bytes)} | ${name(r.base)} | ${mb(r.baseBytes)} | ${mb(r.added)}`);
      for (const l of r.layers) this.add("image sizes (podman, uncompressed)", `    ${mb(l.bytes).padStart(9)}  ${l.createdBy.slice(0, 110)}`);
    }
  }

  /** The note as text. */
  text(): string {
    return this.#sections.map(([title, lines]) => [`-- ${title}`, ...lines].join("\n")).join("\n\n");
  }

  /** Writes the note to REPORT_FILE (and returns it). */
  write(): string {
    const text = `images (docker/test/images.test.ts)\n\n${this.text()}\n`;
    mkdirSync(dirname(REPORT_FILE), { recursive: true });
    writeFileSync(REPORT_FILE, text);
    return text;
  }
}
