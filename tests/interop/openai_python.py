"""The official `openai` Python SDK against the Hub (HUB_URL, HUB_KEY set by the Rust test)."""
import json
import os
import sys

import openai

base = os.environ["HUB_URL"] + "/api/v2"
client = openai.OpenAI(base_url=base, api_key=os.environ["HUB_KEY"], max_retries=0)
checks = []


def check(name, cond, detail=""):
    if not cond:
        print(f"FAIL {name}: {detail}", file=sys.stderr)
        sys.exit(1)
    checks.append(name)


# Non-streaming.
r = client.chat.completions.create(model="openai/gpt-5-mini", messages=[{"role": "user", "content": "Say hello"}])
check("json.content", r.choices[0].message.content == "Hello, world", r)
check("json.usage", r.usage.total_tokens == 29 and r.usage.prompt_tokens == 19, r.usage)
check("json.model", r.model == "openai/gpt-5-mini", r.model)

# Streaming with include_usage.
text, usage, chunks = "", None, 0
for chunk in client.chat.completions.create(
    model="openai/gpt-5-mini",
    messages=[{"role": "user", "content": "Say hello"}],
    stream=True,
    stream_options={"include_usage": True},
):
    chunks += 1
    if chunk.choices and chunk.choices[0].delta.content:
        text += chunk.choices[0].delta.content
    if chunk.usage:
        usage = chunk.usage
check("stream.text", text == "Hello, world", text)
check("stream.usage", usage is not None and usage.total_tokens == 22, usage)

# Tools (Anthropic upstream streams a tool call back).
stream = client.chat.completions.create(
    model="anthropic/claude-sonnet-4-5",
    messages=[{"role": "user", "content": "Weather in SF?"}],
    tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}}],
    tool_choice="auto",
    stream=True,
)
name, args = None, ""
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.tool_calls:
        call = chunk.choices[0].delta.tool_calls[0]
        name = name or call.function.name
        args += call.function.arguments or ""
check("tools.name", name == "get_weather", name)
check("tools.arguments", json.loads(args) == {"location": "San Francisco"}, args)
r = client.chat.completions.create(
    model="anthropic/claude-sonnet-4-5",
    messages=[{"role": "user", "content": "hi"}],
    tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
)
check("tools.json", r.choices[0].message.content == "Hello, world", r)

# JSON mode.
r = client.chat.completions.create(
    model="deepseek/deepseek-chat",
    messages=[{"role": "user", "content": "json please"}],
    response_format={"type": "json_object"},
)
check("json_mode", json.loads(r.choices[0].message.content) == {"answer": 42}, r.choices[0].message.content)

# An upstream error surfaces as the SDK's error, with the Hub's message.
try:
    client.chat.completions.create(model="xai/grok-4", messages=[{"role": "user", "content": "hi"}])
    check("upstream_error", False, "no exception")
except openai.APIStatusError as e:
    check("upstream_error.status", e.status_code == 502, e.status_code)
    check("upstream_error.message", "xai" in e.message, e.message)

# A bad key is the SDK's AuthenticationError.
try:
    openai.OpenAI(base_url=base, api_key="aigne-wrong", max_retries=0).chat.completions.create(
        model="openai/gpt-5-mini", messages=[{"role": "user", "content": "hi"}]
    )
    check("auth_error", False, "no exception")
except openai.AuthenticationError as e:
    check("auth_error", "access key" in e.message, e.message)

# The model list.
ids = [m.id for m in client.models.list()]
check("models", "openai/gpt-5-mini" in ids, ids)

print(f"openai-python {openai.__version__}: {len(checks)} checks passed: {', '.join(checks)}")
