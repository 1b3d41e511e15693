#!/usr/bin/env bash
# Installs the real third-party clients the interop tests drive, at pinned versions:
# npm packages into tests/interop/node_modules, Python packages into tests/interop/.venv.
set -euo pipefail
cd "$(dirname "$0")/../tests/interop"
if [ ! -d node_modules ] || [ package.json -nt node_modules/.installed ] || { [ -f package-lock.json ] && [ package-lock.json -nt node_modules/.installed ]; }; then
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
  touch node_modules/.installed
fi
# @blocklet/aigne-hub apart: its peer React 18 conflicts with @aigne/cli's React 19.
(
  cd blocklet-aigne-hub
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.installed ]; then
    npm ci --no-audit --no-fund --loglevel=error
    touch node_modules/.installed
  fi
)
if [ ! -x .venv/bin/python ] || [ requirements.txt -nt .venv/.installed ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  touch .venv/.installed
fi
echo "interop clients: $(node -e 'console.log(["openai","@anthropic-ai/sdk","@google/genai","@google/gemini-cli","@aigne/aigne-hub","@aigne/cli","@blocklet/sdk","@ocap/wallet"].map((p)=>p+"@"+require("./node_modules/"+p+"/package.json").version).join(", "))'), @blocklet/aigne-hub@$(node -p 'require("./blocklet-aigne-hub/node_modules/@blocklet/aigne-hub/package.json").version') and python openai $(.venv/bin/python -c 'import openai; print(openai.__version__)'), anthropic $(.venv/bin/python -c 'import anthropic; print(anthropic.__version__)')"
