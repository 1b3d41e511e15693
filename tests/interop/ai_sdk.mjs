// The Vercel AI SDK against the Hub: `@ai-sdk/openai`'s default provider (`openai(model)`, which
// speaks the Responses API) and `@ai-sdk/anthropic`, both with only their base URL pointed at
// the Hub (`HUB/v1`), as their users configure them: text, a stream, a multi-step tool loop the
// SDK runs itself, and a refused key raised as the SDK's own APICallError.
import { APICallError, generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";
import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";

const baseURL = `${process.env.HUB_URL}/v1`;
const apiKey = process.env.HUB_KEY;
const openai = createOpenAI({ baseURL, apiKey });
const anthropic = createAnthropic({ baseURL, apiKey });
const checks = [];
function check(name, cond, detail = "") {
  if (!cond) {
    console.error(`FAIL ${name}:`, typeof detail === "string" ? detail : JSON.stringify(detail));
    process.exit(1);
  }
  checks.push(name);
}

const hello = await generateText({ model: openai("openai/gpt-5-mini"), prompt: "Say hello", maxRetries: 0 });
check("openai.text", hello.text === "Hello, world", hello.text);
check("openai.usage", hello.usage.inputTokens === 37 && hello.usage.outputTokens === 11, hello.usage);

const streamed = streamText({ model: openai("anthropic/claude-sonnet-4-5"), prompt: "Say hello", maxRetries: 0 });
check("openai.stream", (await streamed.text) === "Hello, world");

const weather = tool({
  description: "Current weather",
  inputSchema: jsonSchema({ type: "object", properties: { location: { type: "string" } }, required: ["location"] }),
  execute: async ({ location }) => `18°C and sunny in ${location}`,
});
const looped = await generateText({
  model: openai("openai/tool-caller"),
  prompt: "Weather in Paris?",
  tools: { get_weather: weather },
  stopWhen: stepCountIs(3),
  maxRetries: 0,
});
check("openai.tool_loop", looped.steps.length === 2 && looped.text === "Hello, world", looped.steps.map((s) => s.finishReason));

const viaAnthropic = await generateText({ model: anthropic("openai/gpt-5-mini"), prompt: "Say hello", maxRetries: 0 });
check("anthropic.text", viaAnthropic.text === "Hello, world", viaAnthropic.text);
const anthropicLoop = await generateText({
  model: anthropic("openai/tool-caller"),
  prompt: "Weather in Paris?",
  tools: { get_weather: weather },
  stopWhen: stepCountIs(3),
  maxRetries: 0,
});
check("anthropic.tool_loop", anthropicLoop.steps.length === 2, anthropicLoop.steps.map((s) => s.finishReason));

try {
  await generateText({ model: createOpenAI({ baseURL, apiKey: "aigne-wrong" })("openai/gpt-5-mini"), prompt: "hi", maxRetries: 0 });
  check("auth_error", false, "no exception");
} catch (e) {
  check("auth_error", APICallError.isInstance(e) && e.statusCode === 401, String(e));
}

console.log(`ai-sdk: ${checks.length} checks passed: ${checks.join(", ")}`);
