// runtimes.js: node's event loop, crypto, zlib and worker_threads for runtimes.bats; prints only
// what must be the same natively and in an enclave. Timer ordering is checked where Node
// defines it even when the loop runs late (an emulated CPU): timers armed together fire in
// the order of their delays, microtasks before timers, setImmediate before a timer from an
// I/O callback (from the main module that order is not defined), an interval until it clears itself.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const zlib = require("zlib");
const { Worker } = require("worker_threads");

const log = [];
const start = Date.now();

function timers() {
  return new Promise((done) => {
    for (const ms of [100, 0, 50, 10]) setTimeout(() => log.push("timeout " + ms + (Date.now() - start >= ms - 1 ? "" : " EARLY")), ms);
    Promise.resolve().then(() => log.push("promise"));
    process.nextTick(() => log.push("nextTick"));
    log.push("sync");
    setTimeout(() => {
      fs.stat("/", () => {
        setTimeout(() => log.push("io: timeout 0"), 0);
        setImmediate(() => {
          log.push("io: immediate");
          let n = 0;
          const iv = setInterval(() => {
            log.push("interval " + ++n);
            if (n === 3) {
              clearInterval(iv);
              setTimeout(() => done(), 20);
            }
          }, 15);
        });
      });
    }, 150);
  });
}

function cryptoChecks() {
  const key = crypto.createHash("sha256").update("alcove key").digest();
  const iv = Buffer.alloc(12, 7);
  const c = crypto.createCipheriv("aes-256-gcm", key, iv);
  const ct = Buffer.concat([c.update("the enclave's plaintext"), c.final()]);
  const tag = c.getAuthTag();
  const d = crypto.createDecipheriv("aes-256-gcm", key, iv);
  d.setAuthTag(tag);
  const pt = Buffer.concat([d.update(ct), d.final()]).toString();
  console.log("sha256", crypto.createHash("sha256").update("alcove").digest("hex"));
  console.log("hmac", crypto.createHmac("sha512", "k").update("m").digest("base64").slice(0, 24));
  console.log("aes-256-gcm", ct.toString("hex"), tag.toString("hex"), pt);
  console.log("pbkdf2", crypto.pbkdf2Sync("pw", "salt", 10000, 16, "sha256").toString("hex"));
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const sig = crypto.sign("sha256", Buffer.from("signed"), privateKey);
  console.log("ecdsa verifies:", crypto.verify("sha256", Buffer.from("signed"), publicKey, sig),
              "and not a changed message:", crypto.verify("sha256", Buffer.from("signeD"), publicKey, sig));
  const r = crypto.randomBytes(32);
  console.log("randomBytes:", r.length, "bytes, not all zero:", r.some((b) => b !== 0),
              "uuid form:", /^[0-9a-f-]{36}$/.test(crypto.randomUUID()));
  return new Promise((ok, fail) => crypto.scrypt("pw", "salt", 32, (e, k) => e ? fail(e) : ok(k)))
    .then((k) => console.log("scrypt (thread pool)", k.toString("hex").slice(0, 32)));
}

function zlibChecks() {
  const data = Buffer.from("abcdefghij".repeat(5000) + crypto.createHash("md5").update("x").digest("hex"));
  const def = zlib.deflateSync(data, { level: 9 });
  const gz = zlib.gzipSync(data);
  const br = zlib.brotliCompressSync(data);
  console.log("deflate", def.length, zlib.inflateSync(def).equals(data),
              "gzip", zlib.gunzipSync(gz).equals(data), "brotli", zlib.brotliDecompressSync(br).equals(data));
  console.log("sha1 of deflate", crypto.createHash("sha1").update(def).digest("hex").slice(0, 16));
  // the asynchronous form runs on libuv's thread pool
  return new Promise((ok, fail) => zlib.gzip(data, (e, z) => e ? fail(e) : zlib.gunzip(z, (e2, back) => {
    if (e2) return fail(e2);
    console.log("async gzip round trip", back.equals(data));
    ok();
  })));
}

function workers() {
  // four workers sum their quarter of a range and add it into a SharedArrayBuffer with Atomics
  const shared = new SharedArrayBuffer(8);
  const total = new BigInt64Array(shared);
  const src = `
    const { parentPort, workerData } = require("worker_threads");
    const t = new BigInt64Array(workerData.shared);
    let s = 0n;
    for (let i = workerData.from; i < workerData.to; i++) s += BigInt(i * i % 1000);
    Atomics.add(t, 0, s);
    parentPort.postMessage({ id: workerData.id, s: s.toString() });`;
  const jobs = [0, 1, 2, 3].map((id) => new Promise((ok, fail) => {
    const w = new Worker(src, { eval: true, workerData: { id, from: id * 250000, to: (id + 1) * 250000, shared } });
    w.on("message", ok);
    w.on("error", fail);
  }));
  return Promise.all(jobs).then((rs) => {
    for (const r of rs) console.log("worker", r.id, "sum", r.s);
    console.log("workers' shared total", Atomics.load(total, 0).toString());
  });
}

timers()
  .then(() => console.log(log.join("\n")))
  .then(cryptoChecks)
  .then(zlibChecks)
  .then(workers)
  .then(() => console.log("node done"))
  .catch((e) => { console.log("failed:", e); process.exit(1); });
