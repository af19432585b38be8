"""Outbound webhooks following the Standard Webhooks spec (https://www.standardwebhooks.com/).

The modules here are I/O-light building blocks used by the delivery worker:

* ``signing``  - secrets and the ``webhook-*`` signature headers.
* ``ssrf``     - URL and destination-address safety checks.
* ``schedule`` - the retry schedule, jitter and ``Retry-After`` parsing.
* ``sender``   - one HTTP delivery attempt, with DNS-rebinding-safe connects.

They hold no database code; persistence and the retry loop live in the worker.
"""
