// The sharp (libvips) baseline of bench/bench_side_by_side.py: the project's five outputs,
// the source decoded once. Prints one JSON line: bytes per variant, wall ms, peak memory.
//   node five_variants.js IMAGE [threads]   (threads 1: libvips and libuv on one thread)
"use strict";
const fs = require("fs");
const sharp = require("sharp");

async function main() {
  const [path, threads] = process.argv.slice(2);
  if (threads === "1") sharp.concurrency(1);
  sharp.cache(false);
  const input = fs.readFileSync(path);
  const started = process.hrtime.bigint();
  // Decode once (EXIF orientation applied), then every output from the raw pixels.
  const { data, info } = await sharp(input, { limitInputPixels: false })
    .rotate()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const raw = () => sharp(data, { raw: info, limitInputPixels: false });
  const alpha = info.channels === 4 || info.channels === 2;
  const flat = () => (alpha ? raw().flatten({ background: "#ffffff" }) : raw());
  const outputs = {
    compressed: flat().jpeg({ quality: 85 }),
    low_quality: flat().jpeg({ quality: 60 }),
    webp: raw().webp({ quality: 80 }),
    png: raw().png(),
    thumbnail: alpha
      ? raw().resize(300, 300, { fit: "inside", withoutEnlargement: true }).png()
      : raw().resize(300, 300, { fit: "inside", withoutEnlargement: true }).jpeg({ quality: 85 }),
  };
  const bytes = {};
  for (const [name, pipeline] of Object.entries(outputs)) {
    bytes[name] = (await pipeline.toBuffer()).length;
  }
  const wall = Number(process.hrtime.bigint() - started) / 1e6;
  const status = fs.readFileSync("/proc/self/status", "utf8");
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)[1]) / 1024;
  console.log(JSON.stringify({ bytes, wall_ms: wall, peak_mb: hwm }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
