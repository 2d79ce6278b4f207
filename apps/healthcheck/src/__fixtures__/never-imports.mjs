// A plugin whose import never finishes, like one awaiting a server that never answers at its top
// level: the await never settles and a timer keeps the event loop alive. It says when it starts
// so that a test can send its signal while start-up is really stuck here.
process.stderr.write("never-imports: importing\n");
setInterval(() => undefined, 60_000);
await new Promise(() => undefined);
