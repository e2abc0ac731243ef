// Runs in Node (test/global-setup.ts): Cloudflare Access's part for the console tests, on
// 127.0.0.1. It publishes a team's public keys at /cdn-cgi/access/certs, as Access does; the tests
// sign assertions with the private key (the TEST_ACCESS_PRIVATE_JWK binding), as Access would.
import { generateKeyPairSync } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export async function startAccessServer(): Promise<{ url: string; privateJwk: string; close: () => Promise<void> }> {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = "rapport-test-key";
  const publicJwk = { ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" };
  const privateJwk = { ...privateKey.export({ format: "jwk" }), kid, alg: "RS256" };
  const server = http.createServer((req, res) => {
    const found = req.url === "/cdn-cgi/access/certs";
    res.writeHead(found ? 200 : 404, { "content-type": "application/json" });
    res.end(JSON.stringify(found ? { keys: [publicJwk], public_cert: { kid } } : { error: "no such path" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, privateJwk: JSON.stringify(privateJwk), close: () => new Promise((r) => server.close(() => r())) };
}
