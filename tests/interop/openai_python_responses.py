"""The official `openai` Python package's Responses API against the Hub (HUB_URL, HUB_KEY)."""
import os
import sys

import openai

client = openai.OpenAI(base_url=os.environ["HUB_URL"] + "/v1", api_key=os.environ["HUB_KEY"], max_retries=0)
checks = []


def check(name, cond, detail=""):
    if not cond:
        print(f"FAIL {name}: {detail}", file=sys.stderr)
        sys.exit(1)
    checks.append(name)


first = client.responses.create(model="openai/gpt-5-mini", input="My name is Ada.")
check("text", first.output_text == "Hello, world", first)
second = client.responses.create(model="anthropic/claude-sonnet-4-5", previous_response_id=first.id, input="My name?")
check("previous", second.output_text == "Hello, world" and second.previous_response_id == first.id, second)

text = ""
kinds = []
with client.responses.stream(model="openai/gpt-5-mini", input="Say hello") as stream:
    for event in stream:
        kinds.append(event.type)
        if event.type == "response.output_text.delta":
            text += event.delta
    final = stream.get_final_response()
check("stream", text == "Hello, world" and final.output_text == "Hello, world", kinds)

tools = [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}]
asked = client.responses.create(model="openai/tool-caller", input="Weather in Paris?", tools=tools)
call = next(i for i in asked.output if i.type == "function_call")
answered = client.responses.create(
    model="openai/tool-caller",
    previous_response_id=asked.id,
    tools=tools,
    input=[{"type": "function_call_output", "call_id": call.call_id, "output": "18°C"}],
)
check("tools", answered.output_text == "Hello, world", answered)

try:
    client.responses.create(model="openai/gpt-5-mini", input=[{"type": "hologram"}])
    check("bad_item", False, "no exception")
except openai.BadRequestError as e:
    check("bad_item", "input[0].type" in str(e), e)

print(f"openai-python-responses: {len(checks)} checks passed: {', '.join(checks)}")
