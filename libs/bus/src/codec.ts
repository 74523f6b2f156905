/** Everything on the bus is JSON in UTF-8. */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encode(value: unknown): Uint8Array {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('cannot encode undefined as JSON');
  return encoder.encode(text);
}

/** Parses a JSON payload; throws a SyntaxError on invalid JSON. */
export function decode(data: Uint8Array): unknown {
  return JSON.parse(decodeText(data));
}

export function decodeText(data: Uint8Array): string {
  return decoder.decode(data);
}
