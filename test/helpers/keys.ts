/** The default dev user's signing keys from the QStash docs. */
export const KEYS = { current: "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r", next: "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs" };

/** The public URL test apps pretend to be mounted at (as behind a proxy). */
export const BASE = "https://app.example.com/api/jobs";
