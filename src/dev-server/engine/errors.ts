/**
 * A client mistake or a missing resource, with the HTTP status it maps to. Routes turn it into
 * `{"error": message}` in one place; anything else thrown is a server bug (500).
 */
export class DevServerError extends Error {
  readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 412 | 413 | 501 | 503;
  constructor(status: DevServerError["status"], message: string) {
    super(message);
    this.name = "DevServerError";
    this.status = status;
  }
}

export const badRequest = (message: string) => new DevServerError(400, message);
export const notFound = (message: string) => new DevServerError(404, message);
