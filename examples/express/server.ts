// `npx tsx examples/express/server.ts`: the Express example. Configure it like the Hono one.
import { app } from "./app.js";

const port = Number(process.env.PORT ?? 3000);
app.listen(port, "127.0.0.1", () => {
  console.log(`express example on http://127.0.0.1:${port} (jobs at /api/jobs)`);
});
