// The official `openai` npm package against the Hub (HUB_URL, HUB_KEY set by the Rust test).
import OpenAI from "openai";

const baseURL = `${process.env.HUB_URL}/api/v2`;
const client = new OpenAI({ baseURL, apiKey: process.env.HUB_KEY, maxRetries: 0 });
const checks = [];
function check(name, cond, detail = "") {
  if (!cond) {
    console.error(`FAIL ${name}:`, typeof detail === "string" ? detail : JSON.stringify(detail));
    process.exit(1);
  }
  checks.push(name);
}

let r = await client.chat.completions.create({ model: "openai/gpt-5-mini", messages: [{ role: "user", content: "Say hello" }] });
check("json.content", r.choices[0].message.content === "Hello, world", r);
check("json.usage", r.usage.total_tokens === 29, r.usage);

let text = "";
let usage = null;
const stream = await client.chat.completions.create({
  model: "openai/gpt-5-mini",
  messages: [{ role: "user", content: "Say hello" }],
  stream: true,
  stream_options: { include_usage: true },
});
for await (const chunk of stream) {
  text += chunk.choices[0]?.delta?.content ?? "";
  if (chunk.usage) usage = chunk.usage;
}
check("stream.text", text === "Hello, world", text);
check("stream.usage", usage?.total_tokens === 22, usage);

let name = null;
let args = "";
const tools = await client.chat.completions.create({
  model: "anthropic/claude-sonnet-4-5",
  messages: [{ role: "user", content: "Weather in SF?" }],
  tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
  stream: true,
});
for await (const chunk of tools) {
  const call = chunk.choices[0]?.delta?.tool_calls?.[0];
  if (call) {
    name ??= call.function?.name;
    args += call.function?.arguments ?? "";
  }
}
check("tools.name", name === "get_weather", name);
check("tools.arguments", JSON.parse(args).location === "San Francisco", args);

r = await client.chat.completions.create({
  model: "deepseek/deepseek-chat",
  messages: [{ role: "user", content: "json please" }],
  response_format: { type: "json_object" },
});
check("json_mode", JSON.parse(r.choices[0].message.content).answer === 42, r.choices[0].message.content);

try {
  await client.chat.completions.create({ model: "xai/grok-4", messages: [{ role: "user", content: "hi" }] });
  check("upstream_error", false, "no exception");
} catch (e) {
  check("upstream_error.status", e.status === 502, String(e.status));
  check("upstream_error.message", String(e.message).includes("xai"), e.message);
}

try {
  await new OpenAI({ baseURL, apiKey: "aigne-wrong", maxRetries: 0 }).chat.completions.create({
    model: "openai/gpt-5-mini",
    messages: [{ role: "user", content: "hi" }],
  });
  check("auth_error", false, "no exception");
} catch (e) {
  check("auth_error", e instanceof OpenAI.AuthenticationError && e.message.includes("access key"), e.message);
}

const ids = [];
for await (const m of client.models.list()) ids.push(m.id);
check("models", ids.includes("openai/gpt-5-mini"), ids);

console.log(`openai-node: ${checks.length} checks passed: ${checks.join(", ")}`);
