import { main } from "./main.js";
import { runCli } from "./run-cli.js";

runCli((io) => main(process.argv.slice(2), io));
