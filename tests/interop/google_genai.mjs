// The official `@google/genai` against the Hub's Gemini API (HUB_URL, HUB_KEY set by the Rust
// test): generateContent, a stream, a function-call round, structured output, countTokens, the
// model list and typed 400/401 errors, to an OpenAI-style upstream and to a Gemini one.
import { ApiError, GoogleGenAI, Type } from "@google/genai";

const checks = [];
function check(name, cond, detail = "") {
  if (!cond) {
    console.error(`FAIL ${name}:`, typeof detail === "string" ? detail : JSON.stringify(detail));
    process.exit(1);
  }
  checks.push(name);
}

const ai = new GoogleGenAI({ apiKey: process.env.HUB_KEY, httpOptions: { baseUrl: process.env.HUB_URL } });
const weather = {
  name: "get_weather",
  description: "Current weather of a city",
  parameters: { type: Type.OBJECT, properties: { location: { type: Type.STRING } }, required: ["location"] },
};

for (const model of ["openai/gpt-5-mini", "google/gemini-2.5-flash"]) {
  const r = await ai.models.generateContent({
    model,
    contents: "Say hello",
    config: { systemInstruction: "Be brief.", temperature: 0.2, maxOutputTokens: 128 },
  });
  check(`${model}.generate`, r.text === "Hello, world", r);
  check(`${model}.usage`, r.usageMetadata.promptTokenCount > 0 && r.usageMetadata.candidatesTokenCount > 0, r.usageMetadata);

  let text = "";
  let last;
  for await (const chunk of await ai.models.generateContentStream({ model, contents: "Say hello" })) {
    text += chunk.text ?? "";
    last = chunk;
  }
  check(`${model}.stream`, text === "Hello, world" && last.usageMetadata.totalTokenCount > 0, { text, last });
}

// A function-call round: the model calls get_weather, the SDK user answers with its response.
for (const model of ["openai/tool-caller", "google/tool-caller"]) {
  const contents = [{ role: "user", parts: [{ text: "Weather in Paris?" }] }];
  const config = { tools: [{ functionDeclarations: [weather] }] };
  const first = await ai.models.generateContent({ model, contents, config });
  const call = first.functionCalls?.[0];
  check(`${model}.tools.asked`, call?.name === "get_weather" && call.args.location === "Paris, France", first);
  contents.push(first.candidates[0].content);
  contents.push({ role: "user", parts: [{ functionResponse: { id: call.id, name: call.name, response: { output: "18°C" } } }] });
  const second = await ai.models.generateContent({ model, contents, config });
  check(`${model}.tools.answered`, second.text === "Hello, world" && !second.functionCalls, second);
}

// Structured output with Gemini's schema type.
const shaped = await ai.models.generateContent({
  model: "deepseek/deepseek-chat",
  contents: "A city and its temperature",
  config: {
    responseMimeType: "application/json",
    responseSchema: { type: Type.OBJECT, properties: { city: { type: Type.STRING }, temp: { type: Type.NUMBER } } },
  },
});
check("schema.json", typeof JSON.parse(shaped.text) === "object", shaped.text);

const counted = await ai.models.countTokens({ model: "openai/gpt-5-mini", contents: "hello world" });
check("countTokens", counted.totalTokens === 5, counted);

const listed = [];
for await (const m of await ai.models.list()) listed.push(m.name);
check("models.list", listed.includes("models/openai/gpt-5-mini"), listed);

// Errors reach the SDK as its own ApiError with the Hub's status and message.
try {
  await ai.models.generateContent({ model: "openai/gpt-5-mini", contents: [{ role: "system", parts: [{ text: "x" }] }] });
  check("error.400", false, "no error");
} catch (e) {
  check("error.400", e instanceof ApiError && e.status === 400 && e.message.includes("contents[0].role"), String(e));
}
const stranger = new GoogleGenAI({ apiKey: "not-a-key", httpOptions: { baseUrl: process.env.HUB_URL } });
try {
  await stranger.models.generateContent({ model: "openai/gpt-5-mini", contents: "hi" });
  check("error.401", false, "no error");
} catch (e) {
  check("error.401", e instanceof ApiError && e.status === 401 && e.message.includes("UNAUTHENTICATED"), String(e));
}

console.log(`@google/genai: ${checks.length} checks passed`);
