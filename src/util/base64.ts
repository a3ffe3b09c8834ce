/** Base64 and base64url on Web standards (atob/btoa), for runtimes without Buffer. */

const decoder = new TextDecoder();

/** Bytes of a base64 or base64url string (padding optional). Throws on invalid input. */
export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const NON_ASCII = /[\u0080-\uffff]/;

/** UTF-8 text of a base64 string; invalid sequences become U+FFFD, as QStash bodies may be binary. */
export function base64ToText(text: string): string {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  // ASCII (every JWT QStash signs) is its own UTF-8 decoding; skip the byte copy and decoder.
  if (!NON_ASCII.test(binary)) return binary;
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return decoder.decode(bytes);
}

/** Unpadded base64url of bytes. */
export function bytesToBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
