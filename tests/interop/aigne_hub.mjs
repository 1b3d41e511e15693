// `@aigne/aigne-hub`'s AIGNEHubChatModel against the Hub: discovery through /__blocklet__.js,
// invoke, streaming, tool calls, models(), and errors thrown with the Hub's message.
import { AIGNEHubChatModel } from "./node_modules/@aigne/aigne-hub/lib/esm/aigne-hub-model.js";

const baseURL = process.env.HUB_URL;
const apiKey = process.env.HUB_KEY;
const checks = [];
function check(name, cond, detail = "") {
  if (!cond) {
    console.error(`FAIL ${name}:`, typeof detail === "string" ? detail : JSON.stringify(detail));
    process.exit(1);
  }
  checks.push(name);
}

const model = new AIGNEHubChatModel({ baseURL, apiKey, model: "openai/gpt-5-mini" });

const result = await model.invoke({ messages: [{ role: "user", content: "Say hello" }] });
check("invoke.text", result.text === "Hello, world", result);
check("invoke.usage", result.usage?.inputTokens === 19 && result.usage?.outputTokens === 10, result.usage);

const stream = await model.invoke({ messages: [{ role: "user", content: "Say hello" }] }, { streaming: true });
let text = "";
let usage = null;
for await (const chunk of stream) {
  text += chunk.delta?.text?.text ?? "";
  if (chunk.delta?.json?.usage) usage = chunk.delta.json.usage;
}
check("stream.text", text === "Hello, world", text);
check("stream.usage", usage?.inputTokens === 19, usage);

const claude = new AIGNEHubChatModel({ baseURL, apiKey, model: "anthropic/claude-sonnet-4-5" });
const withTools = await claude.invoke({
  messages: [{ role: "user", content: "Weather in SF?" }],
  tools: [{ type: "function", function: { name: "get_weather", description: "Get weather", parameters: { type: "object", properties: { location: { type: "string" } } } } }],
  toolChoice: "auto",
}, { streaming: true });
let toolCalls = null;
for await (const chunk of withTools) {
  if (chunk.delta?.json?.toolCalls) toolCalls = chunk.delta.json.toolCalls;
}
check("tools.name", toolCalls?.[0]?.function?.name === "get_weather", toolCalls);
check("tools.arguments", toolCalls?.[0]?.function?.arguments?.location === "San Francisco", toolCalls);

const models = await model.models();
check("models", Array.isArray(models) && models.some((m) => m.model === "gpt-5-mini" && m.provider === "openai"), models);

try {
  await new AIGNEHubChatModel({ baseURL, apiKey: "aigne-wrong", model: "openai/gpt-5-mini" }).invoke({ messages: [{ role: "user", content: "hi" }] });
  check("error.401", false, "no exception");
} catch (e) {
  check("error.401", String(e.message).includes("access key"), e.message);
}

try {
  await new AIGNEHubChatModel({ baseURL, apiKey, model: "xai/grok-4" }).invoke({ messages: [{ role: "user", content: "hi" }] });
  check("error.upstream", false, "no exception");
} catch (e) {
  check("error.upstream", String(e.message).includes("xai"), e.message);
}

console.log(`@aigne/aigne-hub: ${checks.length} checks passed: ${checks.join(", ")}`);
