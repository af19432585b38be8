"""The webhook worker: consumes the outbox, sends deliveries, records their attempts.

* `worker`  - `WebhookWorker`: the loop (fan-out, claim, lanes, prune) and its lifecycle.
* `writer`  - `ResultWriter`: group commit of attempt outcomes from many lanes.
* `runner`  - `run_worker(settings)` for `switchboard worker`, `attach_worker(app, context)` for `serve`.
* `observe` - `DeliveryObserver`: what the worker tells the metrics about each attempt.

The rules (what is due, what a status code means, when an endpoint is disabled) live in
`hub.services.webhooks`; this package only schedules I/O around them.
"""
