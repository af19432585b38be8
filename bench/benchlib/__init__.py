"""Shared pieces of the Switchboard benchmarks (see bench/README.md).

- `procs`: start servers pinned to a core with a raised file limit; CPU and memory from /proc.
- `targets`: the hub (SQLite + memory bus, or PostgreSQL + Redis) and the bare Quart baseline, each set
  up and torn down as one async context manager.
- `cluster`: several hub processes on one PostgreSQL database and one Redis (the scale-out layout),
  with subscribers and writers spread over them.
- `hubmetrics`: fan-out counters read from the hubs' own `/metrics` around a measured window.
- `subscribers`: a single-process WebSocket client pool cheap enough for thousands of sockets.
- `titles`: how a writer stamps its send time into a ticket title, and the baseline's message.
- `report`: percentiles, markdown tables and result files.
"""
