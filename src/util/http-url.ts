/**
 * The rules for the URLs a user configures (the base URL, QStash's URL), in one place for the
 * core and the CLI. Plain functions: the CLI bundles them without the core's error classes.
 */

/** `raw` as an absolute http(s) URL, or undefined when it is not one. */
export function httpUrl(raw: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  return /^https?:$/.test(url.protocol) ? url : undefined;
}

/**
 * `raw` as a base URL (http(s), no query or fragment), normalised the way the URL parser
 * does it and without trailing slashes, or undefined when it is not one. Normalised because
 * QStash signs the URL it was given after the SDK has passed it through that same parser.
 */
export function normalBaseUrl(raw: string): string | undefined {
  const url = httpUrl(raw);
  return url && !url.search && !url.hash ? url.href.replace(/\/+$/, "") : undefined;
}
