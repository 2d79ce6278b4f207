import { readFileSync } from "node:fs";
import { isIP } from "node:net";

/** A socket in the LISTEN state: its local address (lower-case hex, as /proc writes it) and port. */
interface Listener {
  family: 4 | 6;
  address: string;
  port: number;
}

const ANY4 = "00000000";
const ANY6 = "0".repeat(32);

/**
 * The TCP sockets listening in this network namespace, from /proc/net/tcp and /proc/net/tcp6;
 * undefined where there is no such file (not Linux, no /proc).
 */
function listeners(): Listener[] | undefined {
  const found: Listener[] = [];
  let read = false;
  for (const [file, family] of [["/proc/net/tcp", 4], ["/proc/net/tcp6", 6]] as const) {
    let text: string;
    try {
      text = readFileSync(file, "latin1");
      read = true;
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      // "  0: 0100007F:1538 00000000:0000 0A …": local address, remote address, state (0A = LISTEN).
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== "0A" || !local) continue;
      const colon = local.lastIndexOf(":");
      found.push({ family, address: local.slice(0, colon).toLowerCase(), port: Number.parseInt(local.slice(colon + 1), 16) });
    }
  }
  return read ? found : undefined;
}

/** An IPv4 address as /proc/net/tcp writes it: the four bytes in host (little-endian) order, hex. */
function hex4(ip: string): string {
  return ip
    .split(".")
    .reverse()
    .map((b) => Number(b).toString(16).padStart(2, "0"))
    .join("");
}

/** An IPv6 address as /proc/net/tcp6 writes it: four 32-bit words, each in host order, hex. */
function hex6(ip: string): string | undefined {
  // An IPv4 tail (::ffff:127.0.0.1) is two groups.
  const text = ip.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a: string, b: string, c: string, d: string) => `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`);
  const [head = "", tail, ...more] = text.split("::");
  if (more.length > 0) return undefined;
  const part = (s: string): string[] => (s ? s.split(":") : []);
  const fill = tail === undefined ? 0 : 8 - part(head).length - part(tail).length;
  if (fill < 0) return undefined;
  const groups = [...part(head), ...Array<string>(fill).fill("0"), ...part(tail ?? "")];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  const bytes = groups.flatMap((g) => {
    const v = Number.parseInt(g, 16);
    return [v >> 8, v & 0xff];
  });
  let out = "";
  for (let w = 0; w < 16; w += 4) out += bytes.slice(w, w + 4).reverse().map((b) => b.toString(16).padStart(2, "0")).join("");
  return out;
}

/**
 * Whether something listens for TCP at host:port in this network namespace, read from /proc
 * without connecting (a connection the database would log: MariaDB's `Aborted connection`
 * warning, PostgreSQL's `connection received`); undefined when /proc cannot tell: no /proc, or a
 * host that is a name other than `localhost`. A socket on the wildcard address (0.0.0.0, ::)
 * listens on every address.
 *
 * @example
 * ```ts
 * listensOn("127.0.0.1", 5432); // true while PostgreSQL listens on 127.0.0.1 or *, false once it stopped
 * ```
 */
export function listensOn(host: string, port: number): boolean | undefined {
  const bare = host.replace(/^\[|\]$/g, "");
  const wanted: Array<[4 | 6, string]> = [];
  if (bare.toLowerCase() === "localhost") wanted.push([4, hex4("127.0.0.1")], [6, hex6("::1")!], [6, hex6("::ffff:127.0.0.1")!]);
  else if (isIP(bare) === 4) wanted.push([4, hex4(bare)], [6, hex6(`::ffff:${bare}`)!]);
  // A zone (fe80::1%eth0) is not part of the address /proc shows.
  else if (isIP(bare) === 6) {
    const h = hex6(bare.replace(/%.*$/, ""));
    if (!h) return undefined;
    wanted.push([6, h]);
  } else return undefined;
  const all = listeners();
  if (!all) return undefined;
  return all.some(
    (l) =>
      l.port === port &&
      // A wildcard socket takes its family's addresses; an IPv6 one also IPv4's (dual stack, Linux's default).
      ((l.family === 4 && l.address === ANY4 && wanted.some(([f]) => f === 4)) ||
        (l.family === 6 && l.address === ANY6) ||
        wanted.some(([f, a]) => f === l.family && a === l.address)),
  );
}
