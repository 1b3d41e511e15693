// The official `openai` npm package's Responses API against the Hub at the conventional path
// (`baseURL = HUB/v1`, as OPENAI_BASE_URL users set it): text, a stream of typed events, a
// function tool round continued with previous_response_id, json_schema output, a conversation
// that changes provider, one with encrypted reasoning whose turns go to two keys in turn,
// retrieve / input items / delete, and typed errors.
import OpenAI from "openai";

const baseURL = `${process.env.HUB_URL}/v1`;
const client = new OpenAI({ baseURL, apiKey: process.env.HUB_KEY, maxRetries: 0 });
const checks = [];
function check(name, cond, detail = "") {
  if (!cond) {
    console.error(`FAIL ${name}:`, typeof detail === "string" ? detail : JSON.stringify(detail));
    process.exit(1);
  }
  checks.push(name);
}

const first = await client.responses.create({ model: "openai/gpt-5-mini", input: "My name is Ada.", instructions: "Be brief." });
check("text.output_text", first.output_text === "Hello, world", first);
check("text.usage", first.usage.total_tokens === 48, first.usage);

// The next turn on another provider continues the stored conversation.
const second = await client.responses.create({
  model: "anthropic/claude-sonnet-4-5",
  previous_response_id: first.id,
  input: [{ role: "user", content: "What is my name?" }],
});
check("previous.across_providers", second.output_text === "Hello, world" && second.previous_response_id === first.id, second);

// A reasoning conversation on OpenAI, whose two keys at the Hub take turns: each turn's
// encrypted reasoning goes back only to the key that wrote it, so every turn is accepted.
let previous = null;
for (let turn = 0; turn < 4; turn++) {
  const r = await client.responses.create({ model: "openai/gpt-5-mini", input: `turn ${turn}`, reasoning: { effort: "low" }, previous_response_id: previous });
  check(`previous.across_keys.${turn}`, r.output_text === "Hello, world" && r.output[0].type === "reasoning" && r.previous_response_id === previous, r);
  previous = r.id;
}

// A stream: typed events, text deltas, the completed response last.
const kinds = [];
let text = "";
let completed = null;
const stream = await client.responses.create({ model: "openai/gpt-5-mini", input: "Say hello", stream: true });
for await (const event of stream) {
  kinds.push(event.type);
  if (event.type === "response.output_text.delta") text += event.delta;
  if (event.type === "response.completed") completed = event.response;
}
check("stream.order", kinds[0] === "response.created" && kinds.at(-1) === "response.completed", kinds);
check("stream.text", text === "Hello, world" && completed?.output_text !== "", { text, completed });

// A function tool round.
const tools = [{ type: "function", name: "get_weather", description: "Current weather", parameters: { type: "object", properties: { location: { type: "string" } } }, strict: false }];
const asked = await client.responses.create({ model: "openai/tool-caller", input: "Weather in Paris?", tools });
const call = asked.output.find((i) => i.type === "function_call");
check("tools.call", call?.name === "get_weather" && JSON.parse(call.arguments).location === "Paris, France", asked.output);
const answered = await client.responses.create({
  model: "openai/tool-caller",
  previous_response_id: asked.id,
  tools,
  input: [{ type: "function_call_output", call_id: call.call_id, output: "18°C and sunny" }],
});
check("tools.answer", answered.output_text === "Hello, world", answered.output);

// Structured output.
const structured = await client.responses.create({
  model: "deepseek/deepseek-chat",
  input: "The answer?",
  text: { format: { type: "json_schema", name: "answer", schema: { type: "object", properties: { answer: { type: "number" } }, required: ["answer"] }, strict: true } },
});
check("json_schema", JSON.parse(structured.output_text).answer === 42, structured.output_text);

// Stored turns: retrieve, input items, delete.
const got = await client.responses.retrieve(first.id);
check("retrieve", got.id === first.id && got.output_text === "Hello, world", got);
const items = [];
for await (const item of client.responses.inputItems.list(first.id)) items.push(item);
check("input_items", items.length === 1 && items[0].content[0].text === "My name is Ada.", items);
await client.responses.delete(second.id);
try {
  await client.responses.retrieve(second.id);
  check("deleted", false, "still there");
} catch (e) {
  check("deleted", e instanceof OpenAI.NotFoundError, String(e));
}

try {
  await client.responses.create({ model: "openai/gpt-5-mini", input: "hi", previous_response_id: "resp_unknown" });
  check("bad_previous", false, "no exception");
} catch (e) {
  check("bad_previous", e instanceof OpenAI.BadRequestError && e.param === "previous_response_id", String(e));
}
try {
  await new OpenAI({ baseURL, apiKey: "aigne-wrong", maxRetries: 0 }).responses.create({ model: "openai/gpt-5-mini", input: "hi" });
  check("auth_error", false, "no exception");
} catch (e) {
  check("auth_error", e instanceof OpenAI.AuthenticationError, String(e));
}

console.log(`openai-responses: ${checks.length} checks passed: ${checks.join(", ")}`);
