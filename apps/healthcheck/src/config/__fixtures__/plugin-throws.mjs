// A plugin that throws while it is imported (a native module that did not build, say), with a
// credential in its message that must not reach the output.
throw new Error("cannot load libacme.so.3 (tried postgres://acme:Plugin-S3cret@db/acme)");
