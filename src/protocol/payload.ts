/**
 * Payloads (the protocol's `bytes` fields: publication data, RPC data, conn_info...) as canal
 * carries them: one string, whichever client wrote it. JSON text stays JSON text
 * ({@link JsonText}); bytes from a Protobuf client that are not compact JSON are kept as they
 * are, marked by a leading U+0000 (which no JSON text starts with) and one character per byte.
 * So a Protobuf client receives exactly the bytes that were published, engines and history
 * store one kind of value, and JSON clients on the same channel read JSON as JSON (binary
 * arrives to them as a JSON string of its base64). Pure.
 */
import { compactJson, jsonDepth, MAX_JSON_DEPTH } from './json-text.js';
import type { JsonText } from './types.js';

const BINARY_MARK = 0;
const MARK = '\u0000';
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const utf8 = new TextEncoder();

/** Whether `data` holds bytes that are not JSON text. */
export function isBinary(data: string): boolean {
  return data.charCodeAt(0) === BINARY_MARK;
}

/** The JSON text of `bytes` when they are valid, compact UTF-8 JSON; else undefined. */
function compactJsonText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
  if (text.length === 0 || compactJson(text) !== text || jsonDepth(text) > MAX_JSON_DEPTH) return undefined;
  try {
    JSON.parse(text);
  } catch {
    return undefined;
  }
  return text;
}

/**
 * The payload of `bytes` from a Protobuf client: their JSON text when they are compact JSON
 * (so JSON clients share it as is), else the bytes themselves, unchanged.
 */
export function payloadFromBytes(bytes: Uint8Array): JsonText {
  const text = compactJsonText(bytes);
  if (text !== undefined) return text as JsonText;
  let out = MARK;
  // Chunks keep String.fromCharCode's argument list short.
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out as JsonText;
}

/** The bytes a Protobuf client receives for `data`: UTF-8 JSON text, or the binary bytes as published. */
export function payloadBytes(data: string): Uint8Array {
  if (!isBinary(data)) return utf8.encode(data);
  const out = new Uint8Array(data.length - 1);
  for (let i = 1; i < data.length; i++) out[i - 1] = data.charCodeAt(i);
  return out;
}

/**
 * The JSON a JSON client receives for `data`: JSON text as it is; binary as the JSON text it
 * holds when it is JSON (compacted), else a JSON string of its base64.
 */
export function payloadJson(data: string): string {
  if (!isBinary(data)) return data;
  const bytes = payloadBytes(data);
  try {
    const text = strictUtf8.decode(bytes);
    JSON.parse(text);
    if (jsonDepth(text) <= MAX_JSON_DEPTH) return compactJson(text);
  } catch {
    // not JSON: base64 below
  }
  return JSON.stringify(base64(bytes));
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 with padding (no Buffer here: the protocol core imports nothing of Node). */
function base64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += `${B64[n >> 18]!}${B64[(n >> 12) & 63]!}==`;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += `${B64[n >> 18]!}${B64[(n >> 12) & 63]!}${B64[(n >> 6) & 63]!}=`;
  }
  return out;
}

/** The value a handler receives for `data`: the parsed JSON, or a Uint8Array of binary bytes. */
export function payloadValue(data: string): unknown {
  return isBinary(data) ? payloadBytes(data) : JSON.parse(data);
}
