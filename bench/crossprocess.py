"""Cross-process fan-out: how long a keystroke on process A takes to reach a client of
process B (through the Redis relay), against the same within one process.

Two Quire apps on PostgreSQL + Redis (127.0.0.1), pycrdt clients, 200 keystrokes 20 ms apart.

    .venv/bin/python -m bench.crossprocess
"""

from __future__ import annotations

import asyncio
import time

from pycrdt import Text

from server.config import Settings
from tests.support.servers import run_server
from tests.support.services import run_prefix
from tests.support.yclient import YClient

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"


async def joined(server, doc_id: str) -> YClient:
    client = YClient(server.ws(doc_id))
    await client.connect()
    await client.wait_synced()
    return client


async def measure(writer_server, reader_server, doc_id: str, keystrokes: int = 200):
    """(p50, p99) ms from a local change on the writer to the reader having it."""
    writer = await joined(writer_server, doc_id)
    reader = await joined(reader_server, doc_id)
    text = writer.doc.get("t", type=Text)
    seen_text = reader.doc.get("t", type=Text)
    waiting: dict[int, asyncio.Future[float]] = {}

    def seen(_event, *_args) -> None:
        future = waiting.pop(len(seen_text), None)
        if future is not None:
            future.set_result(time.perf_counter())

    subscription = seen_text.observe(seen)
    latencies = []
    for _ in range(keystrokes):
        future = asyncio.get_running_loop().create_future()
        waiting[len(seen_text) + 1] = future
        started = time.perf_counter()
        text.insert(len(text), "x")
        latencies.append((await asyncio.wait_for(future, 10) - started) * 1000)
        await asyncio.sleep(0.02)
    seen_text.unobserve(subscription)
    await writer.close()
    await reader.close()
    latencies.sort()
    return latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]


async def main() -> None:
    settings = Settings(database_url=PG, redis_url=REDIS, redis_prefix=run_prefix())
    async with run_server(settings) as one, run_server(settings) as two:
        await asyncio.sleep(0.5)  # both subscribed
        doc_id = await one.new_doc("cross-process")
        single = await measure(one, one, doc_id)
        cross = await measure(one, two, doc_id)
    print(f"single-process p50={single[0]:.2f} ms p99={single[1]:.2f} ms")
    print(f"cross-process  p50={cross[0]:.2f} ms p99={cross[1]:.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
