// MessagePack interop oracle: the C# tests start one `node msgpack.mjs` and exchange one JSON object
// per line with it, so bytes produced or accepted by PresenceD are checked against an independent
// implementation (@msgpack/msgpack). See README.md for the protocol and the tagged value form.
import { createInterface } from "node:readline";
import { Decoder, Encoder, ExtData, ExtensionCodec } from "@msgpack/msgpack";

const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);
const INT32_MIN = -(1n << 31n);
const UINT32_LIMIT = 1n << 32n;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const DECIMAL = /^-?[0-9]+$/;

// JS numbers cannot tell float 1.0 from int 1; this wrapper keeps a float a float in both directions.
class TaggedFloat {
  constructor(value, bits) {
    this.value = value;
    this.bits = bits;
  }
}

// The library encodes floats only for non-integral numbers; route tagged floats to its own float writer.
class TaggedEncoder extends Encoder {
  encodeObject(object, depth) {
    if (!(object instanceof TaggedFloat)) {
      super.encodeObject(object, depth);
      return;
    }
    const previous = this.forceFloat32;
    this.forceFloat32 = object.bits === 32;
    try {
      this.encodeNumberAsFloat(object.value);
    } finally {
      this.forceFloat32 = previous;
    }
  }
}

class TaggedDecoder extends Decoder {
  readF32() {
    return new TaggedFloat(super.readF32(), 32);
  }

  readF64() {
    return new TaggedFloat(super.readF64(), 64);
  }
}

// Report every ext (timestamps included) as raw ext data rather than a lossy Date.
const extensionCodec = new ExtensionCodec();
extensionCodec.register({ type: -1, encode: () => null, decode: (data, type) => new ExtData(type, data) });

const encoder = new TaggedEncoder({ useBigInt64: true, extensionCodec });
// Map keys become the JSON text of their tagged form, so non-string keys survive the trip through a JS object.
const decoder = new TaggedDecoder({
  useBigInt64: true,
  extensionCodec,
  mapKeyConverter: (key) => JSON.stringify(toTagged(key)),
});

function fail(message) {
  throw new Error(message);
}

function bytesFromHex(hex) {
  if (typeof hex !== "string" || !HEX.test(hex)) fail("hex must be a string of hex digit pairs");
  return new Uint8Array(Buffer.from(hex, "hex"));
}

function hexFromBytes(bytes) {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

function parseFloatValue(v) {
  if (typeof v === "number") return v;
  const special = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity, "-0": -0 };
  if (typeof v === "string" && v in special) return special[v];
  fail(`float v must be a number or one of ${Object.keys(special).join(", ")}`);
}

function formatFloatValue(v) {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  if (Object.is(v, -0)) return "-0";
  return v;
}

function parseInt64(v) {
  let n;
  if (typeof v === "number" && Number.isSafeInteger(v)) n = BigInt(v);
  else if (typeof v === "string" && DECIMAL.test(v)) n = BigInt(v);
  else fail("int v must be a decimal string (or a safe integer number)");
  if (n < INT64_MIN || n > UINT64_MAX) fail(`int ${v} is outside int64/uint64`);
  // With useBigInt64 the library writes numbers beyond 32 bits as float64 and bigints as 9-byte ints.
  return n >= INT32_MIN && n < UINT32_LIMIT ? Number(n) : n;
}

function buildMap(pairs) {
  if (!Array.isArray(pairs)) fail("map v must be an array of [key, value] pairs");
  const object = Object.create(null);
  const order = [];
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) fail("each map entry must be [key, value]");
    const [key, value] = pair;
    if (key?.t !== "str" || typeof key.v !== "string") fail("@msgpack/msgpack encodes only str map keys");
    order.push(key.v);
    object[key.v] = fromTagged(value);
  }
  // A JS object reorders integer-like keys and merges duplicates; refuse rather than emit other bytes.
  const actual = Object.keys(object);
  if (actual.length !== order.length || actual.some((k, i) => k !== order[i])) {
    fail("map keys must be unique and keep their order in a JS object (no integer-like keys)");
  }
  return object;
}

function fromTagged(tagged) {
  if (tagged === null || typeof tagged !== "object") fail("a tagged value must be an object");
  const { t, v } = tagged;
  switch (t) {
    case "nil":
      return null;
    case "bool":
      if (typeof v !== "boolean") fail("bool v must be true or false");
      return v;
    case "int":
      return parseInt64(v);
    case "float": {
      const bits = tagged.bits ?? 64;
      if (bits !== 32 && bits !== 64) fail("float bits must be 32 or 64");
      return new TaggedFloat(parseFloatValue(v), bits);
    }
    case "str":
      if (typeof v !== "string") fail("str v must be a string");
      return v;
    case "bin":
      return bytesFromHex(v);
    case "arr":
      if (!Array.isArray(v)) fail("arr v must be an array");
      return v.map(fromTagged);
    case "map":
      return buildMap(v);
    case "ext":
      if (!Number.isInteger(tagged.type) || tagged.type < -128 || tagged.type > 127) fail("ext type must be -128..127");
      return new ExtData(tagged.type, bytesFromHex(v));
    default:
      return fail(`unknown tag ${JSON.stringify(t)}`);
  }
}

function toTagged(value) {
  if (value === null || value === undefined) return { t: "nil" };
  if (typeof value === "boolean") return { t: "bool", v: value };
  if (typeof value === "number" || typeof value === "bigint") return { t: "int", v: value.toString() };
  if (typeof value === "string") return { t: "str", v: value };
  if (value instanceof TaggedFloat) return { t: "float", v: formatFloatValue(value.value), bits: value.bits };
  if (value instanceof Uint8Array) return { t: "bin", v: hexFromBytes(value) };
  if (value instanceof ExtData) return { t: "ext", type: value.type, v: hexFromBytes(value.data) };
  if (Array.isArray(value)) return { t: "arr", v: value.map(toTagged) };
  return { t: "map", v: Object.keys(value).map((key) => [JSON.parse(key), toTagged(value[key])]) };
}

function handle(request) {
  switch (request?.op) {
    case "encode":
      return { hex: hexFromBytes(encoder.encode(fromTagged(request.value))) };
    case "decode":
      return { value: toTagged(decoder.decode(bytesFromHex(request.hex))) };
    default:
      return fail(`unknown op ${JSON.stringify(request?.op)}`);
  }
}

function respond(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch (error) {
    return { error: `bad JSON request: ${error.message}` };
  }
  let response;
  try {
    response = handle(request);
  } catch (error) {
    response = { error: String(error?.message ?? error) };
  }
  if (request !== null && typeof request === "object" && "id" in request) response.id = request.id;
  return response;
}

// Fail loudly at start if a library upgrade stops routing floats through the hooks above.
function selfCheck() {
  const float = hexFromBytes(encoder.encode(new TaggedFloat(1, 64)));
  const back = decoder.decode(bytesFromHex("cb3ff0000000000000"));
  if (float !== "cb3ff0000000000000" || !(back instanceof TaggedFloat)) {
    process.stderr.write(`msgpack.mjs: float hooks no longer work with this @msgpack/msgpack (${float})\n`);
    process.exit(2);
  }
}

selfCheck();
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (line.trim() === "") continue;
  process.stdout.write(`${JSON.stringify(respond(line))}\n`);
}
