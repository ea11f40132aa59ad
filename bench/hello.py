"""The baseline: a bare FastAPI hello route, served exactly like the API (uvicorn, uvloop, httptools)."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
