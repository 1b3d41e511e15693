// `@aigne/aigne-hub`'s AIGNEHubImageModel and AIGNEHubVideoModel against the Hub, discovered
// through /__blocklet__.js: images as URLs (stored by the Hub) and as files, a video made by a
// polled provider job, and the models() lists.
import { AIGNEHubImageModel } from "./node_modules/@aigne/aigne-hub/lib/esm/aigne-hub-image-model.js";
import { AIGNEHubVideoModel } from "./node_modules/@aigne/aigne-hub/lib/esm/aigne-hub-video-model.js";

const baseURL = process.env.HUB_URL;
const apiKey = process.env.HUB_KEY;
const checks = [];
function check(name, cond, detail = "") {
  if (!cond) {
    console.error(`FAIL ${name}:`, typeof detail === "string" ? detail : JSON.stringify(detail).slice(0, 2000));
    process.exit(1);
  }
  checks.push(name);
}

const image = new AIGNEHubImageModel({ baseURL, apiKey, model: "openai/gpt-image-1" });
const asUrl = await image.invoke({ prompt: "an otter", n: 2, outputFileType: "url" });
check("image.url.count", asUrl.images?.length === 2, asUrl);
check("image.url", asUrl.images[0].type === "url" && asUrl.images[0].url.startsWith(baseURL + "/api/files/"), asUrl.images[0]);
const fetched = await fetch(asUrl.images[0].url);
check("image.url.fetch", fetched.ok && (await fetched.headers.get("content-type")) === "image/png", fetched.status);
check("image.usage", asUrl.usage?.inputTokens === 50 && asUrl.usage?.aigneHubCredits > 0, asUrl.usage);

const asFile = await image.invoke({ prompt: "an otter", outputFileType: "file" });
check("image.file", asFile.images[0].type === "file" && Buffer.from(asFile.images[0].data, "base64").subarray(0, 4).toString("latin1") === "\x89PNG", asFile.images[0]);

const dalle = new AIGNEHubImageModel({ baseURL, apiKey, model: "openai/dall-e-3" });
const passed = await dalle.invoke({ prompt: "an otter", outputFileType: "file" });
check("image.provider_url_to_file", passed.images[0].type === "file" && passed.images[0].data.startsWith("iVBOR"), passed.images[0]);

const imageModels = await image.models();
check("image.models", imageModels.some((m) => m.model === "gpt-image-1"), imageModels);

const video = new AIGNEHubVideoModel({ baseURL, apiKey, model: "openai/sora-2" });
const clip = await video.invoke({ prompt: "waves at dusk", seconds: "4", outputFileType: "url" });
check("video.url", clip.videos?.[0]?.type === "url" && clip.videos[0].url.includes("/api/files/"), clip);
check("video.seconds", clip.seconds === 4, clip.seconds);
const mp4 = Buffer.from(await (await fetch(clip.videos[0].url)).arrayBuffer());
check("video.fetch", mp4.subarray(4, 8).toString("latin1") === "ftyp", mp4.subarray(0, 12));
const clipFile = await video.invoke({ prompt: "waves at dusk", outputFileType: "file" });
check("video.file", clipFile.videos?.[0]?.type === "file" && clipFile.videos[0].data.length > 10, clipFile.videos?.[0]);

const videoModels = await video.models();
check("video.models", videoModels.some((m) => m.model === "sora-2"), videoModels);

try {
  await new AIGNEHubImageModel({ baseURL, apiKey, model: "anthropic/claude-sonnet-4-5" }).invoke({ prompt: "x" });
  check("image.bad_model", false, "no exception");
} catch (e) {
  check("image.bad_model", String(e.message).includes("cannot make images"), e.message);
}

console.log(`@aigne/aigne-hub media: ${checks.length} checks passed: ${checks.join(", ")}`);
