// The ceiling: a route handler that reads the body and answers, with no verification.
export async function POST(request: Request) {
  await request.arrayBuffer();
  return new Response(JSON.stringify({ ok: true }), { headers: { "content-type": "application/json" } });
}
