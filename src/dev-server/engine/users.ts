/** One of the local server's users: a token and its signing keys. */
export interface DevUser {
  /** Name from the QStash docs' test users, e.g. `defaultUser`. */
  readonly userId: string;
  readonly token: string;
  readonly currentSigningKey: string;
  readonly nextSigningKey: string;
}

/**
 * The four well-known users of QStash's local server (docs, "Local development"). Their
 * tokens are public test values. The default user's keys never rotate: the SDK's
 * `QSTASH_DEV=true` probe recognises the server by them.
 */
export const DEV_USERS = {
  defaultUser: {
    userId: "defaultUser",
    token: "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=",
    currentSigningKey: "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r",
    nextSigningKey: "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs",
  },
  testUser1: {
    userId: "testUser1",
    token: "eyJVc2VySUQiOiJ0ZXN0VXNlcjEiLCJQYXNzd29yZCI6InRlc3RQYXNzd29yZCJ9",
    currentSigningKey: "sig_7GVPjvuwsfqF65iC8fSrs1dfYruM",
    nextSigningKey: "sig_5NoELc3EFnZn4DVS5bDs2Nk4b7Ua",
  },
  testUser2: {
    userId: "testUser2",
    token: "eyJVc2VySUQiOiJ0ZXN0VXNlcjIiLCJQYXNzd29yZCI6InRlc3RQYXNzd29yZCJ9",
    currentSigningKey: "sig_6jWGaWRxHsw4vMSPJprXadyvrybF",
    nextSigningKey: "sig_7qHbvhmahe5GwfePDiS5Lg3pi6Qx",
  },
  testUser3: {
    userId: "testUser3",
    token: "eyJVc2VySUQiOiJ0ZXN0VXNlcjMiLCJQYXNzd29yZCI6InRlc3RQYXNzd29yZCJ9",
    currentSigningKey: "sig_5T8FcSsynBjn9mMLBsXhpacRovJf",
    nextSigningKey: "sig_7GFR4YaDshFcqsxWRZpRB161jguD",
  },
} as const satisfies Record<string, DevUser>;

/** The user the CLI prints and `QSTASH_DEV=true` clients use. */
export const DEFAULT_DEV_USER: DevUser = DEV_USERS.defaultUser;
