import { fixtureRoute } from "../../../../fixture-route";

const { handler, report } = fixtureRoute();

export const { POST } = handler;
export const PUT = (request: Request) => Response.json(report(request.url));
