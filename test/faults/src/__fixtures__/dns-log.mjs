// Preloaded into the CLI (node --import) by discovery.test.ts: appends every host name the
// process asks the resolver for to the file named by DNS_LOG, one per line. Every connection
// by name (net.connect, and so pg, mysql2 and tedious) goes through dns.lookup.
import dns from "node:dns";
import { appendFileSync } from "node:fs";

const file = process.env.DNS_LOG;
const log = (host) => file && appendFileSync(file, `${host}\n`);
const lookup = dns.lookup;
dns.lookup = function (host, ...rest) {
  log(host);
  return lookup.call(this, host, ...rest);
};
const promised = dns.promises.lookup;
dns.promises.lookup = function (host, ...rest) {
  log(host);
  return promised.call(this, host, ...rest);
};
