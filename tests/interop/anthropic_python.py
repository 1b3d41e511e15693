"""The official `anthropic` Python SDK against the Hub's Messages API (HUB_URL, HUB_KEY set by the
Rust test): create, stream, a tool round, count_tokens and typed errors."""
import os
import sys

import anthropic

checks = []


def check(name, cond, detail=""):
    if not cond:
        print(f"FAIL {name}: {detail}", file=sys.stderr)
        sys.exit(1)
    checks.append(name)


client = anthropic.Anthropic(base_url=os.environ["HUB_URL"], api_key=os.environ["HUB_KEY"], max_retries=0)
weather = {
    "name": "get_weather",
    "description": "Current weather of a city",
    "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
}

for model in ["openai/gpt-5-mini", "anthropic/claude-sonnet-4-5"]:
    m = client.messages.create(model=model, max_tokens=128, messages=[{"role": "user", "content": "Say hello"}])
    check(f"{model}.create", m.content[0].type == "text" and m.content[0].text == "Hello, world", m)
    with client.messages.stream(model=model, max_tokens=128, messages=[{"role": "user", "content": "Say hello"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    check(f"{model}.stream", text.startswith("Hello") and final.usage.output_tokens > 0, (text, final))

messages = [{"role": "user", "content": "Weather in Paris?"}]
first = client.messages.create(model="openai/tool-caller", max_tokens=128, tools=[weather], messages=messages)
use = next(b for b in first.content if b.type == "tool_use")
check("tools.asked", first.stop_reason == "tool_use" and use.input == {"location": "Paris, France"}, first)
messages += [
    {"role": "assistant", "content": first.content},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "18°C"}]},
]
second = client.messages.create(model="openai/tool-caller", max_tokens=128, tools=[weather], messages=messages)
check("tools.answered", second.stop_reason == "end_turn" and second.content[0].text == "Hello, world", second)

counted = client.messages.count_tokens(model="openai/gpt-5-mini", messages=[{"role": "user", "content": "hello world"}])
check("count_tokens", counted.input_tokens == 5, counted)

try:
    anthropic.Anthropic(base_url=os.environ["HUB_URL"], api_key="not-a-key", max_retries=0).messages.create(
        model="openai/gpt-5-mini", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
    )
    check("401", False, "no exception")
except anthropic.AuthenticationError as e:
    check("401.type", e.body["error"]["type"] == "authentication_error", e.body)
try:
    client.messages.create(model="openai/gpt-5-mini", max_tokens=16, messages=[{"role": "user", "content": [{"type": "hologram"}]}])
    check("400", False, "no exception")
except anthropic.BadRequestError as e:
    check("400.field", "messages[0].content[0].type" in str(e), str(e))

print(f"anthropic python: {len(checks)} checks passed: {', '.join(checks)}")
