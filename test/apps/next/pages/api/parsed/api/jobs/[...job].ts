import type { NextApiRequest, NextApiResponse } from "next";
import { fixtureRoute } from "../../../../../fixture-route";

const { handler, report } = fixtureRoute();

export default function route(req: NextApiRequest, res: NextApiResponse) {
  if (req.method === "PUT") return res.json(report(req.url ?? "/"));
  return handler(req, res);
}
