"""One wrk load run: a request shape, from many client addresses, and what wrk measured.

Used by bench/perf.py. Each request carries an X-Forwarded-For address: one of `visitors`
(a pool, as widgets poll repeatedly) or, with 0, a fresh random one per request. A body
containing UNIQUE gets a fresh visitor_token there, for creating conversations; a path
containing ANY, one of `conversations` existing ones (bench-any-0000000000 onwards).
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA = r"""
local counter = 0
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  counter = counter + 1
  local headers = {}
  for k, v in pairs(HEADERS) do headers[k] = v end
  if VISITORS > 0 then
    local n = math.random(0, VISITORS - 1)
    headers["X-Forwarded-For"] = "10." .. math.floor(n / 65536) % 256 .. "."
      .. math.floor(n / 256) % 256 .. "." .. n % 256
  else
    headers["X-Forwarded-For"] = "10." .. math.random(0, 255) .. "." .. math.random(0, 255)
      .. "." .. math.random(1, 254)
  end
  local path = PATH
  if CONVERSATIONS > 0 then
    local token = string.format("bench-any-%010d", math.random(0, CONVERSATIONS - 1))
    path = string.gsub(PATH, "ANY", token)
  end
  local body = BODY
  if body ~= nil then
    -- Fixed width: a visitor_token must be at least 16 characters.
    local token = string.format("bench-%010d-%08d", math.random(1, 1000000000), counter)
    body = string.gsub(body, "UNIQUE", token)
  end
  return wrk.format(METHOD, path, headers, body)
end
done = function(summary, latency, requests)
  io.write(string.format(
    "RESULT {\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, \"p99_us\": %d, "
    .. "\"non_2xx\": %d, \"socket_errors\": %d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status, summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout))
end
"""


@dataclass
class Load:
    req_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    requests: int = 0


@dataclass
class Scenario:
    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: str | None = None
    conversations: int = 0  # ANY in the path: one of this many (see above)


def lua_literal(value: object) -> str:
    if value is None:
        return "nil"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"[{lua_literal(k)}] = {lua_literal(v)}" for k, v in value.items())
            + "}"
        )
    return json.dumps(str(value))  # a JSON string is a valid Lua string literal here


def wrk(
    base: str,
    scenario: Scenario,
    duration: int,
    connections: int,
    workdir: Path,
    visitors: int = 10_000,
) -> Load:
    script = workdir / f"{re.sub(r'[^a-z0-9]+', '_', scenario.name)}.lua"
    script.write_text(
        f"METHOD = {lua_literal(scenario.method)}\nPATH = {lua_literal(scenario.path)}\n"
        f"HEADERS = {lua_literal(scenario.headers)}\nBODY = {lua_literal(scenario.body)}\n"
        f"VISITORS = {int(visitors)}\nCONVERSATIONS = {int(scenario.conversations)}\n" + LUA
    )
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 60,
    ).stdout
    match = re.search(r"^RESULT (\{.*\})$", out, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    data = json.loads(match.group(1))
    return Load(
        req_per_s=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        non_2xx=data["non_2xx"],
        socket_errors=data["socket_errors"],
        requests=data["requests"],
    )
