/** Which "client" a socket belongs to, for per-client connection caps. */

/**
 * The key a per-client cap counts by: an IPv4 address as it is (an IPv4-mapped IPv6 address as
 * its IPv4 form), and for IPv6 the /64 prefix, because one host usually holds a whole /64 and
 * could otherwise open each socket from another address. Undefined for a socket already closed.
 *
 * @example
 * ```ts
 * clientKey("::ffff:10.0.0.7");         // "10.0.0.7"
 * clientKey("2001:db8:0:1::5");         // "2001:db8:0:1::/64"
 * clientKey("2001:db8:0:1:a:b:c:d%eth0"); // "2001:db8:0:1::/64"
 * ```
 */
export function clientKey(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1];
  if (!address.includes(":")) return address;
  const bare = address.split("%")[0]!.toLowerCase();
  const [head = "", tail] = bare.split("::");
  const front = head === "" ? [] : head.split(":");
  const back = tail === undefined || tail === "" ? [] : tail.split(":");
  // "::" stands for as many zero groups as make eight (an embedded IPv4 tail only shifts groups 7-8).
  const groups = tail === undefined ? front : [...front, ...Array<string>(Math.max(0, 8 - front.length - back.length)).fill("0"), ...back];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}
