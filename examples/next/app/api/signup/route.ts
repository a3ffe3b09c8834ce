import { jobs } from "../../../../shared/jobs";

export async function POST(request: Request) {
  const { email, name } = (await request.json()) as { email: string; name: string };
  const messageId = await jobs.trigger("send-welcome", { email, name });
  return Response.json({ messageId }, { status: 202 });
}
