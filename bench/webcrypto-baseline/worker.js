// Baseline for the verify benchmark: the same WebCrypto calls made from plain
// JavaScript inside workerd, so the Rust→WebCrypto path can be compared with
// the runtime's own cost side by side. Started by the bench, on loopback.
const IMPORT = {
  RS256: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  ES256: { name: "ECDSA", namedCurve: "P-256" },
  EdDSA: { name: "Ed25519" },
};
const VERIFY = {
  RS256: { name: "RSASSA-PKCS1-v1_5" },
  ES256: { name: "ECDSA", hash: "SHA-256" },
  EdDSA: { name: "Ed25519" },
};
const keys = new Map();
const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));

export default {
  async fetch(request) {
    const { alg, jwk, cases, repeat = 1 } = await request.json();
    const id = alg + JSON.stringify(jwk);
    let key = keys.get(id);
    if (!key) {
      const { kty, n, e, crv, x, y } = jwk;
      key = await crypto.subtle.importKey("jwk", { kty, n, e, crv, x, y }, IMPORT[alg], false, ["verify"]);
      keys.set(id, key);
    }
    const results = [];
    for (const c of cases) {
      const msg = hex(c.msg), sig = hex(c.sig);
      let ok = false;
      for (let i = 0; i < repeat; i++) ok = await crypto.subtle.verify(VERIFY[alg], key, sig, msg);
      results.push(ok);
    }
    return Response.json({ results });
  },
};
