"""The official `openai` Python SDK's media calls against the Hub: embeddings (float and the SDK's
default base64), images.generate, audio.speech.create and audio.transcriptions.create."""
import base64
import os
import struct
import sys

import openai

client = openai.OpenAI(base_url=os.environ["HUB_URL"] + "/api/v2", api_key=os.environ["HUB_KEY"], max_retries=0)
checks = []


def check(name, cond, detail=""):
    if not cond:
        print(f"FAIL {name}: {detail}", file=sys.stderr)
        sys.exit(1)
    checks.append(name)


# Embeddings: floats asked explicitly, and the SDK's own default (base64, decoded by the SDK).
r = client.embeddings.create(model="openai/text-embedding-3-small", input=["one", "two"], encoding_format="float")
# The provider's numbers exactly (the mock sends these digits): not widened through f32 on the way.
check("embeddings.float", len(r.data) == 2 and r.data[1].embedding == [0.0023064255, -0.009327292, 0.015797347, -0.0077780345, 0.5], r.data[1].embedding)
check("embeddings.usage", r.usage.prompt_tokens == 16, r.usage)
r = client.embeddings.create(model="openai/text-embedding-3-small", input="one")
check("embeddings.default", len(r.data[0].embedding) == 5 and abs(r.data[0].embedding[0] - 0.0023064255) < 1e-7, r.data[0].embedding)
raw = client.embeddings.with_raw_response.create(model="openai/text-embedding-3-small", input="one", encoding_format="base64")
b64 = raw.http_response.json()["data"][0]["embedding"]
check("embeddings.base64", struct.unpack("<5f", base64.b64decode(b64))[4] == 0.5, b64)

# Images: URLs (the Hub stores gpt-image-1's bytes) and b64_json.
r = client.images.generate(model="openai/gpt-image-1", prompt="an otter", n=2, size="1024x1024")
check("images.count", len(r.data) == 2, r)
url = r.data[0].url
check("images.url", url and "/api/files/" in url, url)
import urllib.request

with urllib.request.urlopen(url) as f:
    check("images.fetch", f.read().startswith(b"\x89PNG"), url)
r = client.images.generate(model="openai/dall-e-3", prompt="an otter", response_format="b64_json")
check("images.b64", base64.b64decode(r.data[0].b64_json).startswith(b"\x89PNG"), r.data[0])

# Speech: binary audio back.
speech = client.audio.speech.create(model="openai/gpt-4o-mini-tts", voice="alloy", input="Hello there")
check("speech.bytes", speech.content.startswith(b"ID3"), speech.content[:10])

# Transcription: a multipart upload, the provider's JSON back.
t = client.audio.transcriptions.create(model="openai/whisper-1", file=("hello.mp3", speech.content, "audio/mpeg"))
check("transcription.text", t.text.startswith("Imagine"), t)
t = client.audio.transcriptions.create(model="openai/gpt-4o-transcribe", file=("hello.mp3", speech.content), response_format="text")
check("transcription.text_format", "Hello from the mock" in str(t), t)

# A chat-only model asked for images: the SDK's BadRequestError naming the model.
try:
    client.images.generate(model="anthropic/claude-sonnet-4-5", prompt="x")
    check("images.bad_model", False, "no exception")
except openai.BadRequestError as e:
    check("images.bad_model", "model" in e.message, e.message)

print(f"openai-python {openai.__version__} media: {len(checks)} checks passed: {', '.join(checks)}")
