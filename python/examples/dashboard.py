"""The example of issue 14 and python/README.md, verbatim apart from the endpoint and token
(read from GLOBEMEET_ENDPOINT and GLOBEMEET_TOKEN) and the two dashboard functions it calls."""
import asyncio
import os

from globemeet import GlobeMeetWS

ENDPOINT = os.environ.get("GLOBEMEET_ENDPOINT", "ws://127.0.0.1:8080/v1/events")
TOKEN = os.environ["GLOBEMEET_TOKEN"]


def update_dashboard(depth: int, longest_wait_seconds: float) -> None:
    print(f"depth {depth} longest wait {longest_wait_seconds}", flush=True)


def show_agent_assignment(agent_id: str) -> None:
    print(f"agent {agent_id}", flush=True)


async def main() -> None:
    async with GlobeMeetWS(endpoint=ENDPOINT, token=TOKEN) as ws:
        ws.subscribe("queue.support.depth-changed",
                     lambda e: update_dashboard(e.data.depth, e.data.longest_wait_seconds))
        ws.subscribe("session.support.connected", lambda e: show_agent_assignment(e.data.agent_id))
        ws.on("reconnect", lambda _: print("Reconnected, resuming from last event"))
        await ws.wait_closed()

if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
