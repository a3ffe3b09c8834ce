import { InvalidPayloadError } from "jobstash";
import { jobs } from "../../../../shared/jobs";

export async function POST(request: Request) {
  try {
    const messageId = await jobs.trigger("send-welcome", await request.json());
    return Response.json({ messageId }, { status: 202 });
  } catch (error) {
    // trigger validates before it publishes: a bad input is the caller's mistake, not a 500.
    if (error instanceof InvalidPayloadError) {
      return Response.json({ error: error.message, issues: error.issues }, { status: 400 });
    }
    throw error;
  }
}
