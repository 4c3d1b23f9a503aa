"""A TCP proxy on loopback that delays every chunk by a fixed one-way latency (benchmarks only).

Put it in front of PostgreSQL (0.5 ms each way ≈ 1 ms per database round trip) or of the Manager
stub (15 ms each way ≈ 30 ms per HTTP request on a kept-alive connection) to see what per-planilla
round trips cost in an office, where FerraWin and Manager are not on the same machine.

Each direction keeps its order: a chunk read at t is written at t + delay (latency, not bandwidth).
asyncio transports set TCP_NODELAY, so Nagle adds nothing on top.

    .venv/bin/python bench/latency_proxy.py --target 127.0.0.1:5432 --delay-ms 0.5 [--port 0]

It prints `listening on 127.0.0.1:PORT` once bound and runs until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes | None]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()

    task = asyncio.create_task(deliver())
    try:
        while data := await reader.read(1 << 16):
            queue.put_nowait((loop.time() + delay, data))
    except OSError:
        pass
    finally:
        queue.put_nowait((0.0, None))
        with contextlib.suppress(OSError):
            await task


async def _serve(target_host: str, target_port: int, delay: float, port: int) -> None:
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(target_host, target_port)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(_pump(client_r, server_w, delay), _pump(server_r, client_w, delay))
        for w in (client_w, server_w):
            w.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    bound = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{bound}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", required=True, help="HOST:PORT to forward to (loopback)")
    parser.add_argument("--delay-ms", type=float, required=True, help="one-way delay per chunk, milliseconds")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any free port)")
    args = parser.parse_args()
    host, _, port = args.target.rpartition(":")
    if host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("benchmarks talk only to loopback")
    asyncio.run(_serve(host, int(port), args.delay_ms / 1000.0, args.port))


if __name__ == "__main__":
    main()
