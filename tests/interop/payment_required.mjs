// A user without credits (billing on): the 402 reaches the official `openai` npm package and
// `@aigne/aigne-hub` as errors that carry the purchase link (HUB_URL, HUB_KEY, HUB_LINK set by
// the Rust test).
import OpenAI from "openai";
import { AIGNEHubChatModel } from "./node_modules/@aigne/aigne-hub/lib/esm/aigne-hub-model.js";

const link = process.env.HUB_LINK;
const checks = [];
function check(name, cond, detail = "") {
  if (!cond) {
    console.error(`FAIL ${name}:`, typeof detail === "string" ? detail : JSON.stringify(detail));
    process.exit(1);
  }
  checks.push(name);
}

const client = new OpenAI({ baseURL: `${process.env.HUB_URL}/api/v2`, apiKey: process.env.HUB_KEY, maxRetries: 0 });
for (const stream of [false, true]) {
  try {
    const r = await client.chat.completions.create({
      model: "openai/gpt-5-mini",
      messages: [{ role: "user", content: "Say hello" }],
      stream,
    });
    if (stream) for await (const _ of r);
    check(`openai.402.stream=${stream}`, false, "no exception");
  } catch (e) {
    check(`openai.402.stream=${stream}.class`, e instanceof OpenAI.APIError && e.status === 402, String(e));
    check(`openai.402.stream=${stream}.type`, e.type === "NOT_ENOUGH" || e.error?.type === "NOT_ENOUGH", e.error);
    check(`openai.402.stream=${stream}.link`, String(e.message).includes(link) && JSON.stringify(e.error).includes(link), e.message);
  }
}

const model = new AIGNEHubChatModel({ baseURL: process.env.HUB_URL, apiKey: process.env.HUB_KEY, model: "openai/gpt-5-mini" });
for (const streaming of [false, true]) {
  try {
    const r = await model.invoke({ messages: [{ role: "user", content: "hi" }] }, { streaming });
    if (streaming) for await (const _ of r);
    check(`aigne.402.streaming=${streaming}`, false, "no exception");
  } catch (e) {
    check(`aigne.402.streaming=${streaming}.link`, String(e.message).includes(link), e.message);
  }
}

console.log(`402 interop: ${checks.length} checks passed: ${checks.join(", ")}`);
