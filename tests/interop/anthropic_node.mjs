// The official `@anthropic-ai/sdk` against the Hub's Messages API (HUB_URL, HUB_KEY set by the
// Rust test): create, stream, a tool round, thinking, count_tokens and a 401, to an OpenAI-style
// upstream and to an Anthropic one.
import Anthropic from "@anthropic-ai/sdk";

const checks = [];
function check(name, cond, detail = "") {
  if (!cond) {
    console.error(`FAIL ${name}:`, typeof detail === "string" ? detail : JSON.stringify(detail));
    process.exit(1);
  }
  checks.push(name);
}

const client = new Anthropic({ baseURL: process.env.HUB_URL, apiKey: process.env.HUB_KEY, maxRetries: 0 });
const weather = {
  name: "get_weather",
  description: "Current weather of a city",
  input_schema: { type: "object", properties: { location: { type: "string" } }, required: ["location"] },
};

for (const model of ["openai/gpt-5-mini", "anthropic/claude-sonnet-4-5"]) {
  const m = await client.messages.create({
    model,
    max_tokens: 128,
    system: "Be brief.",
    messages: [{ role: "user", content: "Say hello" }],
  });
  check(`${model}.create`, m.type === "message" && m.content[0].type === "text" && m.content[0].text === "Hello, world", m);
  check(`${model}.usage`, m.usage.input_tokens > 0 && m.usage.output_tokens > 0, m.usage);

  const stream = client.messages.stream({ model, max_tokens: 128, messages: [{ role: "user", content: "Say hello" }] });
  let text = "";
  stream.on("text", (t) => (text += t));
  const final = await stream.finalMessage();
  check(`${model}.stream.text`, text.startsWith("Hello") && final.content.some((b) => b.type === "text"), { text, final });
  check(`${model}.stream.usage`, final.usage.output_tokens > 0, final.usage);
}

// A tool round: the model asks for get_weather, the SDK user answers with a tool_result.
const messages = [{ role: "user", content: "Weather in Paris?" }];
const first = await client.messages.create({ model: "openai/tool-caller", max_tokens: 128, tools: [weather], messages });
const use = first.content.find((b) => b.type === "tool_use");
check("tools.asked", first.stop_reason === "tool_use" && use?.name === "get_weather" && use.input.location === "Paris, France", first);
messages.push({ role: "assistant", content: first.content });
messages.push({ role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "18°C" }] });
const second = await client.messages.create({ model: "openai/tool-caller", max_tokens: 128, tools: [weather], messages });
check("tools.answered", second.stop_reason === "end_turn" && second.content[0].text === "Hello, world", second);

// The streamed tool call arrives as input_json deltas the SDK assembles.
const toolStream = await client.messages.stream({ model: "openai/tool-caller", max_tokens: 128, tools: [weather], messages: [{ role: "user", content: "Weather?" }] }).finalMessage();
const streamedUse = toolStream.content.find((b) => b.type === "tool_use");
check("tools.stream", streamedUse?.input?.location === "Paris, France" && toolStream.stop_reason === "tool_use", toolStream);

const thought = await client.messages.create({
  model: "openai/gpt-5-mini",
  max_tokens: 4096,
  thinking: { type: "enabled", budget_tokens: 2048 },
  messages: [{ role: "user", content: "Think, then say hello" }],
});
check("thinking", thought.content.some((b) => b.type === "text"), thought);

const counted = await client.messages.countTokens({ model: "openai/gpt-5-mini", messages: [{ role: "user", content: "hello world" }] });
check("count_tokens", counted.input_tokens === 5, counted);

const wrong = new Anthropic({ baseURL: process.env.HUB_URL, apiKey: "not-a-key", maxRetries: 0 });
try {
  await wrong.messages.create({ model: "openai/gpt-5-mini", max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
  check("401", false, "no exception");
} catch (e) {
  check("401.class", e instanceof Anthropic.AuthenticationError, String(e));
  check("401.type", e.error?.error?.type === "authentication_error", e.error);
}
try {
  await client.messages.create({ model: "openai/gpt-5-mini", messages: [{ role: "user", content: "hi" }] });
  check("400", false, "no exception");
} catch (e) {
  check("400.class", e instanceof Anthropic.BadRequestError && String(e.message).includes("max_tokens"), String(e));
}

console.log(`anthropic node: ${checks.length} checks passed: ${checks.join(", ")}`);
