"""A user without credits (billing on): the 402 reaches the official `openai` Python package as an
APIStatusError carrying the purchase link (HUB_URL, HUB_KEY, HUB_LINK set by the Rust test)."""
import os
import sys

import openai

link = os.environ["HUB_LINK"]
client = openai.OpenAI(base_url=os.environ["HUB_URL"] + "/api/v2", api_key=os.environ["HUB_KEY"], max_retries=0)
checks = []


def check(name, cond, detail=""):
    if not cond:
        print(f"FAIL {name}: {detail}", file=sys.stderr)
        sys.exit(1)
    checks.append(name)


for stream in (False, True):
    try:
        r = client.chat.completions.create(
            model="openai/gpt-5-mini", messages=[{"role": "user", "content": "Say hello"}], stream=stream
        )
        if stream:
            for _ in r:
                pass
        check(f"402.stream={stream}", False, "no exception")
    except openai.APIStatusError as e:
        check(f"402.stream={stream}.status", e.status_code == 402, repr(e))
        check(f"402.stream={stream}.message", link in str(e), str(e))
        error = e.response.json()["error"]
        check(f"402.stream={stream}.body", error["type"] == "NOT_ENOUGH" and error["link"] == link, error)

print(f"openai python 402: {len(checks)} checks passed: {', '.join(checks)}")
